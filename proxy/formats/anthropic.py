"""Anthropic wire format: Messages (plain and streamed), token counting and Models."""

from __future__ import annotations

import json
from typing import Any

from ..errors import BadRequest
from ..reidentify import Restorer, StreamRestorer
from ..sse import SSEEvent
from .base import Endpoint, Extraction, Json, require, restore_json

_ENDPOINTS = {
    ("POST", "/v1/messages"): Endpoint("messages", inspect=True),
    ("POST", "/v1/messages/count_tokens"): Endpoint("messages.count_tokens", inspect=True),
    ("GET", "/v1/models"): Endpoint("models", inspect=False),
}
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
                403: "permission_error", 404: "not_found_error", 413: "request_too_large",
                415: "invalid_request_error", 422: "invalid_request_error",
                429: "rate_limit_error"}
# Streamed delta type -> the field that holds its text.
_DELTA_FIELDS = {"text_delta": "text", "thinking_delta": "thinking",
                 "input_json_delta": "partial_json"}
_NO_KEYS: frozenset[str] = frozenset()


def _blocks(ex: Extraction, holder: dict[str, Any], key: str, where: str) -> None:
    """A string or a list of content blocks; blocks the gateway cannot read are reported."""
    value = holder.get(key)
    if value is None or isinstance(value, str):
        ex.text(holder, key, where)
        return
    if not isinstance(value, list):
        raise BadRequest(f"{where} must be a string or a list of content blocks")
    for j, block in enumerate(value):
        _block(ex, block, f"{where}[{j}]")


def _block(ex: Extraction, block: Json, where: str) -> None:
    if not isinstance(block, dict):
        raise BadRequest(f"{where} must be an object")
    kind = block.get("type")
    if kind == "text":
        ex.text(block, "text", f"{where}.text")
    elif kind == "thinking":
        ex.text(block, "thinking", f"{where}.thinking")
    elif kind in ("tool_use", "server_tool_use") and "input" in block:
        ex.leaves(block, "input")
    elif kind == "tool_result":
        _blocks(ex, block, "content", f"{where}.content")
    elif kind == "redacted_thinking":
        pass  # opaque, encrypted by the provider: it holds nothing the client wrote
    elif kind == "document" and isinstance(block.get("source"), dict) \
            and block["source"].get("type") == "text":
        ex.text(block["source"], "data", f"{where}.source.data")
    else:
        ex.uninspectable.append(f"{where} ({kind})")


class AnthropicFormat:
    name = "anthropic"

    def endpoint(self, method: str, subpath: str) -> Endpoint | None:
        if method == "GET" and subpath.startswith("/v1/models/") and subpath.count("/") == 3:
            return Endpoint("models", inspect=False)
        return _ENDPOINTS.get((method, subpath))

    def extract(self, endpoint: Endpoint, body: Json) -> Extraction:
        if not isinstance(body, dict):
            raise BadRequest("the request body must be a JSON object")
        ex = Extraction()
        if "system" in body:
            _blocks(ex, body, "system", "system")
        for i, message in enumerate(require(body, "messages", list)):
            if not isinstance(message, dict):
                raise BadRequest(f"messages[{i}] must be an object")
            _blocks(ex, message, "content", f"messages[{i}].content")
        metadata = body.get("metadata")
        if isinstance(metadata, dict) and "user_id" in metadata:
            ex.text(metadata, "user_id", "metadata.user_id")
        return ex

    def restore_body(self, body: Json, restorer: Restorer) -> Json:
        return restore_json(body, restorer, _NO_KEYS)

    def stream_rewriter(self, restorer: Restorer) -> AnthropicStream:
        return AnthropicStream(restorer)

    def error_body(self, status: int, kind: str, message: str) -> Json:
        error_type = _ERROR_TYPES.get(status, "api_error")
        return {"type": "error", "error": {"type": error_type, "message": message}}


class AnthropicStream:
    """Messages events: restores text, thinking and tool input deltas per content block.

    Text held back in a block goes out in an extra delta just before its content_block_stop.
    """

    def __init__(self, restorer: Restorer) -> None:
        self._restorer = restorer
        self._streams: dict[int, tuple[str, StreamRestorer]] = {}

    def on_event(self, event: SSEEvent) -> list[SSEEvent]:
        if event.data is None:
            return [event]
        try:
            data = json.loads(event.data)
        except ValueError:
            event.data = self._restorer.restore(event.data)
            return [event]
        if not isinstance(data, dict):
            return [event]
        kind = data.get("type")
        before: list[SSEEvent] = []
        if kind == "content_block_delta" and isinstance(data.get("delta"), dict):
            self._delta(data.get("index", 0), data["delta"])
        elif kind == "content_block_stop":
            before = self._flush(data.get("index", 0))
        else:
            if kind == "message_stop":
                before = self.finish()
            data = restore_json(data, self._restorer, _NO_KEYS)
        event.data = json.dumps(data, ensure_ascii=False)
        return [*before, event]

    def _delta(self, index: int, delta: dict[str, Any]) -> None:
        delta_type = delta.get("type")
        field = _DELTA_FIELDS.get(str(delta_type))
        if field is None or not isinstance(delta.get(field), str):
            delta.update(restore_json(delta, self._restorer, _NO_KEYS))
            return
        if index not in self._streams:
            stream = self._restorer.stream(json_escape=field == "partial_json")
            self._streams[index] = (str(delta_type), stream)
        delta[field] = self._streams[index][1].feed(delta[field])

    def _flush(self, index: int) -> list[SSEEvent]:
        entry = self._streams.pop(index, None)
        if entry is None or not entry[1].holding:
            return []
        delta_type, stream = entry
        data = {"type": "content_block_delta", "index": index,
                "delta": {"type": delta_type, _DELTA_FIELDS[delta_type]: stream.flush()}}
        return [SSEEvent(event="content_block_delta", data=json.dumps(data, ensure_ascii=False))]

    def finish(self) -> list[SSEEvent]:
        return [e for index in sorted(self._streams) for e in self._flush(index)]

    def error_event(self, message: str) -> SSEEvent:
        body = {"type": "error", "error": {"type": "api_error", "message": message}}
        return SSEEvent(event="error", data=json.dumps(body))
