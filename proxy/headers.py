"""Which headers cross the gateway, in each direction.

Towards the provider a header passes only when its name is one the route's format knows
and its value has the shape that name promises (a credential, a date, a version, an SDK's
enum). Every header carries client text, so:
- a known header whose value has another shape is refused (400), naming the header but
  never its value; informational ones (`User-Agent`, the SDKs' `x-stainless-*` telemetry)
  are dropped instead, so an odd client never breaks;
- any other header is dropped: it was not inspected.
Towards the client, hop-by-hop, length and encoding headers are dropped, because aiohttp
rebuilds them for the body actually sent, and so is what the provider has no business
setting on the client's side: cookies, CORS grants and anything named like our own headers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from multidict import CIMultiDict, CIMultiDictProxy

from .errors import BadRequest
from .shapes import DATE, IDENTIFIER, INTEGER, TOKEN_LIST, has_shape, looks_personal

_CREDENTIAL = re.compile(r"[A-Za-z0-9._~+/=-]{1,2048}")
# Google API keys: "AIza" and 35 more characters; a test key may be any such run.
_GOOGLE_API_KEY = re.compile(r"[A-Za-z0-9_-]{20,128}")
_AUTHORIZATION = re.compile(r"(Bearer|Basic) [A-Za-z0-9._~+/=-]{1,4096}", re.IGNORECASE)
_MEDIA_TYPES = re.compile(r"[A-Za-z0-9*/.+-]{1,64}(\s*[;,]\s*[A-Za-z0-9*/.+=-]{1,64}){0,15}")
_SDK_WORD = re.compile(r"[A-Za-z0-9._:+-]{1,64}")
# A product token as SDKs write it: OpenAI/Python 1.54.3, Boto3/1.34.0 md/arch#x86_64.
_PRODUCT = re.compile(r"[A-Za-z0-9._#:/+-]{1,64}")
_TRUE_FALSE = re.compile(r"true|false")


@dataclass(frozen=True)
class HeaderRule:
    check: Callable[[str], bool]
    optional: bool = False        # informational: dropped, not refused, when misshapen


def _shaped(shape: re.Pattern[str], optional: bool = False) -> HeaderRule:
    return HeaderRule(lambda value: has_shape(value, shape), optional)


def _credential(shape: re.Pattern[str]) -> HeaderRule:
    """Keys are random: a run of digits in one is no sign of personal data."""
    return HeaderRule(lambda value: shape.fullmatch(value) is not None)


def _user_agent(value: str) -> bool:
    """Product tokens only; a word that is neither name/version nor a version is prose."""
    words = value.split(" ")
    return 0 < len(words) <= 24 and not looks_personal(value) and all(
        _PRODUCT.fullmatch(w) and ("/" in w or any(c.isdigit() for c in w)) for w in words)


# The Stainless SDKs (openai, anthropic) describe themselves in these; others are dropped.
_STAINLESS = {f"x-stainless-{name}": _shaped(_SDK_WORD, optional=True) for name in (
    "lang", "package-version", "os", "arch", "runtime", "runtime-version", "async",
    "retry-count", "read-timeout", "timeout", "helper-method", "raw-response",
    "stream-helper", "poll-helper", "custom-poll-interval")}
_COMMON = {
    "authorization": _credential(_AUTHORIZATION),
    "accept": _shaped(_MEDIA_TYPES),
    "user-agent": HeaderRule(_user_agent, optional=True),
    "idempotency-key": _shaped(IDENTIFIER),
    **_STAINLESS,
}
_OPENAI = {
    **_COMMON,
    "openai-organization": _shaped(IDENTIFIER),
    "openai-project": _shaped(IDENTIFIER),
    "openai-beta": _shaped(TOKEN_LIST),
}
_ANTHROPIC = {
    **_COMMON,
    "x-api-key": _credential(_CREDENTIAL),
    "anthropic-version": _shaped(DATE),
    "anthropic-beta": _shaped(TOKEN_LIST),
    "anthropic-dangerous-direct-browser-access": _shaped(_TRUE_FALSE),
}
_BEDROCK = {
    "accept": _shaped(_MEDIA_TYPES),
    "user-agent": HeaderRule(_user_agent, optional=True),
    **{f"x-amzn-bedrock-{name}": _shaped(IDENTIFIER) for name in (
        "guardrailidentifier", "guardrailversion", "trace", "performanceconfig-latency",
        "service-tier")},
}
REQUEST_HEADERS: dict[str, dict[str, HeaderRule]] = {
    "openai": _OPENAI,
    "azure": {**_OPENAI, "api-key": _credential(_CREDENTIAL)},
    "anthropic": _ANTHROPIC,
    # Gemini and Claude on Vertex: a Google access token, and Anthropic's own headers.
    "vertex": {**_ANTHROPIC, "x-goog-user-project": _shaped(IDENTIFIER)},
    "bedrock": _BEDROCK,   # the gateway signs these requests with its own credentials
    # The Gemini Developer API: an API key (or an OAuth token), and the SDK's telemetry.
    "gemini": {**_COMMON, "x-goog-api-key": _credential(_GOOGLE_API_KEY),
               "x-goog-api-client": HeaderRule(_user_agent, optional=True),
               "x-goog-user-project": _shaped(IDENTIFIER),
               "x-server-timeout": _shaped(INTEGER, optional=True)},
}

_HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "transfer-encoding", "upgrade", "content-length", "content-encoding",
})
_NOT_FOR_THE_CLIENT = frozenset({"set-cookie", "set-cookie2", "alt-svc", "clear-site-data",
                                 "refresh", "location", "content-location"})
_NOT_FOR_THE_CLIENT_PREFIXES = ("access-control-", "x-aliasgate-")


def upstream_request_headers(fmt: str, incoming: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    """Client headers to send upstream; they go only to the route's configured upstream."""
    rules = REQUEST_HEADERS[fmt]
    out: CIMultiDict[str] = CIMultiDict()
    for name, value in incoming.items():
        lowered = name.lower()
        rule = rules.get(lowered)
        if rule is None:
            continue
        if rule.check(value.strip()):
            out.add(name, value.strip())
        elif not rule.optional:
            raise BadRequest(f"the {lowered} header does not have the shape aliasgate "
                             "forwards; its value was not sent")
    return out


def client_response_headers(upstream: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    named = {t.strip().lower() for v in upstream.getall("Connection", []) for t in v.split(",")}
    return CIMultiDict((k, v) for k, v in upstream.items()
                       if k.lower() not in _HOP_BY_HOP and k.lower() not in named
                       and k.lower() not in _NOT_FOR_THE_CLIENT
                       and not k.lower().startswith(_NOT_FOR_THE_CLIENT_PREFIXES))
