"""What a policy asks of the detector, in a small picklable form sent to workers."""

from __future__ import annotations

from dataclasses import dataclass

from ..policy import Policy
from .recognizers import PatternRule


@dataclass(frozen=True)
class DetectionSpec:
    language: str
    entities: tuple[str, ...]
    min_score: float
    allow: tuple[str, ...]
    deny: tuple[str, ...]
    rules: tuple[PatternRule, ...] = ()
    keep_common_terms: bool = True

    @classmethod
    def from_policy(cls, policy: Policy) -> DetectionSpec:
        return cls(policy.language, policy.detected_entities(), policy.min_score,
                   policy.allow, policy.deny, tuple(r.rule() for r in policy.recognizers),
                   policy.keep_common_terms)
