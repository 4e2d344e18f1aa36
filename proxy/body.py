"""Read a request body with a size cap, decompressing gzip or deflate with a cap too."""

from __future__ import annotations

import zlib

from aiohttp import web

from .errors import BadRequest, PayloadTooLarge, UnsupportedMedia

_READ_CHUNK = 64 * 1024


async def read_body(request: web.Request, max_bytes: int, max_decompressed: int) -> bytes:
    if request.content_length is not None and request.content_length > max_bytes:
        raise PayloadTooLarge(f"request body exceeds {max_bytes} bytes")
    parts: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(_READ_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"request body exceeds {max_bytes} bytes")
        parts.append(chunk)
    raw = b"".join(parts)
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding in ("gzip", "x-gzip"):
        return _inflate(raw, zlib.MAX_WBITS | 16, max_decompressed)
    if encoding == "deflate":
        try:
            return _inflate(raw, zlib.MAX_WBITS, max_decompressed)
        except BadRequest:  # some clients send raw deflate without the zlib header
            return _inflate(raw, -zlib.MAX_WBITS, max_decompressed)
    raise UnsupportedMedia("the request's content encoding is not supported; "
                           "use gzip, deflate or none")


def _inflate(raw: bytes, wbits: int, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise BadRequest("the compressed request body is corrupt") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"decompressed request body exceeds {limit} bytes")
    if not inflater.eof:
        raise BadRequest("the compressed request body is truncated")
    if inflater.unused_data:  # a second gzip member or trailing bytes: refuse, don't guess
        raise BadRequest("the compressed request body has data after its end")
    return out
