"""What every API format provides, and the restoring of whole JSON answers.

A format knows its provider's endpoints, which keys of a request are identifiers rather
than text, how to restore an answer (whole or streamed) and its error body.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from .. import answer_json
from ..errors import BadRequest
from ..jsonbudget import Budget
from ..reidentify import Restorer
from ..shapes import has_id_shape
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
    """A known endpoint: `inspect` endpoints carry texts, the others carry no body.

    Every known endpoint's answer is restored: tokens of this request, and tokens of the
    same tenant that the provider kept (a stored response, a batch's results), from the
    vault. `handler` inspects a body that is not one JSON document (a multipart upload);
    without one, the body must be JSON and is inspected by the format's `extract`.
    """

    name: str
    inspect: bool
    handler: BodyHandler | None = field(default=None, compare=False)
    # Applied to every JSON answer of the endpoint, tokens or not (a batch's absolute
    # results address pointed back at the gateway, so the SDK does not go round it).
    answer: Callable[[Json], Json] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class OutboundBody:
    """An inspected body, ready to go upstream, and its content type."""

    body: bytes
    content_type: str = "application/json"


class InspectsBodies(Protocol):
    """What a body handler may ask of inspection, for one request: every call detects,
    tokenizes with the request's tokens and adds to its audit line; a refusal raises."""

    async def json_body(self, fmt: ApiFormat, endpoint: Endpoint, body: bytes) -> bytes:
        """One JSON document of `endpoint`, inspected by `fmt`'s rules (a batch line)."""
        ...

    async def text(self, text: str) -> str:
        """Plain text (an uploaded text file), pseudonymized."""
        ...

    def uninspectable(self, kind: str) -> None:
        """Content of this kind cannot be read (a binary file): Refused unless the route's
        policy lets it through uninspected."""
        ...


class BodyHandler(Protocol):
    """Inspects the body of an endpoint whose body is not one JSON document."""

    async def inspect(self, body: bytes, content_type: str, inspect: InspectsBodies
                      ) -> OutboundBody: ...


_MODELS = Endpoint("models", inspect=False)
# A `{placeholder}` segment of an endpoint's path: an id the provider issued (resp_..., conv_...),
# never text, so nothing a client wrote rides to the provider in a path.
PATH_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def find_endpoint(table: dict[tuple[str, str], Endpoint], method: str, subpath: str
                  ) -> Endpoint | None:
    """An endpoint of `table`, or the model listing both providers serve without a body.
    A path in the table may hold `{id}` segments, each matching one PATH_ID segment."""
    if method == "GET" and (subpath == "/v1/models" or
                            (subpath.startswith("/v1/models/") and subpath.count("/") == 3)):
        return _MODELS
    exact = table.get((method, subpath))
    if exact is not None or "{" in subpath:
        return exact
    segments = subpath.split("/")
    for (verb, template), endpoint in table.items():
        if verb == method and "{" in template and _fits(template.split("/"), segments):
            return endpoint
    return None


def _fits(template: list[str], segments: list[str]) -> bool:
    return len(template) == len(segments) and all(
        has_id_shape(got, PATH_ID) if want.startswith("{") else want == got
        for want, got in zip(template, segments, strict=True))


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
