"""Relay the provider's answer to the client, restoring this request's tokens.

JSON answers are restored whole; SSE streams event by event; anything else is piped as
bytes. If the provider's stream breaks off, the client gets what was restored so far and
then an error event in the provider's stream shape, so its SDK raises.
"""

from __future__ import annotations

import json
import logging
from typing import Protocol

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from .audit import AuditRecord
from .errors import InternalFailure
from .eventstream import Decoder as EventStreamDecoder
from .eventstream import EventStreamError, Message
from .formats.base import ApiFormat
from .reidentify import Restorer
from .sse import SSEDecoder, SSEError

STREAM_BROKE = "the provider's stream broke off"
log = logging.getLogger("aliasgate")


async def relay_json(fmt: ApiFormat, upstream: aiohttp.ClientResponse, restorer: Restorer,
                     headers: CIMultiDict[str], max_bytes: int) -> web.Response:
    raw = await _read_capped(upstream, max_bytes)
    try:
        document = json.loads(raw)
    except ValueError:  # labelled JSON but is not: restore it as text
        text = restorer.restore(raw.decode("utf-8", errors="replace"))
        return web.Response(status=upstream.status, headers=headers, body=text.encode())
    restored = fmt.restore_body(document, restorer)
    body = json.dumps(restored, ensure_ascii=False).encode("utf-8", errors="surrogatepass")
    return web.Response(status=upstream.status, headers=headers, body=body)


async def relay_stream(request: web.Request, fmt: ApiFormat, upstream: aiohttp.ClientResponse,
                       restorer: Restorer, headers: CIMultiDict[str], record: AuditRecord
                       ) -> web.StreamResponse:
    response = web.StreamResponse(status=upstream.status, headers=headers)
    await response.prepare(request)
    decoder, rewriter = SSEDecoder(), fmt.stream_rewriter(restorer)
    try:
        try:
            async for chunk in upstream.content.iter_any():
                events = [e for event in decoder.feed(chunk) for e in rewriter.on_event(event)]
                await _write(response, events)
            events, truncated = decoder.close()
            await _write(response, [e for event in events for e in rewriter.on_event(event)])
            if truncated:
                raise SSEError("the stream ended inside an event")
            await _write(response, rewriter.finish())
        except ConnectionResetError:
            raise  # the client went away (aiohttp's ClientConnectionResetError included)
        except Exception as exc:  # the answer has begun: end it with an error event
            _broke(record, exc)
            await _write(response, [*rewriter.finish(), rewriter.error_event(STREAM_BROKE)])
        await response.write_eof()
    except ConnectionResetError:
        record.decision, record.reason = "client_closed", "the client closed the connection"
    return response


async def relay_eventstream(request: web.Request, rewriter: EventStreamRewriter,
                            upstream: aiohttp.ClientResponse, headers: CIMultiDict[str],
                            record: AuditRecord) -> web.StreamResponse:
    """The same as relay_stream, for AWS event-stream framing (Bedrock)."""
    response = web.StreamResponse(status=upstream.status, headers=headers)
    await response.prepare(request)
    decoder = EventStreamDecoder()
    try:
        try:
            async for chunk in upstream.content.iter_any():
                out = [m for message in decoder.feed(chunk) for m in rewriter.on_message(message)]
                if out:
                    await response.write(b"".join(m.encode() for m in out))
            if decoder.pending:
                raise EventStreamError("the stream ended inside a message")
            tail = rewriter.finish()
            if tail:
                await response.write(b"".join(m.encode() for m in tail))
        except ConnectionResetError:
            raise
        except Exception as exc:  # the answer has begun: end it with an exception frame
            _broke(record, exc)
            tail = [*rewriter.finish(), rewriter.error_message(STREAM_BROKE)]
            await response.write(b"".join(m.encode() for m in tail))
        await response.write_eof()
    except ConnectionResetError:
        record.decision, record.reason = "client_closed", "the client closed the connection"
    return response


class EventStreamRewriter(Protocol):
    def on_message(self, message: Message) -> list[Message]: ...

    def finish(self) -> list[Message]: ...

    def error_message(self, text: str) -> Message: ...


async def pipe_bytes(request: web.Request, upstream: aiohttp.ClientResponse,
                     headers: CIMultiDict[str], record: AuditRecord) -> web.StreamResponse:
    """An answer with nothing to restore (nothing was inspected, or not text), as bytes."""
    response = web.StreamResponse(status=upstream.status, headers=headers)
    await response.prepare(request)
    try:
        try:
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
        except ConnectionResetError:
            raise
        except (aiohttp.ClientError, TimeoutError):
            record.decision, record.reason = "failed", STREAM_BROKE
            assert request.transport is not None
            request.transport.close()  # the client must see a cut, not a complete answer
            return response
        await response.write_eof()
    except ConnectionResetError:
        record.decision, record.reason = "client_closed", "the client closed the connection"
    return response


def _broke(record: AuditRecord, exc: Exception) -> None:
    expected = (aiohttp.ClientError, TimeoutError, SSEError, EventStreamError)
    if not isinstance(exc, expected):
        log.error("request %s: relaying the answer failed: %s", record.request_id,
                  exc.__class__.__name__)
    record.decision, record.reason = "failed", STREAM_BROKE


async def _write(response: web.StreamResponse, events: list) -> None:  # type: ignore[type-arg]
    if events:
        await response.write(b"".join(e.encode() for e in events))


async def _read_capped(upstream: aiohttp.ClientResponse, limit: int) -> bytes:
    parts, size = [], 0
    async for chunk in upstream.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise InternalFailure(f"the provider's answer exceeds {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)
