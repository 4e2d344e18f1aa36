"""Detection is shared fairly: a large request cannot hold the workers, an oversize one is
refused before any worker sees it, a request that gives up takes its waiting batches with
it, and the detection cache is partitioned by tenant."""

from __future__ import annotations

import asyncio
import os
import random
import time

import aiohttp
import pytest

from proxy.detect.pool import WorkerPoolAnalyzer
from proxy.detect.scheduler import FairDispatcher
from proxy.detect.spec import DetectionSpec
from proxy.errors import InternalFailure, PayloadTooLarge
from tests.conftest import MODEL, GatewayFactory
from tests.test_detection import DEFAULT

SPEC = DetectionSpec.from_policy(DEFAULT)
NAMES = ["Maria Gonzalez", "Kwame Mensah", "Priya Sharma", "Lukas Schneider", "Olga Petrova"]


def prose(size: int) -> str:
    """About `size` characters of fresh text with personal data (never in the cache)."""
    rng = random.Random(os.urandom(8))
    parts, total = [], 0
    while total < size:
        part = (f"Hi, this is {rng.choice(NAMES)}; call +1 415 555 {rng.randint(1000, 9999)} "
                f"about invoice {rng.randint(10_000, 99_999)} before Friday, please. ")
        parts.append(part)
        total += len(part)
    return "".join(parts)[:size]


async def started(task: asyncio.Task[object], pool: WorkerPoolAnalyzer) -> None:
    """Wait until `task` has batches in the pool and more waiting."""
    for _ in range(200):
        if pool.dispatcher.in_flight and pool.dispatcher.waiting:
            return
        assert not task.done()
        await asyncio.sleep(0.01)
    raise AssertionError("the large request never started")


# --- the dispatcher on its own ------------------------------------------------------------

async def test_dispatcher_takes_turns_between_requests_and_scopes() -> None:
    """With one place, requests that arrive behind a long one run between its batches,
    not after them: scopes (tenants) take turns, and so do the requests within a scope."""
    order: list[str] = []

    def launch(job: str) -> asyncio.Future[str]:
        order.append(job)
        future = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(0.001, future.set_result, job.upper())
        return future

    dispatcher: FairDispatcher[str, str] = FairDispatcher(1, launch)
    long = asyncio.create_task(dispatcher.run(b"t1", [f"a{i}" for i in range(6)]))
    await asyncio.sleep(0)   # a0 is in flight
    same_tenant = asyncio.create_task(dispatcher.run(b"t1", ["b0", "b1"]))
    other_tenant = asyncio.create_task(dispatcher.run(b"t2", ["c0"]))
    assert await other_tenant == ["C0"]
    assert await same_tenant == ["B0", "B1"]
    assert await long == [f"A{i}" for i in range(6)]
    # t1 and t2 take turns (t2's first comes one batch after it arrived, as t1's turn had
    # come round already); within t1, a and b alternate; a alone finishes last
    assert order == ["a0", "a1", "c0", "b0", "a2", "b1", "a3", "a4", "a5"], order
    assert dispatcher.in_flight == 0 and dispatcher.waiting == 0


async def test_only_single_batch_requests_take_the_spare_place() -> None:
    """The spare place keeps a small batch queued in the pool; a large request's batches
    never take it, so a small request never waits in the pool behind one of them."""
    pending: list[asyncio.Future[str]] = []
    order: list[str] = []

    def launch(job: str) -> asyncio.Future[str]:
        order.append(job)
        pending.append(asyncio.get_running_loop().create_future())
        return pending[-1]

    dispatcher: FairDispatcher[str, str] = FairDispatcher(2, launch, spare=1)
    large = asyncio.create_task(dispatcher.run(b"t1", ["a0", "a1", "a2", "a3"]))
    await asyncio.sleep(0)
    assert order == ["a0", "a1"] and dispatcher.in_flight == 2   # not a third
    small = asyncio.create_task(dispatcher.run(b"t2", ["s0"]))
    await asyncio.sleep(0)
    assert order == ["a0", "a1", "s0"] and dispatcher.in_flight == 3   # the spare place
    for index in range(5):   # each answer lets the next batch in
        pending[index].set_result(order[index])
        await asyncio.sleep(0)
    assert order == ["a0", "a1", "s0", "a2", "a3"] and dispatcher.in_flight == 0
    assert await small == ["s0"]
    assert await large == ["a0", "a1", "a2", "a3"]


