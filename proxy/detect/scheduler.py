"""Share the detection workers fairly between requests.

A process pool's queue is first in, first out: handed all its batches at once, one large
request would hold every worker until it is done, and a small request behind it would
wait the whole time. So each request's batches wait here instead, only `slots` batches
(about one per worker) are in the pool at a time, and each place that frees up goes to
the next request in turn: round robin across scopes (tenants), then across the requests
of that scope. A small request thus waits for about one batch per worker, however large
the requests ahead of it, and a large one still advances at its share. A request that
gives up (cancelled, timed out, failed) takes its waiting batches with it.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from functools import partial
from typing import Generic, TypeVar, cast

J = TypeVar("J")   # a batch of work
R = TypeVar("R")   # its result


class Dropped(Exception):
    """A batch in flight was cancelled from outside its request (its pool was stopped)."""


class _Request(Generic[J, R]):
    """One caller's batches: those still waiting, and the results so far."""

    def __init__(self, scope: bytes, jobs: Sequence[J], loop: asyncio.AbstractEventLoop
                 ) -> None:
        self.scope = scope
        self.waiting: deque[tuple[int, J]] = deque(enumerate(jobs))
        self.results: list[R | None] = [None] * len(jobs)
        self.left = len(jobs)
        self.done: asyncio.Future[None] = loop.create_future()


class FairDispatcher(Generic[J, R]):
    """Runs each caller's batches through `launch` (which starts one batch and returns its
    future), at most `slots` at a time, taking turns between callers.

    A request of a single batch (most are: its new text fits one) may also take one of
    `spare` more places, ahead of its turn. That keeps the next small batch queued in the
    pool, so no worker waits for the event loop between small batches; a larger request
    never queues there, so a small one never waits in the pool behind one of its batches.
    """

    def __init__(self, slots: int, launch: Callable[[J], asyncio.Future[R]],
                 spare: int = 0) -> None:
        self._slots = max(1, slots)
        self._spare = max(0, spare)
        self._launch = launch
        self._scopes: OrderedDict[bytes, deque[_Request[J, R]]] = OrderedDict()
        self._in_flight = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self.launched = 0   # batches started, ever (tests and diagnostics)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def waiting(self) -> int:
        """Batches queued here, not yet started."""
        return sum(len(r.waiting) for requests in self._scopes.values() for r in requests)

    async def run(self, scope: bytes, jobs: Sequence[J]) -> list[R]:
        """The results of `jobs`, in order. Raises what a batch raised (the other batches
        of the request are then dropped), or Dropped."""
        if not jobs:
            return []
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # Batches of another (finished) event loop never report back here: forget them.
            self._loop, self._in_flight = loop, 0
            self._scopes.clear()
        request: _Request[J, R] = _Request(scope, jobs, loop)
        self._scopes.setdefault(scope, deque()).append(request)
        self._pump()
        try:
            await request.done
        finally:
            self._drop(request)
        return cast(list[R], request.results)  # every one is set once done

    def fail_waiting(self, error: Callable[[], Exception]) -> None:
        """Fail every request that still has batches waiting (its pool is gone)."""
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is not self._loop:  # the waiting requests' loop has ended
            self._scopes.clear()
            return
        for requests in list(self._scopes.values()):
            for request in list(requests):
                self._fail(request, error())

    def _pump(self) -> None:
        while self._scopes:
            if self._in_flight < self._slots:
                picked = self._next(single_only=False)
            elif self._in_flight < self._slots + self._spare:
                picked = self._next(single_only=True)
            else:
                return
            if picked is None:
                return
            request, index, job = picked
            try:
                future = self._launch(job)
            except Exception as exc:  # e.g. the pool is broken
                self._fail(request, exc)
                continue
            self._in_flight += 1
            self.launched += 1
            future.add_done_callback(partial(self._landed, request, index))

    def _next(self, single_only: bool) -> tuple[_Request[J, R], int, J] | None:
        """The next batch in turn (of a single-batch request, if `single_only`): the
        first scope's first request's. That scope goes last, and so does that request
        within it."""
        for scope, requests in self._scopes.items():
            for request in requests:
                if single_only and len(request.results) > 1:
                    continue
                index, job = request.waiting.popleft()
                requests.remove(request)
                if request.waiting:
                    requests.append(request)
                if requests:
                    self._scopes.move_to_end(scope)
                else:
                    del self._scopes[scope]
                return request, index, job
        return None

    def _landed(self, request: _Request[J, R], index: int, future: asyncio.Future[R]) -> None:
        self._in_flight -= 1
        if future.cancelled():
            self._fail(request, Dropped("a detection batch was cancelled"))
        elif (exc := future.exception()) is not None:
            self._fail(request, exc)
        elif not request.done.done():
            request.results[index] = future.result()
            request.left -= 1
            if request.left == 0:
                request.done.set_result(None)
        self._pump()

    def _fail(self, request: _Request[J, R], exc: BaseException) -> None:
        if not request.done.done():
            request.done.set_exception(exc)
        self._drop(request)

    def _drop(self, request: _Request[J, R]) -> None:
        request.waiting.clear()
        requests = self._scopes.get(request.scope)
        if requests is not None and request in requests:
            requests.remove(request)
            if not requests:
                del self._scopes[request.scope]
