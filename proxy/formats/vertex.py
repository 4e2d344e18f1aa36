"""Google Vertex AI: Gemini `generateContent` (plain and `?alt=sse` streamed) and
`countTokens`; Claude on Vertex (`rawPredict`, `streamRawPredict`) in Anthropic's format.

    /v1/projects/{p}/locations/{location}/publishers/google/models/{m}:generateContent
    /v1/projects/{p}/locations/{location}/publishers/anthropic/models/{m}:rawPredict

The `locations/{location}` of the path is the request's placement: residency checks it
against the upstream host's region and the policy. Gemini's request and answer JSON is
the Gemini Developer API's too: its rules live in gemini_wire.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from ..jsonbudget import Budget
from ..reidentify import Restorer
from ..sse import SSEEvent
from . import gemini_wire
from .anthropic import AnthropicFormat, restore_claude_or_json
from .base import Endpoint, Json, Placement, StreamRewriter
from .extraction import Extraction, walk
from .gemini_wire import GeminiStream

__all__ = ["GeminiStream", "VertexFormat"]

_PATH = re.compile(r"^/v1(?:beta1)?/projects/[^/]+/locations/([^/]+)/publishers/"
                   r"(google|anthropic)/models/[^/:]+:([A-Za-z]+)$")
_LOCATION = re.compile(r"/locations/([^/:]+)")
_GEMINI = {"generateContent": "gemini.generateContent",
           "streamGenerateContent": "gemini.streamGenerateContent",
           "countTokens": "gemini.countTokens"}
_CLAUDE = {"rawPredict": "claude.rawPredict", "streamRawPredict": "claude.streamRawPredict"}
_CLAUDE_FORMAT = AnthropicFormat()


class VertexFormat:
    name = "vertex"
    query_params: Mapping[str, re.Pattern[str]] = MappingProxyType(
        {"alt": re.compile("sse|json")})

    def endpoint(self, method: str, subpath: str) -> Endpoint | None:
        match = _PATH.match(subpath)
        if method != "POST" or match is None:
            return None
        table = _GEMINI if match.group(2) == "google" else _CLAUDE
        name = table.get(match.group(3))
        return Endpoint(name, inspect=True) if name else None

    def placement(self, subpath: str, body: Json | None) -> Placement:
        """The `locations/{region}` of any Vertex path; a path without one is refused on
        the global host (see residency/enforce.py)."""
        match = _LOCATION.search(subpath)
        return Placement(location=match.group(1)) if match else Placement()

    def extract(self, endpoint: Endpoint, body: Json, budget: Budget) -> Extraction:
        if endpoint.name.startswith("claude."):
            return _CLAUDE_FORMAT.extract(endpoint, body, budget)
        return walk(gemini_wire.RULES, body, budget)

    def restore_body(self, body: Json, restorer: Restorer) -> Json:
        return restore_claude_or_json(body, restorer)

    def stream_rewriter(self, restorer: Restorer) -> StreamRewriter:
        return _EitherStream(restorer)

    def error_headers(self, status: int) -> dict[str, str]:
        return {}

    def error_body(self, status: int, kind: str, message: str) -> Json:
        return gemini_wire.error_body(status, message)


class _EitherStream:
    """Gemini chunks or Claude events: decided by the first event of the stream."""

    def __init__(self, restorer: Restorer) -> None:
        self._restorer = restorer
        self._inner: StreamRewriter | None = None

    def _pick(self, event: SSEEvent) -> StreamRewriter:
        if self._inner is None:
            claude = event.event is not None or '"type"' in (event.data or "")[:40]
            self._inner = _CLAUDE_FORMAT.stream_rewriter(self._restorer) if claude \
                else GeminiStream(self._restorer)
        return self._inner

    def on_event(self, event: SSEEvent) -> list[SSEEvent]:
        return self._pick(event).on_event(event)

    def finish(self) -> list[SSEEvent]:
        return self._inner.finish() if self._inner else []

    def error_event(self, message: str) -> SSEEvent:
        if self._inner is None:
            return gemini_wire.error_event(message)
        return self._inner.error_event(message)
