"""AWS event-stream framing (`application/vnd.amazon.eventstream`), used by Bedrock streams.

A message is: total length (4 bytes), headers length (4), CRC32 of those 8 bytes (4),
headers, payload, CRC32 of everything before it (4). A header is: name length (1), name,
value type (1), value (its length is fixed by the type, or a 2-byte length for bytes and
strings). Headers are kept as raw bytes so messages re-encode exactly.

Decoding is linear in the bytes fed: a message is cut from the buffer once, and a long
one arriving in many small chunks is not copied again with each. A message is at most
16 MB, its headers at most 128 KB (the limits of AWS's own event-stream library).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

_PRELUDE = 12
_FIXED = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}  # type -> value length
STRING = 7
MAX_MESSAGE = 16 * 1024 * 1024
MAX_HEADERS = 128 * 1024


class EventStreamError(ValueError):
    """The bytes are not a valid event stream (bad length or CRC)."""


@dataclass
class Header:
    name: str
    type: int
    value: bytes  # raw, as on the wire (without the 2-byte length of strings and bytes)

    @property
    def text(self) -> str:
        return self.value.decode("utf-8", errors="replace")


@dataclass
class Message:
    headers: list[Header] = field(default_factory=list)
    payload: bytes = b""

    def header(self, name: str) -> str | None:
        return next((h.text for h in self.headers if h.name == name), None)

    def encode(self) -> bytes:
        parts = []
        for h in self.headers:
            name = h.name.encode()
            parts += [struct.pack(">B", len(name)), name, struct.pack(">B", h.type)]
            if h.type not in _FIXED:
                parts.append(struct.pack(">H", len(h.value)))
            parts.append(h.value)
        raw = b"".join(parts)
        total = _PRELUDE + len(raw) + len(self.payload) + 4
        prelude = struct.pack(">II", total, len(raw))
        body = prelude + struct.pack(">I", zlib.crc32(prelude)) + raw + self.payload
        return body + struct.pack(">I", zlib.crc32(body))


def event(event_type: str, payload: bytes, content_type: str = "application/json"
          ) -> Message:
    """An `event` message as Bedrock sends them."""
    return Message([Header(":event-type", STRING, event_type.encode()),
                    Header(":content-type", STRING, content_type.encode()),
                    Header(":message-type", STRING, b"event")], payload)


def _headers(raw: bytes) -> list[Header]:
    headers, at = [], 0
    while at < len(raw):
        (size,) = struct.unpack_from(">B", raw, at)
        name = raw[at + 1:at + 1 + size].decode()
        at += 1 + size
        (kind,) = struct.unpack_from(">B", raw, at)
        at += 1
        if kind in _FIXED:
            length = _FIXED[kind]
        elif kind in (6, STRING):
            (length,) = struct.unpack_from(">H", raw, at)
            at += 2
        else:
            raise EventStreamError("a message header has an unknown value type")
        headers.append(Header(name, kind, raw[at:at + length]))
        at += length
    return headers


class Decoder:
    """Messages out of a byte stream cut anywhere."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes held for messages not yet complete (the cost of completing them)."""
        return len(self._buffer)

    def feed(self, chunk: bytes) -> list[Message]:
        buffer = self._buffer
        buffer += chunk
        messages, at = [], 0
        while len(buffer) - at >= _PRELUDE:
            total, headers_length, prelude_crc = struct.unpack_from(">III", buffer, at)
            if zlib.crc32(buffer[at:at + 8]) != prelude_crc:
                raise EventStreamError("prelude CRC mismatch")
            if not 16 <= total <= MAX_MESSAGE or headers_length > min(total - 16, MAX_HEADERS):
                raise EventStreamError("bad message length")
            if len(buffer) - at < total:
                break
            frame = bytes(buffer[at:at + total])
            at += total
            (crc,) = struct.unpack_from(">I", frame, total - 4)
            if zlib.crc32(frame[:-4]) != crc:
                raise EventStreamError("message CRC mismatch")
            try:
                headers = _headers(frame[_PRELUDE:_PRELUDE + headers_length])
            except (struct.error, UnicodeDecodeError) as exc:
                raise EventStreamError("malformed message headers") from exc
            messages.append(Message(headers, frame[_PRELUDE + headers_length:-4]))
        del buffer[:at]  # once per feed, and cheap: CPython moves the start of a bytearray
        return messages

    def close(self) -> tuple[list[Message], bool]:
        """No message is complete at the end; True when a cut-off one was buffered."""
        return [], bool(self._buffer)
