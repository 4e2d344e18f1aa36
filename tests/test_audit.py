"""The redaction log: real traffic, then verify, find and report; tampering of every kind;
rotation; a log that cannot be written."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from proxy.audit.files import HEAD_NAME, log_files
from proxy.audit.find import find
from proxy.audit.report import build, render
from proxy.audit.values import value_key
from proxy.audit.verify import verify
from proxy.keys import derive, load_master_key
from tests.conftest import Gateway, GatewayFactory
from tests.test_edge import CHAT, chat_body, post


async def traffic(gw: Gateway) -> None:
    await post(gw, CHAT, json_body=chat_body("I am Jane Doe, jane.doe@example.com"))
    await post(gw, CHAT, json_body=chat_body("Ship it on Friday"))
    await post(gw, "/openai/v1/files", json_body={})                 # refused
    await post(gw, CHAT, json_body=chat_body("Ask Kwame Mensah", model="gpt-4o"))
    await gw.audit_after(4)


def keys(gw: Gateway) -> tuple[bytes, bytes]:
    master = load_master_key(gw.state_dir, create=False)
    assert master is not None
    return derive(master, "audit-chain"), value_key(master)


async def off_loop(function: Any, *args: Any) -> Any:
    """The auditor's tools read files: run them off the gateway's event loop."""
    return await asyncio.to_thread(function, *args)


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def found(path: Path, key: bytes, value: str) -> list[str]:
    return [how for how, _ in find(path, key, value)]


def lines(gw: Gateway) -> list[str]:
    return (gw.state_dir / "audit.jsonl").read_text().splitlines()


def rewrite(gw: Gateway, new_lines: list[str]) -> None:
    (gw.state_dir / "audit.jsonl").write_text("\n".join(new_lines) + "\n")


async def test_real_traffic_verifies_and_records_the_schema(gateway: Gateway) -> None:
    await traffic(gateway)
    chain_key, _ = await off_loop(keys, gateway)
    verdict = await off_loop(verify, gateway.state_dir, chain_key)
    assert verdict.intact and verdict.records == 4, verdict.problems
    record = json.loads(lines(gateway)[0])
    for field in ("ts", "request_id", "route", "tenant", "policy", "policy_version",
                  "policy_sha256", "upstream_host", "upstream_region", "decision", "reason",
                  "entities", "values", "tokens_issued", "tokens_restored", "tokens_unknown",
                  "upstream_status", "detection_ms", "upstream_ms", "duration_ms", "seq",
                  "prev", "mac"):
        assert field in record, field
    assert set(record["entities"]["PERSON"]) == {"count", "action", "min_score", "max_score"}
    assert (await off_loop(verify, gateway.state_dir / "audit.jsonl", chain_key)).intact


@pytest.mark.parametrize(("tamper", "expected"), [
    ("edit", "audit.jsonl:2 (record 2): its MAC does not match"),
    ("delete", "audit.jsonl:2 (record 3): sequence 3 where 2 was expected"),
    ("reorder", "audit.jsonl:2 (record 3): sequence 3 where 2 was expected"),
    ("truncate", "the log ends at record 3 but the head says 4"),
])
async def test_every_kind_of_tampering_is_detected(gateway: Gateway, tamper: str,
                                                   expected: str) -> None:
    await traffic(gateway)
    chain_key, _ = await off_loop(keys, gateway)
    records = lines(gateway)
    if tamper == "edit":
        record = json.loads(records[1])
        record["decision"] = "refused"
        records[1] = json.dumps(record, separators=(",", ":"), sort_keys=True)
    elif tamper == "delete":
        del records[1]
    elif tamper == "reorder":
        records[1], records[2] = records[2], records[1]
    else:
        records = records[:-1]
    rewrite(gateway, records)
    verdict = await off_loop(verify, gateway.state_dir, chain_key)
    assert not verdict.intact
    assert expected in verdict.problems[0], verdict.problems


async def test_verify_command_exit_codes(gateway: Gateway, tmp_path: Path) -> None:
    await traffic(gateway)
    command = [sys.executable, "-m", "proxy", "audit", "verify", str(gateway.state_dir),
               "--config", str(tmp_path / "aliasgate.yaml")]
    ok = await off_loop(run, command)
    assert ok.returncode == 0 and "4 records" in ok.stdout, ok.stdout + ok.stderr
    rewrite(gateway, lines(gateway)[:-1])
    bad = await off_loop(run, command)
    assert bad.returncode == 1 and "cut off" in bad.stdout


async def test_rotation_keeps_the_chain_across_files(start_gateway: GatewayFactory) -> None:
    gw: Gateway = await start_gateway(config_extra={"audit": {"rotate_bytes": 1024}})
    for i in range(6):
        await post(gw, CHAT, json_body=chat_body(f"Note {i} for Jane Doe"))
    await gw.audit_after(1)
    files = await off_loop(log_files, gw.state_dir)
    assert len(files) >= 3
    chain_key, _ = await off_loop(keys, gw)
    verdict = await off_loop(verify, gw.state_dir, chain_key)
    assert verdict.intact and verdict.records == 6, verdict.problems
    files[1].unlink()  # a whole rotated file goes missing
    assert "was expected" in (await off_loop(verify, gw.state_dir, chain_key)).problems[0]


async def test_find_answers_for_sent_and_unsent_values(gateway: Gateway) -> None:
    await traffic(gateway)
    _, values = await off_loop(keys, gateway)
    hits = await off_loop(lambda: list(find(gateway.state_dir, values, "jane doe")))
    assert [how for how, _ in hits] == ["whole"]
    assert hits[0][1]["upstream_host"] == "127.0.0.1" and hits[0][1]["route"] == "openai"
    assert await off_loop(found, gateway.state_dir, values, "Priya Sharma") == []
    assert await off_loop(found, gateway.state_dir, values, "Dr. Mensah") == ["part"]


async def test_report_in_every_format(gateway: Gateway) -> None:
    await traffic(gateway)
    report = await off_loop(build, gateway.state_dir, None, None, None)
    data = json.loads(render(report, "json"))
    assert data["requests"] == 4
    assert data["totals"]["decision"] == {"forwarded": 3, "refused": 1}
    assert data["totals"]["entity"]["PERSON"] >= 2
    assert render(report, "csv").startswith("day,dimension,key,count")
    assert "by decision:" in render(report, "table")
    page = render(report, "html")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "src=" not in page and "<script" not in page and "<link" not in page
    only = await off_loop(build, gateway.state_dir, None, None, "anthropic")
    assert only.requests == 0


async def test_an_unwritable_log_refuses_requests(gateway: Gateway,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    status, _, _ = await post(gateway, CHAT, json_body=chat_body("hello"))
    assert status == 200
    head = gateway.state_dir / HEAD_NAME
    head.unlink()
    head.mkdir()  # the head can no longer be replaced: every write fails
    with caplog.at_level(logging.CRITICAL):
        status, body, _ = await post(gateway, CHAT, json_body=chat_body("I am Jane Doe"))
    assert status == 503 and body["error"]["code"] == "aliasgate_audit_unavailable"
    assert "AUDIT LOG NOT WRITABLE" in caplog.text
    sent_before = len(gateway.provider.received)
    status, _, _ = await post(gateway, CHAT, json_body=chat_body("again"))
    assert status == 503 and len(gateway.provider.received) == sent_before
    async with aiohttp.ClientSession() as session, \
            session.get(gateway.url + "/readyz") as resp:
        assert resp.status == 503


async def test_continue_policy_serves_without_a_log(start_gateway: GatewayFactory) -> None:
    gw: Gateway = await start_gateway(config_extra={"audit": {"on_failure": "continue"}})
    await post(gw, CHAT, json_body=chat_body("hello"))
    head = gw.state_dir / HEAD_NAME
    head.unlink()
    head.mkdir()
    status, _, _ = await post(gw, CHAT, json_body=chat_body("hello again"))
    assert status == 200


def test_a_log_without_its_head_does_not_start(tmp_path: Path) -> None:
    from proxy.audit import AuditUnavailable, JsonlAuditSink
    from proxy.config import AuditSettings

    (tmp_path / "audit.jsonl").write_text('{"seq":1,"mac":"' + "a" * 64 + '"}\n')
    with pytest.raises(AuditUnavailable, match="head file is missing"):
        JsonlAuditSink(tmp_path / "audit.jsonl", b"k" * 32, AuditSettings())
    os.remove(tmp_path / "audit.jsonl")
