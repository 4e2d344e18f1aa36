"""Inspect a request body: parse, find every text, detect, tokenize, serialize.

The returned body is the only thing ever sent upstream for an inspected endpoint: it is
re-serialized from the parsed document, so nothing uninspected (a duplicate key, say)
rides along. Detection runs in worker processes, and parsing and rewriting a large body
in a thread, so a large prompt never stalls the event loop; the budget bounds how long any
one step can hold it.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from .audit import AuditRecord
from .audit.values import parts as value_parts
from .detect.fields import key_field
from .detect.pool import Analyzer
from .detect.spans import Span
from .detect.spec import DetectionSpec
from .errors import BadRequest, Blocked, InternalFailure, PayloadTooLarge, Refused, UnsupportedMedia
from .formats.base import ApiFormat, Endpoint, Json, OutboundBody
from .formats.extraction import Extraction, NotJson, Slot, TextSlot, WalkRules, loads_strict
from .issued import IssuedTokens
from .jsonbudget import Budget
from .offload import off_loop_if
from .policy import Policy
from .propagate import propagate
from .token_forms import ISSUED as TOKEN_SHAPE
from .tokens import Replacement, TokenMap, count_actions, pseudonymize

# Up to this size (and this many findings, for rewriting), parsing or rewriting a body
# takes well under a millisecond: less than handing it to a thread and back.
INLINE_BODY_BYTES = 32_768
INLINE_FINDINGS = 256
# An underscore beside a digit hides the digits from every recognizer's word boundary
# (`<SSN_536228471>`, `id_4111111111111111`, `4111_1111_1111_1111`): detection reads it
# as a space.
_GLUED_DIGITS = re.compile(r"(?<=[^\W_])_(?=\d)|(?<=\d)_(?=[^\W_])")




def _parse(fmt: ApiFormat, endpoint: Endpoint, body: bytes, budget: Budget
           ) -> tuple[Json, Extraction]:
    # Counting bytes is cheap; parsing millions of tiny values is not (and holds the GIL).
    # Every string and every number past the first needs a quote or a comma.
    if max(body.count(b'"') // 2, body.count(b",")) > 2 * budget.max_values:
        raise PayloadTooLarge(f"the request body holds more than {budget.max_values} JSON "
                              "values, more than aliasgate inspects in one request")
    try:
        document = loads_strict(body)
    except NotJson as exc:
        raise BadRequest(f"the request body holds {exc}") from exc
    except RecursionError as exc:
        raise BadRequest("the request body is nested too deeply") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("the request body is not valid JSON") from exc
    if not isinstance(document, dict):
        raise BadRequest("the request body must be a JSON object")
    return document, fmt.extract(endpoint, document, budget)


@dataclass
class Inspected:
    """The body to send, what was replaced in each text (offsets in the original), and the
    counts the audit log keeps (worked out with the rewrite, off the loop when large)."""

    body: bytes
    texts: list[tuple[Slot, list[Replacement]]]
    fingerprints: list[str]  # keyed fingerprints of the replaced values (for the audit log)
    entities: dict[str, dict[str, int | str | float]]
    blocked: list[str]       # entity types the policy blocks that were found


@dataclass
class _Texts:
    """The texts of a request, what detection reads of each, and the spans of the tenant's
    own tokens in them (findings there are dropped)."""

    texts: list[str]
    views: list[str]
    own_tokens: list[list[tuple[int, int]]]
    lookalikes: int


def _read_texts(extraction: Extraction, is_own: Callable[[str], bool]) -> _Texts:
    texts = [slot.text for slot in extraction.slots]
    views, own, lookalikes = [], [], 0
    for text in texts:
        view, taken = text, []
        if "<" in text:
            for match in TOKEN_SHAPE.finditer(text):
                lookalikes += 1
                if is_own(match.group()):
                    taken.append(match.span())
        if "_" in text:
            view = _with_own_tokens(_GLUED_DIGITS.sub(" ", text), text, taken)
        views.append(view)
        own.append(taken)
    return _Texts(texts, views, own, lookalikes)


def _with_own_tokens(view: str, text: str, own: list[tuple[int, int]]) -> str:
    """The view, with the tenant's own tokens as they were written (the same length: one
    pass, however many tokens)."""
    pieces, position = [], 0
    for start, end in own:
        pieces += [view[position:start], text[start:end]]
        position = end
    pieces.append(view[position:])
    return "".join(pieces)


def _keep(spans: list[Span], context: int, own: list[tuple[int, int]]) -> list[Span]:
    """Findings in the slot's own text: not in its context prefix, not in a real token."""
    kept = []
    for span in spans:
        if span.end <= context or any(span.start < e and s < span.end for s, e in own):
            continue
        kept.append(span if span.start >= context else
                    Span(context, span.end, span.entity, span.score))
    return kept


