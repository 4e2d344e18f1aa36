"""Which headers cross the gateway, in each direction.

Towards the provider only an allowlist passes: credentials, content negotiation and the
providers' own header families. Any other header could carry personal data that was never
inspected, so it is dropped. Towards the client, hop-by-hop, length and encoding headers
are dropped, because aiohttp rebuilds them for the body actually sent.
"""

from __future__ import annotations

from multidict import CIMultiDict, CIMultiDictProxy

FORWARDED = frozenset({"authorization", "x-api-key", "api-key", "accept", "user-agent",
                       "idempotency-key"})
FORWARDED_PREFIXES = ("openai-", "anthropic-", "x-stainless-", "x-amzn-bedrock-")
_HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "transfer-encoding", "upgrade", "content-length", "content-encoding",
})


def upstream_request_headers(incoming: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    """Client headers to send upstream; they go only to the route's configured upstream."""
    return CIMultiDict((k, v) for k, v in incoming.items()
                       if k.lower() in FORWARDED or k.lower().startswith(FORWARDED_PREFIXES))


def client_response_headers(upstream: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    named = {t.strip().lower() for v in upstream.getall("Connection", []) for t in v.split(",")}
    return CIMultiDict((k, v) for k, v in upstream.items()
                       if k.lower() not in _HOP_BY_HOP and k.lower() not in named)
