"""Run the app on a socket, and stop it in bounded time.

The gateway decompresses request bodies itself, with a cap. The edge rules (connection cap,
idle and header timeout, the gateway's own answer to malformed HTTP) are in connections/.

Stopping (SIGTERM or SIGINT): the listening socket closes, idle connections close, open
requests have `timeouts.shutdown` seconds to finish and are then cancelled; the detection
workers are stopped, and the process exits. A watchdog ends the process if all that has not
happened `_WATCHDOG_MARGIN` seconds after the drain should have ended; a second signal ends
it at once. Either way the detection workers are killed first, so none outlives the gateway.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import signal
import ssl
import threading
from collections.abc import Callable
from typing import NoReturn

from aiohttp import web

from .app import AUDIT, CONFIG, METRICS
from .audit import AuditRecord
from .config import Limits, Timeouts
from .connections import EdgeRunner, EdgeSettings, connection_cap

log = logging.getLogger("aliasgate")

# After the drain: cancelled requests unwind, the provider session and the audit log close,
# the detection workers get a second to finish and up to five more to stop.
_WATCHDOG_MARGIN = 10.0


async def start_site(app: web.Application, host: str, port: int,
                     ssl_context: ssl.SSLContext | None = None) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner and the bound port (port 0 picks a free one).
    Limits and timeouts come from the app's config (an app without one, such as a test's
    fake provider, gets the defaults)."""
    config = app.get(CONFIG)
    limits = config.limits if config is not None else Limits()
    timeouts = config.timeouts if config is not None else Timeouts()
    settings = EdgeSettings(max_connections=connection_cap(limits.max_connections),
                            idle_seconds=timeouts.client_idle,
                            shutdown_seconds=timeouts.shutdown)
    runner = EdgeRunner(app, settings, _reporter(app), auto_decompress=False,
                        access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, bound


def _reporter(app: web.Application) -> Callable[[AuditRecord], None]:
    """Audit and count a request the server answered itself (the app's sink exists once
    the app has started)."""

    def report(record: AuditRecord) -> None:
        audit, metrics = app.get(AUDIT), app.get(METRICS)
        if audit is not None:
            audit.enqueue(record)
        if metrics is not None:
            metrics.observe(record)

    return report


async def serve_forever(app: web.Application, host: str, port: int) -> None:
    grace = app[CONFIG].timeouts.shutdown
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(signum: signal.Signals) -> None:
        if stop.is_set():
            log.warning("second %s: stopping now", signum.name)
            _exit_now(128 + signum)
        log.info("%s: no new connections; open requests have %.0f s to finish",
                 signum.name, grace)
        stop.set()
        watchdog = threading.Timer(grace + _WATCHDOG_MARGIN, _overdue, args=(grace,))
        watchdog.daemon = True
        watchdog.start()

    # Before start-up, which may take a while (detection workers): a signal then is honoured.
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    runner, bound = await start_site(app, host, port)
    _quiet_garbage_collection()
    try:
        if not stop.is_set():
            log.info("aliasgate listening on http://%s:%s", host, bound)
        await stop.wait()
    finally:
        await runner.cleanup()
        log.info("aliasgate stopped")


def _quiet_garbage_collection() -> None:
    """Keep the collector's pauses short: it runs in whichever thread allocates, holding
    the GIL, so a large request rewritten in a thread would otherwise stall the event loop
    for every other request (full passes of 30 to 60 ms over a few hundred thousand
    objects). What was loaded at start-up (word lists, place names) is frozen out of every
    pass, and young passes come less often (measured on a 5 MB prompt: the loop's longest
    stall went from 118 to 48 ms)."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _overdue(grace: float) -> None:
    log.error("aliasgate did not stop within %.0f s of the signal; stopping now",
              grace + _WATCHDOG_MARGIN)
    _exit_now(1)


def _exit_now(code: int) -> NoReturn:
    """End the process at once, detection workers first (they would outlive it)."""
    for child in multiprocessing.active_children():
        child.kill()
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(code)
