"""The levers that make detection cheap must not change what it finds: NER runs only
where it can change the outcome (ner_scope.py), and propagation looks values up with
`str.find` or with one pattern (propagate.py) to the same effect."""

from __future__ import annotations

import pytest

from proxy import propagate as propagation
from proxy.detect.ner_scope import is_candidate, ner_ranges
from proxy.detect.pool import WorkerPoolAnalyzer
from proxy.detect.spans import Span
from tests.test_detection import DEFAULT, sent

ORDINARY = ("We moved the billing job to Kubernetes on Monday and the queue looks fine; "
            "please check the Grafana board before Friday. ")


def test_ordinary_text_needs_no_ner() -> None:
    text = ORDINARY * 20
    assert ner_ranges(text, [], []) == []


def test_ner_looks_around_an_unknown_name_with_context_either_side() -> None:
    text = ORDINARY * 5 + "Yesterday Thandiwe Okonkwo-Baptiste approved it. " + ORDINARY * 5
    [(start, end)] = ner_ranges(text, [], [])
    name = text.index("Thandiwe")
    assert start < name - 40 and end > name + 60   # whole words of context on each side
    assert end - start < len(text) / 3


def test_values_the_rules_settled_are_not_looked_at_again() -> None:
    text = ORDINARY * 5 + "My name is Thandiwe Okonkwo. " + ORDINARY * 5
    start = text.index("Thandiwe")
    name = [Span(start, start + len("Thandiwe Okonkwo"), "PERSON", 0.95)]
    assert ner_ranges(text, [], name) == []


def test_a_name_ner_could_make_longer_is_looked_at_again() -> None:
    text = ORDINARY * 5 + "It was approved by Thandiwe Jenkins today. " + ORDINARY * 5
    start = text.index("Thandiwe")
    found = [Span(start, start + len("Thandiwe"), "PERSON", 0.85)]
    [(begin, end)] = ner_ranges(text, [], found)
    assert begin < start and end > text.index("Jenkins")


@pytest.mark.parametrize(("word", "candidate"), [
    ("Thandiwe", True), ("okonkwo", True), ("Grafana", False), ("Monday", False),
    ("Please", False), ("invoice", False), ("prague", True), ("Berlin", True),
])
def test_candidates_are_the_words_a_soft_finding_needs(word: str, candidate: bool) -> None:
    assert is_candidate(word) is candidate


async def test_a_name_without_any_cue_in_long_ordinary_text_is_still_found(
        analyzer: WorkerPoolAnalyzer) -> None:
    text = ORDINARY * 10 + "Yesterday Thandiwe Okonkwo approved the rollout. " + ORDINARY * 10
    [out] = await sent(analyzer, DEFAULT, text)
    assert "Thandiwe" not in out and "Okonkwo" not in out
    assert out.count("<PERSON_") == 1 and "Grafana" in out


TEXTS = ["Ask Jane Doe.", "later: DOE signed, jane.doe@example.com wrote; Doeville stays",
         "Straße Jane DOE", "Li met li and LI"]
FOUND = [[Span(4, 12, "PERSON", 0.85)], [], [], [Span(0, 2, "PERSON", 0.85)]]


@pytest.mark.parametrize("limit", [0, propagation.FIND_SCAN_LIMIT])
def test_both_lookup_strategies_propagate_alike(monkeypatch: pytest.MonkeyPatch,
                                               limit: int) -> None:
    monkeypatch.setattr(propagation, "FIND_SCAN_LIMIT", limit)
    result = propagation.propagate(TEXTS, FOUND)
    words = [[text[s.start:s.end] for s in spans]
             for text, spans in zip(TEXTS, result, strict=True)]
    assert words == [["Jane Doe"], ["DOE", "jane", "doe"], ["Jane DOE"], ["Li"]]


async def test_a_finding_the_policy_drops_does_not_keep_ner_away(
        analyzer: WorkerPoolAnalyzer) -> None:
    # "ask" finds the name at 0.7, under this policy's min_score; NER still reads it (0.85).
    strict = DEFAULT.model_copy(update={"min_score": 0.8})
    [out] = await sent(analyzer, strict, ORDINARY + "Please ask Thandiwe Okonkwo today.")
    assert "Thandiwe" not in out and "Okonkwo" not in out


@pytest.mark.parametrize(("text", "hidden"), [
    ("The invoice was approved by Mary Jenkins and sent on.", ["Jenkins"]),
    ("honestly rents in vienna and prague are too high for us.", ["prague"]),
    ("Our winery is in Sonoma County, Ruby Young called.", ["Sonoma", "Ruby"]),
    ("Please forward this to Will van der Post in accounting.", ["Will", "Post"]),
    ("Spoke to Peter van der Post about the renewal.", ["Post"]),
    ("please forward this to lee thompson in accounting.", ["thompson"]),
])
async def test_what_ner_finds_beside_ordinary_text_is_still_found(
        analyzer: WorkerPoolAnalyzer, text: str, hidden: list[str]) -> None:
    [out] = await sent(analyzer, DEFAULT, ORDINARY * 10 + text + " " + ORDINARY * 10)
    assert not any(word in out for word in hidden), out[len(ORDINARY) * 10:][:120]
