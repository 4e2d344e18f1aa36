"""`aliasgate eval` and the corpus generator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proxy.detect.normalize import fold
from proxy.detect.spans import Span
from proxy.evaluate import leaked

ROOT = Path(__file__).parents[1]
TINY = Path(__file__).parent / "fixtures" / "corpus" / "tiny.jsonl"


def test_eval_reports_recall_leaks_and_kept_phrases(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "proxy", "eval", str(TINY), "--json"],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path,
                            check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["records"] == 3
    assert report["by_type"]["PERSON"] == {"labelled": 1, "recall": 1.0, "precision": 1.0,
                                           "leaked": 0}
    assert report["by_type"]["CREDIT_CARD"]["recall"] == 1.0
    assert report["leak_rate"] == 0.0 and report["phrases_kept_rate"] == 1.0


def test_eval_human_output_lists_misses(tmp_path: Path) -> None:
    policy = tmp_path / "names_only.yaml"
    policy.write_text("name: names_only\nversion: 1\nentities: {PERSON: tokenize}\n")
    result = subprocess.run([sys.executable, "-m", "proxy", "eval", str(TINY), "--policy",
                             str(policy), "--misses"], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stderr
    assert "b CREDIT_CARD '4111 1111 1111 1111' (leaked)" in result.stdout
    assert "leak rate: 50.00%" in result.stdout


def test_eval_reports_each_corpus_worst_first(tmp_path: Path) -> None:
    lines = TINY.read_text().splitlines()
    (tmp_path / "clean.jsonl").write_text(lines[0] + "\n" + lines[2] + "\n")
    policy = tmp_path / "names_only.yaml"
    policy.write_text("name: names_only\nversion: 1\nentities: {PERSON: tokenize}\n")
    result = subprocess.run([sys.executable, "-m", "proxy", "eval", str(tmp_path / "clean.jsonl"),
                             str(TINY), "--policy", str(policy), "--json"],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path,
                            check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [c["corpus"] for c in report["corpora"]] == ["tiny", "clean"]
    assert [c["leak_rate"] for c in report["corpora"]] == [0.5, 0.0]
    assert report["records"] == 5 and report["leak_rate"] == round(1 / 3, 4)
    assert report["texts_without_personal_data"] == 2
    assert report["findings_per_100_clean_texts"] == 0.0


def test_leak_check_counts_any_line_of_an_address() -> None:
    address = {"type": "STREET_ADDRESS", "value": "12 High Street, London SW1A 1AA"}
    assert leaked(address, "send it to <STREET_ADDRESS_1> london sw1a 1aa")
    assert leaked(address, "at 12 high street")
    assert not leaked(address, "at <STREET_ADDRESS_1> in London")


def test_leak_check_counts_a_surname_alone_and_folded_forms() -> None:
    person = {"type": "PERSON", "value": "Jane Doe"}
    assert leaked(person, "ask <PERSON_AB12C> and Doe")
    assert not leaked(person, "ask <PERSON_AB12C> about the doer")
    card = {"type": "CREDIT_CARD", "value": "4111 1111 1111 1111"}
    assert leaked(card, "card 4111-1111-1111-1111")
    assert leaked(card, "card \uff14111 1111 1111 1111")


def test_committed_corpus_is_the_generators_output(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "corpus" / "generate.py"), str(tmp_path)],
                   check=True, timeout=120)
    for name in ("dev.jsonl", "hard_negatives.jsonl", "test.jsonl", "holdout.jsonl"):
        assert (tmp_path / name).read_bytes() == (ROOT / "corpus" / name).read_bytes(), name


def test_corpus_has_many_templates_cultures_and_obfuscations() -> None:
    records = [json.loads(line) for line in
               (ROOT / "corpus" / "dev.jsonl").read_text().splitlines()]
    assert len({r["template"] for r in records}) >= 10
    written = [r["messages"][e["message"]][e["start"]:e["end"]]
               for r in records for e in r["entities"]]
    assert any("\u200b" in w or "\u2060" in w for w in written)
    assert any("\uff20" in w or "\uff11" in w for w in written)
    assert any("\u00a0" in w for w in written) and any("\u2011" in w for w in written)
    assert any(w.islower() and " " in w for w in written)


_OBFUSCATION = st.sampled_from(["\u200b", "\u00a0", "\u2011", "\uff11", "\u0430", "x", " "])


@given(st.lists(st.one_of(_OBFUSCATION, st.characters(codec="utf-8",
                                                      exclude_categories=["Cs"])),
                max_size=60))
def test_folding_maps_every_character_back_into_the_original(chars: list[str]) -> None:
    text = "".join(chars)
    folded = fold(text)
    assert len(folded.starts) == len(folded.ends) == len(folded.text)
    assert folded.starts == sorted(folded.starts)
    for i in range(len(folded.text)):
        assert 0 <= folded.starts[i] < folded.ends[i] <= len(text)
    if folded.text:
        whole = folded.original(Span(0, len(folded.text), "X", 1.0))
        assert whole.start == folded.starts[0] and whole.end == folded.ends[-1]


@pytest.mark.parametrize(("text", "plain"), [
    ("a\u200bb", "ab"), ("\uff11\uff12\uff20", "12@"), ("a\u00a0b", "a b"),
    ("1\u20112", "1-2"), ("J\u0430ne", "Jane"), ("\u041c\u043e\u0441\u043a\u0432\u0430",
                                                 "\u041c\u043e\u0441\u043a\u0432\u0430"),
    ("4 1 1 1 1 1 1", "4111111"), ("see 4 1 1 1 1 1 1.", "see 4111111."),
    ("Phone:\\n+46 809", "Phone: \n+46 809"), ("a\\tB", "a \tB"),
    ("C:\\nikolaj", "C:\\nikolaj"),
])
def test_folding_rules(text: str, plain: str) -> None:
    assert fold(text).text == plain
