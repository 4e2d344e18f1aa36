"""Run detection in worker processes so it never blocks the event loop.

Each worker loads the spaCy pipeline once. Long texts are cut into windows here, in the
gateway process, so one large prompt is spread over every worker.

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
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from ..errors import InternalFailure
from .cache import DetectionCache
from .packing import Pack, pack, unpack
from .spans import Span, merge_overlaps
from .spec import DetectionSpec
from .windows import windows

log = logging.getLogger(__name__)


class Analyzer(Protocol):
    """Finds spans in each text, following a policy's detection settings."""

    async def analyze(self, texts: Sequence[str], spec: DetectionSpec) -> list[list[Span]]: ...

    def is_ready(self) -> bool: ...


# --- worker side -------------------------------------------------------------------------

_engine = None


def _init_worker(model: str) -> None:
    global _engine
    from .engine import DetectionEngine
    from .places import places
    from .words import warm_up

    _engine = DetectionEngine(model)
    warm_up()
    places()


def _analyze_batch(chunks: list[str], spec: DetectionSpec) -> list[list[Span]]:
    assert _engine is not None, "worker not initialised"
    return [_engine.analyze(chunk, spec) for chunk in chunks]


def _pid() -> int:
    time.sleep(0.05)  # long enough that every worker gets one of the warm-up calls
    return os.getpid()



# --- gateway side ------------------------------------------------------------------------

def _batches(packs: list[Pack], count: int) -> list[list[Pack]]:
    """Split packs into at most `count` batches of similar total length, one per worker."""
    batches: list[list[Pack]] = [[] for _ in range(count)]
    sizes = [0] * count
    for packed in sorted(packs, key=lambda p: -len(p.text)):
        smallest = sizes.index(min(sizes))
        batches[smallest].append(packed)
        sizes[smallest] += len(packed.text)
    return [b for b in batches if b]