async def test_dispatcher_drops_the_waiting_batches_of_a_failed_request() -> None:
    launched: list[str] = []

    def launch(job: str) -> asyncio.Future[str]:
        launched.append(job)
        future = asyncio.get_running_loop().create_future()
        if job == "bad":
            future.set_exception(ValueError("no"))
        else:
            future.set_result(job)
        return future

    dispatcher: FairDispatcher[str, str] = FairDispatcher(1, launch)
    with pytest.raises(ValueError):
        await dispatcher.run(b"", ["ok", "bad", "never", "never"])
    assert launched == ["ok", "bad"] and dispatcher.waiting == 0
    assert await dispatcher.run(b"", ["next"]) == ["next"]


# --- the real pool --------------------------------------------------------------------------

async def test_a_small_request_is_not_kept_waiting_by_a_large_one(
        analyzer: WorkerPoolAnalyzer) -> None:
    scope = os.urandom(32)
    big_text, small_text = prose(500_000), "My name is Jane Doe, call +44 20 7946 0018. " * 20
    finished: dict[str, float] = {}

    async def timed(name: str, texts: list[str], scope: bytes) -> None:
        await analyzer.analyze(texts, SPEC, scope)
        finished[name] = time.perf_counter()

    big = asyncio.create_task(timed("big", [big_text], scope))
    await started(big, analyzer)
    asked = time.perf_counter()
    await timed("small", [small_text], os.urandom(32))
    await big
    small_took, big_left = finished["small"] - asked, finished["big"] - finished["small"]
    assert finished["small"] < finished["big"], "the small request finished first"
    # it waited for a batch or two, not for the large request's hundred-odd batches
    assert small_took < 1.0 and big_left > 2 * small_took, (small_took, big_left)


async def test_too_much_new_text_is_refused_before_any_batch_is_sent(
        analyzer: WorkerPoolAnalyzer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analyzer, "max_request_chars", 5000)
    scope = os.urandom(32)
    seen = prose(4000)
    await analyzer.analyze([seen], SPEC, scope)
    launched = analyzer.dispatcher.launched
    with pytest.raises(PayloadTooLarge) as refused:
        await analyzer.analyze([prose(3000), prose(2500)], SPEC, scope)
    assert "5,000" in refused.value.message and "max_request_chars" in refused.value.message
    assert analyzer.dispatcher.launched == launched, "no batch was started"
    assert analyzer.dispatcher.in_flight == 0 and analyzer.dispatcher.waiting == 0
    # text already in this tenant's cache is not analyzed again, so it does not count
    [_, fresh] = await analyzer.analyze([seen, prose(3000)], SPEC, scope)
    assert analyzer.dispatcher.launched == launched + 1, "one batch, for the new text"
    assert {s.entity for s in fresh} >= {"PERSON", "PHONE_NUMBER"}
    with pytest.raises(PayloadTooLarge):   # under another tenant's scope it is new text
        await analyzer.analyze([seen, prose(3000)], SPEC, os.urandom(32))


async def test_an_oversize_request_is_answered_413_through_the_gateway(
        start_gateway: GatewayFactory, analyzer: WorkerPoolAnalyzer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analyzer, "max_request_chars", 5000)
    gateway = await start_gateway()
    body = {"model": "m", "messages": [{"role": "user", "content": prose(6000)}]}
    async with aiohttp.ClientSession() as session, session.post(
            gateway.url + "/openai/v1/chat/completions", json=body) as resp:
        assert resp.status == 413
        message = (await resp.json())["error"]["message"]
    assert "max_request_chars" in message and "Hi, this is" not in message
    assert gateway.provider.received == []


async def test_a_cancelled_request_takes_its_waiting_batches_with_it(
        analyzer: WorkerPoolAnalyzer) -> None:
    big = asyncio.create_task(analyzer.analyze([prose(500_000)], SPEC, os.urandom(32)))
    await started(big, analyzer)
    launched = analyzer.dispatcher.launched
    big.cancel()
    with pytest.raises(asyncio.CancelledError):
        await big
    assert analyzer.dispatcher.waiting == 0
    asked = time.perf_counter()
    [spans] = await analyzer.analyze(["I am Jane Doe, call +44 20 7946 0018."], SPEC)
    assert time.perf_counter() - asked < 1.0
    assert {s.entity for s in spans} == {"PERSON", "PHONE_NUMBER"}
    # beyond the batches already in the pool, only the small request's one was started
    assert analyzer.dispatcher.launched == launched + 1
    for _ in range(100):
        if analyzer.dispatcher.in_flight == 0:
            break
        await asyncio.sleep(0.01)
    assert analyzer.dispatcher.in_flight == 0, "every place in the pool came free"


