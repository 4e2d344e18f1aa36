"""The Gemini Developer API through the gateway with the official google-genai client: what
leaves is tokenized, what returns is real, and the API key reaches the provider."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from google import genai
from google.genai import errors, types

from proxy.config import load_settings
from proxy.detect.pool import WorkerPoolAnalyzer
from proxy.errors import ConfigError
from proxy.residency.catalogue import region_of_host
from proxy.server import start_site
from tests.conftest import Gateway, build_app, write_config
from tests.fake_gemini import start_fake_gemini

SEEDS = ["Jane Doe", "jane.doe@example.com", "4111 1111 1111 1111"]
PROMPT = "Please write to Jane Doe at jane.doe@example.com about card 4111 1111 1111 1111."
API_KEY = "AIzaSyTest0123456789abcdefghijklmnopqrs"


def add_routes(config: Path, *routes: dict[str, Any]) -> None:
    data = yaml.safe_load(config.read_text())
    data["routes"] += list(routes)
    config.write_text(yaml.safe_dump(data))


@pytest.fixture
async def gemini_gateway(tmp_path: Path, analyzer: WorkerPoolAnalyzer
                         ) -> AsyncIterator[Gateway]:
    fake, fake_runner = await start_fake_gemini()
    config = write_config(tmp_path, fake.url)
    add_routes(config, {"name": "gemini", "path": "/gemini", "format": "gemini",
                        "upstream": fake.url, "policy": "default"})
    settings, app = await build_app(config, analyzer)
    runner, port = await start_site(app, "127.0.0.1", 0)
    yield Gateway(f"http://127.0.0.1:{port}", settings.state_dir, fake)
    await runner.cleanup()
    await fake_runner.cleanup()


def client(gw: Gateway, api_version: str | None = None) -> genai.client.AsyncClient:
    return genai.Client(api_key=API_KEY, http_options=types.HttpOptions(
        base_url=gw.url + "/gemini", api_version=api_version,
        retry_options=types.HttpRetryOptions(attempts=1))).aio


def assert_only_tokens_left(gw: Gateway) -> None:
    assert gw.provider.received, "the provider got nothing"
    seen = gw.provider.all_text()
    for seed in SEEDS:
        assert seed not in seen
    for received in gw.provider.received:
        assert received.headers["x-goog-api-key"] == API_KEY


@pytest.mark.parametrize("version", ["v1beta", "v1"])
async def test_generate_content_round_trip(gemini_gateway: Gateway, version: str) -> None:
    reply = await client(gemini_gateway, version).models.generate_content(
        model="gemini-2.0-flash", contents=PROMPT,
        config=types.GenerateContentConfig(system_instruction="You help Jane Doe."))
    assert reply.text == f"Echo: {PROMPT}"
    assert_only_tokens_left(gemini_gateway)
    seen = gemini_gateway.provider.received[0]
    assert seen.path == f"/{version}/models/gemini-2.0-flash:generateContent"
    sent = seen.json["contents"][0]["parts"][0]["text"]
    assert "<PERSON_" in sent and "<EMAIL_ADDRESS_" in sent and "<CREDIT_CARD_" in sent
    assert "<PERSON_" in seen.json["systemInstruction"]["parts"][0]["text"]


async def test_generate_content_stream_round_trip(gemini_gateway: Gateway) -> None:
    stream = await client(gemini_gateway).models.generate_content_stream(
        model="gemini-2.0-flash", contents=PROMPT)
    chunks = [chunk async for chunk in stream]
    assert "".join(c.text or "" for c in chunks) == f"Echo: {PROMPT}"
    assert chunks[-1].candidates and chunks[-1].candidates[0].finish_reason == "STOP"
    assert gemini_gateway.provider.received[0].query == "alt=sse"
    assert_only_tokens_left(gemini_gateway)


async def test_count_tokens(gemini_gateway: Gateway) -> None:
    counted = await client(gemini_gateway).models.count_tokens(model="gemini-2.0-flash",
                                                               contents=PROMPT)
    sent = gemini_gateway.provider.received[0].json["contents"][0]["parts"][0]["text"]
    assert counted.total_tokens == len(sent.split())
    assert_only_tokens_left(gemini_gateway)


async def test_embed_content(gemini_gateway: Gateway) -> None:
    texts: list[types.ContentUnion] = ["Jane Doe lives here", "jane.doe@example.com"]
    result = await client(gemini_gateway).models.embed_content(
        model="gemini-embedding-001", contents=texts)
    assert result.embeddings and len(result.embeddings) == 2
    assert all(e.values and e.values[1] == 0.5 for e in result.embeddings)
    seen = gemini_gateway.provider.received[0]
    assert seen.path.endswith(":batchEmbedContents")
    assert_only_tokens_left(gemini_gateway)


async def test_function_call_round_trip(gemini_gateway: Gateway) -> None:
    api = client(gemini_gateway)
    tool = types.Tool(function_declarations=[types.FunctionDeclaration(
        name="send_email", description="Send an email",
        parameters=types.Schema(type=types.Type.OBJECT,
                                properties={"to": types.Schema(type=types.Type.STRING)}))])
    config = types.GenerateContentConfig(tools=[tool])
    first = await api.models.generate_content(model="gemini-tool", contents=PROMPT,
                                              config=config)
    calls = first.function_calls
    assert calls and calls[0].name == "send_email" and calls[0].args == {"to": PROMPT}
    assert first.candidates and first.candidates[0].content
    history = [types.Content(role="user", parts=[types.Part.from_text(text=PROMPT)]),
               first.candidates[0].content,
               types.Content(role="user", parts=[types.Part.from_function_response(
                   name="send_email", response={"result": "sent to jane.doe@example.com"})])]
    second = await api.models.generate_content(model="gemini-2.0-flash", contents=history,
                                               config=config)
    assert second.text == "Echo: " + json.dumps({"result": "sent to jane.doe@example.com"})
    assert_only_tokens_left(gemini_gateway)
    sent = gemini_gateway.provider.received[1].json["contents"]
    assert sent[1]["parts"][0]["functionCall"]["args"]["to"].count("<PERSON_") == 1
    assert sent[2]["parts"][0]["functionResponse"]["response"]["result"].startswith(
        "sent to <EMAIL_ADDRESS_")


async def test_models_listing_passes_with_the_key(gemini_gateway: Gateway) -> None:
    api = client(gemini_gateway)
    models = [m async for m in await api.models.list()]
    assert [m.name for m in models] == ["models/gemini-2.0-flash"]
    model = await api.models.get(model="gemini-2.5-flash")
    assert model.name == "models/gemini-2.5-flash"
    assert [r.headers["x-goog-api-key"] for r in gemini_gateway.provider.received] == \
        [API_KEY, API_KEY]


async def test_provider_error_comes_back_restored(gemini_gateway: Gateway) -> None:
    with pytest.raises(errors.ClientError) as caught:
        await client(gemini_gateway).models.generate_content(model="error-400",
                                                             contents=PROMPT)
    assert caught.value.code == 400 and f"bad prompt: {PROMPT}" in str(caught.value)
    assert_only_tokens_left(gemini_gateway)


@pytest.mark.parametrize(("path", "rule"), [
    (f"/v1beta/models/gemini-2.0-flash:generateContent?key={API_KEY}", "query parameter"),
    ("/v1beta/models/4111111111111111:generateContent", "not an identifier"),
    ("/v1beta/models/gemini-2.0-flash:unknownMethod", "cannot inspect"),
])
async def test_refused_before_anything_is_sent(gemini_gateway: Gateway, path: str,
                                               rule: str) -> None:
    async with aiohttp.ClientSession() as session, session.post(
            f"{gemini_gateway.url}/gemini{path}", headers={"x-goog-api-key": API_KEY},
            json={"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]}) as resp:
        assert resp.status == 403
        error = (await resp.json())["error"]
    assert error["status"] == "PERMISSION_DENIED" and rule in error["message"]
    assert gemini_gateway.provider.received == []


def _residency_config(tmp_path: Path, allowed: list[str]) -> Path:
    (tmp_path / "policies").mkdir(exist_ok=True)
    policy = {"name": "p", "version": 1, "entities": {"PERSON": "tokenize"},
              "residency": {"allowed_regions": allowed}}
    (tmp_path / "policies" / "p.yaml").write_text(yaml.safe_dump(policy))
    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump({"policies_dir": "policies", "routes": [{
        "name": "gemini", "path": "/gemini", "format": "gemini",
        "upstream": "https://generativelanguage.googleapis.com", "policy": "p"}]}))
    return config


def test_the_gemini_host_serves_global(tmp_path: Path) -> None:
    assert region_of_host("generativelanguage.googleapis.com") == "global"
    with pytest.raises(ConfigError) as caught:
        load_settings(_residency_config(tmp_path, ["eu"]))
    assert "region 'global', which policy 'p' does not allow" in str(caught.value)
    settings = load_settings(_residency_config(tmp_path, ["eu", "global"]))
    assert settings.config.routes[0].format == "gemini"


async def test_different_api_keys_get_different_tokens(gemini_gateway: Gateway) -> None:
    for key in ("AIzaSyFirst0123456789abcdefghijklmnopq", "AIzaSySecond123456789abcdefghijklmnopq"):
        api = genai.Client(api_key=key, http_options=types.HttpOptions(
            base_url=gemini_gateway.url + "/gemini")).aio
        await api.models.generate_content(model="gemini-2.0-flash", contents="I am Jane Doe.")
    first, second = (r.json["contents"][0]["parts"][0]["text"]
                     for r in gemini_gateway.provider.received)
    assert first != second and "<PERSON_" in first and "<PERSON_" in second
