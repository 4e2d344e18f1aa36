"""Propagation: a value found anywhere in a request is protected everywhere in it.

The detector reads each text on its own and may miss a value in a short or odd sentence
(a tool result, a later turn) that it found elsewhere. So every other occurrence of a
found value, in any case, gets the same entity type. For a person, each uncommon part of
the name counts too: the surname mentioned later on its own, or the name inside an
e-mail local part or a user handle (`jane.doe@...`, `jdoe_1987`).
"""

from __future__ import annotations

import bisect
import re

from .detect.spans import Span, merge_overlaps
from .detect.terms import common_terms
from .detect.words import zipf

_NAME_PART = re.compile(r"[^\W\d_]{3,}")


def _targets(texts: list[str], found: list[list[Span]]) -> dict[str, tuple[str, float]]:
    """casefolded value or name part -> (entity, score)."""
    targets: dict[str, tuple[str, float]] = {}

    def add(key: str, entity: str, score: float) -> None:
        if key.strip() and (key not in targets or targets[key][1] < score):
            targets[key] = (entity, score)

    for text, spans in zip(texts, found, strict=True):
        for span in spans:
            value = text[span.start:span.end]
            add(value.casefold(), span.entity, span.score)
            if span.entity != "PERSON":
                continue
            for part in _NAME_PART.findall(value):
                if zipf(part) < 4.5 and part.casefold() not in common_terms():
                    add(part.casefold(), "PERSON", span.score)
    return targets


def _covered(spans: list[Span], starts: list[int], start: int, end: int) -> bool:
    index = bisect.bisect_right(starts, start) - 1
    return index >= 0 and spans[index].end >= end


def propagate(texts: list[str], found: list[list[Span]]) -> list[list[Span]]:
    targets = _targets(texts, found)
    if not targets:
        return found
    alternatives = "|".join(map(re.escape, sorted(targets, key=len, reverse=True)))
    pattern = re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.IGNORECASE)
    result = []
    for text, spans in zip(texts, found, strict=True):
        existing = merge_overlaps(spans)
        starts = [s.start for s in existing]
        extra = []
        for match in pattern.finditer(text):
            if not _covered(existing, starts, match.start(), match.end()):
                entity, score = targets[match.group().casefold()]
                extra.append(Span(match.start(), match.end(), entity, score))
        result.append(merge_overlaps(existing + extra) if extra else existing)
    return result
