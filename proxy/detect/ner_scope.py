"""Where spaCy's NER can change the outcome, so the rest of a text skips it.

The NER pass is most of detection's cost (about 20 ms per KB on one core). It finds only
soft types (PERSON, LOCATION, NRP, ORGANIZATION), and terms.py drops every soft finding
made only of known common terms, or only of frequent English words that are not given
names. So NER can add a finding only around a *candidate*: a word that is neither, or a
known term that is rare or a given name, or a particle, right beside a capitalised word
that is not a term (Sonoma County, Claude Brown, Will van der Post).

NER runs on excerpts around the candidates, with enough words either side that the model
sees the same context it would in the whole text (its tok2vec layers look four tokens each
way). A candidate inside a value the rules already found is skipped: a structured one (an
e-mail address), or a name or place that NER could not make longer, because no word that
could belong to it stands right beside it (Mary Jenkins, where a rule saw Mary).

One approximation: in a sentence with capitalised words besides its first, a lower-case
word counts only if it is rare (zipf under 3.2), a given name or a place name. Such text
is full of mid-frequency words (`invoice`, `latency`) and names in it are capitalised. In
a sentence written in lower case (chat), every word under the frequency bar counts.
"""

from __future__ import annotations

import bisect
import re

from .places import is_place_name
from .spans import Span, merge_overlaps
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
_SENTENCE = re.compile(r"[^.!?\n]+")
_PARTICLES = frozenset({"al", "bin", "binti", "da", "das", "de", "del", "della", "den",
                        "der", "di", "dos", "du", "el", "ibn", "la", "le", "ten", "ter",
                        "van", "von"})


def is_candidate(word: str, lower_case_sentence: bool = False) -> bool:
    """A word that lets a soft finding survive terms.drop_ordinary: not a known term, and
    rare or a given name. In a sentence written in lower case, any word under the
    frequency bar counts; elsewhere a lower-case one only if rare or a place name."""
    if word.casefold() in common_terms():
        return False
    if is_given_name(word):
        return True
    frequency = zipf(word)
    if not word.islower() or lower_case_sentence:
        return frequency < 4.5
    return frequency < RARE_LOWER_CASE or (frequency < 4.5 and is_place_name(word))


def _neighbours(text: str, start: int, end: int) -> tuple[str | None, str | None]:
    """The words right before and after text[start:end] on its line (spaces between)."""
    before = _WORD_BEFORE.search(text, max(0, start - 60), start)
    after = _WORD_AFTER.match(text, end)
    return (before.group(1) if before else None), (after.group(1) if after else None)


def _beside_a_name_word(text: str, word: re.Match[str]) -> bool:
    """A known term that is rare or a given name (Jenkins, Sonoma, Ruby), or a particle
    (van, de), beside a capitalised word that is not a term (Brown, County, Will): together
    they survive the filter."""
    value = word.group()
    term = value.casefold() in common_terms() and (zipf(value) < 4.5 or is_given_name(value))
    if not term and value.casefold() not in _PARTICLES:
        return False
    return any(n is not None and not n.islower() and n.casefold() not in common_terms()
               for n in _neighbours(text, word.start(), word.end()))


def _could_extend(word: str | None) -> bool:
    """A neighbouring word NER might take into a name or place: capitalised, a known term
    that is also a surname (Jenkins, Swift), a given name, or a particle (van, de, bin)."""
    return word is not None and (not word.islower() or word.casefold() in common_terms()
                                 or is_given_name(word) or word.casefold() in _PARTICLES)


def _closed(text: str, span: Span) -> bool:
    return not any(map(_could_extend, _neighbours(text, span.start, span.end)))


def _lower_case_sentences(text: str) -> bytearray:
    """1 for each character of a sentence with no capitalised word but its first."""
    mask = bytearray(len(text))
    for sentence in _SENTENCE.finditer(text):
        words = WORD.findall(sentence.group())
        if len(words) > 2 and all(w.islower() for w in words[1:]):
            mask[sentence.start():sentence.end()] = b"\x01" * len(sentence.group())
    return mask


def ner_ranges(text: str, settled: list[Span], names: list[Span]) -> list[tuple[int, int]]:
    """Disjoint (start, end) ranges of `text` to run NER on, in order. `settled`: structured
    values already found; `names`: names and places the rules found."""
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    starts = [start for start, _ in tokens]
    ranges: list[tuple[int, int]] = []
    inside = bytearray(len(text))
    for span in [*settled, *(s for s in merge_overlaps(names) if _closed(text, s))]:
        inside[span.start:span.end] = b"\x01" * (span.end - span.start)
    lower_case = _lower_case_sentences(text)
    for word in WORD.finditer(text):
        if inside[word.start()]:
            continue
        if not is_candidate(word.group(), bool(lower_case[word.start()])) and \
                not _beside_a_name_word(text, word):
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
