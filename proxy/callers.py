"""Gateway-issued caller keys, for routes where the gateway holds the provider
credentials (Bedrock signs with the gateway's AWS identity): without them the gateway
would be an open relay.

The config keeps only `sha256:<hex>` of each key. A caller sends its key in
`x-aliasgate-key`, or as `Authorization: Bearer agk_...`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from multidict import CIMultiDictProxy

from .config import RouteConfig
from .errors import Unauthorized

KEY_HEADER = "x-aliasgate-key"
PREFIX = "agk_"


def new_key() -> tuple[str, str]:
    """A fresh caller key and the line to put under the route's api_keys."""
    key = PREFIX + secrets.token_urlsafe(32)
    return key, hash_key(key)


def hash_key(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def presented_key(headers: CIMultiDictProxy[str]) -> str | None:
    if KEY_HEADER in headers:
        return headers[KEY_HEADER].strip()
    auth = headers.get("Authorization", "")
    if auth.startswith("Bearer " + PREFIX):
        return auth.removeprefix("Bearer ").strip()
    return None


def authenticate(route: RouteConfig, headers: CIMultiDictProxy[str]) -> None:
    """Refuse the request unless the route needs no caller key or one of its keys is sent."""
    if not route.api_keys:
        return
    key = presented_key(headers)
    if key is None:
        raise Unauthorized(f"this route needs a gateway key in the {KEY_HEADER} header")
    digest = hash_key(key)
    if not any(hmac.compare_digest(digest, known) for known in route.api_keys):
        raise Unauthorized("the gateway key is not valid for this route")
