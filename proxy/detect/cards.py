"""(being written in this session)"""

from __future__ import annotations

from .spans import Span


def card_numbers(text: str) -> list[Span]:
    return []
