"""Every string of a request is inspected unless the format knows it is an identifier."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from tests.conftest import Gateway
from tests.test_edge import CHAT, post

NAME, EMAIL = "Jane Doe", "jane.doe@example.com"
# Provider blobs as they come back: base64 of bytes that are not text.
SIGNATURE = base64.b64encode(hashlib.sha512(b"signature").digest()).decode()
REDACTED = base64.b64encode(hashlib.sha512(b"redacted").digest() * 2).decode()


def assert_clean(gw: Gateway) -> None:
    seen = gw.provider.all_text()
    assert gw.provider.received
    assert NAME not in seen and EMAIL not in seen


async def test_openai_fields_beyond_messages_are_inspected(gateway: Gateway) -> None:
    body: dict[str, Any] = {
        "model": "gpt-test",
        "messages": [{"role": "user", "content": "hello"}],
        "stop": [f"Bye {NAME}"],
        "tools": [{"type": "function", "function": {
            "name": "send", "description": f"Send mail for {NAME}",
            "parameters": {"type": "object", "properties": {
                "to": {"type": "string", "enum": [EMAIL]}}}}}],
        "response_format": {"type": "json_schema", "json_schema": {
            "name": "r", "schema": {"type": "object", "description": f"about {NAME}"}}},
        "safety_identifier": EMAIL,
        "metadata": {NAME: "owner"},
        "some_future_field": {"nested": [f"note for {NAME}"]},
    }
    status, reply, _ = await post(gateway, CHAT, json_body=body)
    assert status == 200, reply
    assert_clean(gateway)
    sent = gateway.provider.received[0].json
    assert sent["model"] == "gpt-test" and sent["tools"][0]["function"]["name"] == "send"
    assert list(sent["metadata"]) == [sent["stop"][0].removeprefix("Bye ")]


async def test_anthropic_fields_beyond_messages_are_inspected(gateway: Gateway) -> None:
    body = {
        "model": "claude-test", "max_tokens": 10,
        "stop_sequences": [NAME],
        "tools": [{"name": "send", "description": f"Mail {EMAIL}",
                   "input_schema": {"type": "object", "properties": {NAME: {"type": "string"}}}}],
        "messages": [
            {"role": "user", "content": [
                {"type": "document", "source": {"type": "text", "media_type": "text/plain",
                                                "data": "notes"},
                 "title": f"Notes on {NAME}", "context": EMAIL},
                {"type": "text", "text": "Summarise", "citations": [
                    {"type": "char_location", "cited_text": f"{NAME} wrote"}]}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "t1", "name": "send", "input": {NAME: EMAIL}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1"}]},
        ],
    }
    status, reply, _ = await post(gateway, "/anthropic/v1/messages", json_body=body)
    assert status == 200, reply
    assert_clean(gateway)
    sent = gateway.provider.received[0].json
    key = next(iter(sent["messages"][1]["content"][0]["input"]))
    assert key.startswith("<PERSON_")
    assert sent["messages"][0]["content"][0]["source"]["media_type"] == "text/plain"


async def test_duplicate_keys_in_tool_arguments_cannot_smuggle_a_value(gateway: Gateway
                                                                       ) -> None:
    arguments = '{"who": "' + NAME + '", "who": "nobody"}'
    body = {"model": "gpt-test", "messages": [
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {
            "name": "f", "arguments": arguments}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "done"},
        {"role": "user", "content": "ok"}]}
    status, _, _ = await post(gateway, CHAT, json_body=body)
    assert status == 200
    assert_clean(gateway)
    sent = gateway.provider.received[0].json["messages"][0]["tool_calls"][0]["function"]
    assert json.loads(sent["arguments"]) == {"who": "nobody"}


async def test_thinking_is_inspected_on_the_way_out_and_left_signed_on_the_way_back(
        gateway: Gateway) -> None:
    body = {"model": "claude-test", "max_tokens": 10, "messages": [
        {"role": "user", "content": f"I am {NAME}"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": f"The user is {NAME}.", "signature": SIGNATURE},
            {"type": "redacted_thinking", "data": REDACTED},
            {"type": "text", "text": "Hello"}]},
        {"role": "user", "content": "Bye"}]}
    status, _, _ = await post(gateway, "/anthropic/v1/messages", json_body=body)
    assert status == 200
    assert_clean(gateway)
    sent = gateway.provider.received[0].json["messages"][1]["content"]
    assert sent[0]["signature"] == SIGNATURE and sent[1] == {"type": "redacted_thinking",
                                                             "data": REDACTED}
