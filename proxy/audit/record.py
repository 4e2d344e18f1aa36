"""One audit record per request: what was found and decided, never a value or a body."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class AuditRecord:
    ts: str
    request_id: str
    route: str | None = None
    method: str | None = None
    endpoint: str | None = None
    tenant: str | None = None          # keyed fingerprint, never the credential or name
    policy: str | None = None
    policy_version: int | None = None
    policy_sha256: str | None = None
    upstream_host: str | None = None
    upstream_region: str | None = None
    # forwarded | passthrough | monitored | blocked | refused | failed | client_closed
    decision: str = "failed"
    reason: str | None = None
    error: str | None = None   # the gateway's error kind when it answered itself (refused, ...)
    status: int | None = None
    upstream_status: int | None = None
    # entity type -> {"count", "action", "min_score", "max_score"}
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    # keyed fingerprints of the values sent as tokens or redactions (see `audit find`)
    values: list[str] = field(default_factory=list)
    tokens_issued: int = 0
    tokens_restored: int = 0
    tokens_repaired: int = 0   # of those restored, written back changed by the model
    tokens_unknown: int = 0
    token_lookalikes_in_request: int = 0
    detection_ms: float | None = None
    upstream_ms: float | None = None
    duration_ms: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """A copy for the writer thread (dataclasses.asdict's deep copy costs 0.1 ms)."""
        data = dict(self.__dict__)
        data["entities"] = {name: dict(counts) for name, counts in self.entities.items()}
        data["values"] = list(self.values)
        return data


def canonical(data: dict[str, Any]) -> str:
    """The exact text a record's MAC covers."""
    return json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
