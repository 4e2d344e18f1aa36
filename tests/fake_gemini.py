"""A fake Gemini Developer API, plus OpenAI's moderations, trace ingest and embeddings: a
real aiohttp server on 127.0.0.1, port 0, recording every request it receives.

Gemini (generativelanguage.googleapis.com), as google-genai calls it:

    POST /v1beta/models/{model}:generateContent        echoes the last user turn
    POST /v1beta/models/{model}:streamGenerateContent  the same, one character per SSE chunk
    POST /v1beta/models/{model}:countTokens            {"totalTokens": words}
    POST /v1beta/models/{model}:embedContent           {"embedding": {"values": [...]}}
    POST /v1beta/models/{model}:batchEmbedContents     {"embeddings": [{"values": [...]}]}
    GET  /v1beta/models, /v1beta/models/{model}

The echo is "Echo: " and the user's text parts, or the JSON of a functionResponse's
`response`. A model named `*-tool` answers with a functionCall `send_email` whose args
quote the user's text; `error-400` answers Google's error shape quoting the prompt.

OpenAI: /v1/moderations (one result per input, nothing flagged), /v1/traces/ingest (204),
/v1/embeddings (a vector per input: its length in ids or characters, and 0.5),
/v1/completions (echoes the prompt; token ids are decoded with tiktoken's cl100k_base, which
the test loads beforehand, as OpenAI reads them).
"""

from __future__ import annotations

import json
from typing import Any

import tiktoken
from aiohttp import web

from proxy.server import start_site
from tests.fake_provider import FakeProvider, Received, receive


def _user_text(contents: list[dict[str, Any]]) -> str:
    """The text of the last user turn: its text parts, or a function's response."""
    for content in reversed(contents):
        if content.get("role", "user") != "user":
            continue
        pieces = []
        for part in content.get("parts", []):
            if "text" in part:
                pieces.append(part["text"])
            elif "functionResponse" in part:
                pieces.append(json.dumps(part["functionResponse"]["response"]))
        return "".join(pieces)
    return ""


def _sse(data: Any) -> bytes:
    return f"data: {json.dumps(data)}\r\n\r\n".encode()


_USAGE = {"promptTokenCount": 3, "candidatesTokenCount": 5, "totalTokenCount": 8}


class _Handlers:
    def __init__(self, provider: FakeProvider) -> None:
        self.provider = provider

    async def record(self, request: web.Request) -> Received:
        received = await receive(request)
        self.provider.received.append(received)
        return received

    # --- Gemini ---------------------------------------------------------------------------
    async def action(self, request: web.Request) -> web.StreamResponse:
        body = (await self.record(request)).json
        model, _, action = request.match_info["call"].partition(":")
        if action in ("embedContent", "batchEmbedContents"):
            requests = body["requests"] if action == "batchEmbedContents" else [body]
            vectors = [{"values": [float(len(_user_text([r["content"]]))), 0.5]}
                       for r in requests]
            answer = {"embeddings": vectors} if action == "batchEmbedContents" \
                else {"embedding": vectors[0]}
            return web.json_response(answer)
        prompt = _user_text(body.get("contents", []))
        if action == "countTokens":
            return web.json_response({"totalTokens": len(prompt.split())})
        if model == "error-400":
            return web.json_response({"error": {"code": 400, "message": f"bad prompt: {prompt}",
                                                "status": "INVALID_ARGUMENT"}}, status=400)
        if model.endswith("-tool"):
            part: dict[str, Any] = {"functionCall": {"name": "send_email",
                                                     "args": {"to": prompt}}}
        else:
            part = {"text": f"Echo: {prompt}"}
        if action == "generateContent":
            return web.json_response({
                "candidates": [{"index": 0, "content": {"role": "model", "parts": [part]},
                                "finishReason": "STOP"}],
                "usageMetadata": _USAGE, "modelVersion": model})
        assert action == "streamGenerateContent" and request.query.get("alt") == "sse"
        pieces = [{"text": ch} for ch in part["text"]] if "text" in part else [part]
        events = [_sse({"candidates": [{"index": 0, "content": {"role": "model",
                                                                "parts": [piece]}}],
                        "modelVersion": model}) for piece in pieces]
        events.append(_sse({"candidates": [{"index": 0, "content": {"role": "model",
                                                                    "parts": []},
                                            "finishReason": "STOP"}],
                            "usageMetadata": _USAGE, "modelVersion": model}))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for event in events:  # each cut in two, so events arrive split across reads
            await response.write(event[:5])
            await response.write(event[5:])
        await response.write_eof()
        return response

    async def models(self, request: web.Request) -> web.Response:
        await self.record(request)
        model = {"name": "models/gemini-2.0-flash", "displayName": "Gemini 2.0 Flash",
                 "supportedGenerationMethods": ["generateContent", "countTokens"]}
        if "model" in request.match_info:
            return web.json_response({**model, "name": f"models/{request.match_info['model']}"})
        return web.json_response({"models": [model]})

    # --- OpenAI ---------------------------------------------------------------------------
    async def moderations(self, request: web.Request) -> web.Response:
        body = (await self.record(request)).json
        value = body["input"]
        count = 1 if isinstance(value, str) or (value and isinstance(value[0], dict)) \
            else len(value)
        result = {"flagged": False, "categories": {"harassment": False, "violence": False},
                  "category_scores": {"harassment": 0.001, "violence": 0.002},
                  "category_applied_input_types": {"harassment": ["text"],
                                                   "violence": ["text"]}}
        return web.json_response({"id": "modr-1", "model": body.get("model", "m"),
                                  "results": [result] * count})

    async def traces(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.Response(status=204)

    async def embeddings(self, request: web.Request) -> web.Response:
        body = (await self.record(request)).json
        value = body["input"]
        inputs = [value] if isinstance(value, str) or (value and isinstance(value[0], int)) \
            else value
        data = [{"object": "embedding", "index": i, "embedding": [float(len(item)), 0.5]}
                for i, item in enumerate(inputs)]
        return web.json_response({"object": "list", "data": data, "model": body["model"],
                                  "usage": {"prompt_tokens": 1, "total_tokens": 1}})

    async def completions(self, request: web.Request) -> web.Response:
        body = (await self.record(request)).json
        prompt = body["prompt"]
        if isinstance(prompt, list) and prompt and isinstance(prompt[0], int):
            prompt = tiktoken.get_encoding("cl100k_base").decode(prompt)
        return web.json_response({
            "id": "cmpl-1", "object": "text_completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "text": f"Echo: {prompt}", "finish_reason": "stop",
                         "logprobs": None}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})


async def start_fake_gemini() -> tuple[FakeProvider, web.AppRunner]:
    provider = FakeProvider()
    handlers = _Handlers(provider)
    app = web.Application()
    for version in ("v1", "v1beta"):
        app.router.add_post(f"/{version}/models/{{call:[^/]+}}", handlers.action)
        app.router.add_get(f"/{version}/models", handlers.models)
        app.router.add_get(f"/{version}/models/{{model}}", handlers.models)
    app.router.add_post("/v1/moderations", handlers.moderations)
    app.router.add_post("/v1/traces/ingest", handlers.traces)
    app.router.add_post("/v1/embeddings", handlers.embeddings)
    app.router.add_post("/v1/completions", handlers.completions)
    runner, port = await start_site(app, "127.0.0.1", 0)
    provider.url = f"http://127.0.0.1:{port}"
    provider.port = port
    return provider, runner
