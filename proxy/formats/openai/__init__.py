"""OpenAI wire format: Chat Completions, legacy Completions, Embeddings and Models."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ...errors import BadRequest
from ...jsonbudget import Budget
from ...reidentify import Restorer, StreamRestorer
from ...shapes import IDENTIFIER, INTEGER
from ...sse import SSEEvent
from ..base import (
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
from ..extraction import Extraction, WalkRules, binary_parts
from .conversations import ENDPOINTS as _CONVERSATIONS
from .conversations import EXTRACTORS as _CONVERSATIONS_EXTRACT
from .files import FILE_PURPOSE, files_endpoint
from .responses import ENDPOINTS as _RESPONSES
from .responses import EXTRACTORS as _RESPONSES_EXTRACT
from .responses import OPAQUE_KEYS
from .responses import QUERY_PARAMS as _RESPONSES_QUERY
from .responses_stream import OpenAIStreamRouter
from .token_ids import TokenIdInputs
from .token_ids import walk_body as walk_with_token_ids
from .traces import ENDPOINTS as _TRACES
from .traces import EXTRACTORS as _TRACES_EXTRACT

_ENDPOINTS = {
    ("POST", "/v1/chat/completions"): Endpoint("chat.completions", inspect=True),
    ("POST", "/v1/completions"): Endpoint("completions", inspect=True),
    ("POST", "/v1/embeddings"): Endpoint("embeddings", inspect=True),
    ("POST", "/v1/moderations"): Endpoint("moderations", inspect=True),
    **_RESPONSES, **_CONVERSATIONS, **_TRACES,
}
_EXTRACTORS = {**_RESPONSES_EXTRACT, **_CONVERSATIONS_EXTRACT, **_TRACES_EXTRACT}
# Where an endpoint's text (or token ids, see token_ids.py) is.
_TOKEN_ID_KEYS = {"embeddings": "input", "completions": "prompt"}
_JSON_STRING_KEYS = frozenset({"arguments"})
# Azure's api-version: a date, a preview of one, or a named channel.
API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?|preview|latest|v1")
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
                403: "permission_error", 413: "invalid_request_error",
                415: "invalid_request_error", 422: "invalid_request_error"}


_BINARY_PARTS = frozenset({"image_url", "input_audio", "file", "input_image", "input_file"})
# A part that is, or merely carries, an image, audio or a file, whatever its type.
_binary_part = binary_parts(_BINARY_PARTS, _BINARY_PARTS)


_RULES = WalkRules(
    identifier_keys=frozenset({"model", "role", "type", "id", "tool_call_id", "object",
                               "encoding_format", "service_tier", "reasoning_effort", "detail",
                               "format", "voice", "verbosity", "prompt_cache_key"}),
    free_form_keys=frozenset({"metadata"}),
    embedded_json_keys=_JSON_STRING_KEYS,
    binary_part=_binary_part,
    opaque_part=lambda node: False,
    name_keys=frozenset({"name"}),
    schema_keys=frozenset({"parameters", "schema"}),
)


def _moderation_input(body: dict[str, Any]) -> None:
    """A string, a list of strings, or a list of parts (text, image_url): images are
    uninspectable, like any image part."""
    value = body.get("input")
    if isinstance(value, str) or (isinstance(value, list) and (
            all(isinstance(v, str) for v in value) or all(isinstance(v, dict) for v in value))):
        return
    raise BadRequest("input must be a string, a list of strings or a list of parts")


class OpenAIFormat:
    name = "openai"
    query_params: Mapping[str, re.Pattern[str]] = MappingProxyType({
        "api-version": API_VERSION, "limit": INTEGER, "after": IDENTIFIER,
        "before": IDENTIFIER, "order": re.compile("asc|desc"), "purpose": FILE_PURPOSE,
        **_RESPONSES_QUERY})

    def endpoint(self, method: str, subpath: str) -> Endpoint | None:
        return find_endpoint(_ENDPOINTS, method, subpath) or files_endpoint(self, method, subpath)

    def placement(self, subpath: str, body: Json | None) -> Placement:
        return NOWHERE

    def extract(self, endpoint: Endpoint, body: Json, budget: Budget) -> Extraction:
        if endpoint.name in _EXTRACTORS:  # Responses and Conversations
            return _EXTRACTORS[endpoint.name](body, budget)
        if endpoint.name == "chat.completions":
            require(body, "messages", list)
        if endpoint.name == "moderations":
            _moderation_input(body)
        extraction = Extraction(_RULES, budget)
        if endpoint.name in _TOKEN_ID_KEYS:
            walk_with_token_ids(extraction, body, _TOKEN_ID_KEYS[endpoint.name])
        else:
            extraction.walk_body(body)
        # A message's `name` is its author's, a person's name more often than not: always
        # inspected, and a token written there without brackets.
        for message in body.get("messages") or []:
            if isinstance(message, dict) and isinstance(message.get("name"), str):
                extraction.add_text(message, "name", identifier=True)
        return extraction

    def restore_body(self, body: Json, restorer: Restorer) -> Json:
        return restore_json(body, restorer, _JSON_STRING_KEYS, OPAQUE_KEYS)

    def stream_rewriter(self, restorer: Restorer) -> OpenAIStreamRouter:
        return OpenAIStreamRouter(restorer, OpenAIStream(restorer))

    def error_headers(self, status: int) -> dict[str, str]:
        return {}

    def error_body(self, status: int, kind: str, message: str) -> Json:
        error_type = _ERROR_TYPES.get(status, "server_error")
        return {"error": {"message": message, "type": error_type, "param": None,
                          "code": f"aliasgate_{kind}"}}


# Token ids are read with their model's encoding, which the endpoint's handler loads (off
# the event loop, once) before the body is inspected.
for _name, _key in _TOKEN_ID_KEYS.items():
    _path = ("POST", f"/v1/{_name}")
    _ENDPOINTS[_path] = Endpoint(_name, inspect=True, handler=TokenIdInputs(
        OpenAIFormat(), _ENDPOINTS[_path], _key))


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
