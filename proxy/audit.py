"""The redaction log: one JSON line per request, refused and failed ones too.

A record holds counts, actions and decisions only: never a value, a body or a header.
Lines are appended by one writer thread, so they keep their order and never block the loop.
"""

from __future__ import annotations

import asyncio
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol


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
    decision: str = "failed"           # forwarded | passthrough | blocked | refused | failed
    reason: str | None = None
    status: int | None = None
    upstream_status: int | None = None
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens_issued: int = 0
    tokens_restored: int = 0
    tokens_unknown: int = 0
    token_lookalikes_in_request: int = 0
    duration_ms: float | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)


class AuditSink(Protocol):
    async def write(self, record: AuditRecord) -> None: ...

    def is_writable(self) -> bool: ...


class JsonlAuditSink:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._file = os.fdopen(fd, "a", encoding="utf-8")
        self._last_write_ok = True

    def _append(self, line: str) -> None:
        try:
            self._file.write(line + "\n")
            self._file.flush()
        except OSError:
            self._last_write_ok = False
            raise
        self._last_write_ok = True

    async def write(self, record: AuditRecord) -> None:
        line = record.to_json()
        await asyncio.get_running_loop().run_in_executor(self._writer, self._append, line)

    def is_writable(self) -> bool:
        return not self._file.closed and self._last_write_ok

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._file.close()
