"""The official openai SDK through the gateway: what leaves is tokenized, what returns is real."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from tests.conftest import Gateway

SEEDS = ["Jane Doe", "jane.doe@example.com", "4111 1111 1111 1111"]
PROMPT = "Please write to Jane Doe at jane.doe@example.com about card 4111 1111 1111 1111."


def client(gw: Gateway) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gw.url}/openai/v1", api_key="sk-test", max_retries=0)


def assert_no_seed_left(gw: Gateway) -> None:
    seen = gw.provider.all_text()
    for seed in SEEDS:
        assert seed not in seen
    assert gw.provider.received, "the provider got nothing"


async def test_plain_chat_round_trip(gateway: Gateway) -> None:
    reply = await client(gateway).chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": PROMPT}])
    assert reply.choices[0].message.content == f"Echo: {PROMPT}"
    assert_no_seed_left(gateway)
    sent = gateway.provider.received[0].json["messages"][0]["content"]
    assert "<PERSON_" in sent and "<EMAIL_ADDRESS_" in sent and "<CREDIT_CARD_" in sent


async def test_streamed_chat_round_trip(gateway: Gateway) -> None:
    stream = await client(gateway).chat.completions.create(
        model="gpt-test", stream=True, messages=[{"role": "user", "content": PROMPT}])
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == f"Echo: {PROMPT}"
    assert_no_seed_left(gateway)


@pytest.mark.parametrize("stream", [False, True])
async def test_tool_call_arguments_restored(gateway: Gateway, stream: bool) -> None:
    prompt = 'Send "hi" to Jane Doe, jane.doe@example.com'
    api = client(gateway)
    if stream:
        chunks = await api.chat.completions.create(
            model="tool", stream=True, messages=[{"role": "user", "content": prompt}])
        arguments = ""
        async for chunk in chunks:
            for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
                arguments += (call.function.arguments or "") if call.function else ""
    else:
        reply = await api.chat.completions.create(
            model="tool", messages=[{"role": "user", "content": prompt}])
        calls = reply.choices[0].message.tool_calls
        assert calls
        arguments = calls[0].function.arguments  # type: ignore[union-attr]
    assert json.loads(arguments) == {"to": prompt}
    assert_no_seed_left(gateway)


async def test_history_with_tool_calls_and_roles_is_tokenized(gateway: Gateway) -> None:
    messages: list[Any] = [
        {"role": "system", "content": "You help Jane Doe."},
        {"role": "developer", "content": [{"type": "text", "text": "Card 4111 1111 1111 1111"}]},
        {"role": "user", "name": "jane", "content": "Email jane.doe@example.com please"},
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": "send", "arguments": json.dumps({"to": "jane.doe@example.com",
                                                                 "who": "Jane Doe"})}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "Sent to Jane Doe."},
        {"role": "user", "content": "Thanks"},
    ]
    await client(gateway).chat.completions.create(model="gpt-test", messages=messages)
    assert_no_seed_left(gateway)
    sent = gateway.provider.received[0].json["messages"]
    args = json.loads(sent[3]["tool_calls"][0]["function"]["arguments"])
    assert args["to"].startswith("<EMAIL_ADDRESS_") and args["who"].startswith("<PERSON_")
    assert sent[4]["tool_call_id"] == "call_1"


async def test_same_value_same_token_across_turns(gateway: Gateway) -> None:
    api = client(gateway)
    for _ in range(2):
        await api.chat.completions.create(
            model="gpt-test", messages=[{"role": "user", "content": "I am Jane Doe."}])
    first, second = (r.json["messages"][0]["content"] for r in gateway.provider.received)
    assert first == second and "<PERSON_" in first


async def test_different_api_keys_get_different_tokens(gateway: Gateway) -> None:
    for key in ("sk-one", "sk-two"):
        api = openai.AsyncOpenAI(base_url=f"{gateway.url}/openai/v1", api_key=key, max_retries=0)
        await api.chat.completions.create(
            model="gpt-test", messages=[{"role": "user", "content": "I am Jane Doe."}])
    first, second = (r.json["messages"][0]["content"] for r in gateway.provider.received)
    assert first != second


async def test_embeddings_string_and_list(gateway: Gateway) -> None:
    api = client(gateway)
    one = await api.embeddings.create(model="emb", input="Jane Doe lives here")
    many = await api.embeddings.create(model="emb", input=["Jane Doe", "jane.doe@example.com"])
    assert len(one.data) == 1 and len(many.data) == 2
    assert_no_seed_left(gateway)


async def test_models_pass_through(gateway: Gateway) -> None:
    models = await client(gateway).models.list()
    assert [m.id for m in models.data] == ["gpt-test"]
    assert gateway.provider.received[0].headers["Authorization"] == "Bearer sk-test"


async def test_upstream_error_comes_back_with_status_and_body(gateway: Gateway) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client(gateway).chat.completions.create(
            model="error-400", messages=[{"role": "user", "content": "I am Jane Doe."}])
    assert caught.value.status_code == 400
    assert "bad prompt: I am Jane Doe." in str(caught.value)
    assert_no_seed_left(gateway)


async def test_stream_cut_mid_way_raises_in_client(gateway: Gateway) -> None:
    stream = await client(gateway).chat.completions.create(
        model="die-mid-stream", stream=True, messages=[{"role": "user", "content": PROMPT}])
    got = []
    with pytest.raises(openai.APIError, match="broke off"):
        async for chunk in stream:
            if chunk.choices:
                got.append(chunk.choices[0].delta.content or "")
    text = "".join(got)
    assert text and f"Echo: {PROMPT}".startswith(text)
    record = (await gateway.audit_after(1))[-1]
    assert record["decision"] == "failed"
