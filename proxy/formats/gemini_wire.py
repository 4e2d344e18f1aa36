"""Gemini's JSON on the wire, shared by Vertex AI and the Gemini Developer API: what in a
request is text, how an answer and an `?alt=sse` stream are restored, and the error shape.

Both APIs take the same `contents`/`parts` request and send the same `candidates` answer;
only their paths, hosts and credentials differ (vertex.py, gemini.py).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ..reidentify import Restorer, StreamRestorer
from ..sse import SSEEvent
from .base import NOT_JSON, Json, event_json, restore_json
from .extraction import WalkRules

RULES = WalkRules(
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
NO_KEYS: frozenset[str] = frozenset()
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
           404: "NOT_FOUND", 413: "INVALID_ARGUMENT", 415: "INVALID_ARGUMENT",
           422: "FAILED_PRECONDITION", 502: "UNAVAILABLE", 503: "UNAVAILABLE",
           504: "DEADLINE_EXCEEDED"}


def error_body(status: int, message: str) -> Json:
    """Google's error shape: the SDKs read `code`, `message` and `status`."""
    return {"error": {"code": status, "message": message,
                      "status": _STATUS.get(status, "INTERNAL")}}


def error_event(message: str) -> SSEEvent:
    return SSEEvent(data=json.dumps(error_body(502, message)))


def restore_body(body: Json, restorer: Restorer) -> Json:
    return restore_json(body, restorer, NO_KEYS)


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
            event.data = json.dumps(restore_json(chunk, self._restorer, NO_KEYS),
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
                out.append(restore_json(part, self._restorer, NO_KEYS))
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
        return error_event(message)
