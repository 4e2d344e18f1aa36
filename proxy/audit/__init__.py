"""The redaction log: records, the MAC chain, the writer, and the auditor's tools
(verify, find, report)."""

from .record import AuditRecord
from .sink import AuditSink, AuditUnavailable, JsonlAuditSink

__all__ = ["AuditRecord", "AuditSink", "AuditUnavailable", "JsonlAuditSink"]
