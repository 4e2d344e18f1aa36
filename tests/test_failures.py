"""Fail closed: a dead detection worker refuses with 503; the loop stays responsive."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import aiohttp

from proxy.detect.pool import WorkerPoolAnalyzer
from proxy.detect.spec import DetectionSpec
from proxy.errors import InternalFailure
from proxy.server import start_site
from tests.conftest import MODEL, Gateway, build_app, during, write_config
from tests.fake_provider import FakeProvider
from tests.test_detection import DEFAULT

CHAT = "/openai/v1/chat/completions"


async def test_dead_detection_worker_fails_closed_with_503(tmp_path: Path,
                                                           provider: FakeProvider) -> None:
    pool = WorkerPoolAnalyzer(MODEL, workers=1, chunk_chars=4000)
    await pool.start()
    settings, app = await build_app(write_config(tmp_path, provider.url), pool)
    runner, port = await start_site(app, "127.0.0.1", 0)
    try:
        for pid in pool.worker_pids():
            os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.2)
        body = {"model": "m", "messages": [{"role": "user", "content": "I am Jane Doe"}]}
        async with aiohttp.ClientSession() as session, session.post(
                f"http://127.0.0.1:{port}{CHAT}", json=body) as resp:
            assert resp.status == 503
            error = (await resp.json())["error"]
            assert error["code"] == "aliasgate_internal" and "nothing was sent" in error["message"]
        assert provider.received == []
        records = await Gateway("", settings.state_dir, provider).audit_after(1)
        assert records[-1]["decision"] == "failed" and records[-1]["status"] == 503
        for _ in range(300):  # a fresh pool starts in the background
            if pool.is_ready():
                break
            await asyncio.sleep(0.1)
        async with aiohttp.ClientSession() as session, session.post(
                f"http://127.0.0.1:{port}{CHAT}", json=body) as resp:
            assert resp.status == 200, await resp.text()
        assert "Jane Doe" not in provider.all_text()
    finally:
        await runner.cleanup()
        await pool.close()


async def test_healthz_answers_fast_while_a_large_prompt_is_analyzed(gateway: Gateway) -> None:
    sentence = "Dear Jane Doe, your order for Berlin ships Monday; call +1 212 555 0100. "
    prompt = (sentence * (200_000 // len(sentence) + 1))[:200_000]
    body = {"model": "m", "messages": [{"role": "user", "content": prompt}]}

    async def send() -> int:
        async with aiohttp.ClientSession() as session, \
                session.post(gateway.url + CHAT, json=body) as response:
            return response.status

    status, worst = await during(gateway, send())
    assert status == 200
    assert gateway.provider.received, "the large prompt was analyzed and forwarded"
    assert "Jane Doe" not in gateway.provider.received[0].text
    assert worst < 0.05, f"/healthz took {worst * 1000:.1f} ms during analysis"


async def test_readyz_and_metrics(gateway: Gateway) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(gateway.url + "/readyz") as resp:
            assert resp.status == 200
            assert (await resp.json())["checks"] == {"detection": True, "audit": True,
                                                  "vault": True}
        body = {"model": "m", "messages": [{"role": "user", "content": "I am Jane Doe"}]}
        async with session.post(gateway.url + CHAT, json=body) as resp:
            assert resp.status == 200
        async with session.post(gateway.url + "/openai/v1/fine_tuning/jobs", json={}) as resp:
            assert resp.status == 403
        async with session.get(gateway.url + "/metrics") as resp:
            text = await resp.text()
    assert 'aliasgate_requests_total{decision="forwarded",route="openai",status="200"} 1.0' in text
    assert 'aliasgate_entities_total{action="tokenize",entity="PERSON"} 1.0' in text
    assert 'aliasgate_refusals_total{kind="refused",route="openai"} 1.0' in text
    for stage in ("detection", "upstream", "total"):
        assert f'aliasgate_request_seconds_count{{route="openai",stage="{stage}"}}' in text
    assert "Jane" not in text


async def test_workers_are_recycled_without_a_pause_and_the_old_ones_exit() -> None:
    pool = WorkerPoolAnalyzer(MODEL, workers=1, chunk_chars=4000, recycle_after=10,
                              cache_chars=0)
    await pool.start()
    spec = DetectionSpec.from_policy(DEFAULT)
    try:
        first = pool.worker_pids()
        for i in range(60):  # every call is answered while the fresh pool starts
            [spans] = await pool.analyze([f"My name is Jane Doe, call +44 20 7946 {1000 + i}."],
                                         spec)
            assert {s.entity for s in spans} == {"PERSON", "PHONE_NUMBER"}
            assert pool.is_ready()
            if pool.worker_pids() != first:
                break
            await asyncio.sleep(0.1)
        assert pool.worker_pids() != first, "a fresh pool was swapped in"
        for _ in range(100):
            if not any(map(_alive, first)):
                break
            await asyncio.sleep(0.1)
        assert not any(map(_alive, first)), "the old workers exit"
    finally:
        await pool.close()


async def test_detection_that_runs_too_long_fails_closed() -> None:
    pool = WorkerPoolAnalyzer(MODEL, workers=1, chunk_chars=4000, timeout_seconds=0.001)
    await pool.start()
    [stuck] = pool.worker_pids()
    try:
        spec = DetectionSpec.from_policy(DEFAULT)
        outcomes = await asyncio.gather(  # the second waits behind the first in the pool
            pool.analyze(["Dear Jane Doe, " * 2000], spec),
            pool.analyze(["Dear John Roe, " * 2000], spec), return_exceptions=True)
        assert all(isinstance(o, InternalFailure) for o in outcomes), outcomes
        assert "timed out; nothing was sent" in str(outcomes[0])
        assert not pool.is_ready()   # a fresh pool starts in the background
        for _ in range(50):
            if not _alive(stuck):
                break
            await asyncio.sleep(0.1)
        assert not _alive(stuck), "the worker that ran too long is stopped"
    finally:
        await pool.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
