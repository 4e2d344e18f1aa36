"""Stream rewriting corner cases, event by event."""

from __future__ import annotations

import json
from typing import Any

from proxy.formats.anthropic import AnthropicFormat, AnthropicStream
from proxy.formats.openai import OpenAIStream
from proxy.reidentify import Restorer
from proxy.sse import SSEDecoder, SSEEvent
from proxy.tokens import TokenMap

KEY = b"s" * 32


def _tokens(value: str) -> tuple[TokenMap, str]:
    tokens = TokenMap(KEY)
    return tokens, tokens.token_for("PERSON", value)


def _data(events: list[SSEEvent]) -> list[Any]:
    return [json.loads(e.data) for e in events if e.data and e.data != "[DONE]"]


def test_a_restored_line_break_cannot_start_a_new_sse_field() -> None:
    tokens, token = _tokens('x\r\ndata: {"injected": 1}\rz')
    events = OpenAIStream(Restorer(tokens)).on_event(SSEEvent(data=f"not json {token}"))
    decoded = SSEDecoder().feed(b"".join(e.encode() for e in events))
    assert len(decoded) == 1
    assert decoded[0].data == 'not json x\ndata: {"injected": 1}\nz'


def test_openai_text_held_at_the_end_goes_out_with_finish_reason_even_without_delta() -> None:
    tokens, token = _tokens("Jane")
    stream = OpenAIStream(Restorer(tokens))
    chunks = [{"choices": [{"index": 0, "delta": {"content": token[:5]}, "finish_reason": None}]},
              {"choices": [{"index": 0, "finish_reason": "stop"}]}]
    out = [stream.on_event(SSEEvent(data=json.dumps(c)))[0] for c in chunks]
    first, last = _data(out)
    assert first["choices"][0]["delta"]["content"] == ""
    assert last["choices"][0]["delta"]["content"] == token[:5]
    assert last["choices"][0]["finish_reason"] == "stop"


def test_openai_several_choices_and_tool_calls_restore_independently() -> None:
    tokens, token = _tokens('Jane "J"')
    stream = OpenAIStream(Restorer(tokens))
    arguments = json.dumps({"to": token})
    content, calls = {0: "", 1: ""}, {0: "", 1: ""}
    for i in range(max(len(token), len(arguments))):
        chunk = {"choices": [
            {"index": 0, "delta": {"content": token[i:i + 1]}, "finish_reason": None},
            {"index": 1, "delta": {"tool_calls": [
                {"index": 0, "function": {"arguments": arguments[i:i + 1]}},
                {"index": 1, "function": {"arguments": arguments[i:i + 1]}}]},
             "finish_reason": None}]}
        for data in _data(stream.on_event(SSEEvent(data=json.dumps(chunk)))):
            for choice in data["choices"]:
                content[choice["index"]] += choice["delta"].get("content") or ""
                for call in choice["delta"].get("tool_calls") or []:
                    calls[call["index"]] += call["function"]["arguments"]
    for data in _data(stream.finish()):
        for choice in data["choices"]:
            content[choice["index"]] += choice["delta"].get("content") or ""
            for call in choice["delta"].get("tool_calls") or []:
                calls[call["index"]] += call["function"]["arguments"]
    assert content[0] == 'Jane "J"'
    assert json.loads(calls[0]) == json.loads(calls[1]) == {"to": 'Jane "J"'}


def test_openai_legacy_function_call_arguments_are_restored() -> None:
    tokens, token = _tokens("Jane")
    stream = OpenAIStream(Restorer(tokens))
    args = json.dumps({"who": token})
    got = ""
    for ch in args:
        chunk = {"choices": [{"index": 0, "delta": {"function_call": {"arguments": ch}},
                              "finish_reason": None}]}
        got += _data(stream.on_event(SSEEvent(data=json.dumps(chunk))))[0]["choices"][0][
            "delta"]["function_call"]["arguments"]
    end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "function_call"}]}
    got += _data(stream.on_event(SSEEvent(data=json.dumps(end))))[0]["choices"][0]["delta"].get(
        "function_call", {}).get("arguments", "")
    assert json.loads(got) == {"who": "Jane"}


def test_anthropic_thinking_passes_through_signed_and_in_order() -> None:
    tokens, token = _tokens("Jane")
    stream = AnthropicStream(Restorer(tokens))
    events = [
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "thinking", "thinking": "", "signature": ""}},
        {"type": "content_block_delta", "index": 0,
         "delta": {"type": "thinking_delta", "thinking": f"user is {token}"}},
        {"type": "content_block_delta", "index": 0,
         "delta": {"type": "signature_delta", "signature": "sig"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1,
         "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 1,
         "delta": {"type": "text_delta", "text": f"Hello {token[:4]}"}},
        {"type": "content_block_delta", "index": 1,
         "delta": {"type": "citations_delta", "citation": {"cited_text": token}}},
        {"type": "content_block_stop", "index": 1},
    ]
    out = _data([e for ev in events for e in stream.on_event(
        SSEEvent(event=str(ev["type"]), data=json.dumps(ev)))])
    deltas = [e["delta"] for e in out if e["type"] == "content_block_delta"]
    assert deltas[0] == {"type": "thinking_delta", "thinking": f"user is {token}"}
    assert deltas[1] == {"type": "signature_delta", "signature": "sig"}
    assert deltas[2] == {"type": "text_delta", "text": "Hello "}
    assert deltas[3] == {"type": "text_delta", "text": token[:4]}  # flushed before citations
    assert deltas[4] == {"type": "citations_delta", "citation": {"cited_text": "Jane"}}


def test_anthropic_whole_answer_keeps_thinking_signed() -> None:
    tokens, token = _tokens("Jane")
    answer = {"content": [{"type": "thinking", "thinking": f"user {token}", "signature": "s"},
                          {"type": "text", "text": f"Hi {token}"},
                          {"type": "tool_use", "input": {token: token}}]}
    restored = AnthropicFormat().restore_body(answer, Restorer(tokens))
    assert restored["content"][0]["thinking"] == f"user {token}"
    assert restored["content"][1]["text"] == "Hi Jane"
    assert restored["content"][2]["input"] == {"Jane": "Jane"}
