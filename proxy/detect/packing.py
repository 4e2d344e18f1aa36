"""Pack many short texts into few detection calls, and map the findings back.

A request carries many short strings (names, tool-schema keys, stop sequences). Each
Presidio call has a fixed cost, so consecutive pieces are joined with a blank line into
texts of up to `limit` characters. A finding is clipped to the piece it lies in, so it
never spans two texts.
"""

from __future__ import annotations

from dataclasses import dataclass

from .spans import Span

SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Piece:
    """One window of one text inside a packed text."""

    text_index: int
    offset: int      # where the window starts in its text
    start: int       # where it starts in the packed text
    length: int


@dataclass
class Pack:
    text: str
    pieces: list[Piece]


def pack(windows: list[tuple[int, int, str]], limit: int) -> list[Pack]:
    """Join (text index, offset, chunk) windows, in order, into packs of about `limit`."""
    packs: list[Pack] = []
    parts: list[str] = []
    pieces: list[Piece] = []
    size = 0
    for index, offset, chunk in windows:
        if parts and size + len(SEPARATOR) + len(chunk) > limit:
            packs.append(Pack(SEPARATOR.join(parts), pieces))
            parts, pieces, size = [], [], 0
        start = size + (len(SEPARATOR) if parts else 0)
        parts.append(chunk)
        pieces.append(Piece(index, offset, start, len(chunk)))
        size = start + len(chunk)
    if parts:
        packs.append(Pack(SEPARATOR.join(parts), pieces))
    return packs


def unpack(found: list[Span], pieces: list[Piece]) -> list[tuple[int, Span]]:
    """(text index, span in that text) for each finding, clipped to its piece."""
    result = []
    for span in found:
        for piece in pieces:
            start = max(span.start, piece.start)
            end = min(span.end, piece.start + piece.length)
            if start < end:
                shift = piece.offset - piece.start
                result.append((piece.text_index,
                               Span(start + shift, end + shift, span.entity, span.score)))
    return result
