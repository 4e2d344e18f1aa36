"""The aiohttp application: resources in cleanup contexts, health endpoints, one catch-all."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from aiohttp.abc import AbstractResolver

from .audit import AuditSink, JsonlAuditSink
from .config import GatewayConfig, Settings
from .connections import continue_unless_too_large
from .detect.pool import Analyzer, WorkerPoolAnalyzer
from .detect.words import warm_up_word_frequencies
from .keys import derive, load_master_key
from .metrics import Metrics
from .pipeline import REQUEST_ID, Gateway
from .routes import RouteTable
from .upstream import Upstream
from .vault import TokenVault
from .vault.open import open_vault

GATEWAY = web.AppKey("gateway", Gateway)
ANALYZER = web.AppKey("analyzer", Analyzer)
AUDIT = web.AppKey("audit", AuditSink)
METRICS = web.AppKey("metrics", Metrics)
VAULT = web.AppKey("vault", TokenVault)
CONFIG = web.AppKey("config", GatewayConfig)   # the server reads its edge limits here

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_id(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[REQUEST_ID] = uuid.uuid4().hex
    return await handler(request)


def create_app(settings: Settings, *, analyzer: Analyzer | None = None,
               resolver: AbstractResolver | None = None,
               ssl_context: ssl.SSLContext | None = None) -> web.Application:
    """The gateway app. Tests may pass a shared analyzer and a resolver for fake hosts."""
    config = settings.config
    app = web.Application(middlewares=[request_id])
    master = load_master_key(settings.state_dir)
    assert master is not None
    routes = RouteTable.build(config, settings.policies)  # may read AWS credentials
    audit = JsonlAuditSink(settings.state_dir / "audit.jsonl", derive(master, "audit-chain"),
                           config.audit)
    app[METRICS] = Metrics()
    app[CONFIG] = config

    async def resources(app: web.Application) -> AsyncIterator[None]:
        # Each resource is closed, newest first, at shutdown or if a later one fails to start.
        async with contextlib.AsyncExitStack() as opened:
            await asyncio.to_thread(warm_up_word_frequencies)  # propagation reads them here
            active: Analyzer
            if analyzer is None:
                detection = config.detection
                pool = WorkerPoolAnalyzer(detection.model, detection.worker_count(),
                                          detection.chunk_chars, detection.cache_chars,
                                          detection.recycle_after, detection.timeout_seconds,
                                          detection.max_request_chars)
                await pool.start()
                # requests were drained or cancelled by then
                opened.push_async_callback(pool.close, grace_seconds=1.0)
                active = pool
            else:
                active = analyzer
            app[ANALYZER] = active
            app[AUDIT] = audit
            opened.push_async_callback(asyncio.to_thread, audit.close)
            vault = await open_vault(config.vault, settings.state_dir, master)
            opened.push_async_callback(vault.close)
            app[VAULT] = vault
            upstream = Upstream(config.timeouts, resolver, ssl_context)
            await upstream.start()
            opened.push_async_callback(upstream.close)
            app[GATEWAY] = Gateway(routes, active, upstream, audit, master, config,
                                   app[METRICS], vault=vault)
            yield

    app.cleanup_ctx.append(resources)
    expect = continue_unless_too_large(config.limits.max_body_bytes)
    app.router.add_get("/healthz", healthz, expect_handler=expect)
    app.router.add_get("/readyz", readyz, expect_handler=expect)
    app.router.add_get("/metrics", metrics, expect_handler=expect)
    app.router.add_route("*", "/{tail:.*}", proxy, expect_handler=expect)
    return app


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    app = request.app
    vault_problem = await app[VAULT].problem()
    checks = {"detection": app[ANALYZER].is_ready(), "audit": app[AUDIT].is_writable(),
              "vault": vault_problem is None}
    reasons = {} if vault_problem is None else {"vault": vault_problem}
    return web.json_response({"ready": all(checks.values()), "checks": checks,
                              "reasons": reasons},
                             status=200 if all(checks.values()) else 503)


async def metrics(request: web.Request) -> web.Response:
    body, content_type = request.app[METRICS].exposition()
    return web.Response(body=body, headers={"Content-Type": content_type})


async def proxy(request: web.Request) -> web.StreamResponse:
    return await request.app[GATEWAY].handle(request)
