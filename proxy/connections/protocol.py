"""aiohttp's runner, server and per-connection handler, with the gateway's edge rules.

- A connection over the cap is answered `503` (`aliasgate_overloaded`) and closed at once,
  before it is read: it costs one descriptor for a moment.
- A connection without a complete request for `idle_seconds` is closed: aiohttp's
  keep-alive timer starts when the connection opens and again after each answer, and bytes
  of a request still arriving do not move it (a client dripping its headers is closed
  as one that sends nothing). A request whose headers are complete is the app's to time.
- A request the HTTP parser rejects is answered by the gateway in its own words (400, the
  neutral JSON error shape) and audited; aiohttp's own answer and log line would quote the
  request's bytes. A body that breaks midway (a bad chunk) fails the handler's read at
  once, so the route refuses it (400) in the provider's shape, instead of the handler
  waiting for the rest. Nothing here logs more than an exception's class, and the same
  line at most once per interval.
- On shutdown, open requests may finish for `shutdown_seconds` and are then cancelled.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import hdrs, web
from aiohttp.web_protocol import RequestHandler, _ErrInfo

from ..audit import AuditRecord
from ..errors import BadRequest
from ..logs import RateLimit

log = logging.getLogger("aliasgate.edge")
log.addFilter(RateLimit())   # also when the process's handlers are not ours (tests)

Report = Callable[[AuditRecord], None]
_UNWIND_SECONDS = 1.0   # for a cancelled request to unwind at shutdown


@dataclass(frozen=True)
class EdgeSettings:
    max_connections: int
    idle_seconds: float      # no complete request for this long: the connection is closed
    shutdown_seconds: float  # open requests may finish for this long when the server stops


def _neutral(message: str, kind: str, type_: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "code": f"aliasgate_{kind}"}}


_OVERLOADED = json.dumps(_neutral("aliasgate has too many open connections; try again shortly",
                                  "overloaded", "server_error")).encode()
OVERLOADED = (b"HTTP/1.1 503 Service Unavailable\r\n"
              b"Content-Type: application/json\r\n"
              b"Content-Length: " + str(len(_OVERLOADED)).encode() + b"\r\n"
              b"Retry-After: 1\r\n"
              b"Connection: close\r\n"
              b"x-aliasgate-error: overloaded\r\n\r\n" + _OVERLOADED)

# status -> (error kind, decision, our words); aiohttp calls handle_error with 400 for what
# its parser rejects, 500 for an exception out of a handler, 504 for a TimeoutError.
_ANSWERS = {400: ("bad_request", "refused", "the request is not valid HTTP")}
_FAILED = ("internal", "failed", "the gateway failed while handling the request")


class EdgeHandler(RequestHandler):
    """One client connection."""

    def __init__(self, manager: EdgeServer, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._edge = manager
        self._counted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._edge.open >= self._edge.settings.max_connections:
            self._manager = None   # not served: connection_lost has nothing to undo
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(OVERLOADED)
            transport.close()
            log.warning("refused a connection: %d are open, the cap (limits.max_connections)",
                        self._edge.open)
            return
        self._edge.open += 1
        self._counted = True
        super().connection_made(transport)

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._counted:
            self._counted = False
            self._edge.open -= 1
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        request = self._current_request
        if request is None or request.content.is_eof() or not self._messages:
            return
        broken = self._messages[-1][0]
        if isinstance(broken, _ErrInfo):
            # The body of the request being handled broke (a bad chunk): aiohttp would queue
            # the error behind it and leave its handler waiting for the rest of the body.
            # The handler's next read raises instead, and the connection ends after its
            # answer (the handler refuses and audits it as it does any bad body).
            log.warning("the request body is not valid HTTP (%s)",
                        broken.exc.__class__.__name__)
            request.content.set_exception(BadRequest("the request body is not valid HTTP"))
            request.content.feed_eof()
            self.close()

    def handle_error(self, request: web.BaseRequest, status: int = 500,
                     exc: BaseException | None = None, message: str | None = None
                     ) -> web.StreamResponse:
        """The gateway's own answer, audit line and log line; `exc` and `message` may quote
        the request's bytes, so neither is used beyond the exception's class."""
        kind, decision, words = _ANSWERS.get(status, _FAILED)
        cause = exc.__class__.__name__ if exc is not None else "no exception"
        log.warning("%s (%s); status %d", words, cause, status)
        request_id = uuid.uuid4().hex
        record = AuditRecord(ts=datetime.now(UTC).isoformat(timespec="milliseconds"),
                             request_id=request_id, decision=decision, reason=words,
                             error=kind, status=status)
        if status != 400 and request.method in hdrs.METH_ALL:
            record.method = request.method   # a parser error leaves no method to record
        self._edge.report(record)
        if request.writer.output_size > 0:   # part of an answer left: it cannot be replaced
            raise ConnectionError("the answer had started; the connection is closed")
        body = _neutral(words, kind, "invalid_request_error" if status < 500 else "server_error")
        response = web.json_response(body, status=status, headers={
            "x-aliasgate-request-id": request_id, "x-aliasgate-error": kind,
            "Connection": "close"})
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kwargs: Any) -> None:
        """aiohttp's other error lines (a handler returned no response, an exception out of
        the connection loop) carry reprs; only the class is logged."""
        exc = kwargs.get("exc_info")
        cause = exc.__class__.__name__ if isinstance(exc, BaseException) else "no exception"
        log.error("a connection failed in aiohttp (%s)", cause)


class EdgeServer(web.Server):
    """aiohttp's server, making EdgeHandlers and counting the connections they serve."""

    def __init__(self, *args: Any, settings: EdgeSettings, report: Report,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings = settings
        self.report = report
        self.open = 0   # connections served now (refused ones are never counted)

    def __call__(self) -> RequestHandler:
        return EdgeHandler(self, loop=self._loop, **self._kwargs)

    async def shutdown(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Open requests may finish for `timeout` seconds; then they are cancelled. (aiohttp's
        own ask to stop reaches only a handler reading its body: one waiting for the
        provider would get the whole timeout a second time.)"""
        running = [task for conn in self._connections
                   if (task := conn._task_handler) is not None and not task.done()]
        if running and timeout is not None:
            _, late = await asyncio.wait(running, timeout=timeout)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=_UNWIND_SECONDS)
        await super().shutdown(timeout)


class EdgeRunner(web.AppRunner):
    """An AppRunner whose server is an EdgeServer. `report` takes the audit record of each
    request the gateway answers before the app sees it."""

    def __init__(self, app: web.Application, settings: EdgeSettings, report: Report,
                 **kwargs: Any) -> None:
        super().__init__(app, keepalive_timeout=settings.idle_seconds,
                         shutdown_timeout=settings.shutdown_seconds, **kwargs)
        self._settings = settings
        self._report = report

    async def _make_server(self) -> web.Server:
        # The app builds its server (and runs its startup); the same arguments make ours.
        made = await super()._make_server()
        return EdgeServer(made.request_handler, request_factory=made.request_factory,
                          handler_cancellation=made.handler_cancellation, loop=made._loop,
                          settings=self._settings, report=self._report, **made._kwargs)
