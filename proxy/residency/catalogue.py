"""Which region an upstream endpoint is in: the built-in catalogue plus the config's.

    api.openai.com                          us
    eu.api.openai.com                       eu
    api.anthropic.com                       us
    bedrock-runtime.{region}.amazonaws.com  {region}
    {region}-aiplatform.googleapis.com      {region}
    aiplatform.googleapis.com               global
    generativelanguage.googleapis.com       global (the Gemini Developer API)
    {resource}.openai.azure.com             not visible: the route must declare it
    localhost, 127.0.0.0/8, ::1             local (tests and sidecars)
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

_EXACT = {"api.openai.com": "us", "eu.api.openai.com": "eu", "us.api.openai.com": "us",
          "api.anthropic.com": "us", "aiplatform.googleapis.com": "global",
          "generativelanguage.googleapis.com": "global"}
_PATTERNS = (
    re.compile(r"^bedrock-runtime(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com$"),
    re.compile(r"^([a-z]+-[a-z]+\d+)-aiplatform\.googleapis\.com$"),
)


def region_of_host(host: str, extra: Iterable[tuple[str, str]] = ()) -> str | None:
    """The region of an upstream host: the built-in catalogue, then the config's (glob,
    region) pairs. None when neither knows it (Azure, self-hosted)."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.startswith("127.") or host in ("::1", "[::1]"):
        return "local"
    known = builtin_region(host)
    if known is not None:
        return known  # the config extends the catalogue; it never overrides it
    for pattern, region in extra:
        if fnmatch.fnmatchcase(host, pattern.lower()):
            return region
    return None


def builtin_region(host: str) -> str | None:
    host = host.lower().rstrip(".")
    if host in _EXACT:
        return _EXACT[host]
    for pattern_re in _PATTERNS:
        match = pattern_re.match(host)
        if match:
            return match.group(1)
    return None
