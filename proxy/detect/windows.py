"""Cut long texts into overlapping windows so detection cost stays linear in size.

Windows end at whitespace and overlap, so a value that straddles one edge lies whole
inside the next window.
"""

from __future__ import annotations

OVERLAP = 200


def windows(text: str, size: int, overlap: int = OVERLAP) -> list[tuple[int, str]]:
    """(offset, chunk) pairs covering text; short texts are one window."""
    if len(text) <= size:
        return [(0, text)]
    result: list[tuple[int, str]] = []
    start = 0
    while True:
        end = start + size
        if end >= len(text):
            result.append((start, text[start:]))
            return result
        cut = text.rfind(" ", start + size // 2, end)
        end = cut if cut > 0 else end
        result.append((start, text[start:end]))
        nxt = text.find(" ", end - overlap, end)
        start = nxt + 1 if nxt != -1 and nxt + 1 > start else end - overlap
