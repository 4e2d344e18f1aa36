"""Relay the provider's answer to the client, restoring this request's tokens.

JSON answers are restored whole; SSE streams event by event; anything else is piped as
bytes. If the provider's stream breaks off, the client gets what was restored so far and
then an error event in the provider's stream shape, so its SDK raises.

The provider may be hostile, so no answer can hold the event loop: a stream is decoded on
the loop in slices of FEED_BYTES with a yield after each, until a slice may complete a
large frame: the rest of that chunk is worked on in a thread, as is a large JSON answer;
and provider JSON is parsed only within the restorer's bounds (answer_json.py).
"""

from __future__ import annotations

import asyncio
import codecs
import logging
from collections.abc import Callable
from typing import Any, Protocol

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import Payload
from multidict import CIMultiDict

from .answer_json import SLICE, UnsafeJson, dumps, parse, utf8
from .audit import AuditRecord
from .errors import GatewayError, UpstreamFailed
from .eventstream import EventStreamError
from .formats.base import NOT_JSON, ApiFormat
from .offload import off_loop_if
from .reidentify import Restorer
from .sse import SSEError, SSEEvent

STREAM_BROKE = "the provider's stream broke off"
log = logging.getLogger("aliasgate")
Rewrite = Callable[[Any], Any]
# Up to this size an answer, or a frame of a stream, is parsed, restored and written back
# on the loop; beyond it in a thread, where pure-Python work gives the loop the GIL every
# few milliseconds.
INLINE_BYTES = 16_384
# A stream is decoded on the loop this much at a time, with a yield after each slice (a few
# milliseconds of work at most), so a flood of tiny events waits its turn like any request.
FEED_BYTES = 1_024


async def relay_whole(fmt: ApiFormat, upstream: aiohttp.ClientResponse, restorer: Restorer,
                      headers: CIMultiDict[str], max_bytes: int, lines: bool = False,
                      rewrite: Rewrite | None = None) -> web.Response:
    """An answer read whole and restored: one JSON document (`rewrite` applied to it
    first, if given), or (`lines`) JSON lines (a batch's results) or text (a file's
    content), line by line, each JSON line within the JSON budget on its own. Bytes that
    are not UTF-8 go back as they came."""
    parts, size = await _read_capped(upstream, max_bytes)
    raw = b"".join(parts)
    if lines:
        body = await off_loop_if(size > INLINE_BYTES or restorer.needs_thread,
                                 _restore_lines, fmt, raw, restorer)
    elif rewrite is None and size <= INLINE_BYTES and not restorer.may_hold(raw):
        body = raw  # the usual small answer: no token, no thread
    else:
        body = await off_loop_if(size > INLINE_BYTES or restorer.needs_thread,
                                 _restore_answer, fmt, raw, restorer, rewrite)
    payload = _Sliced(body) if len(body) > SLICE else body
    return web.Response(status=upstream.status, headers=headers, body=payload)


class _Sliced(Payload):
    """A large body written a slice at a time, each write waiting for the client as a
    stream's do (aiohttp writes a bytes body in one go, holding the loop for the copy)."""

    def __init__(self, value: bytes) -> None:
        super().__init__(value, content_type=None)
        self._size = len(value)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise NotImplementedError("an answer body is sent, never read back")

    async def write(self, writer: AbstractStreamWriter) -> None:
        view = memoryview(self._value)
        for at in range(0, len(view), SLICE):
            await writer.write(view[at:at + SLICE])


def _restore_answer(fmt: ApiFormat, raw: bytes, restorer: Restorer,
                    rewrite: Rewrite | None = None) -> bytes:
    """The answer with this request's tokens restored. When it holds none (none can be in
    it, or none was found) and nothing rewrites it, the provider's bytes go back exactly
    as they came."""
    if rewrite is None and not restorer.may_hold(raw):
        return raw
    document = _parsed(raw, restorer)
    if document is NOT_JSON:  # not one JSON document: JSON lines, or text
        return _restore_lines(fmt, raw, restorer)
    if rewrite is not None:
        return utf8(dumps(fmt.restore_body(rewrite(document), restorer)))
    return _restore_document(fmt, document, raw, restorer)


def _parsed(raw: bytes, restorer: Restorer) -> object:
    """`raw` parsed within the restorer's bounds, or NOT_JSON; past the bounds, a 502."""
    try:
        return parse(raw, restorer.bounds)
    except UnsafeJson as exc:
        raise UpstreamFailed(f"aliasgate does not restore this answer: it {exc}") from exc
    except ValueError:
        return NOT_JSON


