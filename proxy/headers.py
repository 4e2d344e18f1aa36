"""Which headers cross the gateway, in each direction.

Hop-by-hop, length and encoding headers are rebuilt by each side's HTTP stack; headers
about the client's own network path are not the provider's business.
"""

from __future__ import annotations

from multidict import CIMultiDict, CIMultiDictProxy

_HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "transfer-encoding", "upgrade",
})
_REBUILT = frozenset({"content-length", "content-encoding", "host", "accept-encoding", "expect"})
_CLIENT_PATH = frozenset({"forwarded", "x-forwarded-for", "x-forwarded-host",
                          "x-forwarded-proto", "x-forwarded-port", "x-real-ip", "via"})


def _named_in_connection(headers: CIMultiDictProxy[str]) -> set[str]:
    names: set[str] = set()
    for value in headers.getall("Connection", []):
        names.update(token.strip().lower() for token in value.split(","))
    return names


def upstream_request_headers(incoming: CIMultiDictProxy[str], drop: frozenset[str] = frozenset()
                             ) -> CIMultiDict[str]:
    """Client headers to send upstream, auth included (they go only to the route's upstream)."""
    skip = _HOP_BY_HOP | _REBUILT | _CLIENT_PATH | _named_in_connection(incoming) | drop
    return CIMultiDict((k, v) for k, v in incoming.items() if k.lower() not in skip)


def client_response_headers(upstream: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    skip = _HOP_BY_HOP | _REBUILT | _named_in_connection(upstream)
    return CIMultiDict((k, v) for k, v in upstream.items() if k.lower() not in skip)
