"""Relay the provider's answer to the client, restoring this request's tokens.

JSON answers are restored whole; SSE streams event by event; anything else is piped as
bytes. If the provider's stream breaks off, the client gets what was restored so far and
then an error event in the provider's stream shape, so its SDK raises.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from .audit import AuditRecord
from .errors import InternalFailure, UpstreamFailed
from .eventstream import EventStreamError
from .formats.base import ApiFormat
from .reidentify import Restorer
from .sse import SSEError

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


class Frame(Protocol):
    def encode(self) -> bytes: ...


class FrameDecoder(Protocol):
    """SSE events or event-stream messages out of bytes cut anywhere."""

    def feed(self, chunk: bytes) -> list[Any]: ...

    def close(self) -> tuple[list[Any], bool]: ...  # (last frames, whether one was cut)


class FrameRewriter(Protocol):
    """Restores tokens frame by frame (formats' StreamRewriter, BedrockStream)."""

    def on_event(self, frame: Any) -> list[Any]: ...

    def finish(self) -> list[Any]: ...

    def error_event(self, message: str) -> Any: ...


async def relay_stream(request: web.Request, decoder: FrameDecoder, rewriter: FrameRewriter,
                       upstream: aiohttp.ClientResponse, headers: CIMultiDict[str],
                       record: AuditRecord) -> web.StreamResponse:
    """Restore a stream frame by frame (SSE, or AWS event-stream for Bedrock); if it breaks
    off, the client gets an error frame in the provider's stream shape."""
    response = web.StreamResponse(status=upstream.status, headers=headers)
    await response.prepare(request)
    try:
        try:
            async for chunk in upstream.content.iter_any():
                await _write(response, [out for frame in decoder.feed(chunk)
                                        for out in rewriter.on_event(frame)])
            frames, truncated = decoder.close()
            await _write(response, [out for frame in frames for out in rewriter.on_event(frame)])
            if truncated:
                raise StreamCut("the stream ended inside a frame")
            await _write(response, rewriter.finish())
        except ConnectionResetError:
            raise  # the client went away (aiohttp's ClientConnectionResetError included)
        except Exception as exc:  # the answer has begun: end it with an error frame
            _broke(record, exc)
            await _write(response, [*rewriter.finish(), rewriter.error_event(STREAM_BROKE)])
        await response.write_eof()
    except ConnectionResetError:
        record.decision, record.reason = "client_closed", "the client closed the connection"
    return response


class StreamCut(ValueError):
    """The provider's stream ended in the middle of a frame."""


# A small, uncompressed answer of known length is read whole and sent in one write (a
# compressed one is streamed: its length says nothing about its size once decompressed).
WHOLE_ANSWER_BYTES = 65_536


async def pipe_bytes(request: web.Request, upstream: aiohttp.ClientResponse,
                     headers: CIMultiDict[str], record: AuditRecord) -> web.StreamResponse:
    """An answer with nothing to restore (nothing was inspected, or not text), as bytes."""
    length = upstream.content_length
    if length is not None and length <= WHOLE_ANSWER_BYTES and \
            "Content-Encoding" not in upstream.headers:
        try:
            body = await upstream.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise UpstreamFailed("the provider's answer broke off") from exc
        return web.Response(status=upstream.status, headers=headers, body=body)
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
    expected = (aiohttp.ClientError, TimeoutError, SSEError, EventStreamError, StreamCut)
    if not isinstance(exc, expected):
        log.error("request %s: relaying the answer failed: %s", record.request_id,
                  exc.__class__.__name__)
    record.decision, record.reason = "failed", STREAM_BROKE


async def _write(response: web.StreamResponse, frames: list[Frame]) -> None:
    if frames:
        await response.write(b"".join(f.encode() for f in frames))


async def _read_capped(upstream: aiohttp.ClientResponse, limit: int) -> bytes:
    parts, size = [], 0
    async for chunk in upstream.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise InternalFailure(f"the provider's answer exceeds {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)
