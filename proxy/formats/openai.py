"""OpenAI wire format: Chat Completions, legacy Completions, Embeddings and Models."""

from __future__ import annotations

import copy
import json
from typing import Any

from ..errors import BadRequest
from ..reidentify import Restorer, StreamRestorer
from ..sse import SSEEvent
from .base import Endpoint, Extraction, Json, require, restore_json

_ENDPOINTS = {
    ("POST", "/v1/chat/completions"): Endpoint("chat.completions", inspect=True),
    ("POST", "/v1/completions"): Endpoint("completions", inspect=True),
    ("POST", "/v1/embeddings"): Endpoint("embeddings", inspect=True),
    ("GET", "/v1/models"): Endpoint("models", inspect=False),
}
_JSON_STRING_KEYS = frozenset({"arguments"})
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
                403: "permission_error", 413: "invalid_request_error",
                415: "invalid_request_error", 422: "invalid_request_error"}


def _content(ex: Extraction, holder: dict[str, Any], key: str, where: str) -> None:
    """`content` as a string or a list of parts; parts other than text cannot be inspected."""
    value = holder.get(key)
    if value is None or isinstance(value, str):
        ex.text(holder, key, where)
        return
    if not isinstance(value, list):
        raise BadRequest(f"{where} must be a string or a list of parts")
    for j, part in enumerate(value):
        if not isinstance(part, dict):
            raise BadRequest(f"{where}[{j}] must be an object")
        kind = part.get("type")
        if kind in ("text", "refusal") and kind in part:
            ex.text(part, kind, f"{where}[{j}].{kind}")
        else:
            ex.uninspectable.append(f"{where}[{j}] ({kind})")


def _chat(body: Json, ex: Extraction) -> None:
    messages = require(body, "messages", list)
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise BadRequest(f"{where} must be an object")
        _content(ex, message, "content", f"{where}.content")
        for key in ("name", "refusal"):
            if key in message:
                ex.text(message, key, f"{where}.{key}")
        calls = message.get("tool_calls") or []
        if not isinstance(calls, list):
            raise BadRequest(f"{where}.tool_calls must be a list")
        for j, call in enumerate(calls):
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict):
                ex.embedded_json(function, "arguments", f"{where}.tool_calls[{j}].arguments")
        if isinstance(message.get("function_call"), dict):
            ex.embedded_json(message["function_call"], "arguments", f"{where}.function_call")
    if isinstance(body.get("prediction"), dict):
        _content(ex, body["prediction"], "content", "prediction.content")


def _strings_or_uninspectable(body: Json, key: str, ex: Extraction) -> None:
    """`input` or `prompt`: a string, a list of strings, or token arrays (uninspectable)."""
    value = body.get(key)
    if isinstance(value, str):
        ex.text(body, key, key)
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        for i in range(len(value)):
            ex.text(value, i, f"{key}[{i}]")
    elif isinstance(value, list):
        ex.uninspectable.append(f"{key} (token arrays)")
    else:
        raise BadRequest(f"{key} must be a string or a list of strings")


class OpenAIFormat:
    name = "openai"

    def endpoint(self, method: str, subpath: str) -> Endpoint | None:
        if method == "GET" and subpath.startswith("/v1/models/") and subpath.count("/") == 3:
            return Endpoint("models", inspect=False)
        return _ENDPOINTS.get((method, subpath))

    def extract(self, endpoint: Endpoint, body: Json) -> Extraction:
        if not isinstance(body, dict):
            raise BadRequest("the request body must be a JSON object")
        ex = Extraction()
        if endpoint.name == "chat.completions":
            _chat(body, ex)
        elif endpoint.name == "completions":
            _strings_or_uninspectable(body, "prompt", ex)
        elif endpoint.name == "embeddings":
            _strings_or_uninspectable(body, "input", ex)
        if "user" in body:
            ex.text(body, "user", "user")
        if isinstance(body.get("metadata"), dict):
            ex.leaves(body, "metadata")
        return ex

    def restore_body(self, body: Json, restorer: Restorer) -> Json:
        return restore_json(body, restorer, _JSON_STRING_KEYS)

    def stream_rewriter(self, restorer: Restorer) -> OpenAIStream:
        return OpenAIStream(restorer)

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
            self._streams[key] = self._restorer.stream(json_escape=key[1] == "arguments")
        return self._streams[key]

    def on_event(self, event: SSEEvent) -> list[SSEEvent]:
        if event.data is None:
            return [event]
        if event.data.strip() == "[DONE]":
            return [*self.finish(), event]
        try:
            chunk = json.loads(event.data)
        except ValueError:
            event.data = self._restorer.restore(event.data)
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
            return
        for field in ("content", "refusal"):
            if isinstance(delta.get(field), str):
                delta[field] = self._stream((index, field, 0)).feed(delta[field])
        for call in delta.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                key = (index, "arguments", call.get("index", 0))
                function["arguments"] = self._stream(key).feed(function["arguments"])
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
