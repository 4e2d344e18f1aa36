"""Restore a Responses API stream, and route an OpenAI stream to the rewriter of its API.

Every Responses event names itself in `type` (`response.output_text.delta`...). A `*.delta`
event's text is one piece of a stream, restored by a stream restorer per output item, part
and summary (its identity), holding back what may be the start of a token. The matching
`*.done` event carries the whole text, restored whole; the text still held goes out just
before it, as one more delta of the same identity, so the deltas add up to exactly the
restored done text. A stream whose done event never comes is flushed before the terminal
event (`response.completed`, `.incomplete`, `.failed`, `error`) or at the end of the stream.

Every other event (items, parts, the response object) is restored whole, never inside
`encrypted_content`, and `arguments` JSON-escaped.

An inserted delta carries the `sequence_number` of the event it precedes, so the provider's
numbering stays valid for `GET /v1/responses/{id}?stream=true&starting_after=N` (a client
resuming gets the held text together with its done event). The openai SDK uses the number
only for that filter (`sequence_number > starting_after`), never to detect gaps or order.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ...reidentify import Restorer, StreamRestorer
from ...sse import SSEEvent
from ..base import NOT_JSON, Json, StreamRewriter, event_json, restore_json
from .responses import JSON_STRING_KEYS, OPAQUE_KEYS

# The fields that say which item, part, summary or command a delta belongs to.
_IDENTITY = ("item_id", "output_index", "content_index", "summary_index", "command_index")
_JSON_FAMILIES = frozenset({"response.function_call_arguments", "response.mcp_call_arguments"})
_TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed", "error"})
_ERROR_CODE = "aliasgate_upstream_failed"
StreamKey = tuple[str, tuple[Any, ...]]  # (event family, identity)


def _dumps(data: Json) -> str:
    return json.dumps(data, ensure_ascii=False)


class _Held:
    """The streams of one family and identity: one per text field of its delta (`delta`
    itself, or `stdout` and `stderr` of a shell output delta), and a template for the
    delta that flushes them."""

    def __init__(self, template: dict[str, Any], event_name: str | None) -> None:
        self.template = template
        self.event_name = event_name
        self.streams: dict[str | None, StreamRestorer] = {}


class ResponsesStream:
    def __init__(self, restorer: Restorer) -> None:
        self._restorer = restorer
        self._held: dict[StreamKey, _Held] = {}
        self._sequence: int | None = None  # the last sequence_number seen

    def on_event(self, event: SSEEvent) -> list[SSEEvent]:
        data = event_json(event, self._restorer)
        if data is NOT_JSON:
            return [event]
        return self.on_data(event, data)

    def on_data(self, event: SSEEvent, data: Json) -> list[SSEEvent]:
        """An event whose data is already parsed."""
        if not isinstance(data, dict):
            event.data = _dumps(self._restore(data))
            return [event]
        kind = data.get("type")
        sequence = data.get("sequence_number")
        if isinstance(sequence, int) and not isinstance(sequence, bool):
            self._sequence = sequence
        before: list[SSEEvent] = []
        if isinstance(kind, str) and kind.endswith(".delta") and "delta" in data:
            self._delta(kind.removesuffix(".delta"), data, event.event)
        else:
            if isinstance(kind, str) and kind.endswith(".done"):
                before = self._flush((kind.removesuffix(".done"), _identity(data)), sequence)
            elif kind in _TERMINAL:
                before = self._flush_all(sequence)
            data = self._restore(data)
        event.data = _dumps(data)
        return [*before, event]

    def _restore(self, data: Json) -> Json:
        return restore_json(data, self._restorer, JSON_STRING_KEYS, OPAQUE_KEYS)

    def _delta(self, family: str, data: dict[str, Any], event_name: str | None) -> None:
        key = (family, _identity(data))
        held = self._held.get(key)
        if held is None:
            template = {k: v for k, v in data.items() if k not in ("delta", "obfuscation")}
            if "logprobs" in template:
                template["logprobs"] = []
            held = self._held[key] = _Held(template, event_name)
        json_escape = family in _JSON_FAMILIES
        for name in list(data):
            if name != "delta":
                data[name] = self._restore(data[name])
        delta = data["delta"]
        if isinstance(delta, str):
            data["delta"] = self._feed(held, None, delta, json_escape)
        elif isinstance(delta, dict):
            for name, value in delta.items():
                delta[name] = self._feed(held, name, value, json_escape) \
                    if isinstance(value, str) else self._restore(value)
        else:
            data["delta"] = self._restore(delta)

    def _feed(self, held: _Held, field: str | None, text: str, json_escape: bool) -> str:
        if field not in held.streams:
            held.streams[field] = self._restorer.stream(json_escape=json_escape)
        return held.streams[field].feed(text)

    def _flush(self, key: StreamKey, sequence: object) -> list[SSEEvent]:
        """One delta with the text still held for `key`, if any."""
        held = self._held.pop(key, None)
        if held is None:
            return []
        texts = {name: s.flush() for name, s in held.streams.items() if s.holding}
        if not texts:
            return []
        data = copy.deepcopy(held.template)
        data["delta"] = texts.get(None, texts)
        if sequence is not None:
            data["sequence_number"] = sequence
        return [SSEEvent(event=held.event_name, data=_dumps(data))]

    def _flush_all(self, sequence: object) -> list[SSEEvent]:
        return [e for key in list(self._held) for e in self._flush(key, sequence)]

    def finish(self) -> list[SSEEvent]:
        return self._flush_all(self._sequence)

    def error_event(self, message: str) -> SSEEvent:
        """A Responses `error` event; its `error` member makes the openai SDK raise, as it
        does for an error in a Chat Completions stream."""
        body = {"type": "error", "code": _ERROR_CODE, "message": message, "param": None,
                "sequence_number": 0 if self._sequence is None else self._sequence + 1,
                "error": {"message": message, "type": "server_error", "param": None,
                          "code": _ERROR_CODE}}
        return SSEEvent(event="error", data=json.dumps(body))


def _identity(data: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(data.get(name) for name in _IDENTITY)


def is_responses_event(data: Json) -> bool:
    kind = data.get("type") if isinstance(data, dict) else None
    return isinstance(kind, str) and (kind.startswith("response.") or kind == "error")


class OpenAIStreamRouter:
    """One OpenAI stream: Chat Completions chunks or Responses events, told apart by the
    first event that says which (a Responses event's `type`, a chunk's `choices`)."""

    def __init__(self, restorer: Restorer, chat: StreamRewriter) -> None:
        self._restorer = restorer
        self._chat = chat
        self._responses = ResponsesStream(restorer)
        self._active: StreamRewriter | None = None

    def on_event(self, event: SSEEvent) -> list[SSEEvent]:
        if self._active is not None:
            return self._active.on_event(event)
        if event.data is None or event.data.strip() == "[DONE]":
            return self._chat.on_event(event)
        data = event_json(event, self._restorer)
        if data is NOT_JSON:
            return [event]
        if is_responses_event(data):
            self._active = self._responses
            return self._responses.on_data(event, data)
        if isinstance(data, dict) and ("choices" in data or "object" in data):
            self._active = self._chat
        return self._chat.on_event(event)  # (it parses the data again, this once)

    def finish(self) -> list[SSEEvent]:
        return [*self._chat.finish(), *self._responses.finish()]

    def error_event(self, message: str) -> SSEEvent:
        rewriter = self._responses if self._active is self._responses else self._chat
        return rewriter.error_event(message)
