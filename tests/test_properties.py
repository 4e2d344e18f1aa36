"""Property tests: tokenization round-trips, and streams restore the same at every split."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.detect.spans import Span
from proxy.formats.anthropic import AnthropicStream
from proxy.formats.openai import OpenAIStream
from proxy.policy import Policy
from proxy.reidentify import Restorer
from proxy.sse import SSEDecoder, SSEEvent
from proxy.tokens import TokenMap, pseudonymize

POLICY = Policy(name="p", version=1, entities={"PERSON": "tokenize", "EMAIL_ADDRESS": "tokenize"})
KEY = b"k" * 32
# Values with characters that need escaping inside JSON, and multi-byte UTF-8.
VALUES = ['Jane "JD" Doe', "O'Brien\\Smith", "Zoë Ångström", "李小龙", "a\nb", "x@y.z"]
texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60)


@st.composite
def text_with_spans(draw: st.DrawFn) -> tuple[str, list[Span]]:
    pieces = draw(st.lists(st.one_of(texts, st.sampled_from(VALUES)), max_size=8))
    text, spans = "", []
    for piece in pieces:
        if piece in VALUES:
            entity = draw(st.sampled_from(["PERSON", "EMAIL_ADDRESS"]))
            spans.append(Span(len(text), len(text) + len(piece), entity, 0.9))
        text += piece
    return text, spans


@given(text_with_spans())
def test_restore_of_tokenize_is_identity(case: tuple[str, list[Span]]) -> None:
    text, spans = case
    tokens = TokenMap(KEY)
    result = pseudonymize(text, spans, POLICY, tokens)
    assert [r.span for r in result.replacements] == spans
    assert all(r.replacement in tokens.by_token for r in result.replacements)
    assert Restorer(tokens).restore(result.text) == text


def _splits(data: str | bytes, cuts: list[int]) -> list:  # type: ignore[type-arg]
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


@given(text_with_spans(), st.lists(st.integers(min_value=0), max_size=20), st.booleans())
def test_stream_restorer_matches_whole_text_at_every_split(
        case: tuple[str, list[Span]], cuts: list[int], json_escape: bool) -> None:
    text, spans = case
    tokens = TokenMap(KEY)
    sent = pseudonymize(text, spans, POLICY, tokens).text
    whole = Restorer(tokens).restore(sent, json_escape)
    stream = Restorer(tokens).stream(json_escape)
    out = "".join(stream.feed(piece) for piece in _splits(sent, cuts)) + stream.flush()
    assert out == whole


def _openai_sse(content: str, arguments: str) -> bytes:
    base = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m"}
    events = [{**base, "choices": [{"index": 0, "delta": {"content": ch}, "finish_reason": None}]}
              for ch in content]
    events += [{**base, "choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "function": {"arguments": ch}}]}, "finish_reason": None}]}
        for ch in arguments]
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return b"".join(SSEEvent(data=json.dumps(e)).encode() for e in events) + b"data: [DONE]\n\n"


def _run_openai(stream: bytes, tokens: TokenMap, cuts: list[int]) -> tuple[str, str]:
    decoder, rewriter = SSEDecoder(), OpenAIStream(Restorer(tokens))
    events = [out for piece in _splits(stream, cuts) for ev in decoder.feed(piece)
              for out in rewriter.on_event(ev)]
    tail, truncated = decoder.close()
    assert not truncated and not tail
    content, arguments = "", ""
    for event in events:
        if event.data is None or event.data == "[DONE]":
            continue
        for choice in json.loads(event.data)["choices"]:
            content += choice["delta"].get("content") or ""
            for call in choice["delta"].get("tool_calls") or []:
                arguments += call["function"].get("arguments") or ""
    return content, arguments


@settings(max_examples=60)
@given(text_with_spans(), st.lists(st.integers(min_value=0), max_size=30))
def test_openai_stream_equals_non_streamed_at_every_byte_split(
        case: tuple[str, list[Span]], cuts: list[int]) -> None:
    text, spans = case
    tokens = TokenMap(KEY)
    sent = pseudonymize(text, spans, POLICY, tokens).text
    sent_arguments = json.dumps({"to": sent}, ensure_ascii=False)
    content, arguments = _run_openai(_openai_sse(sent, sent_arguments), tokens, cuts)
    assert content == text
    assert json.loads(arguments) == {"to": text}


def _anthropic_sse(text: str, partial_json: str) -> bytes:
    def ev(kind: str, data: dict) -> bytes:  # type: ignore[type-arg]
        return SSEEvent(event=kind, data=json.dumps({"type": kind, **data})).encode()

    out = ev("message_start", {"message": {"content": []}})
    out += ev("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
    out += b"".join(ev("content_block_delta", {"index": 0, "delta": {"type": "text_delta",
                                                                      "text": ch}}) for ch in text)
    out += ev("content_block_stop", {"index": 0})
    out += ev("content_block_start", {"index": 1, "content_block": {"type": "tool_use",
                                                                     "input": {}}})
    out += b"".join(ev("content_block_delta", {"index": 1, "delta": {
        "type": "input_json_delta", "partial_json": ch}}) for ch in partial_json)
    out += ev("content_block_stop", {"index": 1}) + ev("message_stop", {})
    return out


@settings(max_examples=60)
@given(text_with_spans(), st.lists(st.integers(min_value=0), max_size=30))
def test_anthropic_stream_equals_non_streamed_at_every_byte_split(
        case: tuple[str, list[Span]], cuts: list[int]) -> None:
    text, spans = case
    tokens = TokenMap(KEY)
    sent = pseudonymize(text, spans, POLICY, tokens).text
    stream = _anthropic_sse(sent, json.dumps({"to": sent}, ensure_ascii=False))
    decoder, rewriter = SSEDecoder(), AnthropicStream(Restorer(tokens))
    events = [out for piece in _splits(stream, cuts) for ev in decoder.feed(piece)
              for out in rewriter.on_event(ev)]
    got_text, got_json = "", ""
    for event in events:
        data = json.loads(event.data or "{}")
        if data.get("type") == "content_block_delta":
            got_text += data["delta"].get("text", "")
            got_json += data["delta"].get("partial_json", "")
    assert got_text == text
    assert json.loads(got_json) == {"to": text}


@given(st.text(max_size=200), st.lists(st.integers(min_value=0), max_size=20),
       st.sampled_from(["\n", "\r\n", "\r"]))
def test_sse_decoder_survives_any_byte_split(data: str, cuts: list[int], newline: str) -> None:
    payloads = [line for line in data.replace("\r", " ").split("\n")] or [""]
    wire = "".join(f"event: e{newline}data: {p}{newline}{newline}" for p in payloads).encode()
    decoder = SSEDecoder()
    events = [e for piece in _splits(wire, cuts) for e in decoder.feed(piece)]
    tail, truncated = decoder.close()
    assert [e.data for e in events + tail] == payloads and not truncated


def test_unknown_token_shapes_are_counted_not_touched() -> None:
    tokens = TokenMap(KEY)
    mine = tokens.token_for("PERSON", "Jane")
    restorer = Restorer(tokens)
    assert restorer.restore(f"{mine} and <PERSON_ZZZZZ>") == "Jane and <PERSON_ZZZZZ>"
    assert (restorer.stats.restored, restorer.stats.unknown) == (1, 1)


def test_tokens_keep_their_spelling_across_versions() -> None:
    # Conversations carry tokens from turn to turn: a new version must spell them alike.
    assert TokenMap(b"k" * 32).token_for("PERSON", "Jane Doe") == "<PERSON_D1ETKSAFJ39F>"


def test_two_values_never_share_a_token_in_a_request() -> None:
    tokens = TokenMap(KEY)
    seen = {tokens.token_for("PERSON", f"name {i}") for i in range(20_000)}
    assert len(seen) == 20_000


def test_stream_holds_back_only_a_possible_token_prefix() -> None:
    tokens = TokenMap(KEY)
    token = tokens.token_for("PERSON", "Jane")
    stream = Restorer(tokens).stream()
    assert stream.feed("a < b <") == "a < b "  # '<' could start a token
    assert stream.feed("x") == "<x"             # '<x' cannot
    assert stream.feed(token[:4]) == ""
    assert stream.feed(token[4:] + "!") == "Jane!"


def test_non_streamed_tool_arguments_are_json_escaped() -> None:
    from proxy.formats.openai import OpenAIFormat

    tokens = TokenMap(KEY)
    token = tokens.token_for("PERSON", 'Jane "JD" \\ Doe')
    answer = {"choices": [{"message": {"content": f"Hi {token}", "tool_calls": [
        {"function": {"name": "f", "arguments": json.dumps({"to": token})}}]}}]}
    restored = OpenAIFormat().restore_body(answer, Restorer(tokens))
    message = restored["choices"][0]["message"]
    assert message["content"] == 'Hi Jane "JD" \\ Doe'
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {
        "to": 'Jane "JD" \\ Doe'}


@given(st.lists(st.tuples(st.text(min_size=1, max_size=30), st.integers(0, 5)), max_size=20),
       st.integers(min_value=10, max_value=80))
def test_packing_maps_every_position_back_to_its_text(items: list[tuple[str, int]],
                                                      limit: int) -> None:
    from proxy.detect.packing import pack, unpack

    windows = [(i, offset, chunk) for i, (chunk, offset) in enumerate(items)]
    for packed in pack(windows, limit):
        whole = Span(0, len(packed.text), "X", 1.0)
        for index, span in unpack([whole], packed.pieces):
            chunk, offset = items[index]
            assert (span.start, span.end) == (offset, offset + len(chunk))
            assert packed.text[span.start - offset + next(
                p.start for p in packed.pieces if p.text_index == index):][:len(chunk)] == chunk


def test_a_token_clash_fails_closed_instead_of_respelling() -> None:
    from proxy.errors import InternalFailure

    tokens = TokenMap(KEY)
    taken = TokenMap(KEY).token_for("PERSON", "Jane Doe")
    tokens.by_token[taken] = "Someone Else"   # as if another value had drawn the same code
    with pytest.raises(InternalFailure):
        tokens.token_for("PERSON", "Jane Doe")
