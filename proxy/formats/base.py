"""What every API format provides, and the pieces the formats share.

A format knows its provider's endpoints, where the texts sit in a request body, how to
restore an answer (whole or streamed) and what the provider's error body looks like.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import BadRequest
from ..reidentify import Restorer
from ..sse import SSEEvent

Json = Any


@dataclass
class TextSlot:
    """One string inside the request body that detection reads and tokenization rewrites."""

    container: dict[str, Any] | list[Any]
    key: str | int

    @property
    def text(self) -> str:
        value = self.container[self.key]  # type: ignore[index]
        assert isinstance(value, str)
        return value

    def write(self, text: str) -> None:
        self.container[self.key] = text  # type: ignore[index]


@dataclass
class _EmbeddedJson:
    """A JSON document held as a string (tool-call arguments): parsed, then written back."""

    slot: TextSlot
    holder: dict[str, Json]  # {"doc": parsed document}: its string leaves are TextSlots
    original: Json

    def commit(self) -> None:
        document = self.holder["doc"]
        if document != self.original:  # rewrite only what tokenization changed
            self.slot.write(json.dumps(document, ensure_ascii=False, separators=(",", ":")))


@dataclass
class Extraction:
    """Every text of a request, plus the parts that could not be inspected."""

    slots: list[TextSlot] = field(default_factory=list)
    uninspectable: list[str] = field(default_factory=list)
    _embedded: list[_EmbeddedJson] = field(default_factory=list)

    def text(self, container: dict[str, Any] | list[Any], key: str | int, where: str) -> None:
        value = container[key]  # type: ignore[index]
        if value is None:
            return
        if not isinstance(value, str):
            raise BadRequest(f"{where} must be a string")
        self.slots.append(TextSlot(container, key))

    def leaves(self, container: dict[str, Any] | list[Any], key: str | int) -> None:
        """Every string value (not key) anywhere under container[key]."""
        value = container[key]  # type: ignore[index]
        if isinstance(value, str):
            self.slots.append(TextSlot(container, key))
        elif isinstance(value, dict):
            for child in value:
                self.leaves(value, child)
        elif isinstance(value, list):
            for index in range(len(value)):
                self.leaves(value, index)

    def embedded_json(self, container: dict[str, Any], key: str, where: str) -> None:
        raw = container.get(key)
        if raw is None:
            return
        if not isinstance(raw, str):
            raise BadRequest(f"{where} must be a string")
        try:
            document = json.loads(raw)
        except ValueError:
            self.slots.append(TextSlot(container, key))  # not JSON: inspect it as text
            return
        holder = {"doc": document}
        self.leaves(holder, "doc")
        self._embedded.append(_EmbeddedJson(TextSlot(container, key), holder, json.loads(raw)))

    def commit(self) -> None:
        for embedded in self._embedded:
            embedded.commit()


def restore_json(node: Json, restorer: Restorer, json_string_keys: frozenset[str]) -> Json:
    """Restore tokens in every string of a response; JSON-escape inside embedded JSON."""
    if isinstance(node, dict):
        return {k: (restorer.restore(v, json_escape=True) if k in json_string_keys
                    and isinstance(v, str) else restore_json(v, restorer, json_string_keys))
                for k, v in node.items()}
    if isinstance(node, list):
        return [restore_json(v, restorer, json_string_keys) for v in node]
    if isinstance(node, str):
        return restorer.restore(node)
    return node


@dataclass(frozen=True)
class Endpoint:
    """A known endpoint: `inspect` endpoints carry texts, the others carry no body."""

    name: str
    inspect: bool


class StreamRewriter(Protocol):
    """Restores tokens in one SSE stream, event by event."""

    def on_event(self, event: SSEEvent) -> list[SSEEvent]: ...

    def finish(self) -> list[SSEEvent]: ...

    def error_event(self, message: str) -> SSEEvent: ...


class ApiFormat(Protocol):
    name: str

    def endpoint(self, method: str, subpath: str) -> Endpoint | None: ...

    def extract(self, endpoint: Endpoint, body: Json) -> Extraction: ...

    def restore_body(self, body: Json, restorer: Restorer) -> Json: ...

    def stream_rewriter(self, restorer: Restorer) -> StreamRewriter: ...

    def error_body(self, status: int, kind: str, message: str) -> Json: ...


def require(body: Json, key: str, kind: type, where: str = "") -> Any:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, kind):
        raise BadRequest(f"{where or key} must be a {kind.__name__}")
    return value