def _rewrite(document: Json, extraction: Extraction, read: _Texts, found: list[list[Span]],
             policy: Policy, tokens: TokenMap, fingerprint: Callable[[str], str]) -> Inspected:
    slots, texts = extraction.slots, read.texts
    wanted = policy.detected_entities()
    found = [spans + key_field(slot, text, wanted) for slot, text, spans
             in zip(slots, texts, found, strict=True)]
    per_text = []
    fingerprints: set[str] = set()
    fingerprint = cache(fingerprint)  # a conversation repeats its values turn after turn
    for slot, text, spans, own in zip(slots, texts, propagate(texts, found), read.own_tokens,
                                      strict=True):
        result = pseudonymize(text, _keep(spans, len(slot.context), own), policy, tokens)
        for replaced in result.replacements:
            value = text[replaced.span.start:replaced.span.end]
            fingerprints.add(fingerprint(value))
            if replaced.span.entity == "PERSON":  # a surname can be looked up on its own
                fingerprints.update(fingerprint(part) for part in value_parts(value))
        slot.write(result.text)
        per_text.append((slot, result.replacements))
    extraction.commit()
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    replacements = [r for _, replaced in per_text for r in replaced]
    blocked = sorted({r.span.entity for r in replacements if r.action == "block"})
    # A lone surrogate (sent as a \ud800 escape) goes out as that escape: valid UTF-8.
    return Inspected(body.encode("utf-8", "backslashreplace"), per_text, sorted(fingerprints),
                     count_actions(replacements), blocked)


def _no_fingerprint(value: str) -> str:
    return ""


@dataclass
class Inspector:
    """What inspection needs beyond one request: detection, the tokens issued so far, the
    budget of a body, and the keyed fingerprint of values for the audit log."""

    analyzer: Analyzer
    budget: Budget = field(default_factory=Budget)
    issued: IssuedTokens = field(default_factory=IssuedTokens)
    fingerprint: Callable[[str], str] = _no_fingerprint

    async def inspect(self, fmt: ApiFormat, endpoint: Endpoint, policy: Policy,
                      content_type: str, body: bytes, tokens: TokenMap, record: AuditRecord,
                      check_document: Callable[[Json], None] = lambda _: None,
                      cache_scope: bytes = b"") -> Inspected:
        """The body to send upstream. `check_document` may refuse the parsed body
        (residency) before anything is detected; `cache_scope` keeps one tenant's cached
        detection results from answering (or timing) another's."""
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise UnsupportedMedia("the request body must be application/json")
        small = len(body) <= INLINE_BODY_BYTES
        document, extraction = await off_loop_if(not small, _parse, fmt, endpoint, body,
                                                 self.budget)
        check_document(document)
        return await self._inspect(document, extraction, policy, tokens, record, cache_scope,
                                   small)

    async def inspect_text(self, text: str, policy: Policy, tokens: TokenMap,
                           record: AuditRecord, cache_scope: bytes = b"") -> str:
        """Plain text (an uploaded file), pseudonymized by the same steps as a body."""
        document = {"text": text}
        extraction = Extraction(_PLAIN_TEXT, self.budget)
        extraction.values.append(TextSlot(document, "text"))
        await self._inspect(document, extraction, policy, tokens, record, cache_scope,
                            len(text) <= INLINE_BODY_BYTES)
        return document["text"]

    async def _inspect(self, document: Json, extraction: Extraction, policy: Policy,
                       tokens: TokenMap, record: AuditRecord, cache_scope: bytes,
                       small: bool) -> Inspected:
        _refuse_uninspectable(extraction.uninspectable, policy)

        def is_own(token: str) -> bool:
            return self.issued.knows(tokens.key, token)

        read = await off_loop_if(not small, _read_texts, extraction, is_own)
        record.token_lookalikes_in_request += read.lookalikes
        found = await self.analyzer.analyze(read.views, DetectionSpec.from_policy(policy),
                                            cache_scope)
        if len(found) != len(read.texts):
            raise InternalFailure("detection returned a result of the wrong shape")
        small = small and sum(map(len, found)) <= INLINE_FINDINGS
        inspected = await off_loop_if(not small, _rewrite, document, extraction, read, found,
                                      policy, tokens, self.fingerprint)
        _account(record, inspected, tokens)
        if inspected.blocked:
            raise Blocked("the policy blocks requests that contain "
                          + ", ".join(inspected.blocked))
        digests = await off_loop_if(not small, IssuedTokens.digests, tokens.key,
                                    list(tokens.by_token))
        for at in range(0, len(digests), 2000):   # a few milliseconds of the loop at a time
            self.issued.remember(digests[at:at + 2000])
            if len(digests) > 2000:
                await asyncio.sleep(0)
        return inspected


