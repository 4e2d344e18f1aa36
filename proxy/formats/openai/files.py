"""OpenAI Files and Batch: the endpoints, and the inspection of a file upload.

    POST   /v1/files                  multipart upload: purpose, file (inspected here)
    GET    /v1/files[/{id}]           list, retrieve          (no body)
    DELETE /v1/files/{id}
    GET    /v1/files/{id}/content     the file's bytes (a batch's output: tokens restored)
    POST   /v1/batches                JSON, inspected by the format's rules
    GET    /v1/batches[/{id}]
    POST   /v1/batches/{id}/cancel

An upload is rebuilt from what was inspected, with a fresh boundary:
- purpose `batch`: JSON Lines of requests, each line's body inspected by its endpoint's
  rules (batch.py);
- any other purpose, a text file: JSON and JSON Lines as documents, other text as text
  (documents.py);
- a binary file (not UTF-8, or an image, audio, video or PDF type): refused, unless the
  route's policy lets uninspectable content through; then it goes as it came.
The file name is the client's text: its stem is inspected as text (tokens in a file name are
restored when it comes back in a file object), its extension kept when it has an
extension's shape, since the provider reads the file's type from it.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from ...errors import BadRequest
from ...shapes import INTEGER, has_shape, looks_personal, shown
from ..base import ApiFormat, Endpoint, InspectsBodies, OutboundBody
from .batch import inspect_batch_file
from .documents import file_kind, inspect_text_file
from .multipart import MIME_TYPE, OutPart, Part, build_form, parse_form

# Purposes a file may be uploaded with, and listed by (outputs are the provider's own).
UPLOAD_PURPOSE = re.compile(r"assistants|batch|fine-tune|vision|user_data|evals")
FILE_PURPOSE = re.compile(r"assistants|assistants_output|batch|batch_output|fine-tune|"
                          r"fine-tune-results|vision|user_data|evals")
_FILE_ID = r"file-[A-Za-z0-9_-]{1,64}"
_BATCH_ID = r"batch_[A-Za-z0-9_-]{1,64}"

FILES_ENDPOINTS: tuple[tuple[str, re.Pattern[str], Endpoint], ...] = tuple(
    (method, re.compile(path), Endpoint(name, inspect=inspect)) for method, path, name, inspect in (
        ("GET", r"/v1/files", "files.list", False),
        ("GET", rf"/v1/files/{_FILE_ID}", "files.retrieve", False),
        ("DELETE", rf"/v1/files/{_FILE_ID}", "files.delete", False),
        ("GET", rf"/v1/files/{_FILE_ID}/content", "files.content", False),
        ("POST", r"/v1/batches", "batches.create", True),
        ("GET", r"/v1/batches", "batches.list", False),
        ("GET", rf"/v1/batches/{_BATCH_ID}", "batches.retrieve", False),
        ("POST", rf"/v1/batches/{_BATCH_ID}/cancel", "batches.cancel", False),
    ))


def files_endpoint(fmt: ApiFormat, method: str, subpath: str) -> Endpoint | None:
    """A Files or Batch endpoint of `fmt`; the upload's handler inspects with fmt's rules."""
    if method == "POST" and subpath == "/v1/files":
        return Endpoint("files.create", inspect=True, handler=FileUpload(fmt))
    for want, path, endpoint in FILES_ENDPOINTS:
        if want == method and path.fullmatch(subpath):
            return endpoint
    return None


_MAX_PARTS = 4
_EXPIRES = {"expires_after[anchor]": re.compile("created_at"),
            "expires_after[seconds]": INTEGER}
_FIELDS = frozenset({"purpose", "file", *_EXPIRES})
_BINARY_TYPES = ("image/", "audio/", "video/", "application/pdf", "application/zip",
                 "application/gzip", "application/x-tar")
# A file type (`.jsonl`, `.md`, `.tar`): letters, and digits only after a letter (`.mp3`),
# so no number rides as an "extension".
_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,7}\Z")


class FileUpload:
    """`POST /v1/files`: the multipart upload, inspected and rebuilt."""

    def __init__(self, fmt: ApiFormat) -> None:
        self._fmt = fmt

    async def inspect(self, body: bytes, content_type: str, inspect: InspectsBodies
                      ) -> OutboundBody:
        fields = _fields(await parse_form(body, content_type, _MAX_PARTS))
        purpose = _purpose(fields.get("purpose"))
        upload = fields.get("file")
        if upload is None or upload.filename is None:
            raise BadRequest("the upload needs a `file` field that carries a file")
        out = [OutPart("purpose", purpose.encode("ascii"))]
        for name, shape in _EXPIRES.items():
            if name in fields:
                out.append(OutPart(name, _plain_value(fields[name], name, shape).encode()))
        data = await self._content(purpose, upload, inspect)
        filename = await _filename(upload.filename, inspect)
        kind = upload.content_type
        mime = kind if kind is not None and has_shape(kind, MIME_TYPE) else None
        out.append(OutPart("file", data, filename, mime or "application/octet-stream"))
        rebuilt, rebuilt_type = build_form(out)
        return OutboundBody(rebuilt, rebuilt_type)

    async def _content(self, purpose: str, upload: Part, inspect: InspectsBodies) -> bytes:
        text = _text_of(upload)
        if purpose == "batch":
            if text is None:
                raise BadRequest("a batch file must be UTF-8 JSON Lines")
            return await inspect_batch_file(inspect, self._fmt, text)
        if text is None:
            inspect.uninspectable("binary file")
            return upload.data
        kind = file_kind(upload.filename, upload.content_type)
        inspected = await inspect_text_file(inspect, self._fmt, text, kind)
        return inspected.encode("utf-8", "backslashreplace")


def _fields(parts: list[Part]) -> dict[str, Part]:
    fields: dict[str, Part] = {}
    for part in parts:
        if part.name not in _FIELDS:
            raise BadRequest(f"the upload has a field aliasgate does not know: "
                             f"{shown(part.name)}")
        if part.name in fields:
            raise BadRequest(f"the upload has the field {part.name} twice")
        fields[part.name] = part
    return fields


def _purpose(part: Part | None) -> str:
    if part is None:
        raise BadRequest("the upload needs a `purpose` field")
    return _plain_value(part, "purpose", UPLOAD_PURPOSE)


def _plain_value(part: Part, name: str, shape: re.Pattern[str]) -> str:
    """A form field's value that must have `shape` (never a file)."""
    try:
        value = part.data.decode("ascii")
    except UnicodeDecodeError:
        value = ""
    if part.filename is not None or not has_shape(value, shape):
        raise BadRequest(f"the upload's {name} field does not have a value aliasgate knows")
    return value


def _text_of(upload: Part) -> str | None:
    """The file as text, or None when it is binary: by its type, a NUL byte, or bytes
    that are not UTF-8."""
    kind = upload.content_type or ""
    if kind.startswith(_BINARY_TYPES) or b"\x00" in upload.data:
        return None
    try:
        return upload.data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return None


async def _filename(filename: str, inspect: InspectsBodies) -> str:
    """The file name with its stem inspected as text and its extension kept. A client may
    percent-encode the name (aiohttp's FormData does): it is decoded first, so
    `Jane%20Doe.txt` is read as `Jane Doe.txt`."""
    filename = unquote(filename)
    match = _EXTENSION.search(filename)
    extension = match.group() if match and not looks_personal(match.group()) else ""
    stem = filename[:len(filename) - len(extension)]
    return (await inspect.text(stem) if stem.strip() else stem) + extension
