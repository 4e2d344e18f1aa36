"""Run detection in worker processes so it never blocks the event loop.

Each worker loads the spaCy pipeline once. Long texts are cut into windows here, in the
gateway process, so one large prompt is spread over every worker; the workers are shared
between requests in turn (scheduler.py), so it never holds them all, and a request with
more new text than `max_request_chars` is refused before any of it is sent.

spaCy's string store only grows (every new word it reads is interned), so after
`recycle_after` batches per worker a fresh pool is started in the background and swapped
in when ready; the old one finishes its batches and exits. (The standard library's
`max_tasks_per_child` is not used: on Python 3.11 the pool hangs when a worker retires.)
A pool is replaced the same way when it breaks, but requests fail closed meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from ..errors import GatewayError, InternalFailure, PayloadTooLarge
from ..offload import off_loop_if
from .cache import DetectionCache, Key
from .packing import Pack, pack, unpack
from .scheduler import Dropped, FairDispatcher
from .spans import Span, merge_overlaps
from .spec import DetectionSpec
from .windows import windows

log = logging.getLogger(__name__)


class Analyzer(Protocol):
    """Finds spans in each text, following a policy's detection settings."""

    async def analyze(self, texts: Sequence[str], spec: DetectionSpec, scope: bytes = b""
                      ) -> list[list[Span]]:
        """Spans per text. `scope` is a per-tenant secret: what is cached under one scope
        never answers another."""
        ...

    def is_ready(self) -> bool: ...


# --- worker side -------------------------------------------------------------------------

_engine = None


def _init_worker(model: str) -> None:
    global _engine
    from .engine import DetectionEngine
    from .places import places
    from .words import warm_up

    # The gateway decides when workers stop: a Ctrl-C in its terminal reaches them too.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_the_gateway(os.getppid())
    _engine = DetectionEngine(model)
    warm_up()
    places()


def _exit_with_the_gateway(gateway: int) -> None:
    """A worker whose gateway was killed (SIGKILL, the OOM killer) would wait for work
    forever: it exits once it has been handed to another parent."""

    def watch() -> None:
        while os.getppid() == gateway:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="gateway-watch", daemon=True).start()


def _analyze_text(text: str, spec: DetectionSpec) -> list[Span]:
    assert _engine is not None, "worker not initialised"
    return _engine.analyze(text, spec)


def _pid() -> int:
    time.sleep(0.05)  # long enough that every worker gets one of the warm-up calls
    return os.getpid()



# --- gateway side ------------------------------------------------------------------------

# Past this many characters in one request, hashing, cutting and merging run in a thread:
# on a multi-megabyte request they take long enough to stall the event loop.
OFF_LOOP_CHARS = 32_768
OFF_LOOP_TEXTS = 256
CACHE_SLICE = 2000   # cache operations between two turns of the event loop (a few ms)
Job = tuple[str, DetectionSpec]   # one packed text for one worker call


def _keys(spec: DetectionSpec, texts: Sequence[str], scope: bytes) -> list[Key]:
    return [DetectionCache.key(spec, text, scope) for text in texts]


def _packs(texts: Sequence[str], cached: list[list[Span] | None], chunk_chars: int
           ) -> list[Pack]:
    """The texts not in the cache, cut into windows and packed into worker calls."""
    jobs = [(i, offset, chunk) for i, text in enumerate(texts) if cached[i] is None
            for offset, chunk in windows(text, chunk_chars) if chunk.strip()]
    return pack(jobs, chunk_chars)


def _found(count: int, packs: list[Pack], results: list[list[Span]]) -> list[list[Span]]:
    """The findings of each text, mapped back from the packs."""
    found: list[list[Span]] = [[] for _ in range(count)]
    for packed, spans in zip(packs, results, strict=True):
        for index, span in unpack(spans, packed.pieces):
            found[index].append(span)
    return [merge_overlaps(spans) for spans in found]