def _refuse_uninspectable(kinds: list[str], policy: Policy) -> None:
    if kinds and policy.uninspectable_content == "refuse":
        counted = Counter(kinds)
        raise Refused("the request carries content aliasgate cannot inspect: "
                      + ", ".join(f"{n} {kind}" for kind, n in sorted(counted.items()))
                      + "; the route's policy refuses it")


# An uploaded text file: one text, no structure to walk.
_PLAIN_TEXT = WalkRules(identifier_keys=frozenset(), free_form_keys=frozenset(),
                        embedded_json_keys=frozenset(), binary_part=lambda node: None,
                        opaque_part=lambda node: False)


def _account(record: AuditRecord, inspected: Inspected, tokens: TokenMap) -> None:
    """Add one inspected document to the request's audit line (a batch has many)."""
    for entity, counts in inspected.entities.items():
        seen = record.entities.get(entity)
        if seen is None:
            record.entities[entity] = dict(counts)
            continue
        seen["count"] = int(seen["count"]) + int(counts["count"])
        seen["min_score"] = min(seen["min_score"], counts["min_score"])
        seen["max_score"] = max(seen["max_score"], counts["max_score"])
    if record.values:
        record.values = sorted(set(record.values).union(f for f in inspected.fingerprints if f))
    else:
        record.values = [f for f in inspected.fingerprints if f]
    record.tokens_issued = len(tokens.by_token)


@dataclass
class RequestInspection:
    """One request's inspection, as a body handler sees it (formats.base.InspectsBodies):
    every document and text it hands over is tokenized with the request's tokens and
    counted in its audit line."""

    inspector: Inspector
    policy: Policy
    tokens: TokenMap
    record: AuditRecord
    check_document: Callable[[Json], None]
    cache_scope: bytes

    async def json_body(self, fmt: ApiFormat, endpoint: Endpoint, body: bytes) -> bytes:
        inspected = await self.inspector.inspect(
            fmt, endpoint, self.policy, "application/json", body, self.tokens, self.record,
            self.check_document, self.cache_scope)
        return inspected.body

    async def text(self, text: str) -> str:
        return await self.inspector.inspect_text(text, self.policy, self.tokens, self.record,
                                                 self.cache_scope)

    def uninspectable(self, kind: str) -> None:
        _refuse_uninspectable([kind], self.policy)

    async def body(self, fmt: ApiFormat, endpoint: Endpoint, body: bytes,
                   content_type: str) -> OutboundBody:
        """The request's body as it goes upstream: by the endpoint's handler, or as one
        JSON document."""
        if endpoint.handler is not None:
            return await endpoint.handler.inspect(body, content_type, self)
        inspected = await self.inspector.inspect(
            fmt, endpoint, self.policy, content_type, body, self.tokens, self.record,
            self.check_document, self.cache_scope)
        return OutboundBody(inspected.body)
