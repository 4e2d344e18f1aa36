"""The master key and the keys derived from it.

The master key comes from ALIASGATE_MASTER_KEY (32 bytes, base64) or is generated once
into <state_dir>/master.key with mode 0600. Every other key is an HMAC of it with a
purpose label, so a leaked token key never reveals the master or another tenant's key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import stat
from functools import lru_cache
from pathlib import Path

from .errors import ConfigError

ENV_VAR = "ALIASGATE_MASTER_KEY"
KEY_FILE = "master.key"
KEY_BYTES = 32


def _decode(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError([f"{source}:1: master key: not valid base64"]) from exc
    if len(key) != KEY_BYTES:
        raise ConfigError([f"{source}:1: master key: must decode to {KEY_BYTES} bytes"])
    return key


def load_master_key(state_dir: Path, create: bool = True) -> bytes | None:
    """The master key from the environment or the state dir, created there if missing."""
    if os.environ.get(ENV_VAR):
        return _decode(os.environ[ENV_VAR], ENV_VAR)
    path = state_dir / KEY_FILE
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError([f"{path}:1: master key: mode {mode:o} lets others read it; "
                               "chmod 600 it"])
        return _decode(path.read_text(encoding="ascii"), str(path))
    if not create:
        return None
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    encoded = base64.b64encode(secrets.token_bytes(KEY_BYTES))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(encoded + b"\n")
    return _decode(encoded.decode(), str(path))


@lru_cache(maxsize=4096)  # the same few keys on every request (per tenant)
def derive(master: bytes, purpose: str, scope: str = "") -> bytes:
    """A key for one purpose (and one tenant); labels are length-prefixed so none collide."""
    label = f"aliasgate/v1/{len(purpose)}:{purpose}/{len(scope)}:{scope}".encode()
    return hmac.new(master, label, hashlib.sha256).digest()


def fingerprint(master: bytes, purpose: str, value: str, length: int = 16) -> str:
    """A keyed, non-reversible hex fingerprint of a secret (an API credential, say)."""
    key = derive(master, purpose)
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:length]