class WorkerPoolAnalyzer:
    """Detection in `workers` processes. If one dies or a batch runs past the timeout, the
    pool's workers are stopped and requests fail closed (503) while a fresh pool starts in
    the background. Every `recycle_after` batches per worker a fresh pool is started too,
    and swapped in when ready, while the current one serves.

    Requests share the workers through a FairDispatcher: about one batch per worker is in
    the pool at a time, the next place going to the next request in turn, so a large
    request cannot make a small one wait for more than about one of its batches. A
    request with more than `max_request_chars` characters not already cached is refused
    (413) before any of it is sent."""

    def __init__(self, model: str, workers: int, chunk_chars: int,
                 cache_chars: int = 10_000_000, recycle_after: int = 5000,
                 timeout_seconds: float = 120.0, max_request_chars: int = 2_000_000) -> None:
        self._model = model
        self._workers = max(1, workers)
        self._chunk_chars = chunk_chars
        self._timeout = timeout_seconds
        self.max_request_chars = max_request_chars
        self.cache = DetectionCache(cache_chars)
        self._recycle_after = recycle_after
        self._batches = 0   # run by the current pool
        self._executor: ProcessPoolExecutor | None = None
        self._out_of_service = False   # the current pool broke: fail closed until replaced
        self._replacing: asyncio.Task[None] | None = None   # one fresh pool at a time
        # old pools shutting down, by the task that does it; those being stopped now
        self._retiring: dict[asyncio.Task[None], ProcessPoolExecutor] = {}
        self._stopping: set[ProcessPoolExecutor] = set()
        self._last_answer = time.monotonic()   # when a batch last came back
        # One batch per worker, and one more of a small request queued in the pool so
        # that between small batches no worker waits for the event loop.
        self.dispatcher: FairDispatcher[Job, list[Span]] = FairDispatcher(
            self._workers, self._launch, spare=1)
        self._running: dict[asyncio.Future[list[Span]], ProcessPoolExecutor] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        # every pool with workers, starting ones included (filled by a start-up thread)
        self._live: set[ProcessPoolExecutor] = set()
        self._closed = False

    def _started_executor(self, startup_seconds: float = 120.0) -> ProcessPoolExecutor:
        """A new pool whose every worker has loaded the model (blocking: run in a thread)."""
        executor = ProcessPoolExecutor(self._workers, initializer=_init_worker,
                                       initargs=(self._model,),
                                       mp_context=multiprocessing.get_context("spawn"))
        # Known to close() from now on (added before _closed is read: one of the two sees
        # the other), so a pool still starting when the gateway stops is stopped too.
        self._live.add(executor)
        seen: set[int] = set()
        deadline = time.monotonic() + startup_seconds
        try:
            while len(seen) < self._workers and not self._closed:
                calls = [executor.submit(_pid) for _ in range(self._workers)]
                seen.update(f.result(timeout=max(0.0, deadline - time.monotonic()))
                            for f in calls)
            if self._closed:
                raise RuntimeError("detection is shutting down")
        except BaseException:
            _stop(executor)  # no half-started workers
            self._live.discard(executor)
            raise
        return executor

    async def start(self) -> None:
        self._executor = await asyncio.to_thread(self._started_executor)

    def is_ready(self) -> bool:
        return self._executor is not None and not self._out_of_service

    def worker_pids(self) -> list[int]:
        return sorted(_processes(self._executor))

    async def analyze(self, texts: Sequence[str], spec: DetectionSpec, scope: bytes = b""
                      ) -> list[list[Span]]:
        """Spans per text. `scope` is the caller's secret (one per tenant): cache entries
        made under one scope never answer another, so no tenant can time another's texts."""
        if not self.is_ready():
            raise InternalFailure("detection workers are not running; nothing was sent")
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # batches of an earlier event loop never report back
            self._loop = loop
            self._running.clear()
        # Long texts, or many short ones (hashing and cache lookups cost per text).
        large = sum(map(len, texts)) > OFF_LOOP_CHARS or len(texts) > OFF_LOOP_TEXTS
        keys = await off_loop_if(large, _keys, spec, texts, scope)
        cached = await self._lookup(keys)
        fresh = sum(len(text) for text, hit in zip(texts, cached, strict=True) if hit is None)
        if fresh > self.max_request_chars:
            raise PayloadTooLarge(
                f"the request carries {fresh:,} characters of text to inspect; the gateway "
                f"inspects at most {self.max_request_chars:,} per request "
                "(detection.max_request_chars); nothing was sent")
        packs = await off_loop_if(large, _packs, texts, cached, self._chunk_chars)
        results = await self._run(scope, [(p.text, spec) for p in packs]) if packs else []
        found = await off_loop_if(large, _found, len(texts), packs, results)
        return await self._store(texts, keys, cached, found)

    # The cache belongs to the event loop (no locks): a request of many texts uses it in
    # slices, letting other requests in between.

    async def _lookup(self, keys: list[Key]) -> list[list[Span] | None]:
        hits = []
        for at in range(0, len(keys), CACHE_SLICE):
            hits += [self.cache.get(key) for key in keys[at:at + CACHE_SLICE]]
            if len(keys) > CACHE_SLICE:
                await asyncio.sleep(0)
        return hits

    async def _store(self, texts: Sequence[str], keys: list[Key],
                     cached: list[list[Span] | None], found: list[list[Span]]
                     ) -> list[list[Span]]:
        """Each text's spans, from the cache or fresh; the fresh ones are cached."""
        merged = []
        for index, text in enumerate(texts):
            hit = cached[index]
            if hit is not None:
                merged.append(hit)
            else:
                self.cache.put(keys[index], len(text), found[index])
                merged.append(found[index])
            if index % CACHE_SLICE == CACHE_SLICE - 1:
                await asyncio.sleep(0)
        return merged

    async def _run(self, scope: bytes, jobs: list[Job]) -> list[list[Span]]:
        """The workers' findings for each job, or InternalFailure (fail closed)."""
        try:
            return await asyncio.wait_for(self.dispatcher.run(scope, jobs), self._timeout)
        except GatewayError:
            raise
        except BrokenProcessPool as exc:   # the pool is already being replaced
            raise InternalFailure("detection failed; nothing was sent") from exc
        except TimeoutError as exc:
            if time.monotonic() - self._last_answer >= self._timeout:
                log.error("no detection batch came back in %s s; starting fresh workers",
                          self._timeout)
                for executor in set(self._running.values()):
                    self._take_out_of_service(executor)
            # else the workers are busy, not hung: only this request gives up
            raise InternalFailure("detection timed out; nothing was sent") from exc
        except Dropped as exc:  # its pool was stopped for another request
            raise InternalFailure("detection was stopped; nothing was sent") from exc
        except Exception as exc:
            log.error("detection raised %s", exc.__class__.__name__)
            raise InternalFailure("detection failed; nothing was sent") from exc

    def _launch(self, job: Job) -> asyncio.Future[list[Span]]:
        """Start one batch on the current pool (the dispatcher calls this)."""
        executor = self._executor
        if executor is None or self._out_of_service:
            raise InternalFailure("detection workers are not running; nothing was sent")
        try:  # submitting to a broken pool raises at once
            call = asyncio.get_running_loop().run_in_executor(executor, _analyze_text, *job)
        except BrokenProcessPool:
            log.error("a detection worker died; starting fresh workers")
            self._take_out_of_service(executor)
            raise
        self._running[call] = executor
        call.add_done_callback(self._landed)
        self._batches += 1
        if self._batches >= self._recycle_after * self._workers:
            self._replace_in_background()
        return call

    def _landed(self, call: asyncio.Future[list[Span]]) -> None:
        executor = self._running.pop(call, None)
        if call.cancelled():
            return
        exc = call.exception()
        if exc is None:
            self._last_answer = time.monotonic()
        elif isinstance(exc, BrokenProcessPool) and executor is not None and not self._closed:
            if executor not in self._stopping:
                log.error("a detection worker died; starting fresh workers")
            self._take_out_of_service(executor)

    def _retire(self, executor: ProcessPoolExecutor, stop: bool) -> None:
        """Shut an old pool down in the background: at once (`stop`), or once its batches
        are done (stopped after the timeout: a hung worker must not linger)."""

        async def retire() -> None:
            if not stop:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.to_thread(executor.shutdown), self._timeout)
                    return
            await asyncio.to_thread(_stop, executor)

        retiring = asyncio.create_task(retire())
        self._retiring[retiring] = executor
        retiring.add_done_callback(self._retiring.pop)
        retiring.add_done_callback(lambda _: self._live.discard(executor))
        if stop:
            self._stopping.add(executor)
            retiring.add_done_callback(lambda _: self._stopping.discard(executor))

    def _take_out_of_service(self, executor: ProcessPoolExecutor) -> None:
        """Stop a pool that broke or hung (a worker past the timeout may never return). If
        it is the current one, requests fail closed until a fresh pool is in."""
        if executor in self._stopping:
            return
        for call, owner in list(self._running.items()):
            if owner is executor:   # its place in the dispatcher frees up; its request fails
                call.cancel()
        self._retire(executor, stop=True)
        if executor is self._executor:
            self._out_of_service = True
            self.dispatcher.fail_waiting(lambda: InternalFailure(
                "detection workers are not running; nothing was sent"))
            self._replace_in_background()

    def _replace_in_background(self) -> None:
        if self._replacing is None:
            self._replacing = asyncio.create_task(self._replace())

    async def _replace(self) -> None:
        """Start a fresh pool (trying again, with a growing pause, until one starts) and
        swap it in; the old one finishes its batches and exits."""
        delay = 1.0
        try:
            while True:
                try:
                    fresh = await asyncio.to_thread(self._started_executor)
                    break
                except Exception as exc:
                    log.error("detection workers could not start (%s); trying again in "
                              "%.0f s", exc.__class__.__name__, delay)
                    await asyncio.sleep(delay)
                    delay = min(2 * delay, 30.0)
            old, self._executor = self._executor, fresh
            self._batches, self._out_of_service = 0, False
            log.info("fresh detection workers are serving")
            if old is not None:
                self._retire(old, stop=False)
        finally:
            self._replacing = None

    async def close(self, grace_seconds: float | None = None) -> None:
        """Stop every pool, one still starting included. Batches already in the current
        pool may finish for up to `grace_seconds` (None: as long as they take); then its
        workers are terminated, and none is left. Requests still waiting fail closed."""
        self._closed = True
        if self._replacing is not None:
            self._replacing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replacing
        executor, self._executor = self._executor, None
        self.dispatcher.fail_waiting(lambda: InternalFailure(
            "detection is shutting down; nothing was sent"))
        for other in [e for e in list(self._live) if e is not executor]:
            await asyncio.to_thread(_stop, other)   # old, or one a start-up thread holds
        await asyncio.gather(*self._retiring)
        self._live.clear()
        if executor is None:
            return
        if grace_seconds is None:
            await asyncio.to_thread(executor.shutdown)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.to_thread(executor.shutdown), grace_seconds)
        await asyncio.to_thread(_stop, executor)


def _stop(executor: ProcessPoolExecutor) -> None:
    """Shut a pool down now: queued batches are cancelled and its workers terminated."""
    processes = list(_processes(executor).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    # A worker still there after a while is killed. Its exit is watched on its sentinel
    # first (the pool's own thread may reap it meanwhile, and a reaped pid must not be
    # signalled), then it is joined: a large process is still exiting for a moment after
    # its sentinel fires, and "stopped" means gone.
    waiting = {process.sentinel: process for process in processes}
    deadline = time.monotonic() + 5.0
    while waiting and (left := deadline - time.monotonic()) > 0:
        for ended in multiprocessing.connection.wait(list(waiting), left):
            waiting.pop(ended)
    for process in waiting.values():
        process.kill()
    for process in processes:
        process.join(max(0.1, deadline - time.monotonic()))


def _processes(executor: ProcessPoolExecutor | None) -> dict[int, Any]:
    """A pool's worker processes by pid (the standard library keeps them private)."""
    return getattr(executor, "_processes", None) or {}
