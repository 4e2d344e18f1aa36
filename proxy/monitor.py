"""Monitor mode (`mode: monitor` on a route): inspect and audit, forward unchanged.

For trying a policy on live traffic before enforcing it. A monitored request is inspected
as under `enforce`, so its audit line (decision `monitored`) counts what was found and names
what the policy would have blocked; then the client's own body goes upstream and the answer
comes back as the provider wrote it. Only the rewrite and the block are skipped:
authentication, residency and every other refusal still apply. Monitor mode is about what
the policy would detect, never about sending to a region the policy forbids.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from .audit import AuditRecord
from .config import RouteConfig
from .policy import Policy

log = logging.getLogger("aliasgate")


def warn_at_start(routes: Iterable[RouteConfig]) -> None:
    """Once per monitored route, at start: its requests carry personal data upstream."""
    for route in routes:
        if route.mode == "monitor":
            log.warning("route %s is in MONITOR mode: requests are forwarded UNCHANGED, "
                        "with personal data", route.name)


def inspected_as(policy: Policy) -> Policy:
    """The policy a monitored request is inspected with: `block` reads as `tokenize`, so a
    block refuses nothing and the rest of the request (a batch's later lines, and the region
    each names) is still inspected. The tokens go nowhere: the rewritten body is dropped."""
    if "block" not in policy.entities.values():
        return policy
    return policy.model_copy(update={"entities": {
        entity: "tokenize" if action == "block" else action
        for entity, action in policy.entities.items()}})


def account(record: AuditRecord, policy: Policy) -> None:
    """Mark the audit line monitored, naming what `policy` would have blocked."""
    blocked = sorted(entity for entity in record.entities
                     if policy.action_for(entity) == "block")
    for entity in blocked:
        record.entities[entity]["action"] = "block"
    record.decision = "monitored"
    if blocked:
        record.reason = "monitor: the policy would block " + ", ".join(blocked)