async def test_a_request_that_times_out_gives_up_its_place(
        analyzer: WorkerPoolAnalyzer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A request that runs out of time while batches keep coming back is not a hang: it
    gives up and its waiting batches go, but the workers are not restarted."""
    monkeypatch.setattr(analyzer, "_timeout", 1.0)
    pids = analyzer.worker_pids()
    with pytest.raises(InternalFailure, match="timed out"):
        await analyzer.analyze([prose(1_500_000)], SPEC, os.urandom(32))
    assert analyzer.dispatcher.waiting == 0
    assert analyzer.is_ready() and analyzer.worker_pids() == pids
    monkeypatch.undo()
    [spans] = await analyzer.analyze(["I am Jane Doe."], SPEC, os.urandom(32))
    assert [s.entity for s in spans] == ["PERSON"]


async def test_the_cache_answers_only_the_scope_that_filled_it(
        analyzer: WorkerPoolAnalyzer) -> None:
    text, tenant_a, tenant_b = prose(2000), os.urandom(32), os.urandom(32)
    cache = analyzer.cache

    async def misses(scope: bytes) -> int:
        before = cache.misses, cache.hits
        await analyzer.analyze([text], SPEC, scope)
        missed, hit = cache.misses - before[0], cache.hits - before[1]
        assert missed + hit == 1
        return missed

    assert await misses(tenant_a) == 1
    assert await misses(tenant_a) == 0, "the same tenant hits"
    assert await misses(tenant_b) == 1, "another tenant misses"
    assert await misses(b"") == 1, "and so does no scope"
    assert await misses(tenant_b) == 0


async def test_close_stops_the_workers_within_the_grace() -> None:
    """SIGTERM while a long batch runs: close() waits the grace, then no worker is left."""
    pool = WorkerPoolAnalyzer(MODEL, workers=1, chunk_chars=400_000)
    await pool.start()
    [pid] = pool.worker_pids()
    running = asyncio.create_task(pool.analyze([prose(400_000)], SPEC))
    for _ in range(100):
        if pool.dispatcher.in_flight:
            break
        await asyncio.sleep(0.01)
    started_at = time.perf_counter()
    await pool.close(grace_seconds=0.2)
    assert time.perf_counter() - started_at < 3.0
    with pytest.raises(InternalFailure):
        await running
    assert not _alive(pid), "the worker is gone"
    assert not pool.is_ready()


async def test_close_while_a_fresh_pool_starts_leaves_no_worker() -> None:
    """A recycle (or a restart) is starting fresh workers when the gateway stops: those
    are stopped too, not left behind."""
    before = _workers_of_this_process()
    pool = WorkerPoolAnalyzer(MODEL, workers=1, chunk_chars=4000, recycle_after=10,
                              cache_chars=0)
    await pool.start()
    for i in range(10):   # the tenth batch starts a fresh pool in the background
        await pool.analyze([f"Call Jane Doe on +44 20 7946 {1000 + i}."], SPEC)
    for _ in range(50):   # its worker is spawned, and loads the model
        if len(_workers_of_this_process() - before) == 2:
            break
        await asyncio.sleep(0.05)
    assert len(_workers_of_this_process() - before) == 2, "old and fresh workers"
    started_at = time.perf_counter()
    await pool.close(grace_seconds=0.2)
    assert time.perf_counter() - started_at < 10.0
    for _ in range(50):
        if not _workers_of_this_process() - before:
            break
        await asyncio.sleep(0.1)
    assert not _workers_of_this_process() - before, "no worker is left"


def _workers_of_this_process() -> set[int]:
    """Living worker processes started by this process (from any of its threads)."""
    found = set()
    for task in os.listdir(f"/proc/{os.getpid()}/task"):
        try:   # a thread or a process may end while we look
            with open(f"/proc/{os.getpid()}/task/{task}/children") as children:
                pids = children.read().split()
        except OSError:
            continue
        for pid in pids:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                    if b"spawn_main" in cmdline.read() and _alive(int(pid)):
                        found.add(int(pid))
            except OSError:
                pass
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone too: its parent has not reaped it yet
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
