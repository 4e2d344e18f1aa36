"""AWS Bedrock Runtime: Converse and ConverseStream; InvokeModel and
InvokeModelWithResponseStream with an Anthropic body.

    /model/{modelId}/converse | /converse-stream | /invoke | /invoke-with-response-stream

Streams use AWS event-stream framing (eventstream.py). A model ID with a geography prefix
(`eu.anthropic...`, `us.`, `apac.`, `global.`) is a cross-region inference profile: the
prefix is the request's placement, which residency checks against the policy. Model ARNs
are not supported yet.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..answer_json import dumps, parse, utf8
from ..errors import Refused
from ..eventstream import STRING, EventStreamError, Header, Message, event
from ..jsonbudget import Budget
from ..reidentify import Restorer, StreamRestorer
from ..shapes import shown
from ..sse import SSEEvent
from .anthropic import AnthropicFormat, AnthropicStream, restore_claude_or_json
from .base import Endpoint, Json, Placement, restore_json
from .extraction import Extraction, WalkRules, walk

_PATH = re.compile(r"^/model/([^/]+)/(converse|converse-stream|invoke|"
                   r"invoke-with-response-stream)$")
_GEOGRAPHY = {"eu": "eu", "us": "us", "apac": "apac", "global": "global", "us-gov": "us",
              "jp": "apac", "au": "apac", "ca": "ca"}
# Model providers on Bedrock: a model ID that starts with one of these runs in the
# endpoint's own region; any other first segment is taken for a geography.
_VENDORS = frozenset({"anthropic", "amazon", "meta", "mistral", "cohere", "ai21", "deepseek",
                      "openai", "qwen", "writer", "stability", "twelvelabs", "luma"})
_RULES = WalkRules(
    identifier_keys=frozenset({"role", "toolUseId", "format", "type", "status",
                               "stopReason", "modelId"}),
    free_form_keys=frozenset({"input", "json", "requestMetadata"}),
    name_keys=frozenset({"name"}),
    schema_keys=frozenset({"inputSchema"}),
    blob_keys=frozenset({"signature"}),
    embedded_json_keys=frozenset(),
    binary_part=lambda node: next((k for k in ("image", "document", "video") if k in node
                                   and isinstance(node[k], dict) and "bytes" in
                                   str(node[k].get("source", {}))), None),
    opaque_part=lambda node: "redactedContent" in node,
)
_NO_KEYS: frozenset[str] = frozenset()
_ANTHROPIC = AnthropicFormat()
_ERRORS = {400: "ValidationException", 401: "AccessDeniedException", 408: "ValidationException",
           403: "AccessDeniedException", 404: "ResourceNotFoundException",
           413: "ValidationException", 415: "ValidationException", 422: "ValidationException",
           502: "ServiceUnavailableException", 503: "ServiceUnavailableException",
           504: "ModelTimeoutException"}


class BedrockFormat:
    name = "bedrock"
    query_params: Mapping[str, re.Pattern[str]] = MappingProxyType({})

    def endpoint(self, method: str, subpath: str) -> Endpoint | None:
        match = _PATH.match(subpath)
        if method != "POST" or match is None:
            return None
        action = match.group(2)
        if action.startswith("invoke") and "anthropic." not in match.group(1):
            return None  # other vendors' bodies have other shapes: not inspected yet
        return Endpoint(f"bedrock.{action}", inspect=True)

    def placement(self, subpath: str, body: Json | None) -> Placement:
        match = _PATH.match(subpath)
        if match is None:
            return Placement()
        prefix = match.group(1).split(".", 1)[0].lower()
        if prefix in _GEOGRAPHY:
            return Placement(location=_GEOGRAPHY[prefix])
        if prefix not in _VENDORS:  # an unknown geography must not pass as "no profile"
            raise Refused(f"residency: unknown model ID prefix {shown(prefix)}")
        return Placement()

    def extract(self, endpoint: Endpoint, body: Json, budget: Budget) -> Extraction:
        if endpoint.name.startswith("bedrock.invoke"):
            return _ANTHROPIC.extract(endpoint, body, budget)
        return walk(_RULES, body, budget)

    def restore_body(self, body: Json, restorer: Restorer) -> Json:
        return restore_claude_or_json(body, restorer)

    def stream_rewriter(self, restorer: Restorer) -> Any:
        raise NotImplementedError("Bedrock streams use event-stream framing")

    def eventstream_rewriter(self, restorer: Restorer) -> BedrockStream:
        return BedrockStream(restorer)

    def error_body(self, status: int, kind: str, message: str) -> Json:
        return {"message": message}

    def error_headers(self, status: int) -> dict[str, str]:
        return {"x-amzn-ErrorType": _ERRORS.get(status, "InternalServerException")}


class BedrockStream:
    """ConverseStream events (text and tool-input deltas per content block), and
    InvokeModelWithResponseStream `chunk` events that wrap Anthropic's stream events."""

    def __init__(self, restorer: Restorer) -> None:
        self._restorer = restorer
        self._blocks: dict[int, tuple[str, StreamRestorer]] = {}
        self._anthropic = AnthropicStream(restorer)
        self._chunk_headers: list[Header] = []

    def on_event(self, message: Message) -> list[Message]:
        kind = message.header(":event-type")
        if message.header(":message-type") != "event":  # an exception: flush, then pass it
            return [*self._flush_all(), message]
        try:
            payload = parse(message.payload, self._restorer.bounds) if message.payload else None
        except ValueError:
            return [message]
        if not isinstance(payload, dict):
            return [message]
        if kind == "chunk" and "bytes" in payload:
            return self._chunk(message, payload)
        before: list[Message] = []
        if kind == "contentBlockDelta" and isinstance(payload.get("delta"), dict):
            self._delta(payload.get("contentBlockIndex", 0), payload["delta"])
        elif kind == "contentBlockStop":
            before = self._flush(payload.get("contentBlockIndex", 0))
        elif kind == "messageStop":
            before = self._flush_all()
            payload = restore_json(payload, self._restorer, _NO_KEYS)
        else:
            payload = restore_json(payload, self._restorer, _NO_KEYS)
        message.payload = utf8(dumps(payload))
        return [*before, message]

    def _delta(self, index: int, delta: dict[str, Any]) -> None:
        if isinstance(delta.get("text"), str):
            field, json_escape, text = "text", False, delta["text"]
        elif isinstance(delta.get("toolUse"), dict) and \
                isinstance(delta["toolUse"].get("input"), str):
            field, json_escape, text = "toolUse", True, delta["toolUse"]["input"]
        else:
            delta.update(restore_json(delta, self._restorer, _NO_KEYS))
            return
        if index not in self._blocks:
            self._blocks[index] = (field, self._restorer.stream(json_escape))
        restored = self._blocks[index][1].feed(text)
        if field == "text":
            delta["text"] = restored
        else:
            delta["toolUse"]["input"] = restored

    def _flush(self, index: int) -> list[Message]:
        entry = self._blocks.pop(index, None)
        if entry is None or not entry[1].holding:
            return []
        field, stream = entry
        delta: dict[str, Any] = {"text": stream.flush()} if field == "text" \
            else {"toolUse": {"input": stream.flush()}}
        payload = {"contentBlockIndex": index, "delta": delta}
        return [event("contentBlockDelta", utf8(dumps(payload)))]

    def _flush_all(self) -> list[Message]:
        return [m for index in sorted(self._blocks) for m in self._flush(index)]

    def _chunk(self, message: Message, payload: dict[str, Any]) -> list[Message]:
        """An Anthropic stream event, base64 inside a `chunk`: rewrite it as SSE data."""
        try:
            inner = base64.b64decode(payload["bytes"], validate=True)
        except (ValueError, TypeError) as exc:
            raise EventStreamError("a chunk holds no valid base64") from exc
        self._chunk_headers = list(message.headers)
        out = []
        text = inner.decode("utf-8", errors="replace")  # as the SSE decoder reads it
        for rewritten in self._anthropic.on_event(SSEEvent(data=text)):
            data = {**payload, "bytes": base64.b64encode(utf8(rewritten.data or "")).decode()}
            out.append(Message(list(message.headers),
                               json.dumps(data, separators=(",", ":")).encode()))
        return out

    def finish(self) -> list[Message]:
        tail = [Message(list(self._chunk_headers), json.dumps({"bytes": base64.b64encode(
            utf8(e.data or "")).decode()}).encode()) for e in self._anthropic.finish()]
        return [*self._flush_all(), *tail]

    def error_event(self, text: str) -> Message:
        return Message([Header(":exception-type", STRING, b"serviceUnavailableException"),
                        Header(":content-type", STRING, b"application/json"),
                        Header(":message-type", STRING, b"exception")],
                       json.dumps({"message": text}).encode())
