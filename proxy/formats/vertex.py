"""Google Vertex AI: Gemini `generateContent` (plain and `?alt=sse` streamed) and
`countTokens`; Claude on Vertex (`rawPredict`, `streamRawPredict`) in Anthropic's format.

    /v1/projects/{p}/locations/{location}/publishers/google/models/{m}:generateContent
    /v1/projects/{p}/locations/{location}/publishers/anthropic/models/{m}:rawPredict

The `locations/{location}` of the path is the request's placement: residency checks it
against the upstream host's region and the policy.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..jsonbudget import Budget
from ..reidentify import Restorer, StreamRestorer
from ..sse import SSEEvent
from .anthropic import AnthropicFormat, restore_claude_or_json
from .base import NOT_JSON, Endpoint, Json, Placement, StreamRewriter, event_json, restore_json
from .extraction import Extraction, WalkRules, walk

_PATH = re.compile(r"^/v1(?:beta1)?/projects/[^/]+/locations/([^/]+)/publishers/"
                   r"(google|anthropic)/models/[^/:]+:([A-Za-z]+)$")
_LOCATION = re.compile(r"/locations/([^/:]+)")
_GEMINI = {"generateContent": "gemini.generateContent",
           "streamGenerateContent": "gemini.streamGenerateContent",
           "countTokens": "gemini.countTokens"}
_CLAUDE = {"rawPredict": "claude.rawPredict", "streamRawPredict": "claude.streamRawPredict"}
_RULES = WalkRules(
    identifier_keys=frozenset({"role", "mimeType", "model", "fileUri", "id",
                               "responseMimeType"}),
    free_form_keys=frozenset({"args", "response", "labels"}),
    name_keys=frozenset({"name"}),
    schema_keys=frozenset({"parameters", "parametersJsonSchema", "responseSchema",
                           "responseJsonSchema"}),
    blob_keys=frozenset({"thoughtSignature"}),
    embedded_json_keys=frozenset(),
    binary_part=lambda node: "inlineData" if "inlineData" in node
    else "fileData" if "fileData" in node else None,
    opaque_part=lambda node: False,
)
_NO_KEYS: frozenset[str] = frozenset()
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
           404: "NOT_FOUND", 413: "INVALID_ARGUMENT", 415: "INVALID_ARGUMENT",
           422: "FAILED_PRECONDITION", 502: "UNAVAILABLE", 503: "UNAVAILABLE",
           504: "DEADLINE_EXCEEDED"}
_CLAUDE_FORMAT = AnthropicFormat()


class VertexFormat:
    name = "vertex"
    query_params: Mapping[str, re.Pattern[str]] = MappingProxyType(
        {"alt": re.compile("sse|json")})

    def endpoint(self, method: str, subpath: str) -> Endpoint | None:
        match = _PATH.match(subpath)
        if method != "POST" or match is None:
            return None
        table = _GEMINI if match.group(2) == "google" else _CLAUDE
        name = table.get(match.group(3))
        return Endpoint(name, inspect=True) if name else None

    def placement(self, subpath: str, body: Json | None) -> Placement:
        """The `locations/{region}` of any Vertex path; a path without one is refused on
        the global host (see residency/enforce.py)."""
        match = _LOCATION.search(subpath)
        return Placement(location=match.group(1)) if match else Placement()

    def extract(self, endpoint: Endpoint, body: Json, budget: Budget) -> Extraction:
        if endpoint.name.startswith("claude."):
            return _CLAUDE_FORMAT.extract(endpoint, body, budget)
        return walk(_RULES, body, budget)

    def restore_body(self, body: Json, restorer: Restorer) -> Json:
        return restore_claude_or_json(body, restorer)

    def stream_rewriter(self, restorer: Restorer) -> StreamRewriter:
        return _EitherStream(restorer)

    def error_headers(self, status: int) -> dict[str, str]:
        return {}

    def error_body(self, status: int, kind: str, message: str) -> Json:
        return {"error": {"code": status, "message": message,
                          "status": _STATUS.get(status, "INTERNAL")}}


class _EitherStream:
    """Gemini chunks or Claude events: decided by the first event of the stream."""

    def __init__(self, restorer: Restorer) -> None:
        self._restorer = restorer
        self._inner: StreamRewriter | None = None

    def _pick(self, event: SSEEvent) -> StreamRewriter:
        if self._inner is None:
            claude = event.event is not None or '"type"' in (event.data or "")[:40]
            self._inner = _CLAUDE_FORMAT.stream_rewriter(self._restorer) if claude \
                else GeminiStream(self._restorer)
        return self._inner

    def on_event(self, event: SSEEvent) -> list[SSEEvent]:
        return self._pick(event).on_event(event)

    def finish(self) -> list[SSEEvent]:
        return self._inner.finish() if self._inner else []

    def error_event(self, message: str) -> SSEEvent:
        if isinstance(self._inner, GeminiStream) or self._inner is None:
            return SSEEvent(data=json.dumps({"error": {"code": 502, "message": message,
                                                       "status": "UNAVAILABLE"}}))
        return self._inner.error_event(message)


class GeminiStream:
    """Gemini `?alt=sse` chunks: restores the text parts of each candidate; text held back
    goes out with the candidate's finishReason."""

    def __init__(self, restorer: Restorer) -> None:
        self._restorer = restorer
        self._streams: dict[tuple[int, str], StreamRestorer] = {}
        self._template: dict[str, Any] | None = None

    def on_event(self, event: SSEEvent) -> list[SSEEvent]:
        chunk = event_json(event, self._restorer)
        if chunk is NOT_JSON:
            return [event]
        if not isinstance(chunk, dict) or not isinstance(chunk.get("candidates"), list):
            event.data = json.dumps(restore_json(chunk, self._restorer, _NO_KEYS),
                                    ensure_ascii=False)
            return [event]
        self._template = {k: v for k, v in chunk.items() if k != "candidates"}
        for position, candidate in enumerate(chunk["candidates"]):
            if isinstance(candidate, dict):
                self._candidate(candidate.get("index", position), candidate)
        event.data = json.dumps(chunk, ensure_ascii=False)
        return [event]

    def _candidate(self, index: int, candidate: dict[str, Any]) -> None:
        """Text and thought parts each keep their own held-back text. Answer text goes out
        before any other part (a functionCall); everything at the finishReason."""
        content = candidate.setdefault("content", {"role": "model", "parts": []})
        out: list[Any] = []
        for part in content.get("parts") or []:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                kind = "thought" if part.get("thought") else "text"
                part["text"] = self._stream(index, kind).feed(part["text"])
                out.append(part)
            else:  # answer text held so far goes out before the call, in order
                out += self._flush(index, kinds=("text",))
                out.append(restore_json(part, self._restorer, _NO_KEYS))
        if candidate.get("finishReason"):
            out += self._flush(index)
        content["parts"] = out

    def _stream(self, index: int, kind: str) -> StreamRestorer:
        return self._streams.setdefault((index, kind), self._restorer.stream())

    def _flush(self, index: int, kinds: tuple[str, ...] = ("thought", "text")
               ) -> list[dict[str, Any]]:
        parts = []
        for (candidate, kind), stream in self._streams.items():
            if candidate == index and kind in kinds and stream.holding:
                part: dict[str, Any] = {"text": stream.flush()}
                if kind == "thought":
                    part["thought"] = True
                parts.append(part)
        return parts

    def finish(self) -> list[SSEEvent]:
        events = []
        for index in sorted({candidate for candidate, _ in self._streams}):
            parts = self._flush(index)
            if parts:
                chunk = copy.deepcopy(self._template or {})
                chunk["candidates"] = [{"index": index, "content": {"role": "model",
                                                                    "parts": parts}}]
                events.append(SSEEvent(data=json.dumps(chunk, ensure_ascii=False)))
        return events

    def error_event(self, message: str) -> SSEEvent:
        return SSEEvent(data=json.dumps({"error": {"code": 502, "message": message,
                                                   "status": "UNAVAILABLE"}}))
