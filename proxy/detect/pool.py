"""Run detection in worker processes so it never blocks the event loop.

Each worker loads the spaCy pipeline once. Long texts are cut into windows here, in the
gateway process, so one large prompt is spread over every worker.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from ..errors import InternalFailure
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

    _engine = DetectionEngine(model)


def _analyze_batch(chunks: list[str], spec: DetectionSpec) -> list[list[Span]]:
    assert _engine is not None, "worker not initialised"
    return [_engine.analyze(chunk, spec) for chunk in chunks]


def _pid() -> int:
    time.sleep(0.05)  # long enough that every worker gets one of the warm-up calls
    return os.getpid()


# --- gateway side ------------------------------------------------------------------------

def _batches(jobs: list[tuple[int, int, str]], count: int) -> list[list[tuple[int, int, str]]]:
    """Split jobs into at most `count` batches of similar total length."""
    batches: list[list[tuple[int, int, str]]] = [[] for _ in range(count)]
    sizes = [0] * count
    for job in sorted(jobs, key=lambda j: -len(j[2])):
        smallest = sizes.index(min(sizes))
        batches[smallest].append(job)
        sizes[smallest] += len(job[2])
    return [b for b in batches if b]


class WorkerPoolAnalyzer:
    def __init__(self, model: str, workers: int, chunk_chars: int) -> None:
        self._model = model
        self._workers = max(1, workers)
        self._chunk_chars = chunk_chars
        self._executor: ProcessPoolExecutor | None = None
        self._ready = False

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self._workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(self._model,))

    async def start(self, startup_seconds: float = 120.0) -> None:
        """Start every worker and wait until each has loaded the model."""
        self._executor = self._new_executor()
        loop = asyncio.get_running_loop()
        seen: set[int] = set()
        deadline = loop.time() + startup_seconds
        while len(seen) < self._workers and loop.time() < deadline:
            calls = [loop.run_in_executor(self._executor, _pid) for _ in range(self._workers)]
            seen.update(await asyncio.gather(*calls))
        self._ready = True

    def is_ready(self) -> bool:
        return self._ready

    def worker_pids(self) -> list[int]:
        processes = getattr(self._executor, "_processes", None) or {}
        return sorted(processes)

    async def analyze(self, texts: Sequence[str], spec: DetectionSpec) -> list[list[Span]]:
        if self._executor is None:
            raise InternalFailure("detection workers are not running")
        jobs = [(i, offset, chunk) for i, text in enumerate(texts)
                for offset, chunk in windows(text, self._chunk_chars) if chunk.strip()]
        loop = asyncio.get_running_loop()
        batches = _batches(jobs, self._workers)
        try:
            results = await asyncio.gather(*(
                loop.run_in_executor(self._executor, _analyze_batch, [j[2] for j in b], spec)
                for b in batches))
        except BrokenProcessPool as exc:
            log.error("a detection worker died; restarting the pool")
            self._restart()
            raise InternalFailure("detection failed; nothing was sent") from exc
        except Exception as exc:
            log.error("detection raised %s", exc.__class__.__name__)
            raise InternalFailure("detection failed; nothing was sent") from exc
        found: list[list[Span]] = [[] for _ in texts]
        for batch, spans_per_chunk in zip(batches, results, strict=True):
            for (index, offset, _), spans in zip(batch, spans_per_chunk, strict=True):
                found[index] += [Span(s.start + offset, s.end + offset, s.entity, s.score)
                                 for s in spans]
        return [merge_overlaps(spans) for spans in found]

    def _restart(self) -> None:
        old, self._executor = self._executor, self._new_executor()
        if old is not None:
            old.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        self._ready = False
        if self._executor is not None:
            executor, self._executor = self._executor, None
            await asyncio.get_running_loop().run_in_executor(None, executor.shutdown)
