"""Write the redaction log: one sealed JSON line per request, in order, off the loop.

One writer thread appends lines, then replaces the head file (audit.head.json) with the
new last link. Lines that arrive while it writes wait and go out together in the next
batch (group commit): one flush, one fsync and one head write serve the whole batch, so
the disk does not set the pace under load. A request's `write` returns once its line and
the head are written (and, with `fsync: always`, on disk). The log rotates by size or by
day into `audit-<time>-<seq>.jsonl` beside it; the chain runs on across files.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TextIO

from ..config import AuditSettings
from .chain import START, Link, head_json, read_head, seal
from .files import HEAD_NAME, last_link, log_files
from .record import AuditRecord

log = logging.getLogger("aliasgate.audit")


class AuditUnavailable(RuntimeError):
    """The log cannot be opened, or it and its head disagree: the gateway does not start."""


class AuditSink(Protocol):
    def enqueue(self, record: AuditRecord) -> asyncio.Future[None]: ...

    async def write(self, record: AuditRecord) -> bool: ...

    def is_writable(self) -> bool: ...


class JsonlAuditSink:
    def __init__(self, path: Path, chain_key: bytes, settings: AuditSettings) -> None:
        self.path = path
        self._key = chain_key
        self._settings = settings
        self._head = path.parent / HEAD_NAME
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit")
        self._ok = True
        self._pending: list[tuple[dict[str, object], asyncio.Future[None]]] = []
        self._pending_lock = threading.Lock()
        self._batch_queued = False
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._link = self._consistent_tail()
            self._file = self._open_current()
        except (OSError, ValueError) as exc:
            raise AuditUnavailable(f"the audit log at {path} cannot be used: {exc}") from exc

    def _consistent_tail(self) -> Link:
        """The last link of the log, which must agree with the head (if any records)."""
        tail = last_link(log_files(self.path.parent))
        if not self._head.exists():
            if tail != START:
                raise ValueError("the log has records but its head file is missing; run "
                                 "`aliasgate audit verify` and restore the head")
            self._write_head(START)
            return START
        head = read_head(self._key, self._head.read_text(encoding="utf-8"))
        if head != tail:
            raise ValueError(f"the log ends at record {tail.seq} but its head says "
                             f"{head.seq}; run `aliasgate audit verify`")
        return tail

    def _open_current(self) -> TextIO:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._opened = datetime.now(UTC).date()
        return os.fdopen(fd, "a", encoding="utf-8")

    def _write_head(self, link: Link) -> None:
        tmp = self._head.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(head_json(self._key, link))
            if self._settings.fsync == "always":
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, self._head)

    def _rotate_if_due(self) -> None:
        size = self.path.stat().st_size if self.path.exists() else 0
        today = datetime.now(UTC).date()
        due = size >= self._settings.rotate_bytes or \
            (self._settings.rotate_daily and today != self._opened and size > 0)
        if not due:
            return
        self._file.flush()
        if self._settings.fsync == "always":  # lines of this batch may be in the old file
            os.fsync(self._file.fileno())
        self._file.close()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        os.replace(self.path, self.path.with_name(f"audit-{stamp}-{self._link.seq}.jsonl"))
        self._file = self._open_current()

    def _append(self, batch: list[dict[str, object]]) -> None:
        """Append the lines, then make them durable and point the head at the last."""
        for data in batch:
            self._rotate_if_due()
            sealed = seal(self._key, data, self._link)
            self._file.write(json.dumps(sealed, separators=(",", ":"), sort_keys=True,
                                        ensure_ascii=False) + "\n")
            self._link = Link(int(str(sealed["seq"])), str(sealed["mac"]))
        self._file.flush()
        if self._settings.fsync == "always":
            os.fsync(self._file.fileno())
        self._write_head(self._link)

    def _write_batch(self, loop: asyncio.AbstractEventLoop) -> None:
        """In the writer thread: everything pending now, as one batch."""
        with self._pending_lock:
            batch, self._pending = self._pending, []
            self._batch_queued = False
        error: Exception | None = None
        try:
            self._append([data for data, _ in batch])
        except Exception as exc:  # every waiting request must hear of it, whatever it is
            error = exc
        loop.call_soon_threadsafe(_settle, [future for _, future in batch], error)

    def enqueue(self, record: AuditRecord) -> asyncio.Future[None]:
        """Queue the record's line, in order, now; the future settles once it is written.
        A failure also marks the log unwritable (with a loud log line)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        future.add_done_callback(self._note_outcome)
        with self._pending_lock:
            self._pending.append((record.as_dict(), future))
            queue_batch, self._batch_queued = not self._batch_queued, True
        if queue_batch:
            self._writer.submit(self._write_batch, loop)
        return future

    async def write(self, record: AuditRecord) -> bool:
        """Append the record; False when the log cannot be written."""
        try:
            await self.enqueue(record)
        except Exception:
            return False
        return True

    def _note_outcome(self, future: asyncio.Future[None]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is None:
            self._ok = True
            return
        if self._ok:
            log.critical("AUDIT LOG NOT WRITABLE (%s): %s", error.__class__.__name__,
                         "requests are refused" if self._settings.on_failure == "refuse"
                         else "requests go on WITHOUT an audit trail")
        self._ok = False

    def is_writable(self) -> bool:
        return self._ok

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._file.close()


def _settle(futures: list[asyncio.Future[None]], error: Exception | None) -> None:
    for future in futures:
        if future.done():   # its request was cancelled (the client left); the line stays
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
