"""Tokens the provider brings back from state it keeps, and tokens a model rewrote: restored
for the tenant that was issued them, through the official SDKs, whole and streamed."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest
import redis.asyncio as aioredis

from tests.conftest import Gateway, GatewayFactory

NAME, EMAIL = "Jane Doe", "jane.doe@example.com"
PROMPT = f"Please write to {NAME} at {EMAIL} about the invoice."


def client(gw: Gateway, key: str = "sk-tenant-a") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gw.url}/openai/v1", api_key=key, max_retries=0)


async def ask(gw: Gateway, model: str, prompt: str, stream: bool = False,
              key: str = "sk-tenant-a") -> str:
    api = client(gw, key)
    messages = [{"role": "user", "content": prompt}]
    if not stream:
        reply = await api.chat.completions.create(model=model, messages=messages)  # type: ignore[arg-type]
        return reply.choices[0].message.content or ""
    chunks = await api.chat.completions.create(model=model, messages=messages,  # type: ignore[arg-type]
                                               stream=True)
    assert isinstance(chunks, openai.AsyncStream)
    return "".join([c.choices[0].delta.content or "" async for c in chunks if c.choices])


@pytest.mark.parametrize("stream", [False, True])
async def test_a_token_from_an_earlier_request_is_restored(gateway: Gateway,
                                                           stream: bool) -> None:
    await ask(gateway, "gpt-test", PROMPT)
    answer = await ask(gateway, "recall", "What did I tell you?", stream)
    assert NAME in answer and EMAIL in answer
    assert "<PERSON_" not in answer
    assert NAME not in gateway.provider.all_text()
    line = (await gateway.audit_after(2))[-1]
    assert line["tokens_restored"] == 2 and line["tokens_unknown"] == 0


async def test_another_tenant_gets_the_tokens_as_they_are(gateway: Gateway) -> None:
    await ask(gateway, "gpt-test", PROMPT, key="sk-tenant-a")
    answer = await ask(gateway, "recall", "What did they tell you?", key="sk-tenant-b")
    assert NAME not in answer and EMAIL not in answer
    assert "<PERSON_" in answer and "<EMAIL_ADDRESS_" in answer
    line = (await gateway.audit_after(2))[-1]
    assert line["tokens_restored"] == 0 and line["tokens_unknown"] == 2


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("style", ["lower", "bare", "square", "spaced"])
async def test_tokens_a_model_rewrote_are_repaired(gateway: Gateway, style: str,
                                                   stream: bool) -> None:
    answer = await ask(gateway, f"mangle-{style}", PROMPT, stream)
    assert answer == f"Echo: {PROMPT}"
    line = (await gateway.audit_after(1))[-1]
    assert line["tokens_repaired"] == 2 and line["tokens_restored"] == 2


async def test_a_rewritten_token_nobody_issued_stays_and_is_counted(gateway: Gateway) -> None:
    prompt = "Forward this to PERSON_7QK2M9XH4R2A and person 12345abcde please."
    answer = await ask(gateway, "gpt-test", prompt)
    assert answer == f"Echo: {prompt}"
    line = (await gateway.audit_after(1))[-1]
    assert line["tokens_restored"] == 0 and line["tokens_unknown"] >= 1


async def test_values_are_encrypted_at_rest(gateway: Gateway) -> None:
    await ask(gateway, "gpt-test", PROMPT)
    files = list(gateway.state_dir.glob("vault.sqlite3*"))
    assert files, "the vault file is in the state dir"
    stored = b"".join(path.read_bytes() for path in files)
    sent = gateway.provider.received[0].text
    token = sent[sent.index("<PERSON_"):sent.index(">", sent.index("<PERSON_")) + 1]
    for secret in (NAME, EMAIL, token):
        assert secret.encode() not in stored


REDIS_URL = "redis://127.0.0.1:6379/12"


@pytest.fixture
async def clean_redis() -> object:
    connection = aioredis.from_url(REDIS_URL)
    await connection.flushdb()
    yield connection
    await connection.flushdb()
    await connection.aclose()


async def test_replicas_sharing_redis_restore_each_others_tokens(
        start_gateway: GatewayFactory, clean_redis: object, tmp_path: Path) -> None:
    vault = {"vault": {"backend": "redis", "url": REDIS_URL}}
    first: Gateway = await start_gateway(vault)
    second: Gateway = await start_gateway(vault)  # the same master key, from the state dir
    await ask(first, "gpt-test", PROMPT)
    answer = await ask(second, "recall", "What did I tell you?", stream=True)
    assert NAME in answer and EMAIL in answer


async def test_a_vault_that_is_down_refuses_inspected_requests(
        start_gateway: GatewayFactory) -> None:
    gw: Gateway = await start_gateway({"vault": {"backend": "redis",
                                                 "url": "redis://127.0.0.1:1/0"}})
    with pytest.raises(openai.InternalServerError) as caught:
        await ask(gw, "gpt-test", PROMPT)
    assert caught.value.status_code == 503
    assert "vault" in json.dumps(caught.value.body)
    assert gw.provider.received == []  # nothing left
