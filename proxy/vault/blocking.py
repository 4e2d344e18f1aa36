"""The vault asked from a thread: restoring runs in threads (relay.py), the vault on the
event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

from ..reidentify import Lookup
from . import TokenVault, VaultUnavailable

# A lookup that takes longer fails the answer (503, or an error event in a stream).
LOOKUP_SECONDS = 10.0


def blocking_lookup(vault: TokenVault, tenant: str) -> Lookup:
    """A lookup for one tenant that a worker thread may call; called on the event loop it
    would wait for itself, so there it fails instead."""
    loop = asyncio.get_running_loop()
    loop_thread = threading.get_ident()

    def lookup(tokens: list[str]) -> dict[str, str]:
        if threading.get_ident() == loop_thread:
            raise VaultUnavailable("internal: the vault was asked on the event loop")
        future = asyncio.run_coroutine_threadsafe(vault.lookup(tenant, tokens), loop)
        try:
            return future.result(timeout=LOOKUP_SECONDS)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise VaultUnavailable("the token vault did not answer in time") from exc

    return lookup
