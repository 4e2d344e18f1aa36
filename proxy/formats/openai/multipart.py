"""A multipart/form-data body: parsed strictly from bytes, and rebuilt from what was inspected.

Parsing uses aiohttp's own MultipartReader over the (already size-capped) body, and then
refuses anything a form upload has no need for: nested multipart, more than a few parts,
part headers other than Content-Disposition and Content-Type, a part that is not
`form-data` with a name. The upload is always rebuilt with a fresh boundary, so nothing of
the client's framing (a preamble, an epilogue, odd headers) reaches the provider.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import warnings
from dataclasses import dataclass

from aiohttp import BodyPartReader, MultipartReader, StreamReader
from aiohttp.base_protocol import BaseProtocol
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.multipart import BadContentDispositionHeader

from ...errors import BadRequest, UnsupportedMedia

# aiohttp warns about a malformed Content-Disposition with the whole header (a file name)
# in the message, which Python prints to stderr: the gateway never logs a client's header.
# The part is refused all the same (its name is missing).
warnings.filterwarnings("ignore", category=BadContentDispositionHeader)

# A mime type the gateway may name in a part it rebuilds (never the client's parameters).
MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}")
_ALLOWED_PART_HEADERS = frozenset({"content-disposition", "content-type"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Part:
    """One form field: its name, its file name (file fields only), content type, bytes."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None  # the bare mime type, lower case, when one was sent


async def parse_form(body: bytes, content_type: str, max_parts: int) -> list[Part]:
    """The fields of a multipart/form-data body, in order; BadRequest if it is anything else."""
    if content_type.split(";")[0].strip().lower() != "multipart/form-data":
        raise UnsupportedMedia("the request body must be multipart/form-data")
    stream = _stream_of(body)
    try:
        reader = MultipartReader({"Content-Type": content_type}, stream)
        parts: list[Part] = []
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise BadRequest("a form upload must not nest multipart bodies")
            if len(parts) == max_parts:
                raise BadRequest(f"a form upload has at most {max_parts} fields")
            parts.append(await _read_part(part))
    except (ValueError, AssertionError, HttpProcessingError, LookupError) as exc:
        raise BadRequest("the request body is not a well-formed multipart/form-data "
                         "body") from exc
    if not reader.at_eof():
        raise BadRequest("the multipart/form-data body does not end with its boundary")
    return parts


async def _read_part(part: BodyPartReader) -> Part:
    names = [k.lower() for k in part.headers]
    if set(names) - _ALLOWED_PART_HEADERS or len(names) != len(set(names)):
        raise BadRequest("a form field carries a header aliasgate does not forward")
    disposition = part.headers.get("Content-Disposition", "")
    if disposition.split(";")[0].strip().lower() != "form-data" or not part.name:
        raise BadRequest("every part of the upload must be a named form-data field")
    data = await part.read(decode=False)
    mime = part.headers.get("Content-Type")
    bare = mime.split(";")[0].strip().lower() if mime is not None else None
    if bare is not None and bare.startswith("multipart/"):
        raise BadRequest("a form upload must not nest multipart bodies")
    return Part(part.name, bytes(data), part.filename, bare)


def _stream_of(body: bytes) -> StreamReader:
    """The body as the stream MultipartReader reads. The limit is above the body's size,
    so the reader never asks its (absent) transport to pause."""
    loop = asyncio.get_running_loop()
    stream = StreamReader(BaseProtocol(loop), max(2 * len(body), 65_536), loop=loop)
    stream.feed_data(body)
    stream.feed_eof()
    return stream


@dataclass(frozen=True)
class OutPart:
    """A field of the rebuilt upload. Names and file names come from the gateway or
    were inspected; a content type is one of MIME_TYPE's shape."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None


def build_form(parts: list[OutPart]) -> tuple[bytes, str]:
    """The multipart/form-data body of `parts`, and its Content-Type, with a fresh boundary."""
    while True:
        boundary = "aliasgate-" + secrets.token_hex(16)
        marker = b"--" + boundary.encode("ascii")
        if not any(marker in part.data for part in parts):
            break  # a boundary found in a part's bytes would cut it: draw another
    chunks = []
    for part in parts:
        disposition = f'form-data; name="{_quoted(part.name)}"'
        if part.filename is not None:
            disposition += f'; filename="{_quoted(part.filename)}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if part.content_type is not None:
            if not MIME_TYPE.fullmatch(part.content_type):
                raise ValueError("a rebuilt part's content type must be a bare mime type")
            head += f"Content-Type: {part.content_type}\r\n"
        chunks += [head.encode("utf-8"), b"\r\n", part.data, b"\r\n"]
    chunks.append(marker + b"--\r\n")
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def _quoted(value: str) -> str:
    """A name inside a quoted header parameter, escaped as browsers and httpx do (HTML's
    form encoding): the quote and line breaks percent-encoded, the rest as UTF-8; other
    control characters, which no header may hold, dropped."""
    value = value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    return _CONTROL.sub("", value)
