"""Where spaCy's NER can change the outcome, so the rest of a text skips it.

The NER pass is most of detection's cost (about 20 ms per KB on one core). It finds only
soft types (PERSON, LOCATION, NRP, ORGANIZATION), and terms.py drops every soft finding
made only of known common terms, or only of frequent English words that are not given
names. So NER can add a finding only around a *candidate*: a word that is neither.
NER runs on excerpts around the candidates, with enough words either side that the model
sees the same context it would in the whole text (its tok2vec layers look four tokens each
way). A candidate inside a value the rules already found is skipped: a structured one (an
e-mail address), or a name or place that NER could not make longer, because no word that
could belong to it stands right beside it (Mary Jenkins, where a rule saw Mary).

One approximation: a lower-case word counts only if it is rare (zipf under 3.2), a given
name or a place name. Lower-case text is full of mid-frequency words (`invoice`,
`latency`), and NER rarely takes one for a name unless a rarer word stands beside it,
which then brings it into an excerpt.
"""

from __future__ import annotations

import bisect
import re

from .places import is_place_name
from .spans import Span
from .terms import common_terms
from .words import WORD, is_given_name, zipf

CONTEXT_TOKENS = 12
# Above this share of the text, excerpts save little and cut context: use the whole text.
WHOLE_TEXT_SHARE = 0.7
RARE_LOWER_CASE = 3.2
_TOKEN = re.compile(r"\S+")
# The word right before or after a span on its line (spaces only between).
_WORD_BEFORE = re.compile(r"([^\W\d_][\w'\u2019.\-]*)[ \t]*\Z")
_WORD_AFTER = re.compile(r"[ \t]*([^\W\d_][\w'\u2019\-]*)")


def is_candidate(word: str) -> bool:
    """A word a soft finding needs in order to survive terms.drop_ordinary."""
    if word.casefold() in common_terms():
        return False
    if is_given_name(word):
        return True
    frequency = zipf(word)
    if not word.islower():
        return frequency < 4.5
    return frequency < RARE_LOWER_CASE or (frequency < 4.5 and is_place_name(word))


def _could_extend(word: str | None) -> bool:
    """A neighbouring word NER might take into a name or place: capitalised, a known term
    that is also a surname (Jenkins, Swift), or a given name."""
    return word is not None and (not word.islower() or word.casefold() in common_terms()
                                 or is_given_name(word))


def _closed(text: str, span: Span) -> bool:
    before = _WORD_BEFORE.search(text, max(0, span.start - 60), span.start)
    after = _WORD_AFTER.match(text, span.end)
    return not _could_extend(before and before.group(1)) and \
        not _could_extend(after and after.group(1))


def ner_ranges(text: str, settled: list[Span], names: list[Span]) -> list[tuple[int, int]]:
    """Disjoint (start, end) ranges of `text` to run NER on, in order. `settled`: structured
    values already found; `names`: names and places the rules found."""
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    starts = [start for start, _ in tokens]
    ranges: list[tuple[int, int]] = []
    inside = bytearray(len(text))
    for span in [*settled, *(s for s in names if _closed(text, s))]:
        inside[span.start:span.end] = b"\x01" * (span.end - span.start)
    for word in WORD.finditer(text):
        if inside[word.start()] or not is_candidate(word.group()):
            continue
        index = bisect.bisect_right(starts, word.start()) - 1
        start = tokens[max(0, index - CONTEXT_TOKENS)][0]
        end = tokens[min(len(tokens) - 1, index + CONTEXT_TOKENS)][1]
        if ranges and start <= ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], end))
        else:
            ranges.append((start, end))
    if sum(end - start for start, end in ranges) > WHOLE_TEXT_SHARE * len(text):
        return [(0, len(text))]
    return ranges
