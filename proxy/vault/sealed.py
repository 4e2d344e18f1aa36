"""The one place where vault values are encrypted: `SealedVault`, a TokenVault over any store.

Per tenant, keys come from the master key and the tenant's random salt (kept in the store,
made on its first store): a lookup key and a data key, via HKDF. A token becomes a lookup
id (its HMAC under the lookup key), a value a blob sealed with AES-SIV whose associated
data binds tenant and lookup id. So the store holds no token and no value; a blob moved to
another tenant or token does not open (it is treated as absent and counted); and deleting
the salt shreds the tenant's blobs, copies included.

AES-SIV, not AES-GCM with random nonces: every request stores its tokens again (to refresh
their age), so a busy tenant's key seals billions of times, past the point where random
96-bit nonces may repeat. SIV has no nonce to repeat: the same token and value seal to the
same blob, which says nothing new, and distinct tokens never share associated data.

Salts are read from the store on every call rather than cached: another replica, or the
`aliasgate vault purge` command, may shred a tenant at any time, and a cached salt would
keep writing blobs under keys that no longer exist anywhere else.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..keys import derive
from ..offload import off_loop_if
from .store import VaultStore

log = logging.getLogger("aliasgate")

_VERSION = b"\x01"       # first byte of a blob: lets a later format coexist with this one
_TAG_BYTES = 16         # SIV's synthetic IV, which is also its tag
_ID_BYTES = 16           # tenant and lookup ids: 128 bits, fixed length so the AAD is unambiguous
_SALT_BYTES = 32
_INFO = b"aliasgate/vault/v1"
_INLINE_ENTRIES = 256    # more are sealed or opened in a thread


def _utf8(text: str) -> bytes:
    # Values may hold lone surrogates (JSON allows "\ud800"): keep them byte for byte.
    return text.encode("utf-8", "surrogatepass")


class Companion(Protocol):
    """Something that lives as long as the vault (the SQLite retention sweep)."""

    async def close(self) -> None: ...


@dataclass(frozen=True)
class _TenantKeys:
    tenant: bytes
    lookup_key: bytes
    aead: AESSIV

    def lookup_id(self, token: str) -> bytes:
        return hmac.digest(self.lookup_key, _utf8(token), hashlib.sha256)[:_ID_BYTES]

    def _aad(self, lookup: bytes) -> bytes:
        return _INFO + self.tenant + lookup

    def seal(self, lookup: bytes, value: str) -> bytes:
        return _VERSION + self.aead.encrypt(_utf8(value), [self._aad(lookup)])

    def open(self, lookup: bytes, blob: bytes) -> str | None:
        """The value, or None for a blob that is not this tenant's and this token's."""
        if len(blob) < 1 + _TAG_BYTES or blob[:1] != _VERSION:
            return None
        try:
            plain = self.aead.decrypt(blob[1:], [self._aad(lookup)])
        except InvalidTag:
            return None
        return plain.decode("utf-8", "surrogatepass")

    def seal_all(self, values: Mapping[str, str]) -> dict[bytes, bytes]:
        blobs = {}
        for token, value in values.items():
            lookup = self.lookup_id(token)
            blobs[lookup] = self.seal(lookup, value)
        return blobs


def _open_all(keys: _TenantKeys, wanted: Mapping[bytes, str], blobs: Mapping[bytes, bytes]
              ) -> tuple[dict[str, str], int]:
    """The values that open, by token, and how many blobs did not."""
    found: dict[str, str] = {}
    failed = 0
    for lookup, blob in blobs.items():
        token = wanted.get(lookup)
        value = None if token is None else keys.open(lookup, blob)
        if token is None or value is None:
            failed += 1
            continue
        found[token] = value
    return found, failed


class _RecentlyStored:
    """Which tokens this process stored in the last few minutes, as digests (never a
    value): storing them again would only refresh an age counted in days. A purge by
    another process (the CLI, a replica) is not seen here: for up to REFRESH_SECONDS a
    token stored before it is not stored again, and restores only within its request."""

    REFRESH_SECONDS = 600.0
    CAPACITY = 100_000   # about 15 MB

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._when: OrderedDict[bytes, float] = OrderedDict()

    @staticmethod
    def _digest(tenant_id: bytes, token: str) -> bytes:
        return hashlib.blake2b(_utf8(token), key=tenant_id, digest_size=16).digest()

    def not_stored(self, tenant_id: bytes, values: Mapping[str, str]) -> dict[str, str]:
        """Those of `values` not stored in the last REFRESH_SECONDS."""
        since = self._clock() - self.REFRESH_SECONDS
        return {token: value for token, value in values.items()
                if self._when.get(self._digest(tenant_id, token), since - 1) < since}

    def stored(self, tenant_id: bytes, values: Mapping[str, str]) -> None:
        now = self._clock()
        for token in values:
            digest = self._digest(tenant_id, token)
            self._when[digest] = now
            self._when.move_to_end(digest)
        while len(self._when) > self.CAPACITY:
            self._when.popitem(last=False)

    def forget(self) -> None:
        self._when.clear()


class SealedVault:
    """A TokenVault that encrypts before, and decrypts after, any backend."""

    def __init__(self, store: VaultStore, master: bytes, *,
                 companions: Sequence[Companion] = (),
                 clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._master = master
        self._recent = _RecentlyStored(clock)
        self._companions = list(companions)
        self.unopened = 0   # blobs that did not open: moved, altered, or of a shredded salt

    def _tenant_id(self, tenant: str) -> bytes:
        # Keyed, so the store cannot be joined to audit lines without the master key.
        key = derive(self._master, "vault-tenant")
        return hmac.digest(key, _utf8(tenant), hashlib.sha256)[:_ID_BYTES]

    def _keys(self, tenant_id: bytes, tenant: str, salt: bytes) -> _TenantKeys:
        material = HKDF(SHA256(), 96, salt=salt, info=_INFO).derive(
            derive(self._master, "vault-data", tenant))
        return _TenantKeys(tenant_id, material[:32], AESSIV(material[32:]))

    async def store(self, tenant: str, values: Mapping[str, str]) -> None:
        tenant_id = self._tenant_id(tenant)
        values = self._recent.not_stored(tenant_id, values)
        if not values:
            return  # a conversation resends its values turn after turn: stored minutes ago
        salt = await self._store.salt(tenant_id)
        if salt is None:
            salt = await self._store.create_salt(tenant_id, secrets.token_bytes(_SALT_BYTES))
        keys = self._keys(tenant_id, tenant, salt)
        # Sealing a large request's tokens (tens of thousands) is CPU: not on the loop.
        blobs = await off_loop_if(len(values) > _INLINE_ENTRIES, keys.seal_all, values)
        await self._store.put(tenant_id, blobs)
        self._recent.stored(tenant_id, values)

    async def lookup(self, tenant: str, tokens: Collection[str]) -> dict[str, str]:
        if not tokens:
            return {}
        tenant_id = self._tenant_id(tenant)
        salt = await self._store.salt(tenant_id)
        if salt is None:
            return {}   # nothing stored for this tenant, or it was shredded
        keys = self._keys(tenant_id, tenant, salt)
        wanted = {keys.lookup_id(token): token for token in set(tokens)}
        blobs = await self._store.get(tenant_id, list(wanted))
        found, failed = await off_loop_if(len(blobs) > _INLINE_ENTRIES, _open_all, keys,
                                          wanted, blobs)
        if failed:
            self.unopened += failed
            log.warning("vault: %d entries did not open (moved, altered or shredded); "
                        "treated as absent", failed)
        return found

    async def purge_tenant(self, tenant: str) -> int:
        self._recent.forget()
        return await self._store.delete_tenant(self._tenant_id(tenant))

    async def purge_older_than(self, age: timedelta) -> int:
        return await self._store.delete_older_than(age)

    async def problem(self) -> str | None:
        return await self._store.problem()

    async def close(self) -> None:
        for companion in self._companions:
            await companion.close()
        await self._store.close()
