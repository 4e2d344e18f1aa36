"""The token vault: which value each issued token stands for, per tenant, encrypted.

Tokens the provider sends back from state it keeps (a stored response, a conversation,
an Anthropic thread, a batch's results, a file) were issued by an earlier request, so the
request that reads them back does not hold their values. The vault does: every token
issued is stored before its request is sent, and any request of the same tenant restores
it. Values are encrypted under a per-tenant data key; nothing is kept in the clear.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import timedelta
from typing import Protocol

from ..errors import InternalFailure


class VaultUnavailable(InternalFailure):
    """The vault cannot be read or written: requests that need it fail closed (503)."""

    kind = "vault_unavailable"


class TokenVault(Protocol):
    """`tenant` is the tenant's keyed fingerprint (the audit line's `tenant`)."""

    async def store(self, tenant: str, values: Mapping[str, str]) -> None:
        """Keep token -> value for the tenant (refreshing the age of those already kept)."""
        ...

    async def lookup(self, tenant: str, tokens: Collection[str]) -> dict[str, str]:
        """The values of those of `tokens` the vault holds for this tenant."""
        ...

    async def purge_tenant(self, tenant: str) -> int:
        """Shred a tenant: its data key and every entry. Returns entries removed."""
        ...

    async def purge_older_than(self, age: timedelta) -> int:
        """Remove entries not stored or refreshed for `age`. Returns entries removed."""
        ...

    async def problem(self) -> str | None:
        """Why the vault cannot serve now (for /readyz), or None."""
        ...

    async def close(self) -> None: ...
