"""`Expect: 100-continue`: the client waits for a go-ahead before it sends the body.

aiohttp's default handler always says go (and answers an unknown expectation with a 417
that quotes the header back). Here a body whose declared length is already over the limit
gets no go-ahead: the request goes straight to its handler, which refuses it (413) and
writes its audit line without reading a byte. An expectation we do not know is ignored;
the request is handled, and audited, as any other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import HttpVersion11, web

ExpectHandler = Callable[[web.Request], Awaitable[web.StreamResponse | None]]
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def continue_unless_too_large(max_body_bytes: int) -> ExpectHandler:
    async def expect(request: web.Request) -> web.StreamResponse | None:
        if request.version != HttpVersion11:
            return None
        if request.headers.get("Expect", "").strip().lower() != "100-continue":
            return None
        length = request.content_length
        if length is not None and length > max_body_bytes:
            return None
        await request.writer.write(_CONTINUE)
        request.writer.output_size = 0   # the answer itself has not started
        return None

    return expect
