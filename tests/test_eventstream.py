"""The event-stream codec: round trips at every split, and CRC checks."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proxy.eventstream import Decoder, EventStreamError, Header, Message, event


@given(st.lists(st.binary(max_size=200), min_size=1, max_size=5),
       st.lists(st.integers(min_value=0), max_size=10))
def test_round_trip_at_every_split(payloads: list[bytes], cuts: list[int]) -> None:
    messages = [event("chunk", p) for p in payloads]
    messages.append(Message([Header("flag", 0, b""), Header("n", 4, b"\x00\x00\x00\x07"),
                             Header("blob", 6, b"\x01\x02")], b"x"))
    wire = b"".join(m.encode() for m in messages)
    points = sorted({c % (len(wire) + 1) for c in cuts})
    decoder = Decoder()
    out = [m for a, b in itertools.pairwise([0, *points, len(wire)])
           for m in decoder.feed(wire[a:b])]
    assert out == messages and decoder.close() == ([], False)
    assert out[0].header(":event-type") == "chunk"


def test_a_corrupt_message_is_refused() -> None:
    wire = bytearray(event("chunk", b'{"a": 1}').encode())
    wire[-6] ^= 0xFF
    with pytest.raises(EventStreamError, match="CRC"):
        Decoder().feed(bytes(wire))


def test_botocore_reads_what_we_write() -> None:
    from botocore.eventstream import EventStreamBuffer

    buffer = EventStreamBuffer()
    buffer.add_data(event("messageStop", b'{"stopReason":"end_turn"}').encode())
    [parsed] = list(buffer)
    assert parsed.headers[":event-type"] == "messageStop"
    assert parsed.payload == b'{"stopReason":"end_turn"}'
