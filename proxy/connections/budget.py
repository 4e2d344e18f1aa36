"""How many client connections the gateway keeps open, within its file descriptors.

Every connection is a descriptor; so are the provider connections (aiohttp's pool keeps at
most 100), the audit files, the vault and the detection workers' pipes. A cap above what
the process may open is no cap: past the limit `accept()` fails and everything breaks at
once. So the soft limit is raised when the hard one allows, and otherwise the cap is lowered
(with a warning) to what fits.
"""

from __future__ import annotations

import logging
import resource

log = logging.getLogger("aliasgate.edge")

# Descriptors kept for everything but client connections (see above).
RESERVED_FDS = 256


def cap_within(wanted: int, fd_limit: int, reserve: int = RESERVED_FDS) -> int:
    """The cap that fits under `fd_limit` open files, `reserve` kept for the rest."""
    if fd_limit >= wanted + reserve:
        return wanted
    return max(1, fd_limit // 2, fd_limit - reserve)


def connection_cap(wanted: int, reserve: int = RESERVED_FDS) -> int:
    """`wanted` if the process may open enough files (raising its soft limit if it must and
    can), else the most that fits, with a warning."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + reserve
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(hard, needed)
        if target > soft:
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
                soft = target
            except (ValueError, OSError):
                pass
    if soft == resource.RLIM_INFINITY:
        return wanted
    cap = cap_within(wanted, soft, reserve)
    if cap < wanted:
        log.warning("limits.max_connections is %d but this process may open only %d files "
                    "(RLIMIT_NOFILE); the gateway keeps at most %d connections open. Raise "
                    "the limit (ulimit -n) to allow more", wanted, soft, cap)
    return cap
