"""Trace ingest (`POST /v1/traces/ingest`): what the openai-agents SDK's tracing exporter
sends, a batch of traces and spans under `data`.

Spans carry prompts, answers, tool inputs and outputs, handoffs and custom data in fields
whose shape the SDK does not fix, so everything under `data` is free-form: every string, and
every object key, is inspected. The answer holds nothing the client wrote.
"""

from __future__ import annotations

from typing import Any

from ...errors import BadRequest
from ...jsonbudget import Budget
from ..base import Endpoint
from ..extraction import Extraction, WalkRules, walk

INGEST = Endpoint("traces.ingest", inspect=True)
ENDPOINTS = {("POST", "/v1/traces/ingest"): INGEST}

_RULES = WalkRules(
    identifier_keys=frozenset(),
    free_form_keys=frozenset({"data"}),
    embedded_json_keys=frozenset(),
    # In free-form data nothing is a part to skip: an image a span recorded is read as text.
    binary_part=lambda node: None,
    opaque_part=lambda node: False,
)


def extract_ingest(body: dict[str, Any], budget: Budget) -> Extraction:
    if not isinstance(body.get("data"), list):
        raise BadRequest("data must be a list of traces and spans")
    return walk(_RULES, body, budget)


EXTRACTORS = {INGEST.name: extract_ingest}
