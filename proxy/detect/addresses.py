"""(being written in this session)"""

from __future__ import annotations

from .spans import Span


def street_addresses(text: str) -> list[Span]:
    return []
