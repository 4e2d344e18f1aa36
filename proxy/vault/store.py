"""What a vault backend keeps: opaque bytes only, so no backend can read what it holds.

`SealedVault` (sealed.py) hands a backend keyed ids and sealed blobs; a backend never sees
a token, a value or a key. Per tenant it keeps one random salt, from which (with the master
key) the tenant's keys are derived: deleting the salt shreds every blob of that tenant,
wherever a copy of one survived.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import timedelta
from typing import Protocol


class VaultStore(Protocol):
    """A backend: tenant id -> salt, (tenant id, lookup id) -> blob with its stored time.

    Every method raises VaultUnavailable when the backend cannot be reached or used.
    """

    async def salt(self, tenant: bytes) -> bytes | None:
        """The tenant's salt, or None if it has none (nothing stored, or shredded)."""
        ...

    async def create_salt(self, tenant: bytes, candidate: bytes) -> bytes:
        """Keep `candidate` unless the tenant already has a salt; return the one kept.

        Atomic, so two replicas storing a new tenant's first token agree on one salt.
        """
        ...

    async def put(self, tenant: bytes, blobs: Mapping[bytes, bytes]) -> None:
        """Keep lookup id -> blob, replacing any there and setting their time to now."""
        ...

    async def get(self, tenant: bytes, lookups: Collection[bytes]) -> dict[bytes, bytes]:
        """The blobs kept for those lookup ids (absent ones are left out)."""
        ...

    async def delete_tenant(self, tenant: bytes) -> int:
        """Delete the salt first (that alone shreds), then the entries; entries removed."""
        ...

    async def delete_older_than(self, age: timedelta) -> int:
        """Delete entries not stored or refreshed for `age`; entries removed."""
        ...

    async def problem(self) -> str | None:
        """Why the backend cannot serve now, or None."""
        ...

    async def close(self) -> None: ...
