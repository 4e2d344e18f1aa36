"""Fake regional upstreams under their real host names: one TLS server on 127.0.0.1, a CA
the gateway trusts, and a resolver that sends every name to it. The catalogue and host
checks then run for real, with no network."""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml
from aiohttp.abc import AbstractResolver, ResolveResult

from proxy.detect.pool import WorkerPoolAnalyzer
from proxy.server import start_site
from tests.conftest import Gateway, build_app
from tests.fake_provider import FakeProvider, start_fake_provider

HOSTS = ["myres-eu.openai.azure.com", "myres-us.openai.azure.com", "api.openai.com",
         "europe-west4-aiplatform.googleapis.com", "us-central1-aiplatform.googleapis.com",
         "aiplatform.googleapis.com", "bedrock-runtime.eu-central-1.amazonaws.com",
         "bedrock-runtime.us-east-1.amazonaws.com", "llm.eu.internal.example"]


class LoopbackResolver(AbstractResolver):
    """Every host name resolves to the fake server on 127.0.0.1."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        self.asked.append(host)
        return [ResolveResult(hostname=host, host="127.0.0.1", port=self.port,
                              family=socket.AF_INET, proto=0, flags=socket.AI_NUMERICHOST)]

    async def close(self) -> None:
        return None


@dataclass
class Regional:
    provider: FakeProvider
    resolver: LoopbackResolver
    client_ssl: ssl.SSLContext


@pytest.fixture
async def regional() -> AsyncIterator[Regional]:
    ca = trustme.CA()
    server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*HOSTS).configure_cert(server_ssl)
    client_ssl = ssl.create_default_context()
    ca.configure_trust(client_ssl)
    provider, runner = await start_fake_provider(server_ssl)
    yield Regional(provider, LoopbackResolver(provider.port), client_ssl)
    await runner.cleanup()


EU_POLICY = {"name": "eu", "version": 1, "entities": {"PERSON": "tokenize",
                                                      "EMAIL_ADDRESS": "tokenize"},
             "residency": {"allowed_regions": ["eu"]}}


def write_regional_config(folder: Path, routes: list[dict[str, Any]],
                          passthrough: tuple[str, ...] = (), **extra: Any) -> Path:
    (folder / "policies").mkdir(exist_ok=True)
    policy = {**EU_POLICY, "passthrough": list(passthrough)}
    (folder / "policies" / "eu.yaml").write_text(yaml.safe_dump(policy))
    config = {"state_dir": "state", "policies_dir": "policies", "routes": routes,
              "timeouts": {"connect": 2, "read": 10}, **extra}
    path = folder / "gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


async def start_regional_gateway(folder: Path, regional: Regional,
                                 analyzer: WorkerPoolAnalyzer, routes: list[dict[str, Any]],
                                 passthrough: tuple[str, ...] = (), **extra: Any
                                 ) -> tuple[Gateway, Any]:
    config = write_regional_config(folder, routes, passthrough, **extra)
    settings, app = await build_app(config, analyzer, resolver=regional.resolver,
                                    ssl_context=regional.client_ssl)
    runner, port = await start_site(app, "127.0.0.1", 0)
    return Gateway(f"http://127.0.0.1:{port}", settings.state_dir, regional.provider), runner
