"""OpenAI wire format: Chat Completions, legacy Completions, Embeddings and Models."""

from __future__ import annotations

import copy
import json
from typing import Any

from ..reidentify import Restorer, StreamRestorer
from ..sse import SSEEvent
from .base import (
    NOT_JSON,
    NOWHERE,
    Endpoint,
    Json,
    Placement,
    event_json,
    find_endpoint,
    require,
    restore_json,
)
from .extraction import Extraction, WalkRules

_ENDPOINTS = {
    ("POST", "/v1/chat/completions"): Endpoint("chat.completions", inspect=True),
    ("POST", "/v1/completions"): Endpoint("completions", inspect=True),
    ("POST", "/v1/embeddings"): Endpoint("embeddings", inspect=True),
}
_JSON_STRING_KEYS = frozenset({"arguments"})
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
                403: "permission_error", 413: "invalid_request_error",
                415: "invalid_request_error", 422: "invalid_request_error"}


_BINARY_PARTS = frozenset({"image_url", "input_audio", "file", "input_image", "input_file"})
_RULES = WalkRules(
    identifier_keys=frozenset({"model", "role", "type", "id", "tool_call_id", "object",
                               "encoding_format", "service_tier", "reasoning_effort", "detail",
                               "format", "voice", "verbosity"}),
    free_form_keys=frozenset({"metadata", "parameters", "schema"}),
    embedded_json_keys=_JSON_STRING_KEYS,
    binary_part=lambda node: node["type"] if node.get("type") in _BINARY_PARTS else None,
    opaque_part=lambda node: False,
)


def _token_arrays(body: dict[str, Any], key: str) -> bool:
    """`input` or `prompt` given as token ids, which the gateway cannot read."""
    value = body.get(key)
    return isinstance(value, list) and any(isinstance(v, (int, list)) for v in value)


class OpenAIFormat:
    name = "openai"
    query_params = frozenset({"api-version", "limit", "after", "before", "order"})

    def endpoint(self, method: str, subpath: str) -> Endpoint | None:
        return find_endpoint(_ENDPOINTS, method, subpath)

    def placement(self, subpath: str, body: Json | None) -> Placement:
        return NOWHERE

    def extract(self, endpoint: Endpoint, body: Json) -> Extraction:
        if endpoint.name == "chat.completions":
            require(body, "messages", list)
        extraction = Extraction(_RULES)
        for key in ("input", "prompt"):
            if _token_arrays(body, key):
                extraction.uninspectable.append(f"{key} token ids")
        extraction.walk_body(body)
        messages = body.get("messages")
        if isinstance(messages, list):
            named = {id(m) for m in messages if isinstance(m, dict)}
            for slot in extraction.values:
                if slot.key == "name" and id(slot.container) in named:
                    slot.identifier = True
        return extraction

    def restore_body(self, body: Json, restorer: Restorer) -> Json:
        return restore_json(body, restorer, _JSON_STRING_KEYS)

    def stream_rewriter(self, restorer: Restorer) -> OpenAIStream:
        return OpenAIStream(restorer)

    def error_headers(self, status: int) -> dict[str, str]:
        return {}

    def error_body(self, status: int, kind: str, message: str) -> Json:
        error_type = _ERROR_TYPES.get(status, "server_error")
        return {"error": {"message": message, "type": error_type, "param": None,
                          "code": f"aliasgate_{kind}"}}


class OpenAIStream:
    """Chat Completions chunks: restores `content`, `refusal` and tool-call `arguments`.

    Held-back text of a choice goes out in the chunk that carries its finish_reason.
    """

    def __init__(self, restorer: Restorer) -> None:
        self._restorer = restorer
        self._streams: dict[tuple[int, str, int], StreamRestorer] = {}
        self._template: dict[str, Any] | None = None

    def _stream(self, key: tuple[int, str, int]) -> StreamRestorer:
        if key not in self._streams:
            json_escape = key[1] in ("arguments", "function_call")
            self._streams[key] = self._restorer.stream(json_escape=json_escape)
        return self._streams[key]

    def on_event(self, event: SSEEvent) -> list[SSEEvent]:
        if event.data is None:
            return [event]
        if event.data.strip() == "[DONE]":
            return [*self.finish(), event]
        chunk = event_json(event, self._restorer)
        if chunk is NOT_JSON:
            return [event]
        if not isinstance(chunk, dict) or not isinstance(chunk.get("choices"), list):
            event.data = json.dumps(restore_json(chunk, self._restorer, _JSON_STRING_KEYS))
            return [event]
        self._template = {k: v for k, v in chunk.items() if k not in ("choices", "usage")}
        for choice in chunk["choices"]:
            if isinstance(choice, dict):
                self._choice(choice)
        event.data = json.dumps(chunk, ensure_ascii=False)
        return [event]

    def _choice(self, choice: dict[str, Any]) -> None:
        index = choice.get("index", 0)
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            delta = choice["delta"] = {}
        for field in ("content", "refusal"):
            if isinstance(delta.get(field), str):
                delta[field] = self._stream((index, field, 0)).feed(delta[field])
        for call in delta.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                key = (index, "arguments", call.get("index", 0))
                function["arguments"] = self._stream(key).feed(function["arguments"])
        function_call = delta.get("function_call")
        if isinstance(function_call, dict) and isinstance(function_call.get("arguments"), str):
            key = (index, "function_call", 0)
            function_call["arguments"] = self._stream(key).feed(function_call["arguments"])
        if choice.get("finish_reason") is not None:
            self._flush_into(index, delta)

    def _flush_into(self, index: int, delta: dict[str, Any]) -> bool:
        """Append every held-back text of one choice to its delta; True if any was held."""
        flushed = False
        for (choice, field, call_index), stream in self._streams.items():
            if choice != index or not stream.holding:
                continue
            flushed = True
            text = stream.flush()
            if field == "function_call":
                call = delta.setdefault("function_call", {})
                call["arguments"] = (call.get("arguments") or "") + text
                continue
            if field != "arguments":
                delta[field] = (delta.get(field) or "") + text
                continue
            calls = delta.setdefault("tool_calls", [])
            call = next((c for c in calls if c.get("index", 0) == call_index), None)
            if call is None:
                call = {"index": call_index, "function": {"arguments": ""}}
                calls.append(call)
            function = call.setdefault("function", {})
            function["arguments"] = (function.get("arguments") or "") + text
        return flushed

    def finish(self) -> list[SSEEvent]:
        """A closing chunk for text still held when the stream ended without finish_reason."""
        events = []
        for index in sorted({key[0] for key, s in self._streams.items() if s.holding}):
            delta: dict[str, Any] = {}
            self._flush_into(index, delta)
            chunk = copy.deepcopy(self._template or {})
            chunk["choices"] = [{"index": index, "delta": delta, "finish_reason": None}]
            events.append(SSEEvent(data=json.dumps(chunk, ensure_ascii=False)))
        return events

    def error_event(self, message: str) -> SSEEvent:
        body = {"error": {"message": message, "type": "server_error", "param": None,
                          "code": "aliasgate_upstream_failed"}}
        return SSEEvent(data=json.dumps(body))
