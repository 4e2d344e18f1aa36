"""Monitor mode: a route that inspects and audits, but forwards the client's body unchanged."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from pathlib import Path

import aiohttp
import openai
import pytest

from proxy.callers import new_key
from proxy.config import load_settings
from proxy.errors import ConfigError
from tests.conftest import Gateway, GatewayFactory, write_config
from tests.test_edge import CHAT, chat_body, post, write_policy

PROMPT = "Please write to Jane Doe at jane.doe@example.com about card 4111 1111 1111 1111."
SEEDS = ["Jane Doe", "jane.doe@example.com", "4111 1111 1111 1111"]


def client(gw: Gateway) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gw.url}/openai/v1", api_key="sk-test", max_retries=0)


def vault_entries(gw: Gateway) -> int:
    with sqlite3.connect(gw.state_dir / "vault.sqlite3") as db:
        count: int = db.execute("SELECT count(*) FROM entries").fetchone()[0]
        return count


async def test_monitored_body_goes_as_sent_and_is_audited(start_gateway: GatewayFactory
                                                          ) -> None:
    gw = await start_gateway(mode="monitor")
    sent = json.dumps(chat_body(PROMPT), indent=1).encode()  # a shape the gateway never writes
    status, body, _ = await post(gw, CHAT, data=sent,
                                 headers={"Content-Type": "application/json"})
    assert status == 200 and body["choices"][0]["message"]["content"] == f"Echo: {PROMPT}"
    assert gw.provider.received[0].body == sent
    assert gw.provider.received[0].headers["Content-Type"] == "application/json"
    record = (await gw.audit_after(1))[-1]
    assert record["decision"] == "monitored" and record["reason"] is None
    assert {"PERSON", "EMAIL_ADDRESS", "CREDIT_CARD"} <= set(record["entities"])
    assert record["entities"]["EMAIL_ADDRESS"]["action"] == "tokenize"
    assert record["values"] and record["tokens_issued"] >= 3
    audit = (gw.state_dir / "audit.jsonl").read_text()
    for seed in SEEDS:
        assert seed not in audit
    assert vault_entries(gw) == 0  # nothing was tokenized on the wire


async def test_monitored_sdk_streams_come_back_unchanged(start_gateway: GatewayFactory) -> None:
    gw = await start_gateway(mode="monitor")
    stream = await client(gw).chat.completions.create(
        model="gpt-test", stream=True, messages=[{"role": "user", "content": PROMPT}])
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == f"Echo: {PROMPT}"
    assert gw.provider.received[0].json["messages"][0]["content"] == PROMPT
    assert (await gw.audit_after(1))[-1]["decision"] == "monitored"


async def test_a_block_does_not_refuse_and_is_named(start_gateway: GatewayFactory,
                                                    tmp_path: Path) -> None:
    write_policy(tmp_path, "strict", entities={"CREDIT_CARD": "block", "PERSON": "tokenize"})
    gw = await start_gateway(policy="strict", mode="monitor")
    reply = await client(gw).chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "Card 4111 1111 1111 1111"}])
    assert reply.choices[0].message.content == "Echo: Card 4111 1111 1111 1111"
    assert "4111 1111 1111 1111" in gw.provider.received[0].text
    record = (await gw.audit_after(1))[-1]
    assert record["decision"] == "monitored"
    assert record["reason"] == "monitor: the policy would block CREDIT_CARD"
    card = record["entities"]["CREDIT_CARD"]
    assert (card["action"], card["count"]) == ("block", 1)
    assert "4111" not in (gw.state_dir / "audit.jsonl").read_text()


async def test_caller_keys_still_apply(start_gateway: GatewayFactory) -> None:
    key, line = new_key()
    gw = await start_gateway(mode="monitor", api_keys=[line])
    status, _, _ = await post(gw, CHAT, json_body=chat_body(PROMPT))
    assert status == 401 and gw.provider.received == []
    status, _, _ = await post(gw, CHAT, json_body=chat_body(PROMPT),
                              headers={"x-aliasgate-key": key})
    assert status == 200 and gw.provider.received[0].json["messages"][0]["content"] == PROMPT


async def test_start_warns_and_metrics_count_monitored_requests(
        start_gateway: GatewayFactory, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="aliasgate")
    gw = await start_gateway(mode="monitor")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["route openai is in MONITOR mode: requests are forwarded UNCHANGED, "
                        "with personal data"]  # the anthropic route enforces: no warning
    await post(gw, CHAT, json_body=chat_body(PROMPT))
    async with aiohttp.ClientSession() as session, \
            session.get(gw.url + "/metrics") as resp:
        metrics = await resp.text()
    assert 'aliasgate_monitored_requests_total{route="openai"} 1.0' in metrics
    assert 'decision="monitored"' in metrics
    for seed in SEEDS:
        assert seed not in metrics + caplog.text


async def test_routes_enforce_by_default(gateway: Gateway, tmp_path: Path) -> None:
    settings = await asyncio.to_thread(load_settings, tmp_path / "aliasgate.yaml")
    assert {route.mode for route in settings.config.routes} == {"enforce"}
    await post(gateway, CHAT, json_body=chat_body(PROMPT))
    sent = gateway.provider.received[0].text
    for seed in SEEDS:
        assert seed not in sent
    assert (await gateway.audit_after(1))[-1]["decision"] == "forwarded"


def test_an_unknown_mode_names_file_line_and_key(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9", mode="observe")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    line = next(n for n, text in enumerate(config.read_text().splitlines(), 1)
                if "mode: observe" in text)
    problems = "\n".join(caught.value.problems)
    assert f"{config}:{line}: routes[0].mode: Input should be 'enforce' or 'monitor'" \
        in problems
