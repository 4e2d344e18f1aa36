"""Bedrock through the gateway: boto3 and AnthropicBedrock as clients, SigV4 signing with
the gateway's own credentials, gateway-issued caller keys, and geography checks."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anthropic
import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, EventStreamError

from proxy.callers import hash_key
from proxy.detect.pool import WorkerPoolAnalyzer
from tests.conftest import Gateway
from tests.fake_provider import Received
from tests.regional import Regional, regional, start_regional_gateway

__all__ = ["regional"]

KEY = "agk_test-key-for-the-bedrock-route"
HOST = "bedrock-runtime.eu-central-1.amazonaws.com"
GATEWAY_CREDENTIALS = Credentials("AKIAGATEWAYTEST", "gateway-secret")
PROMPT = "Write to Jane Doe at jane.doe@example.com"
EU_MODEL = "eu.anthropic.claude-3-7-sonnet-20250219-v1:0"


@pytest.fixture
async def bedrock(tmp_path: Path, regional: Regional, analyzer: WorkerPoolAnalyzer,
                  monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Gateway]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", GATEWAY_CREDENTIALS.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", GATEWAY_CREDENTIALS.secret_key)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    route = {"name": "bedrock-eu", "path": "/bedrock", "format": "bedrock",
             "upstream": f"https://{HOST}", "api_keys": [hash_key(KEY)], "policy": "eu"}
    gateway, runner = await start_regional_gateway(tmp_path, regional, analyzer, [route])
    yield gateway
    await runner.cleanup()


def boto_client(gw: Gateway, key: str | None = KEY) -> Any:
    client = boto3.client("bedrock-runtime", region_name="eu-central-1",
                          endpoint_url=f"{gw.url}/bedrock", aws_access_key_id="client",
                          aws_secret_access_key="client-secret")
    if key is not None:
        def add_key(request: Any, **_: Any) -> None:
            request.headers["x-aliasgate-key"] = key

        client.meta.events.register("before-sign.bedrock-runtime.*", add_key)
    return client


def assert_signed_by_the_gateway(seen: Received) -> None:
    """Recompute the SigV4 signature as AWS would, with the gateway's credentials."""
    authorization = seen.headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIAGATEWAYTEST/")
    assert "/eu-central-1/bedrock/aws4_request" in authorization
    signed = re.search(r"SignedHeaders=([^,]+)", authorization).group(1).split(";")  # type: ignore[union-attr]
    headers = {name: seen.headers[name] for name in signed}
    request = AWSRequest(method=seen.method, url=f"https://{HOST}{seen.path}",
                         data=seen.body, headers=headers)
    request.context["timestamp"] = seen.headers["X-Amz-Date"]
    auth = SigV4Auth(GATEWAY_CREDENTIALS, "bedrock", "eu-central-1")
    signature = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)),
                               request)
    assert authorization.endswith(f"Signature={signature}")
    assert "x-aliasgate-key" not in seen.headers


async def test_converse_round_trip_signed_by_the_gateway(bedrock: Gateway,
                                                         regional: Regional) -> None:
    client = boto_client(bedrock)
    reply = await asyncio.to_thread(
        client.converse, modelId=EU_MODEL,
        messages=[{"role": "user", "content": [{"text": PROMPT}]}],
        system=[{"text": "You help Jane Doe."}])
    assert reply["output"]["message"]["content"][0]["text"] == f"Echo: {PROMPT}"
    seen = regional.provider.received[0]
    assert seen.headers["Host"] == HOST and "Jane" not in seen.text
    assert_signed_by_the_gateway(seen)


@pytest.mark.parametrize("model", [EU_MODEL, "eu.anthropic.claude-tool"])
async def test_converse_stream_restores_text_and_tool_input(bedrock: Gateway, model: str
                                                            ) -> None:
    client = boto_client(bedrock)

    def run() -> tuple[str, str]:
        response = client.converse_stream(
            modelId=model, messages=[{"role": "user", "content": [{"text": PROMPT}]}])
        text, tool_input = "", ""
        for item in response["stream"]:
            delta = item.get("contentBlockDelta", {}).get("delta", {})
            text += delta.get("text", "")
            tool_input += delta.get("toolUse", {}).get("input", "")
        return text, tool_input

    text, tool_input = await asyncio.to_thread(run)
    if model.endswith("tool"):
        assert json.loads(tool_input) == {"to": PROMPT}
    else:
        assert text == f"Echo: {PROMPT}"


