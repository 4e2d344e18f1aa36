"""Keyed fingerprints of values, so `audit find` can say whether a person's data was sent
without the log holding it. The key is derived from the master key for this purpose only:
it is neither the token key nor the chain key."""

from __future__ import annotations

import hashlib
import hmac
import re

from ..detect.normalize import fold
from ..keys import derive

LENGTH = 20  # hex characters: 80 bits


def value_key(master: bytes) -> bytes:
    return derive(master, "audit-values")


def normalized(value: str) -> str:
    return re.sub(r"\s+", " ", fold(value).text).strip().casefold()


def parts(value: str) -> list[str]:
    """The words of a value that are fingerprinted on their own (a surname)."""
    return re.findall(r"[^\W_]{3,}", value)


def value_fingerprint(key: bytes, value: str) -> str:
    return hmac.digest(key, normalized(value).encode(), hashlib.sha256).hex()[:LENGTH]