def _restore_document(fmt: ApiFormat, document: object, raw: bytes, restorer: Restorer
                      ) -> bytes:
    before = restorer.stats.restored
    restored = fmt.restore_body(document, restorer)
    if restorer.stats.restored == before:
        return raw
    return utf8(dumps(restored))


def _restore_lines(fmt: ApiFormat, raw: bytes, restorer: Restorer) -> bytes:
    """Each line that is JSON restored as JSON (values escaped where they land in a
    string), any other as text; bytes that are not UTF-8 as they came."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw
    out = []
    for line in raw.splitlines(keepends=True):
        body = line.rstrip(b"\r\n")
        if len(body) > SLICE:  # too long to parse here: as text, JSON-escaped if JSON
            out.append(_restore_text(line, restorer, body.lstrip()[:1] in (b"{", b"[")))
            continue
        if not restorer.may_hold(body):
            out.append(line)
            continue
        document = _parsed(body, restorer)
        if document is NOT_JSON:
            out.append(_restore_text(line, restorer))
            continue
        out.append(_restore_document(fmt, document, body, restorer) + line[len(body):])
    return b"".join(out)


def _restore_text(raw: bytes, restorer: Restorer, json_escape: bool = False) -> bytes:
    """Slice by slice, so no single step holds the GIL long (a stream restorer keeps what
    may be the start of a token for the next slice)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    stream, out = restorer.stream(json_escape), []
    for at in range(0, len(raw), SLICE):
        out.append(utf8(stream.feed(decoder.decode(raw[at:at + SLICE]))))
    out.append(utf8(stream.feed(decoder.decode(b"", final=True)) + stream.flush()))
    return b"".join(out)


class Frame(Protocol):
    def encode(self) -> bytes: ...


class FrameDecoder(Protocol):
    """SSE events or event-stream messages out of bytes cut anywhere."""

    @property
    def buffered(self) -> int: ...  # held for the frame not yet complete

    def feed(self, chunk: bytes) -> list[Any]: ...

    def close(self) -> tuple[list[Any], bool]: ...  # (last frames, whether one was cut)


class FrameRewriter(Protocol):
    """Restores tokens frame by frame (formats' StreamRewriter, BedrockStream)."""

    def on_event(self, frame: Any) -> list[Any]: ...

    def finish(self) -> list[Any]: ...

    def error_event(self, message: str) -> Any: ...


async def relay_stream(request: web.Request, decoder: FrameDecoder, rewriter: FrameRewriter,
                       upstream: aiohttp.ClientResponse, headers: CIMultiDict[str],
                       record: AuditRecord, restorer: Restorer | None = None
                       ) -> web.StreamResponse:
    """Restore a stream frame by frame (SSE, or AWS event-stream for Bedrock); if it breaks
    off, the client gets an error frame in the provider's stream shape. Frames that may
    make `restorer` ask the vault are rewritten in a thread (see _Step.may_ask_vault)."""
    response = web.StreamResponse(status=upstream.status, headers=headers)
    await response.prepare(request)
    step = _Step(decoder, rewriter, restorer)
    try:
        try:
            async for chunk in upstream.content.iter_any():
                for at in range(0, len(chunk), FEED_BYTES):
                    piece = chunk[at:at + FEED_BYTES]
                    if decoder.buffered + len(piece) > INLINE_BYTES:  # a large frame ends?
                        await _write(response, await asyncio.to_thread(step.run, chunk[at:]))
                        break
                    frames = step.decode(piece)
                    await _write(response, await off_loop_if(step.may_ask_vault(frames),
                                                             step.rewrite, frames))
                    await asyncio.sleep(0)
            await _write(response, await off_loop_if(
                decoder.buffered > INLINE_BYTES or step.vaulted, step.run, None))
            if step.truncated:
                raise StreamCut("the stream ended inside a frame")
            await _write(response, await off_loop_if(step.vaulted, step.finish))
        except ConnectionResetError:
            raise  # the client went away (aiohttp's ClientConnectionResetError included)
        except Exception as exc:  # the answer has begun: end it with an error frame
            message = _broke(record, exc)
            await _write(response, step.unsent())
            await _write(response, await off_loop_if(step.vaulted, _closing, rewriter,
                                                     message))
        await response.write_eof()
    except ConnectionResetError:
        record.decision, record.reason = "client_closed", "the client closed the connection"
    return response


