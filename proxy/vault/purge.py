"""`aliasgate vault purge`: which tenants a `--tenant` names, and the `--older-than` age.

The vault knows a tenant by the fingerprint audit lines show (`tenant`), which the
pipeline computes from the tenant string tenant.py gives: `route:NAME` (a route's
`tenant:`), `header:VALUE` (a tenant header) or `key:<fingerprint of the credential>`.
An operator erasing someone's data knows a name or a credential, not which of these the
route used, so a bare string purges every tenant it could name: erasing too much only
costs restoring old tokens, erasing too little leaves personal data behind.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from ..config import VaultSettings
from ..keys import fingerprint
from .open import open_vault

_FINGERPRINT = re.compile(r"[0-9a-f]{16}")
_AGE = re.compile(r"([1-9][0-9]*)([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_age(text: str) -> timedelta:
    """`30d`, `12h` or `90m`."""
    match = _AGE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an age like 30d, 12h or 90m")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def tenant_fingerprints(text: str, master: bytes) -> list[str]:
    """The audit fingerprints `text` names: itself if it is one (16 hex digits); the tenant
    string if prefixed (route:, header:, key:CREDENTIAL); else every tenant it could be."""
    if _FINGERPRINT.fullmatch(text):
        return [text]
    if text.startswith(("route:", "header:")):
        tenants = [text]
    elif text.startswith("key:"):
        tenants = [_credential(text.removeprefix("key:"), master)]
    else:
        tenants = [f"route:{text}", f"header:{text}", _credential(text, master)]
    return [fingerprint(master, "audit-tenant", tenant) for tenant in tenants]


def _credential(credential: str, master: bytes) -> str:
    """As tenant.py names a tenant by the credential a request presents (a `Bearer`
    scheme is not part of it)."""
    if credential[:7].lower() == "bearer ":
        credential = credential[7:].strip()
    return f"key:{fingerprint(master, 'tenant-credential', credential)}"


async def purge(settings: VaultSettings, state_dir: Path, master: bytes, *,
                tenant: str | None = None, older_than: timedelta | None = None) -> int:
    """Entries removed, from one tenant (by any name `tenant_fingerprints` reads) or by age."""
    vault = await open_vault(settings, state_dir, master, sweep=False)
    try:
        if tenant is not None:
            return sum([await vault.purge_tenant(f)
                        for f in tenant_fingerprints(tenant, master)])
        assert older_than is not None
        return await vault.purge_older_than(older_than)
    finally:
        await vault.close()
