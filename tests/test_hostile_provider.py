"""A hostile provider: whatever it answers, the client gets its answer restored or a clean
error in the provider's own shape, and the gateway keeps serving everyone else meanwhile
(/healthz answers within HEALTHZ_BOUND all through the attack)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, TypeVar

import aiohttp
import anthropic
import openai
import pytest

from proxy import answer_json, eventstream
from proxy.answer_json import SLICE, UnsafeJson, parse, utf8
from proxy.formats.base import restore_json
from proxy.jsonbudget import Budget
from proxy.reidentify import Restorer
from proxy.sse import SSEDecoder, SSEError
from proxy.token_forms import forms_for
from proxy.tokens import TokenMap
from tests.conftest import Gateway, during
from tests.regional import regional
from tests.test_bedrock import KEY, bedrock, boto_client

__all__ = ["bedrock", "regional"]

CHAT, MESSAGES = "/openai/v1/chat/completions", "/anthropic/v1/messages"
PROMPT = "Write to Jane Doe"
REPLY = f"Echo: {PROMPT}"
HEALTHZ_BOUND = 0.5
MB = 1024 * 1024
T = TypeVar("T")




def body(kind: str, stream: bool = False) -> dict[str, Any]:
    return {"model": f"hostile-{kind}", "max_tokens": 10, "stream": stream,
            "messages": [{"role": "user", "content": PROMPT}]}


async def post(gw: Gateway, path: str, kind: str, stream: bool = False
               ) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session, session.post(
            gw.url + path, json=body(kind, stream)) as resp:
        return resp.status, await resp.read()


def openai_client(gw: Gateway) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gw.url}/openai/v1", api_key="sk-test", max_retries=0)


def anthropic_client(gw: Gateway) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=f"{gw.url}/anthropic", api_key="sk-ant-test",
                                    max_retries=0)


async def openai_stream(gw: Gateway, kind: str) -> str:
    stream = await openai_client(gw).chat.completions.create(
        model=f"hostile-{kind}", stream=True, messages=[{"role": "user", "content": PROMPT}])
    return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])


async def anthropic_stream(gw: Gateway, kind: str) -> str:
    async with anthropic_client(gw).messages.stream(
            model=f"hostile-{kind}", max_tokens=10,
            messages=[{"role": "user", "content": PROMPT}]) as stream:
        return "".join([text async for text in stream.text_stream])


# --- Streams ---------------------------------------------------------------------------

STREAM_ATTACKS = [  # (kind, bytes sent, depth, what the client is told)
    ("comments", 4 * MB, 0, "an event exceeds the size limit"),
    ("cr-comments", 4 * MB, 0, "an event exceeds the size limit"),
    ("line", 17 * MB, 0, "an event exceeds the size limit"),
    ("wide-event", 2 * MB, 0, "an event holds more than 100000 JSON values"),
    ("deep-event", 1, 64, "an event is nested deeper than 64 levels"),
    ("deep-event", 1, 5000, "an event is nested deeper than 64 levels"),
]


@pytest.mark.parametrize(("kind", "size", "depth", "message"), STREAM_ATTACKS)
@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
async def test_a_hostile_stream_ends_in_an_error_event_and_the_gateway_keeps_serving(
        gateway: Gateway, sdk: str, kind: str, size: int, depth: int, message: str) -> None:
    gateway.provider.hostile_bytes, gateway.provider.hostile_depth = size, depth
    read = openai_stream if sdk == "openai" else anthropic_stream
    error = openai.APIError if sdk == "openai" else anthropic.APIError

    async def attack() -> None:
        with pytest.raises(error, match=message):
            await read(gateway, kind)

    _, worst = await during(gateway, attack())
    assert worst < HEALTHZ_BOUND, f"/healthz took {worst * 1000:.0f} ms during the attack"
    record = (await gateway.audit_after(1))[-1]
    assert record["decision"] == "failed" and message in record["reason"]


def flooded(piece: bytes, size: int) -> int:
    """How many times the fake provider's `_flood` sends `piece` for `size` bytes."""
    per_block = max(1, 65_536 // len(piece))
    return (size // (len(piece) * per_block) + 1) * per_block


@pytest.mark.parametrize(("kind", "size", "events"), [
    ("tiny-events", MB // 2, flooded(b"data: {}\n\n", MB // 2)),
    ("blank-lines", 4 * MB, 0)])
async def test_floods_of_tiny_events_or_blank_lines_pass_while_the_gateway_keeps_serving(
        gateway: Gateway, kind: str, size: int, events: int) -> None:
    gateway.provider.hostile_bytes = size
    (status, answer), worst = await during(gateway, post(gateway, CHAT, kind, stream=True))
    assert status == 200
    assert answer.count(b"data: {}\n\n") == events
    assert answer.endswith(b"data: [DONE]\n\n")
    assert worst < HEALTHZ_BOUND, f"/healthz took {worst * 1000:.0f} ms during the flood"


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
async def test_a_large_event_is_restored_off_the_loop_and_the_rest_follows_in_order(
        gateway: Gateway, sdk: str) -> None:
    gateway.provider.hostile_bytes = 2 * MB  # one delta: the name at its very end
    read = openai_stream if sdk == "openai" else anthropic_stream
    text, worst = await during(gateway, read(gateway, "big-event"))
    assert text == "a" * (2 * MB) + REPLY + " and more"
    assert worst < HEALTHZ_BOUND, f"/healthz took {worst * 1000:.0f} ms during the answer"


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
async def test_a_lone_surrogate_in_a_stream_goes_back_as_its_json_escape(
        gateway: Gateway, sdk: str) -> None:
    path = CHAT if sdk == "openai" else MESSAGES
    status, raw = await post(gateway, path, "surrogate-stream", stream=True)
    assert status == 200
    raw.decode("utf-8")  # valid UTF-8, strictly
    assert b"\\ud800" in raw and b"error" not in raw
    read = openai_stream if sdk == "openai" else anthropic_stream
    text = await read(gateway, "surrogate-stream")
    assert text == f"\ud800{REPLY}"  # the name restored, too


# --- Whole JSON answers ----------------------------------------------------------------

JSON_ATTACKS = [  # (kind, bytes sent, depth, what the client is told)
    ("many-strings", 8 * MB, 0, "holds more than 100000 JSON values"),
    ("many-numbers", 8 * MB, 0, "holds more than 100000 JSON values"),
    ("deep", 0, 65, "is nested deeper than 64 levels"),
    ("deep", 0, 5000, "is nested deeper than 64 levels"),
    ("deep", 0, 200_000, "holds more than 100000 JSON values"),
    ("overflow", 0, 0, "holds a number too large to pass on unchanged"),
]


@pytest.mark.parametrize(("kind", "size", "depth", "message"), JSON_ATTACKS)
async def test_an_answer_past_the_json_budget_is_502_in_the_providers_shape(
        gateway: Gateway, kind: str, size: int, depth: int, message: str) -> None:
    gateway.provider.hostile_bytes, gateway.provider.hostile_depth = size, depth
    (status, answer), worst = await during(gateway, post(gateway, CHAT, kind))
    assert status == 502
    error = json.loads(answer)["error"]
    assert error["code"] == "aliasgate_upstream_failed" and message in error["message"]
    assert worst < HEALTHZ_BOUND, f"/healthz took {worst * 1000:.0f} ms during the attack"
    status, answer = await post(gateway, MESSAGES, kind)
    assert status == 502 and json.loads(answer)["type"] == "error"
    records = await gateway.audit_after(2)
    assert [r["status"] for r in records] == [502, 502]
    assert all(r["decision"] == "failed" and message in r["reason"] for r in records)


async def test_an_answer_exactly_at_the_depth_limit_is_passed_on(gateway: Gateway) -> None:
    gateway.provider.hostile_depth = 64
    status, answer = await post(gateway, CHAT, "deep")
    assert status == 200 and answer == b"[" * 64 + b'"<"' + b"]" * 64


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
async def test_a_lone_surrogate_in_an_answer_goes_back_as_its_json_escape(
        gateway: Gateway, sdk: str) -> None:
    status, raw = await post(gateway, CHAT if sdk == "openai" else MESSAGES, "surrogate")
    assert status == 200
    raw.decode("utf-8")  # valid UTF-8, strictly
    assert b'"\\ud800 Echo: Write to Jane Doe"' in raw
    if sdk == "openai":
        reply = await openai_client(gateway).chat.completions.create(
            model="hostile-surrogate", messages=[{"role": "user", "content": PROMPT}])
        assert reply.choices[0].message.content == f"\ud800 {REPLY}"
    else:
        message = await anthropic_client(gateway).messages.create(
            model="hostile-surrogate", max_tokens=10,
            messages=[{"role": "user", "content": PROMPT}])
        assert message.content[0].text == f"\ud800 {REPLY}"  # type: ignore[union-attr]


async def test_nan_and_infinity_come_back_as_the_provider_sent_them(gateway: Gateway) -> None:
    status, raw = await post(gateway, CHAT, "nan")
    assert status == 200
    assert raw.endswith(b'"score": NaN, "low": -Infinity}')
    answer = json.loads(raw)
    assert answer["choices"][0]["message"]["content"] == REPLY  # restored, so re-written


async def test_an_answer_labelled_json_that_is_not_is_restored_as_text(gateway: Gateway
                                                                       ) -> None:
    gateway.provider.hostile_bytes = 8 * MB
    (status, raw), worst = await during(gateway, post(gateway, CHAT, "not-json"))
    assert status == 200
    piece = b"<not json> " * 1024
    assert raw == f"{REPLY} ".encode() + piece * flooded(piece, 8 * MB)
    assert worst < HEALTHZ_BOUND, f"/healthz took {worst * 1000:.0f} ms during the answer"


async def test_a_large_answer_that_cannot_hold_a_token_passes_unchanged(gateway: Gateway
                                                                         ) -> None:
    gateway.provider.hostile_bytes = 30 * MB

    async def fetch() -> tuple[int, str | None, bytes]:
        async with aiohttp.ClientSession() as session, session.post(
                gateway.url + CHAT, json=body("plain-big")) as resp:
            return resp.status, resp.headers.get("Content-Length"), await resp.read()

    (status, length, raw), worst = await during(gateway, fetch())
    assert status == 200 and length == str(len(raw))  # sent in slices, with its length
    piece = b'"plain",' * 1024
    assert raw == b'{"items": [' + piece * flooded(piece, 30 * MB) + b'"end"]}'
    assert worst < HEALTHZ_BOUND, f"/healthz took {worst * 1000:.0f} ms during the answer"


# --- Bedrock event streams -------------------------------------------------------------

EU_HOSTILE = "eu.anthropic.hostile-"


def converse_stream(gw: Gateway, kind: str) -> tuple[str, int]:
    """(text of the deltas, number of events) as boto3 reads them."""
    response = boto_client(gw).converse_stream(
        modelId=EU_HOSTILE + kind, messages=[{"role": "user", "content": [{"text": PROMPT}]}])
    text, count = "", 0
    for item in response["stream"]:
        count += 1
        text += item.get("contentBlockDelta", {}).get("delta", {}).get("text", "")
    return text, count


async def test_a_large_event_stream_message_in_small_pieces_is_read_in_linear_time(
        bedrock: Gateway) -> None:
    bedrock.provider.hostile_bytes = 8 * MB  # one message, sent 1 KB at a time
    (text, count), worst = await during(bedrock, asyncio.to_thread(converse_stream, bedrock,
                                                                   "big"))
    assert text == "a" * 8 * MB and count == 1
    assert worst < HEALTHZ_BOUND, f"/healthz took {worst * 1000:.0f} ms during the answer"


async def test_floods_of_tiny_or_header_heavy_messages_keep_the_gateway_serving(
        bedrock: Gateway) -> None:
    tiny = eventstream.event("metadata", b"{}").encode()
    bedrock.provider.hostile_bytes = MB // 4
    (_, count), worst = await during(bedrock, asyncio.to_thread(converse_stream, bedrock,
                                                                "tiny"))
    assert count == flooded(tiny, MB // 4)
    assert worst < HEALTHZ_BOUND, f"/healthz took {worst * 1000:.0f} ms during the flood"
    bedrock.provider.hostile_bytes = MB // 2
    (status, raw), worst = await during(bedrock, raw_converse_stream(bedrock, "headers"))
    assert status == 200
    assert worst < HEALTHZ_BOUND, f"/healthz took {worst * 1000:.0f} ms during the flood"
    messages = await asyncio.to_thread(eventstream.Decoder().feed, raw)
    assert len(messages) > 4 and all(len(m.headers) == 40_001 for m in messages)


async def raw_converse_stream(gw: Gateway, kind: str) -> tuple[int, bytes]:
    """A ConverseStream call read as bytes (boto3 would parse each of many headers in
    Python, in this process, slowly)."""
    async with aiohttp.ClientSession() as session, session.post(
            f"{gw.url}/bedrock/model/{EU_HOSTILE}{kind}/converse-stream",
            headers={"x-aliasgate-key": KEY},
            json={"messages": [{"role": "user", "content": [{"text": PROMPT}]}]}) as resp:
        return resp.status, await resp.read()


async def test_a_lone_surrogate_in_an_event_stream_goes_back_as_its_json_escape(
        bedrock: Gateway) -> None:
    text, _ = await asyncio.to_thread(converse_stream, bedrock, "surrogate")
    assert text == f"\ud800{REPLY}"


# --- The pieces, one by one ------------------------------------------------------------

def test_sse_decoding_is_linear_whatever_the_lines() -> None:
    def feed(flood: bytes) -> float:
        decoder, started = SSEDecoder(), time.perf_counter()
        for at in range(0, len(flood), 65_536):
            decoder.feed(flood[at:at + 65_536])
        return time.perf_counter() - started

    for flood in (b"\n" * (8 * MB), b"data: {}\n\n" * (MB // 10), b"x" * (15 * MB)):
        assert feed(flood) < 10, "decoding grew faster than the input"
    for flood in (b":\r" * (4 * MB), b":" + b"x" * (17 * MB)):
        started = time.perf_counter()
        with pytest.raises(SSEError, match="exceeds the size limit"):
            feed(flood)
        assert time.perf_counter() - started < 10


def test_an_sse_event_is_bounded_in_characters_and_lines_comments_included() -> None:
    decoder = SSEDecoder(max_event_chars=1000, max_event_lines=50)
    decoder.feed(b":" + b"x" * 900 + b"\n")
    with pytest.raises(SSEError, match="exceeds the size limit"):
        decoder.feed(b"x" * 200)  # a line that has not ended counts too
    decoder = SSEDecoder(max_event_chars=1000, max_event_lines=50)
    with pytest.raises(SSEError, match="exceeds the size limit"):
        decoder.feed(b":\n" * 51)
    decoder = SSEDecoder(max_event_chars=1000, max_event_lines=50)
    events = decoder.feed(b":\n" * 49 + b"data: x\n\n")  # up to the limit is fine
    assert [e.data for e in events] == ["x"] and events[0].comment == "\n" * 48


def test_sse_line_endings_split_anywhere_give_the_same_events() -> None:
    stream = b": c\r\ndata: a\r\rdata: b\rdata: c\n\ndata: d\r\n\r\n"
    whole = SSEDecoder().feed(stream)
    for cut in range(len(stream)):
        decoder = SSEDecoder()
        assert decoder.feed(stream[:cut]) + decoder.feed(stream[cut:]) == whole
    assert [e.data for e in whole] == ["a", "b\nc", "d"]


def test_an_event_stream_message_in_small_pieces_is_read_in_linear_time() -> None:
    payload = b"a" * (8 * MB)
    frame = eventstream.event("contentBlockDelta", payload).encode()
    decoder = eventstream.Decoder()
    started = time.perf_counter()
    messages = [m for at in range(0, len(frame), 1024) for m in decoder.feed(frame[at:at + 1024])]
    assert time.perf_counter() - started < 10, "decoding grew faster than the input"
    assert [m.payload for m in messages] == [payload]


def test_event_stream_headers_over_128_kb_are_refused() -> None:
    headers = [eventstream.Header("x", 6, b"h" * 60_000)] * 3
    frame = eventstream.Message(headers, b"{}").encode()
    with pytest.raises(eventstream.EventStreamError, match="bad message length"):
        eventstream.Decoder().feed(frame)


def test_restoring_does_not_recurse_however_deep() -> None:
    deep: Any = "<x>"
    for _ in range(100_000):
        deep = [deep]
    restored = restore_json(deep, Restorer(TokenMap(b"s" * 32)), frozenset())
    for _ in range(100_000):
        restored = restored[0]
    assert restored == "<x>"


def test_the_budget_is_exact_at_its_limits() -> None:
    budget = Budget(max_values=200, max_depth=8)
    assert parse(json.dumps(list(range(199))), budget) == list(range(199))
    with pytest.raises(UnsafeJson, match="more than 200 JSON values"):
        parse(json.dumps(list(range(200))), budget)
    nested: Any = []
    for _ in range(7):
        nested = [nested]
    assert parse(json.dumps(nested), budget) == nested  # eight levels
    with pytest.raises(UnsafeJson, match="nested deeper than 8 levels"):
        parse(json.dumps([nested]), budget)
    # Brackets in a string are no nesting (the count on the bytes only says when to look).
    assert parse(json.dumps(["[{" * 90]), budget) == ["[{" * 90]


def test_a_token_start_is_found_across_slices() -> None:
    """Answers are scanned in slices (token_forms); a start cut by a slice's edge counts.
    Any \\u escape counts, since JSON may spell any of a token's letters with one."""
    forms = forms_for(frozenset())
    for spelled in (b"<", b"\\u003c", b"\\u003C", b"\\u0050", b"PERSON_"):
        for edge in (1 << 16, SLICE):
            for shift in range(len(spelled)):
                raw = b"a" * (edge - shift) + spelled + b"7QK2M9XH4R2A" + b"a" * 10
                assert forms.may_hold(raw)
    assert not forms.may_hold(b"a" * (2 * SLICE) + b"[more]")


def test_a_lone_surrogate_is_written_as_its_json_escape() -> None:
    assert utf8(answer_json.dumps({"a": "x\ud800\\"})) == b'{"a": "x\\ud800\\\\"}'
    assert json.loads(utf8(answer_json.dumps(["\udfff"]))) == ["\udfff"]
