"""Anthropic Message Batches: the endpoints, a batch's requests, and its results address.

A batch is one JSON document, `{"requests": [{"custom_id", "params"}]}`, whose every
`params` is a Messages request: the whole body is walked with the Messages rules, so each
`params` is inspected exactly as `POST /v1/messages` would be. `custom_id` must have the
shape Anthropic itself requires (`[A-Za-z0-9_-]{1,64}`) and is not read as text: the
provider hands it back verbatim in the results so the client can match them, and a token
could neither be written there (brackets are outside that shape) nor, bracket-less, be
restored. That shape holds no space, `@` or dot, and no long digit run passes, so it cannot
carry a full name, an e-mail address, a card or a phone number.

The other endpoints carry no body. Batch ids in the path must have a strict id shape; a
path with any other segment is not a known endpoint (and is refused unless the policy
lists it as passthrough).

A batch names where its results are (`results_url`, an absolute provider URL). The
Anthropic SDK follows it as given, straight past the gateway with the client's key, and
would read tokens there; so every batch in an answer points its results back at the
gateway, by the path relative to the SDK's base URL, built from the batch's own id.
"""

from __future__ import annotations

import re
from typing import Any

from ...errors import BadRequest
from ...jsonbudget import Budget
from ...shapes import has_id_shape, has_shape
from ..base import Endpoint, Json, require
from ..extraction import Extraction, WalkRules, walk

# Anthropic's ids (msgbatch_013Zva2CMHLNnXjNJJKqJ2EF); "the format and length of IDs may
# change", so no prefix is required: letters, digits, '_' and '-' only.
BATCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
# What Anthropic accepts as a request's custom_id.
CUSTOM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

def results_through_gateway(body: Json) -> Json:
    """The answer with every batch's `results_url` pointing back at the gateway (a batch,
    or a page of batches); a batch whose id has another shape gets no results address."""
    batches = body.get("data") if isinstance(body, dict) else None
    for batch in [body, *(batches if isinstance(batches, list) else [])]:
        _point_home(batch)
    return body


def _point_home(batch: Any) -> None:
    if not isinstance(batch, dict) or batch.get("type") != "message_batch":
        return
    if not isinstance(batch.get("results_url"), str):
        return
    batch_id = batch.get("id")
    if isinstance(batch_id, str) and has_id_shape(batch_id, BATCH_ID):
        batch["results_url"] = f"/v1/messages/batches/{batch_id}/results"
    else:
        batch["results_url"] = None


CREATE = Endpoint("messages.batches.create", inspect=True, answer=results_through_gateway)
_ID = rf"(?P<id>{BATCH_ID.pattern})"
# (method, path, endpoint): matched whole, in order.
ENDPOINTS: list[tuple[str, re.Pattern[str], Endpoint]] = [
    ("POST", re.compile(r"/v1/messages/batches"), CREATE),
    ("GET", re.compile(r"/v1/messages/batches"),
     Endpoint("messages.batches.list", inspect=False, answer=results_through_gateway)),
    ("GET", re.compile(rf"/v1/messages/batches/{_ID}"),
     Endpoint("messages.batches.retrieve", inspect=False, answer=results_through_gateway)),
    ("DELETE", re.compile(rf"/v1/messages/batches/{_ID}"),
     Endpoint("messages.batches.delete", inspect=False)),
    ("POST", re.compile(rf"/v1/messages/batches/{_ID}/cancel"),
     Endpoint("messages.batches.cancel", inspect=False, answer=results_through_gateway)),
    ("GET", re.compile(rf"/v1/messages/batches/{_ID}/results"),
     Endpoint("messages.batches.results", inspect=False)),
]


def find_batch_endpoint(method: str, subpath: str) -> Endpoint | None:
    """A Message Batches endpoint, when the path is one and its batch id has the id shape."""
    for known_method, pattern, endpoint in ENDPOINTS:
        if method != known_method:
            continue
        match = pattern.fullmatch(subpath)
        if match is not None and _id_ok(match.groupdict().get("id")):
            return endpoint
    return None


def _id_ok(batch_id: str | None) -> bool:
    return batch_id is None or has_id_shape(batch_id, BATCH_ID)


def extract_batch(rules: WalkRules, body: Json, budget: Budget) -> Extraction:
    """Every text of a batch: each request's params by the Messages rules; `custom_id`
    passes once its shape was checked here."""
    requests = require(body, "requests", list)
    for index, item in enumerate(requests):
        where = f"requests[{index}]"
        custom_id = require(item, "custom_id", str, f"{where}.custom_id")
        if not has_shape(custom_id, CUSTOM_ID):
            raise BadRequest(f"{where}.custom_id must be 1 to 64 letters, digits, '_' or '-' "
                             "(and no long run of digits); aliasgate does not forward it "
                             "otherwise")
        params = require(item, "params", dict, f"{where}.params")
        require(params, "messages", list, f"{where}.params.messages")
    extraction = walk(rules, body, budget)
    # The checked custom_ids (and only those: not a key of that name deeper in params).
    items = {id(item) for item in requests}
    extraction.values = [slot for slot in extraction.values
                         if not (slot.key == "custom_id" and id(slot.container) in items)]
    return extraction
