"""Keyed, typed, reversible tokens such as <PERSON_7QK2M9XH4R2A>, and the span replacement.

A token is the HMAC of (entity type, value) under the tenant's token key, written as 12
Crockford base32 characters (60 bits). It depends on the value alone: the same value gives
the same token on every request of a tenant, another tenant gets another token, and a
token never means two values for one tenant in practice. For n distinct values of one
type, the chance that any two share a token is at most n^2 / 2^61: under one in two
million for a million names. Should it happen within one request, the request fails
closed (503) rather than give either value another spelling.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import Counter
from dataclasses import dataclass, field

from .detect.spans import Span
from .errors import InternalFailure
from .policy import Policy

# Crockford base32 (no I, L, O, U), from the standard library's RFC 4648 alphabet.
_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
                             b"0123456789ABCDEFGHJKMNPQRSTVWXYZ")
TOKEN_LENGTH = 12
REDACTED = "[REDACTED_{entity}]"


def _base32(digest: bytes) -> str:
    """80 bits as 16 characters, lowest five bits first (tokens issued before keep their
    spelling: conversations carry them from turn to turn)."""
    return base64.b32encode(digest[:10]).translate(_CROCKFORD)[::-1].decode()


@dataclass
class TokenMap:
    """The tokens one request sent to the provider: the only ones its answer may restore."""

    key: bytes
    by_token: dict[str, str] = field(default_factory=dict)
    by_value: dict[tuple[str, str], str] = field(default_factory=dict)

    def token_for(self, entity: str, value: str) -> str:
        known = self.by_value.get((entity, value))
        if known is not None:
            return known
        digest = hmac.digest(self.key, f"{entity}\x00{value}".encode("utf-8", "surrogatepass"),
                             hashlib.sha256)
        token = f"<{entity}_{_base32(digest)[:TOKEN_LENGTH]}>"
        # Another value with this token (see the module docstring for how unlikely that
        # is); the same value may arrive twice from documents inspected side by side.
        if self.by_token.get(token, value) != value:
            raise InternalFailure("two values would share a token; nothing was sent")
        self.by_token[token] = value
        self.by_value[(entity, value)] = token
        return token


@dataclass
class Replacement:
    span: Span
    action: str
    replacement: str


@dataclass
class Pseudonymized:
    text: str
    replacements: list[Replacement]


def pseudonymize(text: str, spans: list[Span], policy: Policy, tokens: TokenMap) -> Pseudonymized:
    """Replace each (disjoint) span by its token or redaction, against the original offsets."""
    pieces: list[str] = []
    done: list[Replacement] = []
    position = 0
    for span in sorted(spans, key=lambda s: s.start):
        action = policy.action_for(span.entity)
        if action == "allow":
            continue
        value = text[span.start:span.end]
        if action == "tokenize":
            new = tokens.token_for(span.entity, value)
        else:  # redact, and block (the request is refused before it is sent)
            new = REDACTED.format(entity=span.entity)
        pieces += [text[position:span.start], new]
        position = span.end
        done.append(Replacement(span, action, new))
    pieces.append(text[position:])
    return Pseudonymized("".join(pieces), done)


def count_actions(replacements: list[Replacement]) -> dict[str, dict[str, int | str | float]]:
    """Per entity type: how many values, which action, lowest and highest score (one pass:
    a large request has tens of thousands)."""
    counts = Counter((r.span.entity, r.action) for r in replacements)
    low: dict[str, float] = {}
    high: dict[str, float] = {}
    for r in replacements:
        entity, score = r.span.entity, r.span.score
        low[entity] = min(score, low.get(entity, score))
        high[entity] = max(score, high.get(entity, score))
    return {entity: {"count": n, "action": action, "min_score": round(low[entity], 3),
                     "max_score": round(high[entity], 3)}
            for (entity, action), n in sorted(counts.items())}
