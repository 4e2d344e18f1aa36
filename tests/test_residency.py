"""Residency: startup checks and per-request enforcement, against fake regional hosts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openai
import pytest

from proxy.config import load_settings
from proxy.detect.pool import WorkerPoolAnalyzer
from proxy.errors import ConfigError
from proxy.residency.catalogue import region_of_host
from proxy.residency.regions import family_of, is_allowed
from tests.conftest import Gateway
from tests.regional import Regional, regional, start_regional_gateway, write_regional_config

__all__ = ["regional"]  # the fixture, used by name

AZURE_EU = {"name": "azure", "path": "/azure", "format": "azure",
            "upstream": "https://myres-eu.openai.azure.com", "region": "swedencentral",
            "deployments": ["gpt-4o-eu"], "policy": "eu"}


@pytest.mark.parametrize(("region", "allowed", "ok"), [
    ("eu-central-1", ("eu",), True), ("eu-west-2", ("eu",), False),    # London is uk
    ("europe-west4", ("eu",), True), ("us-central1", ("eu",), False),
    ("swedencentral", ("eu",), True), ("eu", ("eu",), True), ("eu", ("eu-central-1",), False),
    ("global", ("eu",), False), ("global", ("global",), True),
    ("ap-southeast-2", ("apac",), True), ("europe-west4", ("europe-west4",), True),
])
def test_regions_and_families(region: str, allowed: tuple[str, ...], ok: bool) -> None:
    assert is_allowed(region, allowed) is ok


def test_catalogue() -> None:
    assert region_of_host("api.openai.com") == "us"
    assert region_of_host("eu.api.openai.com") == "eu"
    assert region_of_host("api.anthropic.com") == "us"
    assert region_of_host("bedrock-runtime.eu-central-1.amazonaws.com") == "eu-central-1"
    assert region_of_host("europe-west4-aiplatform.googleapis.com") == "europe-west4"
    assert region_of_host("aiplatform.googleapis.com") == "global"
    assert region_of_host("myres.openai.azure.com") is None
    assert region_of_host("llm.eu.internal.example", [("*.eu.internal.example", "eu")]) == "eu"
    assert family_of("europe-west2") == "uk"


def test_startup_refuses_a_route_outside_its_policy(tmp_path: Path) -> None:
    route = {"name": "openai-us", "path": "/openai", "format": "openai",
             "upstream": "https://api.openai.com", "policy": "eu"}
    with pytest.raises(ConfigError) as caught:
        load_settings(write_regional_config(tmp_path, [route]))
    message = caught.value.problems[0]
    assert "openai-us" in message and "'us'" in message and "'eu'" in message


def test_startup_refuses_an_upstream_of_unknown_region(tmp_path: Path) -> None:
    route = {**AZURE_EU, "region": None}
    with pytest.raises(ConfigError, match="not known; declare it"):
        load_settings(write_regional_config(tmp_path, [route]))


def test_config_can_extend_the_catalogue(tmp_path: Path) -> None:
    route = {"name": "internal", "path": "/int", "format": "openai",
             "upstream": "https://llm.eu.internal.example", "policy": "eu"}
    settings = load_settings(write_regional_config(
        tmp_path, [route], catalogue=[{"host": "*.eu.internal.example",
                                       "region": "eu-central-1"}]))
    assert settings.config.routes[0].name == "internal"


@pytest.fixture
async def azure(tmp_path: Path, regional: Regional, analyzer: WorkerPoolAnalyzer
                ) -> AsyncIterator[Gateway]:
    gateway, runner = await start_regional_gateway(tmp_path, regional, analyzer, [AZURE_EU])
    yield gateway
    await runner.cleanup()


def azure_client(gw: Gateway) -> openai.AsyncAzureOpenAI:
    return openai.AsyncAzureOpenAI(azure_endpoint=f"{gw.url}/azure", api_key="az-key",
                                   api_version="2024-10-21", max_retries=0)


async def test_azure_declared_deployment_goes_to_its_region(azure: Gateway,
                                                            regional: Regional) -> None:
    reply = await azure_client(azure).chat.completions.create(
        model="gpt-4o-eu", messages=[{"role": "user", "content": "I am Jane Doe."}])
    assert reply.choices[0].message.content == "Echo: I am Jane Doe."
    seen = regional.provider.received[0]
    assert seen.path == "/openai/deployments/gpt-4o-eu/chat/completions"
    assert seen.headers["Host"] == "myres-eu.openai.azure.com"
    assert seen.headers["api-key"] == "az-key" and "Jane" not in seen.text
    assert regional.resolver.asked == ["myres-eu.openai.azure.com"]
    record = (await azure.audit_after(1))[-1]
    assert record["upstream_region"] == "swedencentral"


@pytest.mark.parametrize("v1", [False, True])
async def test_azure_undeclared_deployment_is_refused(azure: Gateway, regional: Regional,
                                                      v1: bool) -> None:
    client: Any = openai.AsyncOpenAI(base_url=f"{azure.url}/azure/openai/v1", api_key="k",
                                     max_retries=0) if v1 else azure_client(azure)
    with pytest.raises(openai.PermissionDeniedError, match="deployment 'gpt-4o-us'"):
        await client.chat.completions.create(
            model="gpt-4o-us", messages=[{"role": "user", "content": "hi"}])
    assert regional.provider.received == []
    record = (await azure.audit_after(1))[-1]
    assert record["decision"] == "refused" and "residency" in record["reason"]


async def test_azure_streaming_and_v1_paths(azure: Gateway, regional: Regional) -> None:
    stream = await azure_client(azure).chat.completions.create(
        model="gpt-4o-eu", stream=True,
        messages=[{"role": "user", "content": "Mail jane.doe@example.com"}])
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "Echo: Mail jane.doe@example.com"
    v1 = openai.AsyncOpenAI(base_url=f"{azure.url}/azure/openai/v1", api_key="az-key",
                            max_retries=0)
    reply = await v1.chat.completions.create(
        model="gpt-4o-eu", messages=[{"role": "user", "content": "I am Jane Doe."}])
    assert reply.choices[0].message.content == "Echo: I am Jane Doe."
    assert [r.path for r in regional.provider.received] == [
        "/openai/deployments/gpt-4o-eu/chat/completions", "/openai/v1/chat/completions"]
    assert "Jane" not in regional.provider.all_text()


@pytest.mark.parametrize(("route", "problem"), [
    ({"name": "r", "path": "/o", "format": "openai", "upstream": "https://api.openai.com",
      "region": "eu-central-1", "policy": "eu"}, "declares region 'eu-central-1'"),
    ({"name": "r", "path": "/b", "format": "bedrock", "upstream": "https://llm.eu.example",
      "region": "eu-central-1", "api_keys": ["sha256:" + "0" * 64], "policy": "eu"},
     "must be bedrock-runtime"),
])
def test_config_cannot_override_the_catalogue(tmp_path: Path, route: dict[str, Any],
                                              problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        load_settings(write_regional_config(tmp_path, [route]))


def test_config_cannot_remap_known_regions_or_hosts(tmp_path: Path) -> None:
    route = {"name": "o", "path": "/o", "format": "openai",
             "upstream": "https://api.openai.com", "policy": "eu"}
    with pytest.raises(ConfigError, match="cannot remap regions it already knows: us-east-1"):
        load_settings(write_regional_config(tmp_path, [route], regions={"us-east-1": "eu"}))
    with pytest.raises(ConfigError, match="'us', which policy 'eu' does not allow"):
        load_settings(write_regional_config(tmp_path, [route],
                                            catalogue=[{"host": "*", "region": "eu"}]))


async def test_azure_passthrough_still_checks_the_model(tmp_path: Path, regional: Regional,
                                                        analyzer: WorkerPoolAnalyzer) -> None:
    gateway, runner = await start_regional_gateway(
        tmp_path, regional, analyzer, [AZURE_EU], passthrough=("POST /openai/v1/responses",))
    try:
        client = openai.AsyncOpenAI(base_url=f"{gateway.url}/azure/openai/v1", api_key="k",
                                    max_retries=0)
        with pytest.raises(openai.PermissionDeniedError, match="deployment 'gpt-us'"):
            await client.responses.create(model="gpt-us", input="hi")
        assert regional.provider.received == []
    finally:
        await runner.cleanup()
