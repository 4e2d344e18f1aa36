"""Where spaCy's NER can change the outcome, so the rest of a text skips it.

The NER pass is most of detection's cost (about 20 ms per KB on one core). It finds only
soft types (PERSON, LOCATION, NRP, ORGANIZATION), and terms.py drops every soft finding
made only of known common terms, or only of frequent English words that are not given
names. So NER can add a finding only around a *candidate*: a word that is neither.
NER runs on excerpts around the candidates, with enough words either side that the model
sees the same context it would in the whole text (its tok2vec layers look four tokens each
way). A candidate inside a value another finding already covers (an e-mail address, a name
after "my name is") is skipped: NER there only restates it.
"""

from __future__ import annotations

import bisect
import re

from .spans import Span
from .terms import common_terms
from .words import WORD, is_given_name, zipf

CONTEXT_TOKENS = 12
# Above this share of the text, excerpts save little and cut context: use the whole text.
WHOLE_TEXT_SHARE = 0.7
RARE_LOWER_CASE = 3.2
_TOKEN = re.compile(r"\S+")


def is_candidate(word: str) -> bool:
    """A word a soft finding needs in order to survive terms.drop_ordinary."""
    if word.casefold() in common_terms():
        return False
    if is_given_name(word):
        return True
    # NER finds lower-case names too ("ask rupert lefebvre"): a rare lower-case word is a
    # candidate, and the context around it covers a commoner word beside it.
    return zipf(word) < (RARE_LOWER_CASE if word.islower() else 4.5)


def ner_ranges(text: str, settled: list[Span]) -> list[tuple[int, int]]:
    """Disjoint (start, end) ranges of `text` to run NER on, in order."""
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    starts = [start for start, _ in tokens]
    ranges: list[tuple[int, int]] = []
    inside = bytearray(len(text))
    for span in settled:
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
