"""Open the configured vault, and keep the SQLite one within its retention.

Redis expires entries itself (each has a TTL of the retention). SQLite has no TTL, so a
sweep deletes entries past the retention when the vault opens and then every hour, in a
task the vault owns and cancels when it closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from pathlib import Path

from ..config import VaultSettings
from . import TokenVault, VaultUnavailable
from .redis import RedisStore
from .sealed import SealedVault
from .sqlite import FILE_NAME, SqliteStore
from .store import VaultStore

log = logging.getLogger("aliasgate")
SWEEP_SECONDS = 3600.0


class RetentionSweep:
    """Deletes entries older than the retention every `interval` seconds until closed."""

    def __init__(self, store: VaultStore, retention: timedelta,
                 interval: float = SWEEP_SECONDS) -> None:
        self._store = store
        self._retention = retention
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> RetentionSweep:
        self._task = asyncio.create_task(self._run(), name="aliasgate-vault-sweep")
        return self

    async def sweep(self) -> int:
        removed = await self._store.delete_older_than(self._retention)
        if removed:
            log.info("vault: removed %d entries past the retention", removed)
        return removed

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.sweep()
            except VaultUnavailable as exc:   # try again next time; requests fail closed
                log.warning("vault: the retention sweep failed: %s", exc.message)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


async def open_vault(settings: VaultSettings, state_dir: Path, master: bytes, *,
                     sweep: bool = True) -> TokenVault:
    """The configured vault. `sweep=False` (the CLI) opens it without the retention task.

    A Redis that is down does not stop the gateway starting: /readyz reports it and the
    requests that need the vault fail closed until it is back.
    """
    retention = timedelta(days=settings.retention_days)
    if settings.backend == "redis":
        assert settings.url is not None, "VaultSettings requires a url for redis"
        return SealedVault(await RedisStore.open(settings.url, retention), master)
    store = await SqliteStore.open(state_dir / FILE_NAME)
    if not sweep:
        return SealedVault(store, master)
    retention_sweep = RetentionSweep(store, retention)
    try:
        await retention_sweep.sweep()
    except BaseException:
        await store.close()
        raise
    return SealedVault(store, master, companions=[retention_sweep.start()])
