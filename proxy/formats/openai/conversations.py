"""OpenAI Conversations API: a stored list of items that Responses requests read and extend.

    POST   /v1/conversations                       inspected (items, metadata)
    GET    /v1/conversations/{id}
    POST   /v1/conversations/{id}                  inspected (metadata)
    DELETE /v1/conversations/{id}
    POST   /v1/conversations/{id}/items            inspected (items)
    GET    /v1/conversations/{id}/items
    GET    /v1/conversations/{id}/items/{item_id}
    DELETE /v1/conversations/{id}/items/{item_id}

Items are Responses input items, so the Responses rules read them.
"""

from __future__ import annotations

from collections.abc import Callable

from ...jsonbudget import Budget
from ..base import Endpoint, Json
from ..extraction import Extraction
from .responses import extract

_ONE = "/v1/conversations/{conversation_id}"
_ITEM = _ONE + "/items/{item_id}"
ENDPOINTS = {
    ("POST", "/v1/conversations"): Endpoint("conversations.create", inspect=True),
    ("GET", _ONE): Endpoint("conversations.retrieve", inspect=False),
    ("POST", _ONE): Endpoint("conversations.update", inspect=True),
    ("DELETE", _ONE): Endpoint("conversations.delete", inspect=False),
    ("POST", _ONE + "/items"): Endpoint("conversations.items.create", inspect=True),
    ("GET", _ONE + "/items"): Endpoint("conversations.items.list", inspect=False),
    ("GET", _ITEM): Endpoint("conversations.items.retrieve", inspect=False),
    ("DELETE", _ITEM): Endpoint("conversations.items.delete", inspect=False),
}

EXTRACTORS: dict[str, Callable[[Json, Budget], Extraction]] = {
    endpoint.name: extract for endpoint in ENDPOINTS.values() if endpoint.inspect}