class _Step:
    """Feeds bytes (None: the end of the stream) and rewrites the frames they complete."""

    def __init__(self, decoder: FrameDecoder, rewriter: FrameRewriter,
                 restorer: Restorer | None) -> None:
        self._decoder, self._rewriter, self._restorer = decoder, rewriter, restorer
        self.truncated = False
        self._unsent = b""

    @property
    def vaulted(self) -> bool:
        """Restoring may ask the vault, which blocks: not on the event loop."""
        return self._restorer is not None and self._restorer.needs_thread

    def may_ask_vault(self, frames: list[Any]) -> bool:
        """Whether rewriting `frames` may ask the vault: some text is held back (it may
        complete a token), or a frame may hold one. Most frames of a stream do not, and
        stay on the loop, where a flood of small ones costs no thread hop each."""
        restorer = self._restorer
        if restorer is None or not restorer.needs_thread or not frames:
            return False
        return restorer.holding > 0 or any(restorer.may_hold(_frame_bytes(f)) for f in frames)

    def decode(self, piece: bytes) -> list[Any]:
        return self._decoder.feed(piece)

    def rewrite(self, frames: list[Any]) -> bytes:
        """The frames rewritten; if one fails, those before it are kept for `unsent`."""
        done: list[Frame] = []
        try:
            for frame in frames:
                done.extend(self._rewriter.on_event(frame))
        except Exception:
            self._unsent = _encode(done)
            raise
        return _encode(done)

    def unsent(self) -> bytes:
        """Frames rewritten before a failure, still to go to the client."""
        unsent, self._unsent = self._unsent, b""
        return unsent

    def run(self, piece: bytes | None) -> bytes:
        if piece is None:
            frames, self.truncated = self._decoder.close()
        else:
            frames = self._decoder.feed(piece)
        return self.rewrite(frames)

    def finish(self) -> bytes:
        return _encode(self._rewriter.finish())


def _frame_bytes(frame: Any) -> bytes:
    """What of a frame may hold a token: an SSE event's data, an event-stream message's
    payload (base64 inside it hides any: such a payload counts as one that may)."""
    if isinstance(frame, SSEEvent):
        return (frame.data or "").encode("utf-8", "surrogatepass")
    payload = getattr(frame, "payload", b"")
    return b"<" if b'"bytes"' in payload else payload


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


# Refusals of the gateway's own, worded by it: the client and the audit log may read them.
_REFUSED = (SSEError, EventStreamError, UnsafeJson)


def _broke(record: AuditRecord, exc: Exception) -> str:
    """Record why the stream ended early; the message for the client's error frame."""
    expected = (aiohttp.ClientError, TimeoutError, StreamCut, GatewayError, *_REFUSED)
    if not isinstance(exc, expected):
        log.error("request %s: relaying the answer failed: %s", record.request_id,
                  exc.__class__.__name__)
    message = STREAM_BROKE
    if isinstance(exc, UnsafeJson):
        message = f"aliasgate stopped the provider's stream: an event {exc}"
    elif isinstance(exc, _REFUSED):
        message = f"aliasgate stopped the provider's stream: {exc}"
    elif isinstance(exc, GatewayError):  # the vault could not be read, say
        message = f"aliasgate stopped the provider's stream: {exc.message}"
    record.decision, record.reason = "failed", message
    return message


def _closing(rewriter: FrameRewriter, message: str) -> bytes:
    """Text still held back, then the error frame; the error frame alone if the rewriter
    cannot flush (its state may be what failed)."""
    try:
        held = _encode(rewriter.finish())
    except Exception:  # the error frame must go out whatever failed
        held = b""
    return held + _encode([rewriter.error_event(message)])


def _encode(frames: list[Frame]) -> bytes:
    return b"".join(f.encode() for f in frames)


async def _write(response: web.StreamResponse, data: bytes) -> None:
    if data:
        await response.write(data)


async def _read_capped(upstream: aiohttp.ClientResponse, limit: int
                       ) -> tuple[list[bytes], int]:
    parts, size = [], 0
    try:
        async for chunk in upstream.content.iter_any():
            size += len(chunk)
            if size > limit:
                raise UpstreamFailed(f"the provider's answer exceeds {limit} bytes")
            parts.append(chunk)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise UpstreamFailed("the provider's answer broke off") from exc
    return parts, size
