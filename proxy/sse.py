"""Server-sent events: an incremental decoder that survives any byte split, and an encoder.

A chunk may end inside a UTF-8 character, inside a line or between the CR and LF of one
line ending; the decoder keeps the rest for the next chunk.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_NEWLINE = re.compile(r"\r\n|\r|\n")
MAX_EVENT_CHARS = 16 * 1024 * 1024


class SSEError(ValueError):
    """The stream is not valid SSE (an event without end, say)."""


def _lines(text: str) -> list[str]:
    # Only CR, LF and CRLF end an SSE line; a value holding one must not start a new field.
    return _NEWLINE.split(text)


@dataclass
class SSEEvent:
    data: str | None = None
    event: str | None = None
    id: str | None = None
    retry: str | None = None
    comment: str | None = None

    def encode(self) -> bytes:
        lines = []
        if self.comment is not None:
            lines += [f":{line}" for line in _lines(self.comment)]
        if self.event is not None:
            lines.append(f"event: {_lines(self.event)[0]}")
        if self.id is not None:
            lines.append(f"id: {_lines(self.id)[0]}")
        if self.retry is not None:
            lines.append(f"retry: {_lines(self.retry)[0]}")
        if self.data is not None:
            lines += [f"data: {line}" for line in _lines(self.data)]
        return ("\n".join(lines) + "\n\n").encode()


class SSEDecoder:
    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._text = ""
        self._pending = SSEEvent()
        self._data: list[str] = []
        self._has_fields = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        self._text += self._utf8.decode(chunk)
        events = self._drain(final=False)
        if len(self._text) + sum(map(len, self._data)) > MAX_EVENT_CHARS:
            raise SSEError("an event exceeds the size limit")
        return events

    def close(self) -> tuple[list[SSEEvent], bool]:
        """Events still complete at end of stream, and whether a partial one was cut off."""
        self._text += self._utf8.decode(b"", final=True)
        events = self._drain(final=True)
        truncated = bool(self._text) or self._has_fields
        return events, truncated

    def _drain(self, final: bool) -> list[SSEEvent]:
        events: list[SSEEvent] = []
        while True:
            cut = _line_end(self._text, final)
            if cut is None:
                return events
            end, after = cut
            line, self._text = self._text[:end], self._text[after:]
            event = self._line(line)
            if event is not None:
                events.append(event)

    def _line(self, line: str) -> SSEEvent | None:
        if not line:
            if not self._has_fields:
                return None
            event = self._pending
            event.data = "\n".join(self._data) if self._data else None
            self._pending, self._data, self._has_fields = SSEEvent(), [], False
            return event
        self._has_fields = True
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "":
            current = self._pending.comment
            self._pending.comment = value if current is None else f"{current}\n{value}"
        elif name == "data":
            self._data.append(value)
        elif name == "event":
            self._pending.event = value
        elif name == "id":
            self._pending.id = value
        elif name == "retry":
            self._pending.retry = value
        return None


def _line_end(text: str, final: bool) -> tuple[int, int] | None:
    """(end of line, start of next) for the first complete line, or None."""
    match = _NEWLINE.search(text)
    if match is None:
        return None
    if match.group() == "\r" and match.end() == len(text) and not final:
        return None  # the LF of a CRLF may be in the next chunk
    return match.start(), match.end()
