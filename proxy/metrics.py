"""Prometheus metrics for operators. Labels are route names, statuses, decisions, entity
types, error kinds and stages: the gateway's own words, never text from a request."""

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
        self.repaired_tokens = Counter("aliasgate_repaired_tokens",
                                       "Tokens restored that a model had rewritten (case, "
                                       "brackets, separators)", registry=self.registry)
        self.refusals = Counter("aliasgate_refusals", "Requests the gateway answered itself, "
                                "by error kind", ["route", "kind"], registry=self.registry)
        self.latency = Histogram("aliasgate_request_seconds", "Time per request, by stage "
                                 "(detection, upstream, total)", ["route", "stage"],
                                 registry=self.registry)
        self.monitored = Counter("aliasgate_monitored_requests", "Requests a monitor-mode "
                                 "route forwarded unchanged, by route", ["route"],
                                 registry=self.registry)

    def observe(self, record: AuditRecord) -> None:
        self.requests.labels(record.route or "", str(record.status), record.decision).inc()
        if record.decision == "monitored":
            self.monitored.labels(record.route or "").inc()
        for entity, info in record.entities.items():
            self.entities.labels(entity, str(info["action"])).inc(int(info["count"]))
        self.unknown_tokens.inc(record.tokens_unknown)
        self.repaired_tokens.inc(record.tokens_repaired)
        if record.error is not None:
            self.refusals.labels(record.route or "", record.error).inc()
        for stage, ms in (("detection", record.detection_ms), ("upstream", record.upstream_ms),
                          ("total", record.duration_ms)):
            if ms is not None:
                self.latency.labels(record.route or "", stage).observe(ms / 1000)

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
