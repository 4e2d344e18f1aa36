"""OpenAI Responses API: its endpoints, and what in a request is text.

    POST   /v1/responses                      inspected (input, instructions, tools, prompt...)
    POST   /v1/responses/input_tokens         inspected, the same body
    POST   /v1/responses/compact              inspected, the same body
    GET    /v1/responses/{id}                 (?stream=true replays the stream)
    GET    /v1/responses/{id}/input_items
    DELETE /v1/responses/{id}
    POST   /v1/responses/{id}/cancel          no body

Input items are messages (input_text/output_text parts), function calls (their `arguments`
are a JSON document), function call outputs, reasoning items and the built-in tools' calls:
all text in them is inspected; images, audio and files are uninspectable parts. A reasoning
or compaction item's `encrypted_content` is the provider's own encrypted blob, passed only
if it has a blob's shape, never read and never restored. The same rules serve the
Conversations API (conversations.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ...errors import Refused
from ...jsonbudget import Budget
from ...shapes import is_blob
from ..base import Endpoint, Json
from ..extraction import Extraction, WalkRules, binary_parts

ENDPOINTS = {
    ("POST", "/v1/responses"): Endpoint("responses", inspect=True),
    ("POST", "/v1/responses/input_tokens"): Endpoint("responses.input_tokens", inspect=True),
    ("POST", "/v1/responses/compact"): Endpoint("responses.compact", inspect=True),
    ("GET", "/v1/responses/{response_id}"): Endpoint("responses.retrieve", inspect=False),
    ("GET", "/v1/responses/{response_id}/input_items"):
        Endpoint("responses.input_items", inspect=False),
    ("DELETE", "/v1/responses/{response_id}"): Endpoint("responses.delete", inspect=False),
    ("POST", "/v1/responses/{response_id}/cancel"): Endpoint("responses.cancel", inspect=False),
}

# Query parameters of these endpoints and their shapes (the SDK writes a list as `include[]`).
_INCLUDABLE = re.compile(r"[a-z_]{1,40}(\.[a-z_]{1,40}){1,3}")
_BOOLEAN = re.compile(r"true|false|True|False")
QUERY_PARAMS: dict[str, re.Pattern[str]] = {
    "include[]": _INCLUDABLE, "include": _INCLUDABLE, "stream": _BOOLEAN,
    "include_obfuscation": _BOOLEAN, "starting_after": re.compile(r"\d{1,9}"),
}

# Never restored in an answer: the provider decrypts it as it sent it.
OPAQUE_KEYS = frozenset({"encrypted_content"})
JSON_STRING_KEYS = frozenset({"arguments"})

_BINARY_TYPES = frozenset({"input_image", "input_file", "input_audio", "image",
                           "computer_screenshot", "image_generation_call"})
_BINARY_KEYS = frozenset({"image_url", "file_data", "file_url", "input_audio"})
# An image, audio or a file (or an item that carries one), whatever it calls itself.
_binary_part = binary_parts(_BINARY_TYPES, _BINARY_KEYS)


RULES = WalkRules(
    identifier_keys=frozenset({
        "model", "role", "type", "id", "call_id", "item_id", "response_id", "status",
        "object", "previous_response_id", "conversation", "service_tier", "truncation",
        "detail", "verbosity", "effort", "summary", "generate_summary", "tool_choice",
        "prompt_cache_key", "prompt_cache_retention", "phase", "format", "environment",
        "reasoning_effort", "quality", "size", "output_format", "background", "moderation",
        "search_context_size", "container", "file_id", "version", "approval_request_id"}),
    free_form_keys=frozenset({"metadata"}),
    embedded_json_keys=JSON_STRING_KEYS,
    binary_part=_binary_part,
    opaque_part=lambda node: False,
    name_keys=frozenset({"name"}),
    schema_keys=frozenset({"parameters", "schema"}),
)

# Item lists of a request body; their items may be reasoning or compaction items.
_ITEM_LISTS = ("input", "items", "instructions")
_URLSAFE = str.maketrans("-_", "+/")


def _is_encrypted_blob(value: str) -> bool:
    """The provider's encrypted content: base64 of binary data, in either alphabet (OpenAI
    writes the URL-safe one, with - and _)."""
    return is_blob(value.translate(_URLSAFE))


def _hold_blobs(body: dict[str, Any]) -> list[tuple[dict[str, Any], Json]]:
    """Take each item's `encrypted_content` out of the walk (it reads None meanwhile), after
    checking that it is a blob: anything else in its place is refused, never forwarded."""
    held = []
    for key in _ITEM_LISTS:
        items = body.get(key)
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or item.get("encrypted_content") is None:
                continue
            value = item["encrypted_content"]
            if not isinstance(value, str) or not _is_encrypted_blob(value):
                raise Refused("an item's encrypted_content must hold the provider's own "
                              "encrypted data; it holds something else, which aliasgate "
                              "cannot inspect")
            held.append((item, value))
            item["encrypted_content"] = None
    return held


def extract(body: Json, budget: Budget) -> Extraction:
    """Every text of a Responses or Conversations request body."""
    extraction = Extraction(RULES, budget)
    held = _hold_blobs(body)
    try:
        extraction.walk_body(body)
    finally:
        for item, value in held:
            item["encrypted_content"] = value
    return extraction


EXTRACTORS: dict[str, Callable[[Json, Budget], Extraction]] = {
    endpoint.name: extract for endpoint in ENDPOINTS.values() if endpoint.inspect}
