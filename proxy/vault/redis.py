"""The shared vault backend: Redis, so replicas with one master key restore each other's tokens.

Keys (ids in hex):  <prefix>salt:<tenant>  and  <prefix>entry:<tenant>:<lookup>.
Every entry lives for the retention and each store refreshes it, so Redis itself expires
old entries; the tenant's salt is refreshed with them and goes when the last of them does.
Timeouts are short and a call is retried at most once: a vault that does not answer fails
the request closed (503) in seconds, not minutes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Collection, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.utils import get_lib_version

from . import VaultUnavailable

PREFIX = "aliasgate:vault:"
_BATCH = 500   # keys per DEL or PTTL round trip while scanning


def _raw(reply: bytes | str) -> bytes:
    # The client is made without decode_responses, so replies are bytes; this tells mypy.
    return reply if isinstance(reply, bytes) else reply.encode()


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


class RedisStore:
    """A VaultStore in Redis. `prefix` separates deployments (and tests) sharing one Redis."""

    def __init__(self, url: str, retention: timedelta, *, prefix: str = PREFIX,
                 socket_seconds: float = 2.0) -> None:
        self._client: Redis = Redis.from_url(
            url, socket_timeout=socket_seconds, socket_connect_timeout=socket_seconds,
            retry=Retry(NoBackoff(), 1))
        self._retention = retention
        self._ttl = int(retention.total_seconds())
        self._prefix = prefix
        self._deadline = socket_seconds * 3   # connect, one retry, and the answer

    @classmethod
    async def open(cls, url: str, retention: timedelta, *, prefix: str = PREFIX,
                   socket_seconds: float = 2.0) -> RedisStore:
        # redis-py reads its package metadata (a file) on its first connection and caches
        # it: read it here, in a thread, so that first connection does not block the loop.
        await asyncio.to_thread(get_lib_version)
        return cls(url, retention, prefix=prefix, socket_seconds=socket_seconds)

    def _salt_key(self, tenant: bytes) -> str:
        return f"{self._prefix}salt:{tenant.hex()}"

    def _entry_key(self, tenant: bytes, lookup: bytes) -> str:
        return f"{self._prefix}entry:{tenant.hex()}:{lookup.hex()}"

    @asynccontextmanager
    async def _guard(self, bounded: bool = True) -> AsyncIterator[None]:
        """Translate every way Redis can fail into VaultUnavailable. A request's call is
        bounded as a whole; a purge's scan is many calls, each bounded by the socket."""
        try:
            async with asyncio.timeout(self._deadline if bounded else None):
                yield
        except (RedisError, OSError, TimeoutError) as exc:
            # The class only: the library's words name the internal host and port, and
            # this message reaches clients in the 503.
            raise VaultUnavailable(f"the Redis vault failed: {type(exc).__name__}") from exc

    async def _scan(self, pattern: str) -> AsyncIterator[list[bytes]]:
        batch: list[bytes] = []
        async for key in self._client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= _BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    async def salt(self, tenant: bytes) -> bytes | None:
        async with self._guard():
            value = await self._client.get(self._salt_key(tenant))
        return None if value is None else _raw(value)

    async def create_salt(self, tenant: bytes, candidate: bytes) -> bytes:
        key = self._salt_key(tenant)
        async with self._guard(), self._client.pipeline(transaction=True) as pipe:
            pipe.set(key, candidate, nx=True, ex=self._ttl)
            pipe.get(key)
            _, kept = await pipe.execute()
        return _raw(kept)

    async def put(self, tenant: bytes, blobs: Mapping[bytes, bytes]) -> None:
        async with self._guard(), self._client.pipeline(transaction=False) as pipe:
            for lookup, blob in blobs.items():
                pipe.set(self._entry_key(tenant, lookup), blob, ex=self._ttl)
            pipe.expire(self._salt_key(tenant), self._ttl)   # as long as its newest entry
            await pipe.execute()

    async def get(self, tenant: bytes, lookups: Collection[bytes]) -> dict[bytes, bytes]:
        ids = list(lookups)
        if not ids:
            return {}
        async with self._guard():
            blobs = await self._client.mget([self._entry_key(tenant, i) for i in ids])
        return {i: _raw(b) for i, b in zip(ids, blobs, strict=True) if b is not None}

    async def delete_tenant(self, tenant: bytes) -> int:
        removed = 0
        async with self._guard(bounded=False):
            await self._client.delete(self._salt_key(tenant))   # this alone shreds
            pattern = _glob_escape(f"{self._prefix}entry:{tenant.hex()}:") + "*"
            async for batch in self._scan(pattern):
                removed += int(await self._client.delete(*batch))
        return removed

    async def delete_older_than(self, age: timedelta) -> int:
        """An entry's age is the retention minus the time it has left (each store resets
        it to the retention), so no stored time is needed; Redis already drops entries
        older than the retention."""
        keep_ms = (self._retention - age).total_seconds() * 1000
        if keep_ms <= 0:
            return 0
        removed = 0
        async with self._guard(bounded=False):
            async for batch in self._scan(_glob_escape(f"{self._prefix}entry:") + "*"):
                async with self._client.pipeline(transaction=False) as pipe:
                    for key in batch:
                        pipe.pttl(key)
                    left = await pipe.execute()
                old = [k for k, ms in zip(batch, left, strict=True) if 0 <= ms < keep_ms]
                if old:
                    removed += int(await self._client.delete(*old))
        return removed

    async def problem(self) -> str | None:
        try:
            async with self._guard():
                await self._client.ping()
        except VaultUnavailable as exc:
            return exc.message
        return None

    async def close(self) -> None:
        await self._client.aclose()
