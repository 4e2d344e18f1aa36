"""Run detection in worker processes so it never blocks the event loop.

Each worker loads the spaCy pipeline once. Long texts are cut into windows here, in the
gateway process, so one large prompt is spread over every worker.

spaCy's string store only grows (every new word it reads is interned), so after
`recycle_after` batches per worker a fresh pool is started in the background and swapped
in when ready; the old one finishes its batches and exits. (The standard library's
`max_tasks_per_child` is not used: on Python 3.11 the pool hangs when a worker retires.)
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
from typing import Protocol

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
    """Detection in `workers` processes. If one dies, requests fail closed (503) while a
    fresh pool starts in the background."""

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
        self._restarting: asyncio.Task[None] | None = None
        self._recycling: asyncio.Task[None] | None = None

    def _started_executor(self, startup_seconds: float = 120.0) -> ProcessPoolExecutor:
        """A new pool whose every worker has loaded the model (blocking: run in a thread)."""
        executor = ProcessPoolExecutor(self._workers, initializer=_init_worker,
                                       initargs=(self._model,),
                                       mp_context=multiprocessing.get_context("spawn"))
        seen: set[int] = set()
        deadline = time.monotonic() + startup_seconds
        try:
            while len(seen) < self._workers and time.monotonic() < deadline:
                seen.update(f.result()
                            for f in [executor.submit(_pid) for _ in range(self._workers)])
        except BaseException:
            executor.shutdown(wait=False, cancel_futures=True)  # no half-started workers
            raise
        return executor

    async def start(self) -> None:
        self._executor = await asyncio.to_thread(self._started_executor)

    def is_ready(self) -> bool:
        return self._executor is not None and self._restarting is None

    def worker_pids(self) -> list[int]:
        processes = getattr(self._executor, "_processes", None) or {}
        return sorted(processes)

    async def analyze(self, texts: Sequence[str], spec: DetectionSpec) -> list[list[Span]]:
        executor = self._executor
        if executor is None or self._restarting is not None:
            raise InternalFailure("detection workers are not running; nothing was sent")
        keys = [self.cache.key(spec, text) for text in texts]
        cached = [self.cache.get(key) for key in keys]
        jobs = [(i, offset, chunk) for i, text in enumerate(texts) if cached[i] is None
                for offset, chunk in windows(text, self._chunk_chars) if chunk.strip()]
        loop = asyncio.get_running_loop()
        batches = _batches(pack(jobs, self._chunk_chars), self._workers) if jobs else []
        self._batches += len(batches)
        if self._batches >= self._recycle_after * self._workers:
            self._recycle_in_background(executor)
        try:
            results = await asyncio.wait_for(asyncio.gather(*(
                loop.run_in_executor(executor, _analyze_batch, [p.text for p in b], spec)
                for b in batches)), self._timeout)
        except BrokenProcessPool as exc:
            log.error("a detection worker died; restarting the pool")
            self._restart_in_background(executor)
            raise InternalFailure("detection failed; nothing was sent") from exc
        except TimeoutError as exc:
            log.error("detection took over %s s; restarting the pool", self._timeout)
            self._restart_in_background(executor)
            raise InternalFailure("detection timed out; nothing was sent") from exc
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

    def _recycle_in_background(self, current: ProcessPoolExecutor) -> None:
        """Swap in a fresh pool once it is ready; the current one serves until then."""
        if self._recycling is not None or self._restarting is not None:
            return

        async def recycle() -> None:
            try:
                fresh = await asyncio.to_thread(self._started_executor)
                if self._executor is not current:   # restarted or closed meanwhile
                    await asyncio.to_thread(fresh.shutdown)
                    return
                self._executor, self._batches = fresh, 0
                await asyncio.to_thread(current.shutdown)   # its batches finish first
                log.info("detection workers recycled")
            except Exception as exc:  # the current pool goes on serving
                log.error("detection workers could not be recycled: %s",
                          exc.__class__.__name__)
            finally:
                self._recycling = None

        self._recycling = asyncio.create_task(recycle())

    def _restart_in_background(self, broken: ProcessPoolExecutor) -> None:
        if self._restarting is not None or broken is not self._executor:
            return  # another request already noticed

        async def restart() -> None:
            delay = 1.0
            try:
                stuck = list((getattr(broken, "_processes", None) or {}).values())
                await asyncio.to_thread(broken.shutdown, wait=False, cancel_futures=True)
                for process in stuck:  # a worker that timed out may never return
                    process.terminate()
                while True:
                    try:
                        self._executor = await asyncio.to_thread(self._started_executor)
                        self._batches = 0
                        log.info("detection workers restarted")
                        return
                    except Exception as exc:  # not ready meanwhile: requests fail closed
                        self._executor = None
                        log.error("detection workers could not restart (%s); trying again "
                                  "in %.0f s", exc.__class__.__name__, delay)
                        await asyncio.sleep(delay)
                        delay = min(2 * delay, 30.0)
            finally:
                self._restarting = None

        self._restarting = asyncio.create_task(restart())

    async def close(self) -> None:
        for task in (self._restarting, self._recycling):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._executor is not None:
            executor, self._executor = self._executor, None
            await asyncio.to_thread(executor.shutdown)
