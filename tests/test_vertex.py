"""Vertex AI through the gateway: Gemini (raw HTTP: no Google SDK here) and Claude on
Vertex (the official AnthropicVertex client), with location checks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import anthropic
import pytest

from proxy.detect.pool import WorkerPoolAnalyzer
from tests.conftest import Gateway
from tests.regional import Regional, regional, start_regional_gateway

__all__ = ["regional"]

ROUTES = [
    {"name": "vertex-eu", "path": "/vertex", "format": "vertex",
     "upstream": "https://europe-west4-aiplatform.googleapis.com", "policy": "eu"},
    {"name": "vertex-global", "path": "/vertex-global", "format": "vertex",
     "upstream": "https://aiplatform.googleapis.com", "policy": "eu"},
]
PROMPT = "Write to Jane Doe at jane.doe@example.com"


def gemini_path(location: str, model: str = "gemini-2.0-flash",
                action: str = "generateContent") -> str:
    return (f"/v1/projects/acme/locations/{location}/publishers/google/models/"
            f"{model}:{action}")


@pytest.fixture
async def vertex(tmp_path: Path, regional: Regional, analyzer: WorkerPoolAnalyzer
                 ) -> AsyncIterator[Gateway]:
    gateway, runner = await start_regional_gateway(tmp_path, regional, analyzer, ROUTES)
    yield gateway
    await runner.cleanup()


def body(text: str) -> dict[str, object]:
    return {"systemInstruction": {"parts": [{"text": "You help Jane Doe."}]},
            "contents": [{"role": "user", "parts": [{"text": text}]}]}


async def call(gw: Gateway, path: str, payload: object, query: str = ""
               ) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.post(
            f"{gw.url}{path}{query}", json=payload,
            headers={"Authorization": "Bearer ya29.token"}) as resp:
        return resp.status, await resp.text()


async def test_gemini_plain_round_trip(vertex: Gateway, regional: Regional) -> None:
    status, text = await call(vertex, "/vertex" + gemini_path("europe-west4"), body(PROMPT))
    assert status == 200, text
    answer = json.loads(text)["candidates"][0]["content"]["parts"][0]["text"]
    assert answer == f"Echo: {PROMPT}"
    seen = regional.provider.received[0]
    assert seen.headers["Host"] == "europe-west4-aiplatform.googleapis.com"
    assert "Jane" not in seen.text and "jane.doe" not in seen.text


async def test_gemini_streamed_round_trip(vertex: Gateway, regional: Regional) -> None:
    status, text = await call(vertex, "/vertex" + gemini_path(
        "europe-west4", action="streamGenerateContent"), body(PROMPT), "?alt=sse")
    assert status == 200, text
    chunks = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]
    streamed = "".join(p.get("text", "") for c in chunks
                       for p in c["candidates"][0]["content"]["parts"])
    assert streamed == f"Echo: {PROMPT}"
    assert "Jane" not in regional.provider.all_text()


async def test_gemini_function_call_args_restored(vertex: Gateway) -> None:
    status, text = await call(vertex, "/vertex" + gemini_path("europe-west4", "tool"),
                              body(PROMPT))
    assert status == 200, text
    call_part = json.loads(text)["candidates"][0]["content"]["parts"][0]["functionCall"]
    assert call_part["args"] == {"to": PROMPT}


@pytest.mark.parametrize(("route", "location", "rule"), [
    ("/vertex", "us-central1", "does not match the upstream region"),
    ("/vertex", "europe-west3", "does not match the upstream region"),
    ("/vertex-global", "global", "'global' is not allowed by policy 'eu'"),
    ("/vertex-global", "us-central1", "'us-central1' is not allowed"),
])
async def test_vertex_locations_are_enforced(vertex: Gateway, regional: Regional, route: str,
                                             location: str, rule: str) -> None:
    status, text = await call(vertex, route + gemini_path(location), body(PROMPT))
    assert status == 403, text
    error = json.loads(text)["error"]
    assert error["status"] == "PERMISSION_DENIED" and rule in error["message"]
    assert regional.provider.received == []


async def test_global_endpoint_with_an_eu_location_is_allowed(vertex: Gateway) -> None:
    status, _ = await call(vertex, "/vertex-global" + gemini_path("europe-west4"), body("hi"))
    assert status == 200


async def test_claude_on_vertex_with_the_official_client(vertex: Gateway,
                                                         regional: Regional) -> None:
    client = anthropic.AsyncAnthropicVertex(region="europe-west4", project_id="acme",
                                            access_token="ya29.token",
                                            base_url=f"{vertex.url}/vertex/v1", max_retries=0)
    reply = await client.messages.create(model="claude-sonnet-4", max_tokens=50,
                                         messages=[{"role": "user", "content": PROMPT}])
    assert reply.content[0].type == "text" and reply.content[0].text == f"Echo: {PROMPT}"
    seen = regional.provider.received[0]
    assert "/locations/europe-west4/publishers/anthropic/models/claude-sonnet-4" in seen.path
    assert "Jane" not in seen.text


async def test_passthrough_paths_keep_their_location_checked(
        tmp_path: Path, regional: Regional, analyzer: WorkerPoolAnalyzer) -> None:
    gateway, runner = await start_regional_gateway(tmp_path, regional, analyzer, ROUTES,
                                                   passthrough=("POST /v1/projects/*",))
    try:
        path = "/v1/projects/acme/locations/us-central1/endpoints/openapi/chat/completions"
        status, text = await call(gateway, "/vertex-global" + path, {"model": "x"})
        assert status == 403 and "'us-central1' is not allowed" in text
        status, text = await call(gateway, "/vertex-global/v1/projects/acme/cachedContents",
                                  {})
        assert status == 403 and "must name its locations" in text
        assert regional.provider.received == []
    finally:
        await runner.cleanup()


def test_gemini_stream_keeps_thoughts_text_and_calls_apart() -> None:
    from proxy.formats.vertex import GeminiStream
    from proxy.reidentify import Restorer
    from proxy.sse import SSEEvent
    from proxy.tokens import TokenMap

    tokens = TokenMap(b"g" * 32)
    token = tokens.token_for("PERSON", "Jane Doe")
    stream = GeminiStream(Restorer(tokens))
    chunks = [[{"text": f"thinking about {token[:6]}", "thought": True}],
              [{"text": "Answer: "}, {"functionCall": {"name": "f", "args": {"to": token}}}],
              [{"text": token[6:], "thought": True}]]
    parts = []
    for chunk_parts in chunks:
        event = SSEEvent(data=json.dumps({"candidates": [{"index": 0, "content": {
            "role": "model", "parts": chunk_parts}}]}))
        for out in stream.on_event(event):
            parts += json.loads(out.data or "{}")["candidates"][0]["content"]["parts"]
    for out in stream.finish():
        parts += json.loads(out.data or "{}")["candidates"][0]["content"]["parts"]
    thought = "".join(p["text"] for p in parts if p.get("thought"))
    answer = "".join(p.get("text", "") for p in parts if not p.get("thought"))
    assert thought == "thinking about Jane Doe"
    assert answer == "Answer: "
    call_part = next(p for p in parts if "functionCall" in p)
    assert call_part["functionCall"]["args"] == {"to": "Jane Doe"}
