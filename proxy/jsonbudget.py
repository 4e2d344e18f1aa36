"""How much JSON the gateway walks in one document, the client's body or the provider's
answer: parsing, walking and rewriting cost per value and per level, and past this they
would hold the event loop too long (`limits.max_json_values`, `limits.max_json_depth`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    max_values: int = 100_000
    max_depth: int = 64


DEFAULT = Budget()
