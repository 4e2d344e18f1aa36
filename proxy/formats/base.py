"""What every API format provides, and the restoring of whole JSON answers.

A format knows its provider's endpoints, which keys of a request are identifiers rather
than text, how to restore an answer (whole or streamed) and its error body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .. import answer_json
from ..errors import BadRequest
from ..jsonbudget import Budget
from ..reidentify import Restorer
from ..sse import SSEEvent
from .extraction import Extraction

Json = Any


def restore_json(node: Json, restorer: Restorer, json_string_keys: frozenset[str],
                 skip: frozenset[str] = frozenset()) -> Json:
    """Restore tokens in every string and key of an answer; JSON-escape inside embedded
    JSON documents; leave the subtrees under `skip` keys exactly as the provider sent them.
    Iterative, so no nesting can exhaust the stack: each container is copied empty, and
    filled when its turn comes off the stack."""
    stack: list[tuple[Json, Json]] = []

    def copy(value: Json) -> Json:
        if isinstance(value, (dict, list)):
            empty: Json = {} if isinstance(value, dict) else []
            stack.append((value, empty))
            return empty
        return restorer.restore(value) if isinstance(value, str) else value

    root = copy(node)
    while stack:
        source, target = stack.pop()
        if isinstance(source, list):
            target.extend(copy(v) for v in source)
            continue
        for key, value in source.items():
            if key in skip:
                target[key] = value
            elif key in json_string_keys and isinstance(value, str):
                target[restorer.restore(key)] = restorer.restore(value, json_escape=True)
            else:
                target[restorer.restore(key)] = copy(value)
    return root


NOT_JSON = object()


def event_json(event: SSEEvent, restorer: Restorer) -> Json:
    """An SSE event's data, parsed within the restorer's bounds (UnsafeJson past them);
    NOT_JSON when it has none, or when it is not JSON (its text is then restored in place)."""
    if event.data is None:
        return NOT_JSON
    try:
        return answer_json.parse(event.data, restorer.bounds)
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
    # Query parameters forwarded, each with the shape its value must have; any other
    # parameter, or a value of another shape, is refused.
    query_params: Mapping[str, re.Pattern[str]]

    def endpoint(self, method: str, subpath: str) -> Endpoint | None: ...

    def placement(self, subpath: str, body: Json | None) -> Placement: ...

    def extract(self, endpoint: Endpoint, body: Json, budget: Budget) -> Extraction: ...

    def restore_body(self, body: Json, restorer: Restorer) -> Json: ...

    def stream_rewriter(self, restorer: Restorer) -> StreamRewriter: ...

    def error_body(self, status: int, kind: str, message: str) -> Json: ...

    def error_headers(self, status: int) -> dict[str, str]: ...


def require(body: Json, key: str, kind: type, where: str = "") -> Any:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, kind):
        raise BadRequest(f"{where or key} must be a {kind.__name__}")
    return value
