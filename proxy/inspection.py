"""Inspect a request body: parse, find every text, detect, tokenize, serialize.

The returned body is the only thing ever sent upstream for an inspected endpoint: it is
re-serialized from the parsed document, so nothing uninspected (a duplicate key, say)
rides along. Detection runs in worker processes, and parsing and rewriting a large body
in a thread, so a large prompt never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from .audit import AuditRecord
from .audit.values import parts as value_parts
from .detect.fields import name_field
from .detect.pool import Analyzer
from .detect.spans import Span
from .detect.spec import DetectionSpec
from .errors import BadRequest, Blocked, InternalFailure, Refused, UnsupportedMedia
from .formats.base import ApiFormat, Endpoint, Json
from .formats.extraction import Extraction, KeySlot, TextSlot
from .policy import Policy
from .propagate import propagate
from .reidentify import TOKEN_SHAPE
from .tokens import Replacement, TokenMap, count_actions, pseudonymize

# Up to this size (and this many findings, for rewriting), parsing or rewriting a body
# takes well under a millisecond: less than handing it to a thread and back.
INLINE_BODY_BYTES = 32_768
INLINE_FINDINGS = 256
_T = TypeVar("_T")


async def _off_loop_unless(small: bool, work: Callable[..., _T], *args: object) -> _T:
    if small:
        return work(*args)
    return await asyncio.to_thread(work, *args)


def _parse(fmt: ApiFormat, endpoint: Endpoint, body: bytes) -> tuple[Json, Extraction]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("the request body is not valid JSON") from exc
    if not isinstance(document, dict):
        raise BadRequest("the request body must be a JSON object")
    return document, fmt.extract(endpoint, document)


def _outside_tokens(text: str, spans: list[Span]) -> list[Span]:
    """Drop findings inside text that is already a token (signed thinking sent back, say)."""
    if "<" not in text:
        return spans
    taken = [(m.start(), m.end()) for m in TOKEN_SHAPE.finditer(text)]
    return [s for s in spans if not any(s.start < end and start < s.end for start, end in taken)]


@dataclass
class Inspected:
    """The body to send, and what was replaced in each text (offsets in the original)."""

    body: bytes
    texts: list[tuple[TextSlot | KeySlot, list[Replacement]]]
    fingerprints: list[str]  # keyed fingerprints of the replaced values (for the audit log)

    @property
    def replacements(self) -> list[Replacement]:
        return [r for _, replaced in self.texts for r in replaced]


def _rewrite(document: Json, extraction: Extraction, texts: list[str], found: list[list[Span]],
             policy: Policy, tokens: TokenMap, fingerprint: Callable[[str], str]) -> Inspected:
    if "PERSON" in policy.detected_entities():
        found = [spans + name_field(slot, text) for slot, text, spans
                 in zip(extraction.slots, texts, found, strict=True)]
    per_text = []
    fingerprints: set[str] = set()
    fingerprint = cache(fingerprint)  # a conversation repeats its values turn after turn
    for slot, text, spans in zip(extraction.slots, texts, propagate(texts, found), strict=True):
        result = pseudonymize(text, _outside_tokens(text, spans), policy, tokens)
        for replaced in result.replacements:
            value = text[replaced.span.start:replaced.span.end]
            fingerprints.add(fingerprint(value))
            if replaced.span.entity == "PERSON":  # a surname can be looked up on its own
                fingerprints.update(fingerprint(part) for part in value_parts(value))
        slot.write(result.text)
        per_text.append((slot, result.replacements))
    extraction.commit()
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return Inspected(body, per_text, sorted(fingerprints))


async def inspect(analyzer: Analyzer, fmt: ApiFormat, endpoint: Endpoint, policy: Policy,
                  content_type: str, body: bytes, tokens: TokenMap, record: AuditRecord,
                  check_document: Callable[[Json], None] = lambda _: None,
                  fingerprint: Callable[[str], str] = lambda _: "") -> Inspected:
    """The body to send upstream. `check_document` may refuse the parsed body (residency)
    before anything is detected."""
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMedia("the request body must be application/json")
    small = len(body) <= INLINE_BODY_BYTES
    document, extraction = await _off_loop_unless(small, _parse, fmt, endpoint, body)
    check_document(document)
    if extraction.uninspectable and policy.uninspectable_content == "refuse":
        kinds = Counter(extraction.uninspectable)
        raise Refused("the request carries content aliasgate cannot inspect: "
                      + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
                      + "; the route's policy refuses it")
    texts = [slot.text for slot in extraction.slots]
    record.token_lookalikes_in_request = sum(len(TOKEN_SHAPE.findall(t)) for t in texts)
    found = await analyzer.analyze(texts, DetectionSpec.from_policy(policy))
    if len(found) != len(texts):
        raise InternalFailure("detection returned a result of the wrong shape")
    small = small and sum(map(len, found)) <= INLINE_FINDINGS
    inspected = await _off_loop_unless(small, _rewrite, document, extraction, texts, found,
                                       policy, tokens, fingerprint)
    replacements = inspected.replacements
    record.entities = count_actions(replacements)
    record.values = [f for f in inspected.fingerprints if f]
    record.tokens_issued = len(tokens.by_token)
    blocked = sorted({r.span.entity for r in replacements if r.action == "block"})
    if blocked:
        raise Blocked(f"the policy blocks requests that contain {', '.join(blocked)}")
    return inspected
