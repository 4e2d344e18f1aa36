"""Propagation: a value found anywhere in a request is protected everywhere in it.

The detector reads each text on its own and may miss a name in a short or odd sentence
(a tool result, a later turn) that it found elsewhere. Every other occurrence of a found
value gets the same entity type, so the same token.
"""

from __future__ import annotations

import re

from .detect.spans import Span, merge_overlaps


def propagate(texts: list[str], found: list[list[Span]]) -> list[list[Span]]:
    values: dict[str, tuple[str, float]] = {}
    for text, spans in zip(texts, found, strict=True):
        for span in spans:
            value = text[span.start:span.end]
            if value.strip() and (value not in values or values[value][1] < span.score):
                values[value] = (span.entity, span.score)
    if not values:
        return found
    alternatives = sorted(values, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, alternatives)) + r")(?!\w)")
    result = []
    for text, spans in zip(texts, found, strict=True):
        extra = []
        for match in pattern.finditer(text):
            entity, score = values[match.group()]
            extra.append(Span(match.start(), match.end(), entity, score))
        result.append(merge_overlaps(spans + extra) if extra else spans)
    return result
