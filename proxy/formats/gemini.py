"""The Gemini Developer API (generativelanguage.googleapis.com), called with an API key.

    POST /v1beta/models/{model}:generateContent
    POST /v1beta/models/{model}:streamGenerateContent?alt=sse
    POST /v1beta/models/{model}:countTokens | :embedContent | :batchEmbedContents
    GET  /v1beta/models, /v1beta/models/{model}
    (the same under /v1/)

Requests and answers are Vertex's Gemini JSON (gemini_wire.py). The key travels in the
`x-goog-api-key` header; a `?key=` query is not forwarded (a key in a URL ends up in logs,
and the tenant is drawn from the headers). The host serves the `global` region, so there is
no placement in the path: the route's region is the whole residency check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from ..jsonbudget import Budget
from ..reidentify import Restorer
from ..shapes import INTEGER, has_shape
from . import gemini_wire
from .base import NOWHERE, Endpoint, Json, Placement
from .extraction import Extraction, walk
from .gemini_wire import GeminiStream

# A model id as Google writes them: gemini-2.5-flash, gemini-embedding-001, text-embedding-004.
_MODEL = re.compile(r"[a-z0-9][a-z0-9._-]{0,127}", re.IGNORECASE)
_ACTION_PATH = re.compile(r"^/v1(?:beta)?/models/([^/:]+):([A-Za-z]+)$")
_MODEL_PATH = re.compile(r"^/v1(?:beta)?/models(?:/([^/:]+))?$")
_ACTIONS = frozenset({"generateContent", "streamGenerateContent", "countTokens",
                      "embedContent", "batchEmbedContents"})
_LISTING = Endpoint("models", inspect=False)
# An opaque page token of the model listing: base64 of the provider's own.
_PAGE_TOKEN = re.compile(r"[A-Za-z0-9_=+/-]{1,512}")


def _model(name: str | None) -> bool:
    return name is None or has_shape(name, _MODEL)


class GeminiFormat:
    name = "gemini"
    # `$alt=json;enum-encoding=int`: Google's REST clients (older SDKs) ask for enums as ints.
    query_params: Mapping[str, re.Pattern[str]] = MappingProxyType({
        "alt": re.compile("sse|json"), "$alt": re.compile("sse|json(;enum-encoding=int)?"),
        "pageSize": INTEGER, "pageToken": _PAGE_TOKEN})

    def endpoint(self, method: str, subpath: str) -> Endpoint | None:
        action = _ACTION_PATH.match(subpath)
        if method == "POST" and action and action.group(2) in _ACTIONS \
                and _model(action.group(1)):
            return Endpoint(f"gemini.{action.group(2)}", inspect=True)
        listing = _MODEL_PATH.match(subpath)
        if method == "GET" and listing and _model(listing.group(1)):
            return _LISTING
        return None

    def placement(self, subpath: str, body: Json | None) -> Placement:
        return NOWHERE

    def extract(self, endpoint: Endpoint, body: Json, budget: Budget) -> Extraction:
        return walk(gemini_wire.RULES, body, budget)

    def restore_body(self, body: Json, restorer: Restorer) -> Json:
        return gemini_wire.restore_body(body, restorer)

    def stream_rewriter(self, restorer: Restorer) -> GeminiStream:
        return GeminiStream(restorer)

    def error_headers(self, status: int) -> dict[str, str]:
        return {}

    def error_body(self, status: int, kind: str, message: str) -> Json:
        return gemini_wire.error_body(status, message)
