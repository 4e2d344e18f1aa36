"""The official anthropic SDK through the gateway."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from tests.conftest import Gateway

SEEDS = ["Jane Doe", "jane.doe@example.com", "4111 1111 1111 1111"]
PROMPT = "Please write to Jane Doe at jane.doe@example.com about card 4111 1111 1111 1111."


def client(gw: Gateway) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=f"{gw.url}/anthropic", api_key="sk-ant-test",
                                    max_retries=0)


def assert_no_seed_left(gw: Gateway) -> None:
    seen = gw.provider.all_text()
    assert gw.provider.received, "the provider got nothing"
    for seed in SEEDS:
        assert seed not in seen


async def test_plain_message_round_trip(gateway: Gateway) -> None:
    reply = await client(gateway).messages.create(
        model="claude-test", max_tokens=100, messages=[{"role": "user", "content": PROMPT}])
    assert reply.content[0].type == "text"
    assert reply.content[0].text == f"Echo: {PROMPT}"
    assert_no_seed_left(gateway)
    headers = gateway.provider.received[0].headers
    assert "sk-ant-test" in headers.get("x-api-key", headers.get("Authorization", ""))
    assert "anthropic-version" in gateway.provider.received[0].headers


async def test_streamed_message_round_trip(gateway: Gateway) -> None:
    async with client(gateway).messages.stream(
            model="claude-test", max_tokens=100,
            messages=[{"role": "user", "content": PROMPT}]) as stream:
        text = "".join([t async for t in stream.text_stream])
        final = await stream.get_final_message()
    assert text == f"Echo: {PROMPT}"
    assert final.content[0].type == "text" and final.content[0].text == text
    assert_no_seed_left(gateway)


@pytest.mark.parametrize("stream", [False, True])
async def test_tool_use_input_restored(gateway: Gateway, stream: bool) -> None:
    prompt = 'Send "hi" to Jane Doe \\ jane.doe@example.com'
    api = client(gateway)
    messages: list[Any] = [{"role": "user", "content": prompt}]
    block: Any
    if stream:
        async with api.messages.stream(model="tool", max_tokens=100,
                                       messages=messages) as events:
            block = (await events.get_final_message()).content[0]
    else:
        block = (await api.messages.create(model="tool", max_tokens=100,
                                           messages=messages)).content[0]
    assert block.type == "tool_use"
    assert block.input == {"to": prompt}
    assert_no_seed_left(gateway)


async def test_system_blocks_tool_use_and_tool_result_are_tokenized(gateway: Gateway) -> None:
    await client(gateway).messages.create(
        model="claude-test", max_tokens=100,
        system=[{"type": "text", "text": "You assist Jane Doe."}],
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "Mail jane.doe@example.com"}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "send",
                                               "input": {"to": "jane.doe@example.com",
                                                         "card": "4111 1111 1111 1111"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                          "content": [{"type": "text",
                                                       "text": "Delivered to Jane Doe"}]}]},
        ])
    assert_no_seed_left(gateway)
    sent = gateway.provider.received[0].json
    assert sent["system"][0]["text"].startswith("You assist <PERSON_")
    assert sent["messages"][1]["content"][0]["input"]["to"].startswith("<EMAIL_ADDRESS_")


async def test_system_as_string(gateway: Gateway) -> None:
    await client(gateway).messages.create(
        model="claude-test", max_tokens=10, system="Customer: Jane Doe",
        messages=[{"role": "user", "content": "hello"}])
    assert_no_seed_left(gateway)


async def test_models_pass_through(gateway: Gateway) -> None:
    api = client(gateway)
    # the fake answers every other path with {"ok": true}; /v1/models is served as OpenAI's list
    page = await api.models.list()
    assert page is not None
    assert gateway.provider.received[0].path == "/v1/models"


async def test_upstream_error_shape_and_status(gateway: Gateway) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        await client(gateway).messages.create(
            model="error-400", max_tokens=10, messages=[{"role": "user", "content": PROMPT}])
    assert caught.value.status_code == 400
    assert f"bad prompt: {PROMPT}" in str(caught.value)
    assert_no_seed_left(gateway)


async def test_stream_cut_mid_way_raises(gateway: Gateway) -> None:
    with pytest.raises(anthropic.APIError, match="broke off"):
        async with client(gateway).messages.stream(
                model="die-mid-stream", max_tokens=10,
                messages=[{"role": "user", "content": PROMPT}]) as stream:
            async for _ in stream.text_stream:
                pass
