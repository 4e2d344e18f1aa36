"""The default vault backend: one SQLite file, `<state_dir>/vault.sqlite3` (mode 0600, WAL).

All SQLite work runs in one dedicated thread, not asyncio's shared default pool: the
connection never changes threads, calls are serialized without a lock, and vault work can
never wait behind (or deadlock against) other work queued in the default pool. One store
call is one transaction with one executemany.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from . import VaultUnavailable

FILE_NAME = "vault.sqlite3"
_CHUNK = 500   # lookup ids per SELECT, well under SQLite's variable limit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS salts (
    tenant BLOB PRIMARY KEY,
    salt BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (
    tenant BLOB NOT NULL,
    lookup BLOB NOT NULL,
    blob BLOB NOT NULL,
    stored INTEGER NOT NULL,            -- unix seconds of the last store or refresh
    PRIMARY KEY (tenant, lookup)        -- the lookup index
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_by_age ON entries (stored);
"""

T = TypeVar("T")


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Create the file 0600 before SQLite does (its WAL and shm files copy its mode).
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")   # WAL: a crash loses no committed data
    conn.execute("PRAGMA busy_timeout=5000")    # `aliasgate vault purge` may write meanwhile
    conn.executescript(_SCHEMA)
    return conn


class SqliteStore:
    """A VaultStore in one SQLite file. `clock` gives unix seconds (tests move it)."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aliasgate-vault")
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    @classmethod
    async def open(cls, path: Path, *, clock: Callable[[], float] = time.time) -> SqliteStore:
        store = cls(path, clock=clock)
        try:
            store._conn = await store._run(lambda: _connect(path))
        except BaseException:
            store._executor.shutdown(wait=False)
            raise
        return store

    async def _run(self, work: Callable[[], T]) -> T:
        if self._closed:
            raise VaultUnavailable("the vault is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, work)
        except (sqlite3.Error, OSError) as exc:
            why = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
            raise VaultUnavailable(f"the vault's SQLite file failed: {why}") from exc

    def _db(self) -> sqlite3.Connection:
        assert self._conn is not None, "SqliteStore.open() makes the connection"
        return self._conn

    async def salt(self, tenant: bytes) -> bytes | None:
        def read() -> bytes | None:
            row = self._db().execute("SELECT salt FROM salts WHERE tenant = ?",
                                     (tenant,)).fetchone()
            return None if row is None else bytes(row[0])
        return await self._run(read)

    async def create_salt(self, tenant: bytes, candidate: bytes) -> bytes:
        def create() -> bytes:
            db = self._db()
            with db:
                db.execute("INSERT OR IGNORE INTO salts (tenant, salt) VALUES (?, ?)",
                           (tenant, candidate))
                row = db.execute("SELECT salt FROM salts WHERE tenant = ?", (tenant,)).fetchone()
            return bytes(row[0])
        return await self._run(create)

    async def put(self, tenant: bytes, blobs: Mapping[bytes, bytes]) -> None:
        now = int(self._clock())
        rows = [(tenant, lookup, blob, now) for lookup, blob in blobs.items()]

        def write() -> None:
            db = self._db()
            with db:   # one transaction for the whole batch
                db.executemany(
                    "INSERT INTO entries (tenant, lookup, blob, stored) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (tenant, lookup) DO UPDATE "
                    "SET blob = excluded.blob, stored = excluded.stored", rows)
        await self._run(write)

    async def get(self, tenant: bytes, lookups: Collection[bytes]) -> dict[bytes, bytes]:
        ids = list(lookups)

        def read() -> dict[bytes, bytes]:
            found: dict[bytes, bytes] = {}
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start:start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT lookup, blob FROM entries WHERE tenant = ? AND lookup IN ({marks})"
                for lookup, blob in self._db().execute(query, (tenant, *chunk)):
                    found[bytes(lookup)] = bytes(blob)
            return found
        return await self._run(read) if ids else {}

    async def delete_tenant(self, tenant: bytes) -> int:
        def delete() -> int:
            db = self._db()
            with db:
                db.execute("DELETE FROM salts WHERE tenant = ?", (tenant,))
                return db.execute("DELETE FROM entries WHERE tenant = ?", (tenant,)).rowcount
        return await self._run(delete)

    async def delete_older_than(self, age: timedelta) -> int:
        cutoff = self._clock() - age.total_seconds()

        def delete() -> int:
            db = self._db()
            with db:
                return db.execute("DELETE FROM entries WHERE stored < ?", (cutoff,)).rowcount
        return await self._run(delete)

    async def problem(self) -> str | None:
        def check() -> str | None:
            self._db().execute("SELECT 1 FROM salts LIMIT 1").fetchall()
            # SQLite keeps using a file deleted under it; new data would vanish on restart.
            return None if self.path.exists() else f"the vault file {self.path} was removed"
        try:
            return await self._run(check)
        except VaultUnavailable as exc:
            return exc.message

    async def close(self) -> None:
        if self._closed:
            return
        try:
            if self._conn is not None:
                await self._run(self._conn.close)
        finally:
            self._closed = True
            self._executor.shutdown(wait=False)   # its queue is empty: the thread just ends
