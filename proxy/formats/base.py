"""What every API format provides, and the restoring of whole JSON answers.

A format knows its provider's endpoints, which keys of a request are identifiers rather
than text, how to restore an answer (whole or streamed) and its error body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import BadRequest
from ..reidentify import Restorer
from ..sse import SSEEvent
from .extraction import Extraction

Json = Any


def restore_json(node: Json, restorer: Restorer, json_string_keys: frozenset[str],
                 skip: frozenset[str] = frozenset()) -> Json:
    """Restore tokens in every string and key of an answer; JSON-escape inside embedded
    JSON documents; leave the subtrees under `skip` keys exactly as the provider sent them."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in skip:
                out[key] = value
            elif key in json_string_keys and isinstance(value, str):
                out[restorer.restore(key)] = restorer.restore(value, json_escape=True)
            else:
                out[restorer.restore(key)] = restore_json(value, restorer, json_string_keys,
                                                          skip)
        return out
    if isinstance(node, list):
        return [restore_json(v, restorer, json_string_keys, skip) for v in node]
    if isinstance(node, str):
        return restorer.restore(node)
    return node


NOT_JSON = object()


def event_json(event: SSEEvent, restorer: Restorer) -> Json:
    """An SSE event's data, parsed; NOT_JSON when it has none, or when it is not JSON (its
    text is then restored in place)."""
    if event.data is None:
        return NOT_JSON
    try:
        return json.loads(event.data)
    except ValueError:
        event.data = restorer.restore(event.data)
        return NOT_JSON


@dataclass(frozen=True)
class Endpoint:
    """A known endpoint: `inspect` endpoints carry texts, the others carry no body."""

    name: str
    inspect: bool


_MODELS = Endpoint("models", inspect=False)


def find_endpoint(table: dict[tuple[str, str], Endpoint], method: str, subpath: str
                  ) -> Endpoint | None:
    """An endpoint of `table`, or the model listing both providers serve without a body."""
    if method == "GET" and (subpath == "/v1/models" or
                            (subpath.startswith("/v1/models/") and subpath.count("/") == 3)):
        return _MODELS
    return table.get((method, subpath))


class StreamRewriter(Protocol):
    """Restores tokens in one SSE stream, event by event."""

    def on_event(self, event: SSEEvent) -> list[SSEEvent]: ...

    def finish(self) -> list[SSEEvent]: ...

    def error_event(self, message: str) -> SSEEvent: ...


@dataclass(frozen=True)
class Placement:
    """Where a request itself asks to run, as far as its path or body says: a Vertex
    `locations/{region}`, a Bedrock inference-profile geography (`eu.`), an Azure
    deployment. Residency checks these against the route and its policy."""

    location: str | None = None
    deployment: str | None = None


NOWHERE = Placement()


class ApiFormat(Protocol):
    name: str
    query_params: frozenset[str]  # query parameters forwarded; any other is refused

    def endpoint(self, method: str, subpath: str) -> Endpoint | None: ...

    def placement(self, subpath: str, body: Json | None) -> Placement: ...

    def extract(self, endpoint: Endpoint, body: Json) -> Extraction: ...

    def restore_body(self, body: Json, restorer: Restorer) -> Json: ...

    def stream_rewriter(self, restorer: Restorer) -> StreamRewriter: ...

    def error_body(self, status: int, kind: str, message: str) -> Json: ...

    def error_headers(self, status: int) -> dict[str, str]: ...


def require(body: Json, key: str, kind: type, where: str = "") -> Any:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, kind):
        raise BadRequest(f"{where or key} must be a {kind.__name__}")
    return value
