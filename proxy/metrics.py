"""Prometheus metrics for operators. Labels are route names, statuses and decisions only."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from .audit import AuditRecord


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("aliasgate_requests", "Requests by route, status and decision",
                                ["route", "status", "decision"], registry=self.registry)
        self.entities = Counter("aliasgate_entities", "Entities found, by type and action",
                                ["entity", "action"], registry=self.registry)
        self.unknown_tokens = Counter("aliasgate_unknown_tokens",
                                      "Token-shaped strings in answers that were not restored",
                                      registry=self.registry)
        self.latency = Histogram("aliasgate_request_seconds", "Total time per request",
                                 ["route"], registry=self.registry)

    def observe(self, record: AuditRecord) -> None:
        self.requests.labels(record.route or "", str(record.status), record.decision).inc()
        for entity, info in record.entities.items():
            self.entities.labels(entity, str(info["action"])).inc(int(info["count"]))
        self.unknown_tokens.inc(record.tokens_unknown)
        if record.duration_ms is not None:
            self.latency.labels(record.route or "").observe(record.duration_ms / 1000)

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
