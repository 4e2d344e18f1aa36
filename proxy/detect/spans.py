"""A detected span, and the rules that turn overlapping findings into disjoint ones."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True, slots=True)  # slots: the cache holds many
class Span:
    start: int
    end: int
    entity: str
    score: float


def _precedence(span: Span) -> tuple[float, int, bool]:
    # On a tie, PERSON wins: its parts are then protected everywhere (see propagate.py).
    return span.score, span.end - span.start, span.entity == "PERSON"


def merge_overlaps(spans: list[Span]) -> list[Span]:
    """Merge overlapping spans into their union, typed by the best-scoring member.

    The union (not the best span alone) is kept so no part of a value stays in the clear.
    """
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            best = max((last, span), key=_precedence)
            merged[-1] = Span(last.start, max(last.end, span.end), best.entity,
                              max(last.score, span.score))
        else:
            merged.append(span)
    return merged
