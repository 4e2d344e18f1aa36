"""Server-sent events: an incremental decoder that survives any byte split, and an encoder.

A chunk may end inside a UTF-8 character, inside a line or between the CR and LF of one
line ending; the decoder keeps the rest for the next chunk. Decoding is linear in the
bytes fed, whatever they hold: each chunk is split into lines once, and only the line
not yet ended is kept, as a list of pieces. An event is bounded in size and in lines,
every line counted (comments and unknown fields too), and so is a line that never ends.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

from .answer_json import utf8

MAX_EVENT_CHARS = 16 * 1024 * 1024
MAX_EVENT_LINES = 100_000


class SSEError(ValueError):
    """The stream is not valid SSE, or an event is over the size limit. The message is the
    gateway's own words."""


def _lines(text: str) -> list[str]:
    # Only CR, LF and CRLF end an SSE line; a value holding one must not start a new field.
    # (str.replace and split run at memchr speed; a regex split does not, on long text.)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


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
        return utf8("\n".join(lines) + "\n\n")


@dataclass
class _Pending:
    """The event being read: its fields so far and what it has cost."""

    event: SSEEvent = field(default_factory=SSEEvent)
    data: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    chars: int = 0
    lines: int = 0


class SSEDecoder:
    def __init__(self, max_event_chars: int = MAX_EVENT_CHARS,
                 max_event_lines: int = MAX_EVENT_LINES) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._max_chars, self._max_lines = max_event_chars, max_event_lines
        self._tail: list[str] = []  # the line not yet ended, in pieces
        self._tail_chars = 0
        self._after_cr = False      # the last line ended with CR: a first LF belongs to it
        self._pending = _Pending()

    @property
    def buffered(self) -> int:
        """Characters held for the event not yet complete (the cost of completing it)."""
        return self._pending.chars + self._tail_chars

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        return self._take(self._utf8.decode(chunk))

    def close(self) -> tuple[list[SSEEvent], bool]:
        """Events still complete at end of stream, and whether a partial one was cut off."""
        events = self._take(self._utf8.decode(b"", final=True))
        truncated = self._tail_chars > 0 or self._pending.lines > 0
        return events, truncated

    def _take(self, text: str) -> list[SSEEvent]:
        if self._after_cr and text:
            self._after_cr = False
            if text[0] == "\n":
                text = text[1:]
        if "\n" not in text and "\r" not in text:
            self._keep_tail(text)
            return []
        self._after_cr = text[-1] == "\r"
        lines = _lines(text)
        if self._tail:
            lines[0] = "".join(self._tail) + lines[0]
            self._tail, self._tail_chars = [], 0
        events = []
        for line in lines[:-1]:
            event = self._line(line)
            if event is not None:
                events.append(event)
        self._keep_tail(lines[-1])
        return events

    def _keep_tail(self, text: str) -> None:
        if text:
            self._tail.append(text)
            self._tail_chars += len(text)
            if self.buffered > self._max_chars:
                raise SSEError("an event exceeds the size limit")

    def _line(self, line: str) -> SSEEvent | None:
        pending = self._pending
        if not line:
            if not pending.lines:
                return None
            event = pending.event
            event.data = "\n".join(pending.data) if pending.data else None
            event.comment = "\n".join(pending.comments) if pending.comments else None
            self._pending = _Pending()
            return event
        pending.chars += len(line) + 1
        pending.lines += 1
        if pending.chars > self._max_chars or pending.lines > self._max_lines:
            raise SSEError("an event exceeds the size limit")
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "":
            pending.comments.append(value)
        elif name == "data":
            pending.data.append(value)
        elif name == "event":
            pending.event.event = value
        elif name == "id":
            pending.event.id = value
        elif name == "retry":
            pending.event.retry = value
        return None
