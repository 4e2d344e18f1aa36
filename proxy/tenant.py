"""Which tenant a request belongs to: the scope of its token key.

By default a keyed fingerprint of the client's API credential, so two API keys never
share tokens; a route may fix the tenant or take it from a header it names.
"""

from __future__ import annotations

from multidict import CIMultiDictProxy

from .callers import presented_key
from .config import RouteConfig
from .errors import Refused
from .keys import fingerprint

_CREDENTIAL_HEADERS = ("Authorization", "x-api-key", "api-key", "x-goog-api-key")


def tenant_of(route: RouteConfig, headers: CIMultiDictProxy[str], master: bytes) -> str:
    if route.tenant:
        return f"route:{route.tenant}"
    if route.tenant_header:
        value = headers.get(route.tenant_header, "").strip()
        if not value:
            raise Refused(f"this route needs the {route.tenant_header} header to name a tenant")
        return f"header:{value}"
    if route.api_keys:
        # The route issues gateway keys (and authenticate() checked this one): it names the
        # tenant. A Bedrock client's own Authorization is a per-request signature anyway.
        credential = presented_key(headers) or ""
    else:
        # A gateway key counts only where the route issues them: elsewhere anyone could
        # send any string there and pick another credential's token scope.
        credential = next((headers[h] for h in _CREDENTIAL_HEADERS if h in headers), "")
        # The same key is the same tenant however it is sent (the Anthropic SDK sends
        # `Authorization: Bearer K` or `x-api-key: K`).
        if credential[:7].lower() == "bearer ":
            credential = credential[7:].strip()
    return f"key:{fingerprint(master, 'tenant-credential', credential)}"