async def test_invoke_model_with_the_anthropic_bedrock_client(bedrock: Gateway,
                                                              regional: Regional) -> None:
    client = anthropic.AsyncAnthropicBedrock(
        aws_region="eu-central-1", aws_access_key="client", aws_secret_key="client-secret",
        base_url=f"{bedrock.url}/bedrock", default_headers={"x-aliasgate-key": KEY},
        max_retries=0)
    reply = await client.messages.create(model=EU_MODEL, max_tokens=50,
                                         messages=[{"role": "user", "content": PROMPT}])
    assert reply.content[0].type == "text" and reply.content[0].text == f"Echo: {PROMPT}"
    async with client.messages.stream(model=EU_MODEL, max_tokens=50,
                                      messages=[{"role": "user", "content": PROMPT}]) as s:
        streamed = "".join([t async for t in s.text_stream])
    assert streamed == f"Echo: {PROMPT}"
    assert "Jane" not in regional.provider.all_text()
    assert_signed_by_the_gateway(regional.provider.received[0])


@pytest.mark.parametrize(("model", "allowed"), [
    (EU_MODEL, True), ("anthropic.claude-3-haiku-20240307-v1:0", True),
    ("us.anthropic.claude-3-7-sonnet-20250219-v1:0", False),
    ("global.anthropic.claude-sonnet-4-20250514-v1:0", False),
    ("apac.anthropic.claude-3-5-sonnet-20241022-v2:0", False),
])
async def test_geography_of_the_model_id_is_enforced(bedrock: Gateway, regional: Regional,
                                                     model: str, allowed: bool) -> None:
    client = boto_client(bedrock)
    call = asyncio.to_thread(client.converse, modelId=model,
                             messages=[{"role": "user", "content": [{"text": "hi"}]}])
    if allowed:
        await call
        assert len(regional.provider.received) == 1
        return
    with pytest.raises(ClientError) as caught:
        await call
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "is not allowed by policy 'eu'" in caught.value.response["Error"]["Message"]
    assert regional.provider.received == []
    record = (await bedrock.audit_after(1))[-1]
    assert record["decision"] == "refused" and record["reason"].startswith("residency:")


@pytest.mark.parametrize("key", [None, "agk_wrong"])
async def test_callers_need_a_gateway_key(bedrock: Gateway, regional: Regional,
                                          key: str | None) -> None:
    with pytest.raises(ClientError) as caught:
        await asyncio.to_thread(boto_client(bedrock, key).converse, modelId=EU_MODEL,
                                messages=[{"role": "user", "content": [{"text": "hi"}]}])
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401
    assert regional.provider.received == []


async def test_a_cut_stream_raises_in_the_client(bedrock: Gateway) -> None:
    client = boto_client(bedrock)

    def run() -> None:
        response = client.converse_stream(
            modelId="eu.anthropic.die", messages=[{"role": "user",
                                                   "content": [{"text": PROMPT}]}])
        for _ in response["stream"]:
            pass

    with pytest.raises(EventStreamError, match="broke off"):
        await asyncio.to_thread(run)


async def test_unknown_geographies_and_passthrough_are_refused(
        tmp_path: Path, regional: Regional, analyzer: WorkerPoolAnalyzer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAGATEWAYTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "gateway-secret")
    route = {"name": "bedrock-eu", "path": "/bedrock", "format": "bedrock",
             "upstream": f"https://{HOST}", "api_keys": [hash_key(KEY)], "policy": "eu"}
    gateway, runner = await start_regional_gateway(
        tmp_path, regional, analyzer, [route], passthrough=("POST /model/*/async-invoke",))
    try:
        client = boto_client(gateway)
        with pytest.raises(ClientError, match="unknown model ID prefix 'uk'"):
            await asyncio.to_thread(client.converse, modelId="uk.anthropic.claude-x",
                                    messages=[{"role": "user", "content": [{"text": "hi"}]}])
        import aiohttp

        async with aiohttp.ClientSession() as session, session.post(
                f"{gateway.url}/bedrock/model/{EU_MODEL}/async-invoke", json={},
                headers={"x-aliasgate-key": KEY}) as resp:
            assert resp.status == 403
            assert "never signs a request it did not inspect" in (await resp.json())["message"]
        assert regional.provider.received == []
    finally:
        await runner.cleanup()
