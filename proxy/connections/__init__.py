"""The connection edge: what a client can hold open, for how long, and what the gateway
answers before a request reaches the app.

    budget.py    how many connections at once, within the process's file descriptors
    protocol.py  the aiohttp runner, server and per-connection handler: the cap, the idle
                 and header timeout, and the gateway's own answer to what is not HTTP
    expect.py    `Expect: 100-continue`, never for a body already known to be too large
"""

from .budget import connection_cap
from .expect import continue_unless_too_large
from .protocol import EdgeRunner, EdgeSettings

__all__ = ["EdgeRunner", "EdgeSettings", "connection_cap", "continue_unless_too_large"]
