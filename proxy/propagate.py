"""Propagation: a value found anywhere in a request is protected everywhere in it.

The detector reads each text on its own and may miss a value in a short or odd sentence
(a tool result, a later turn) that it found elsewhere. So every other occurrence of a
found value, in any case, gets the same entity type. For a person, each uncommon part of
the name counts too: the surname mentioned later on its own, or the name inside an
e-mail local part or a user handle (`jane.doe@...`, `jdoe_1987`).

Values are looked up with `str.find`, each in every text. Compiling one pattern for all
of them (factored as a trie, trie.py) costs about 35 µs per value, which only pays off on
large requests: per value, a find costs about as much as scanning 300 characters per text
plus the text itself.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

from .detect.spans import Span, merge_overlaps
from .detect.terms import common_terms
from .detect.trie import trie_pattern
from .detect.words import NAME_WORD, zipf

Targets = dict[str, tuple[str, float]]
# Measured crossover (bench machine): 300 x texts + characters, whatever the value count.
FIND_SCAN_LIMIT = 150_000


def _targets(texts: list[str], found: list[list[Span]]) -> tuple[Targets, Targets]:
    """Values and rare name parts, matched in any case (keyed casefolded); and short values
    and name parts that are also common words (Li, Park), matched only as written."""
    targets: Targets = {}
    capitalised: Targets = {}

    def add(key: str, entity: str, score: float, into: Targets | None = None) -> None:
        table = targets if into is None else into
        if key.strip() and (key not in table or table[key][1] < score):
            table[key] = (entity, score)

    for text, spans in zip(texts, found, strict=True):
        for span in spans:
            value = text[span.start:span.end]
            if len(value) >= 4 and not (NAME_WORD.fullmatch(value) and zipf(value) >= 4.5):
                add(value.casefold(), span.entity, span.score)
            else:  # short or a common word (`Li`, `Chase`): only exactly as written
                add(value, span.entity, span.score, capitalised)
            if span.entity != "PERSON":
                continue
            # a name's words, hyphenated ones whole (El-Sayed) and in parts (Sayed)
            parts = set(NAME_WORD.findall(value)) | set(re.findall(r"[^\W\d_]+", value))
            for part in parts:
                if len(part) < 3 or part.casefold() in common_terms():
                    continue
                if zipf(part) < 4.5:
                    add(part.casefold(), "PERSON", span.score)
                elif part[0].isupper() and zipf(part) < 5.6:
                    add(part, "PERSON", span.score, capitalised)
    return targets, capitalised


def _covered(spans: list[Span], starts: list[int], start: int, end: int) -> bool:
    index = bisect.bisect_right(starts, start) - 1
    return index >= 0 and spans[index].end >= end


def _pattern(targets: Targets, fold: bool) -> re.Pattern[str]:
    return re.compile(rf"(?<![^\W_]){trie_pattern(list(targets))}(?![^\W_])",
                      re.IGNORECASE if fold else 0)


def _found_words(text: str, table: Targets, fold: bool) -> Iterator[tuple[int, int, str]]:
    """(start, end, key) of every whole-word occurrence of a key, by `str.find`."""
    haystack = text.casefold() if fold else text
    if len(haystack) != len(text):  # folding changed the length (ß): offsets would not match
        yield from _matched_words(text, _pattern(table, fold), fold)
        return
    for key in table:
        start = haystack.find(key)
        while start != -1:
            end = start + len(key)
            if (start == 0 or not text[start - 1].isalnum()) and \
                    (end == len(text) or not text[end].isalnum()):
                yield start, end, key
            start = haystack.find(key, start + 1)


def _matched_words(text: str, pattern: re.Pattern[str], fold: bool
                   ) -> Iterator[tuple[int, int, str]]:
    for match in pattern.finditer(text):
        yield match.start(), match.end(), match.group().casefold() if fold else match.group()


def propagate(texts: list[str], found: list[list[Span]]) -> list[list[Span]]:
    anycase, capitalised = _targets(texts, found)
    searches = [(table, fold) for table, fold in ((anycase, True), (capitalised, False))
                if table]
    if not searches:
        return found
    by_find = 300 * len(texts) + sum(map(len, texts)) <= FIND_SCAN_LIMIT
    patterns = {fold: _pattern(table, fold) for table, fold in searches if not by_find}
    result = []
    for text, spans in zip(texts, found, strict=True):
        existing = merge_overlaps(spans)
        starts = [s.start for s in existing]
        extra = []
        for table, fold in searches:
            words = _found_words(text, table, fold) if by_find else \
                _matched_words(text, patterns[fold], fold)
            for start, end, key in words:
                # the key can miss when case folding changed a string's length (ß)
                if key in table and not _covered(existing, starts, start, end):
                    entity, score = table[key]
                    extra.append(Span(start, end, entity, score))
        result.append(merge_overlaps(existing + extra) if extra else existing)
    return result
