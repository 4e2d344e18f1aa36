"""Anthropic wire format: Messages (plain, streamed, threaded), token counting, Message
Batches (batches.py) and Models."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ...jsonbudget import Budget
from ...reidentify import Restorer, StreamRestorer
from ...shapes import INTEGER
from ...sse import SSEEvent
from ..base import (
    NOWHERE,
    Endpoint,
    Json,
    Placement,
    event_json,
    find_endpoint,
    require,
    restore_json,
)
from ..extraction import Extraction, WalkRules, walk
from .batches import (
    BATCH_ID,
    extract_batch,
    find_batch_endpoint,
)
from .batches import CREATE as BATCH_CREATE

_ENDPOINTS = {
    ("POST", "/v1/messages"): Endpoint("messages", inspect=True),
    ("POST", "/v1/messages/count_tokens"): Endpoint("messages.count_tokens", inspect=True),
}
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
                403: "permission_error", 404: "not_found_error", 413: "request_too_large",
                415: "invalid_request_error", 422: "invalid_request_error",
                429: "rate_limit_error"}
# Streamed delta type -> the field that holds its text.
_DELTA_FIELDS = {"text_delta": "text", "input_json_delta": "partial_json"}
_NO_KEYS: frozenset[str] = frozenset()
# Pagination cursors are ids (of a batch, a model): no dots, colons or slashes.
_PAGE_ID = BATCH_ID


def _binary_part(node: dict[str, Any]) -> str | None:
    """An image, a file or a document that is not text, whatever the block's type says."""
    kind = str(node.get("type", "")).lower()
    if kind in ("image", "container_upload"):
        return kind
    source = node.get("source")
    if isinstance(source, dict) and source.get("type") not in ("text", "content"):
        return "document" if kind == "document" else "image"
    return None


_RULES = WalkRules(
    # previous_message_id: a message thread's `{"type": "continue", "previous_message_id"}`
    # (and `diagnostics`): a response id. Any other text in `thread` is inspected.
    identifier_keys=frozenset({"model", "role", "type", "id", "tool_use_id", "media_type",
                               "stop_reason", "service_tier", "previous_message_id"}),
    free_form_keys=frozenset({"input", "metadata"}),
    embedded_json_keys=frozenset(),
    binary_part=_binary_part,
    # Encrypted by the provider: it holds nothing the client wrote, if it is what it claims.
    opaque_part=lambda node: str(node.get("type", "")).lower() == "redacted_thinking",
    name_keys=frozenset({"name"}),
    schema_keys=frozenset({"input_schema"}),
    blob_keys=frozenset({"signature"}),
)
# Thinking is signed by the provider and must come back byte for byte, so it is never
# restored: the client sees tokens in thinking text, and nothing new leaves when it is resent.
_SIGNED = frozenset({"thinking"})
_SIGNED_DELTAS = frozenset({"thinking", "signature"})


class AnthropicFormat:
    name = "anthropic"
    query_params: Mapping[str, re.Pattern[str]] = MappingProxyType({
        "beta": re.compile("true|false"), "limit": INTEGER, "after_id": _PAGE_ID,
        "before_id": _PAGE_ID})

    def endpoint(self, method: str, subpath: str) -> Endpoint | None:
        return find_endpoint(_ENDPOINTS, method, subpath) or \
            find_batch_endpoint(method, subpath)

    def placement(self, subpath: str, body: Json | None) -> Placement:
        return NOWHERE

    def extract(self, endpoint: Endpoint, body: Json, budget: Budget) -> Extraction:
        if endpoint == BATCH_CREATE:
            return extract_batch(_RULES, body, budget)
        require(body, "messages", list)
        return walk(_RULES, body, budget)

    def restore_body(self, body: Json, restorer: Restorer) -> Json:
        return restore_json(body, restorer, _NO_KEYS, _SIGNED)

    def stream_rewriter(self, restorer: Restorer) -> AnthropicStream:
        return AnthropicStream(restorer)

    def error_headers(self, status: int) -> dict[str, str]:
        return {}

    def error_body(self, status: int, kind: str, message: str) -> Json:
        error_type = _ERROR_TYPES.get(status, "api_error")
        return {"type": "error", "error": {"type": error_type, "message": message}}


class AnthropicStream:
    """Messages events: restores text and tool-input deltas per content block.

    Text held back in a block goes out in an extra delta just before the block's next
    delta of another type, or its content_block_stop. Thinking passes through as signed.
    """

    def __init__(self, restorer: Restorer) -> None:
        self._restorer = restorer
        self._streams: dict[int, tuple[str, StreamRestorer]] = {}

    def on_event(self, event: SSEEvent) -> list[SSEEvent]:
        data = event_json(event, self._restorer)
        if not isinstance(data, dict):
            return [event]
        kind = data.get("type")
        before: list[SSEEvent] = []
        if kind == "content_block_delta" and isinstance(data.get("delta"), dict):
            before = self._delta(data.get("index", 0), data["delta"])
        elif kind == "content_block_stop":
            before = self._flush(data.get("index", 0))
        else:
            if kind == "message_stop":
                before = self.finish()
            data = restore_json(data, self._restorer, _NO_KEYS, _SIGNED)
        event.data = json.dumps(data, ensure_ascii=False)
        return [*before, event]

    def _delta(self, index: int, delta: dict[str, Any]) -> list[SSEEvent]:
        delta_type = str(delta.get("type"))
        before = []
        if index in self._streams and self._streams[index][0] != delta_type:
            before = self._flush(index)
        field = _DELTA_FIELDS.get(delta_type)
        if field is None or not isinstance(delta.get(field), str):
            delta.update(restore_json(delta, self._restorer, _NO_KEYS, _SIGNED_DELTAS))
            return before
        if index not in self._streams:
            stream = self._restorer.stream(json_escape=field == "partial_json")
            self._streams[index] = (delta_type, stream)
        delta[field] = self._streams[index][1].feed(delta[field])
        return before

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


def restore_claude_or_json(body: Json, restorer: Restorer) -> Json:
    """For hosts that serve Claude next to their own models (Bedrock, Vertex): an Anthropic
    message keeps its signed thinking; anything else is restored everywhere."""
    if isinstance(body, dict) and body.get("type") == "message":
        return restore_json(body, restorer, _NO_KEYS, _SIGNED)
    return restore_json(body, restorer, _NO_KEYS)