class WorkerPoolAnalyzer:
    """Detection in `workers` processes. If one dies or a batch runs past the timeout, the
    pool's workers are stopped and requests fail closed (503) while a fresh pool starts in
    the background. Every `recycle_after` batches per worker a fresh pool is started too,
    and swapped in when ready, while the current one serves."""

    def __init__(self, model: str, workers: int, chunk_chars: int,
                 cache_chars: int = 10_000_000, recycle_after: int = 5000,
                 timeout_seconds: float = 120.0) -> None:
        self._model = model
        self._workers = max(1, workers)
        self._chunk_chars = chunk_chars
        self._timeout = timeout_seconds
        self.cache = DetectionCache(cache_chars)
        self._recycle_after = recycle_after
        self._batches = 0   # run by the current pool
        self._executor: ProcessPoolExecutor | None = None
        self._out_of_service = False   # the current pool broke: fail closed until replaced
        self._replacing: asyncio.Task[None] | None = None   # one fresh pool at a time
        # old pools shutting down, by the task that does it
        self._retiring: dict[asyncio.Task[None], ProcessPoolExecutor] = {}
        self._last_answer = time.monotonic()   # when a batch last came back

    def _started_executor(self, startup_seconds: float = 120.0) -> ProcessPoolExecutor:
        """A new pool whose every worker has loaded the model (blocking: run in a thread)."""
        executor = ProcessPoolExecutor(self._workers, initializer=_init_worker,
                                       initargs=(self._model,),
                                       mp_context=multiprocessing.get_context("spawn"))
        seen: set[int] = set()
        deadline = time.monotonic() + startup_seconds
        try:
            while len(seen) < self._workers:
                calls = [executor.submit(_pid) for _ in range(self._workers)]
                seen.update(f.result(timeout=max(0.0, deadline - time.monotonic()))
                            for f in calls)
        except BaseException:
            _stop(executor)  # no half-started workers
            raise
        return executor

    async def start(self) -> None:
        self._executor = await asyncio.to_thread(self._started_executor)

    def is_ready(self) -> bool:
        return self._executor is not None and not self._out_of_service

    def worker_pids(self) -> list[int]:
        return sorted(_processes(self._executor))

    async def analyze(self, texts: Sequence[str], spec: DetectionSpec) -> list[list[Span]]:
        executor = self._executor
        if executor is None or self._out_of_service:
            raise InternalFailure("detection workers are not running; nothing was sent")
        keys = [self.cache.key(spec, text) for text in texts]
        cached = [self.cache.get(key) for key in keys]
        jobs = [(i, offset, chunk) for i, text in enumerate(texts) if cached[i] is None
                for offset, chunk in windows(text, self._chunk_chars) if chunk.strip()]
        loop = asyncio.get_running_loop()
        batches = _batches(pack(jobs, self._chunk_chars), self._workers) if jobs else []
        self._batches += len(batches)
        if self._batches >= self._recycle_after * self._workers:
            self._replace_in_background()
        try:  # submitting to a broken pool raises at once
            calls = [loop.run_in_executor(executor, _analyze_batch, [p.text for p in b], spec)
                     for b in batches]
            for call in calls:
                call.add_done_callback(self._note_answer)
            results = await asyncio.wait_for(asyncio.gather(*calls), self._timeout)
        except BrokenProcessPool as exc:
            log.error("a detection worker died; starting fresh workers")
            self._take_out_of_service(executor)
            raise InternalFailure("detection failed; nothing was sent") from exc
        except TimeoutError as exc:
            if time.monotonic() - self._last_answer >= self._timeout:
                log.error("no detection batch came back in %s s; starting fresh workers",
                          self._timeout)
                self._take_out_of_service(executor)
            # else the pool is busy, not hung: only this request gives up
            raise InternalFailure("detection timed out; nothing was sent") from exc
        except asyncio.CancelledError as exc:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise   # this request itself was cancelled
            # its batches were cancelled by a pool being stopped for another request
            raise InternalFailure("detection was stopped; nothing was sent") from exc
        except Exception as exc:
            log.error("detection raised %s", exc.__class__.__name__)
            raise InternalFailure("detection failed; nothing was sent") from exc
        found: list[list[Span]] = [[] for _ in texts]
        for batch, spans_per_pack in zip(batches, results, strict=True):
            for packed, spans in zip(batch, spans_per_pack, strict=True):
                for index, span in unpack(spans, packed.pieces):
                    found[index].append(span)
        merged = []
        for index, text in enumerate(texts):
            hit = cached[index]
            if hit is not None:
                merged.append(hit)
                continue
            spans = merge_overlaps(found[index])
            self.cache.put(keys[index], len(text), spans)
            merged.append(spans)
        return merged

    def _note_answer(self, call: asyncio.Future[list[list[Span]]]) -> None:
        if not call.cancelled() and call.exception() is None:
            self._last_answer = time.monotonic()

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

    def _take_out_of_service(self, executor: ProcessPoolExecutor) -> None:
        """Stop a pool that broke or hung (a worker past the timeout may never return). If
        it is the current one, requests fail closed until a fresh pool is in."""
        self._retire(executor, stop=True)
        if executor is self._executor:
            self._out_of_service = True
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

    async def close(self) -> None:
        if self._replacing is not None:
            self._replacing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replacing
        for executor in list(self._retiring.values()):
            await asyncio.to_thread(_stop, executor)
        await asyncio.gather(*self._retiring)
        if self._executor is not None:
            executor, self._executor = self._executor, None
            await asyncio.to_thread(executor.shutdown)


def _stop(executor: ProcessPoolExecutor) -> None:
    """Shut a pool down now: queued batches are cancelled and its workers terminated."""
    processes = list(_processes(executor).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


def _processes(executor: ProcessPoolExecutor | None) -> dict[int, Any]:
    """A pool's worker processes by pid (the standard library keeps them private)."""
    return getattr(executor, "_processes", None) or {}
