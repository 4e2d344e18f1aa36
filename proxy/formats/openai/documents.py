"""A user's uploaded file (not a batch): inspected as JSON documents where it is JSON or
JSON Lines, so its structure survives, and as plain text otherwise.

A user's document follows no API's schema, so no field of it is trusted: every string,
every long number and every object key is read as text (`FileDocuments`, a format whose
walk is free-form from the top). All documents of one file are inspected in one call, so
a file costs one round of detection, not one per line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ...errors import BadRequest, InternalFailure, PayloadTooLarge
from ...jsonbudget import Budget
from ...offload import off_loop_if
from ...reidentify import Restorer
from ..base import NOWHERE, ApiFormat, Endpoint, InspectsBodies, Json, Placement, StreamRewriter
from ..extraction import Extraction, NotJson, WalkRules, loads_strict

# Up to this size a file is parsed and serialized on the loop (well under a millisecond).
INLINE_BYTES = 32_768
DOCUMENT = Endpoint("files.document", inspect=True)
_ROOT = "doc"
_FREE_FORM = WalkRules(identifier_keys=frozenset(), free_form_keys=frozenset({_ROOT}),
                       embedded_json_keys=frozenset(), binary_part=lambda node: None,
                       opaque_part=lambda node: False)
_JSON_TYPES = frozenset({"application/json", "text/json"})
_JSONL_TYPES = frozenset({"application/jsonl", "application/x-jsonl", "application/jsonlines",
                          "application/x-jsonlines", "application/x-ndjson",
                          "application/ndjson"})


class FileDocuments:
    """The documents of one uploaded file, wrapped as `{"doc": [...]}`: a format whose
    rules read everything under `doc` as free-form text. Answers and errors are the
    wrapped format's."""

    def __init__(self, fmt: ApiFormat) -> None:
        self._fmt = fmt
        self.name = fmt.name
        self.query_params: Mapping[str, re.Pattern[str]] = MappingProxyType({})

    def endpoint(self, method: str, subpath: str) -> Endpoint | None:
        return None

    def placement(self, subpath: str, body: Json | None) -> Placement:
        return NOWHERE  # a data file says nothing about where a request runs

    def extract(self, endpoint: Endpoint, body: Json, budget: Budget) -> Extraction:
        extraction = Extraction(_FREE_FORM, budget)
        extraction.walk_body(body)
        return extraction

    def restore_body(self, body: Json, restorer: Restorer) -> Json:
        return self._fmt.restore_body(body, restorer)

    def stream_rewriter(self, restorer: Restorer) -> StreamRewriter:
        return self._fmt.stream_rewriter(restorer)

    def error_body(self, status: int, kind: str, message: str) -> Json:
        return self._fmt.error_body(status, kind, message)

    def error_headers(self, status: int) -> dict[str, str]:
        return self._fmt.error_headers(status)


async def inspect_documents(inspect: InspectsBodies, fmt: ApiFormat, documents: list[Json],
                            size: int) -> list[Json]:
    """`documents`, every text in them inspected, in one call; in two halves (and so on)
    when together they hold more JSON values than one inspection walks. `size` is about
    their size in bytes (what decides whether serializing leaves the loop)."""
    try:
        return await _inspect_together(inspect, fmt, documents, size)
    except PayloadTooLarge:
        # Refused while parsing or walking, before anything was detected or counted.
        if len(documents) < 2:
            raise
        half = len(documents) // 2
        return [*await inspect_documents(inspect, fmt, documents[:half], size // 2),
                *await inspect_documents(inspect, fmt, documents[half:], size - size // 2)]


async def _inspect_together(inspect: InspectsBodies, fmt: ApiFormat, documents: list[Json],
                            size: int) -> list[Json]:
    large = size > INLINE_BYTES
    wrapped = await off_loop_if(large, _dumps, {_ROOT: documents})
    inspected = await inspect.json_body(FileDocuments(fmt), DOCUMENT, wrapped)
    out = await off_loop_if(large, loads_strict, inspected)
    result = out.get(_ROOT) if isinstance(out, dict) else None
    if not isinstance(result, list) or len(result) != len(documents):
        raise InternalFailure("inspecting an uploaded file returned a result of the wrong "
                              "shape")
    return result


def _dumps(document: Json) -> bytes:
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8", "backslashreplace")  # a lone surrogate as its escape


def file_kind(filename: str | None, content_type: str | None) -> str:
    """`json`, `jsonl` or `text`: how a text file is read, by its type or its extension."""
    extension = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if content_type in _JSONL_TYPES or extension in ("jsonl", "ndjson"):
        return "jsonl"
    if content_type in _JSON_TYPES or extension == "json":
        return "json"
    return "text"


async def inspect_text_file(inspect: InspectsBodies, fmt: ApiFormat, text: str, kind: str
                            ) -> str:
    """A text file, inspected as JSON documents when it is JSON (`kind` json) or JSON Lines
    (`jsonl`) throughout, as plain text otherwise."""
    large = len(text) > INLINE_BYTES
    if kind == "json":
        try:
            document = await off_loop_if(large, _loads, text)
        except BadRequest:
            return await inspect.text(text)
        [inspected] = await inspect_documents(inspect, fmt, [document], len(text))
        return await off_loop_if(large, _dumps_text, inspected)
    if kind == "jsonl":
        try:
            lines = await off_loop_if(large, _json_lines, text)
        except BadRequest:
            return await inspect.text(text)
        inspected_lines = await inspect_documents(inspect, fmt, lines, len(text))
        return await off_loop_if(large, _join_lines, inspected_lines)
    return await inspect.text(text)


def _loads(text: str) -> Json:
    try:
        return loads_strict(text)
    except (NotJson, ValueError, RecursionError) as exc:
        raise BadRequest("not JSON") from exc


def _json_lines(text: str) -> list[Json]:
    """The documents of a JSON Lines text (blank lines skipped); BadRequest if one is not JSON.
    Split on newlines only: a JSON string may hold U+2028, which splitlines() would cut."""
    return [_loads(line) for line in text.split("\n") if line.strip()]


def _dumps_text(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, allow_nan=False)


def _join_lines(documents: list[Json]) -> str:
    return "".join(json.dumps(d, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
                   + "\n" for d in documents)
