"""A fake OpenAI + Anthropic provider: a real aiohttp server on 127.0.0.1, port 0.

It records every request it receives and answers by echoing the last user text, so a
test can check both what left the gateway and what came back. Streams are cut into
one-character deltas. The request's `model` picks a misbehaviour:

    die-mid-stream   stream a few characters, then drop the connection
    error-400        answer 400 in the provider's error shape, quoting the prompt
    redirect         answer 307 to another host
    slow             wait 3 seconds before answering
    gzip             answer with a gzip-compressed body
    tool             answer with a tool call whose arguments quote the prompt
    mangle-STYLE     echo with every token rewritten as a model might (see `_mangle`)
    recall           answer with every token of earlier requests, as state a provider
                     keeps would bring them back
    hostile-*        a hostile answer (see `_hostile`), `hostile_bytes` long
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import re
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from proxy import eventstream
from proxy.server import start_site


@dataclass
class Received:
    method: str
    path: str
    query: str
    headers: CIMultiDict[str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class FakeProvider:
    url: str = ""
    port: int = 0
    received: list[Received] = field(default_factory=list)
    chunk_delay: float = 0.0
    hostile_bytes: int = 8 * 1024 * 1024  # the size of a `hostile-*` answer
    hostile_depth: int = 100_000          # the nesting of a `hostile-deep*` answer

    def all_text(self) -> str:
        """Everything the provider saw: paths, headers and bodies."""
        return "\n".join(f"{r.method} {r.path}?{r.query} {r.headers} {r.text}"
                         for r in self.received)


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


EVENTSTREAM = "application/vnd.amazon.eventstream"


def _sse(data: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


def _text_events(deltas: list[str], anthropic: bool) -> list[bytes]:
    """A streamed text answer (Anthropic's or OpenAI's shape) of these deltas."""
    if anthropic:
        events = [_sse({"type": "message_start", "message": {
            "id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1}}}, "message_start"),
            _sse({"type": "content_block_start", "index": 0,
                  "content_block": {"type": "text", "text": ""}}, "content_block_start")]
        events += [_sse({"type": "content_block_delta", "index": 0, "delta": {
            "type": "text_delta", "text": delta}}, "content_block_delta") for delta in deltas]
        return [*events, _sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
                _sse({"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                                         "stop_sequence": None},
                      "usage": {"output_tokens": 1}}, "message_delta"),
                _sse({"type": "message_stop"}, "message_stop")]
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": "m"}
    events = [_sse({**base, "choices": [{"index": 0, "delta": {"content": delta},
                                         "finish_reason": None}]}) for delta in deltas]
    return [*events, _sse({**base, "choices": [{"index": 0, "delta": {},
                                                "finish_reason": "stop"}]}),
            b"data: [DONE]\n\n"]


_TOKEN = re.compile(r"<([A-Z][A-Z0-9_]*)_([0-9A-Z]{5,16})>")


def _mangle(text: str, style: str) -> str:
    """Tokens as models rewrite them: lower case, no brackets, square brackets, or the
    type spelled with spaces and a hyphen before the code."""
    def rewrite(match: re.Match[str]) -> str:
        kind, code = match.groups()
        return {"lower": f"<{kind.lower()}_{code.lower()}>", "bare": f"{kind}_{code}",
                "square": f"[{kind}_{code}]",
                "spaced": f"<{kind.replace('_', ' ')}-{code}>"}[style]
    return _TOKEN.sub(rewrite, text)


async def receive(request: web.Request) -> Received:
    """The request as a fake provider got it (the fakes of other APIs use this too)."""
    return Received(request.method, request.path, request.query_string,
                    CIMultiDict(request.headers), await request.read())


class _Handlers:
    def __init__(self, provider: FakeProvider) -> None:
        self.provider = provider

    async def record(self, request: web.Request) -> Received:
        received = await receive(request)
        self.provider.received.append(received)
        return received

    async def _stream(self, request: web.Request, events: list[bytes],
                      die_after: int | None = None,
                      content_type: str = "text/event-stream") -> web.StreamResponse:
        """Send each event (or frame) cut in two, so it arrives split across reads; with
        `die_after`, drop the connection there instead."""
        response = web.StreamResponse(headers={"Content-Type": content_type})
        await response.prepare(request)
        for i, event in enumerate(events):
            if die_after is not None and i == die_after:
                assert request.transport is not None
                request.transport.close()
                return response
            await response.write(event[:7])
            await response.write(event[7:])
            if self.provider.chunk_delay:
                await asyncio.sleep(self.provider.chunk_delay)
        await response.write_eof()
        return response

    # --- OpenAI ---------------------------------------------------------------------------
    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = (await self.record(request)).json
        model = body.get("model", "")
        prompt = _last_user_text(body["messages"])
        if model.startswith("hostile-"):
            return await self._hostile(request, model.removeprefix("hostile-"), prompt)
        if model == "error-400":
            return web.json_response({"error": {"message": f"bad prompt: {prompt}",
                                                "type": "invalid_request_error"}}, status=400)
        if model == "redirect":
            raise web.HTTPTemporaryRedirect("http://elsewhere.invalid/v1/chat/completions")
        if model == "slow":
            await asyncio.sleep(3)
        if model.startswith("mangle-"):
            prompt = _mangle(prompt, model.removeprefix("mangle-"))
        reply = f"Echo: {prompt}"
        if model == "recall":
            earlier = [m.group() for r in self.provider.received[:-1]
                       for m in _TOKEN.finditer(r.text)]
            reply = "Earlier: " + " | ".join(dict.fromkeys(earlier))
        arguments = json.dumps({"to": prompt})
        base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": model}
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": reply}
            if model == "tool":
                message = {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_1", "type": "function",
                     "function": {"name": "send", "arguments": arguments}}]}
            answer = {
                "id": "chatcmpl-1", "object": "chat.completion", "created": base["created"],
                "model": model, "choices": [{"index": 0, "message": message,
                                             "finish_reason": "stop", "logprobs": None}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
            if model == "gzip":
                return web.Response(body=gzip.compress(json.dumps(answer).encode()), headers={
                    "Content-Type": "application/json", "Content-Encoding": "gzip"})
            return web.json_response(answer)
        events = [_sse({**base, "choices": [{"index": 0, "delta": {"role": "assistant",
                                                                    "content": ""},
                                             "finish_reason": None}]})]
        if model == "tool":
            events.append(_sse({**base, "choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": 0, "id": "call_1", "type": "function",
                 "function": {"name": "send", "arguments": ""}}]}, "finish_reason": None}]}))
            events += [_sse({**base, "choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": 0, "function": {"arguments": ch}}]}, "finish_reason": None}]})
                for ch in arguments]
            finish = "tool_calls"
        else:
            events += [_sse({**base, "choices": [{"index": 0, "delta": {"content": ch},
                                                  "finish_reason": None}]}) for ch in reply]
            finish = "stop"
        events.append(_sse({**base, "choices": [{"index": 0, "delta": {},
                                                 "finish_reason": finish}]}))
        events.append(b"data: [DONE]\n\n")
        return await self._stream(request, events, 8 if model == "die-mid-stream" else None)

    async def embeddings(self, request: web.Request) -> web.Response:
        body = (await self.record(request)).json
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [{"object": "embedding", "index": i, "embedding": [float(len(t)), 0.5]}
                for i, t in enumerate(inputs)]
        return web.json_response({"object": "list", "data": data, "model": body["model"],
                                  "usage": {"prompt_tokens": 1, "total_tokens": 1}})

    async def models(self, request: web.Request) -> web.StreamResponse:
        """`?limit=N` lists N models (a large answer); `?after=cut` promises a length,
        sends part of it and drops the connection."""
        await self.record(request)
        count = int(request.query.get("limit", "1"))
        body = json.dumps({"object": "list", "data": [
            {"id": "gpt-test" if i == 0 else f"gpt-test-{i}", "object": "model", "created": 0,
             "owned_by": "fake"}
            for i in range(count)]}).encode()
        if request.query.get("after") != "cut":
            return web.Response(body=body, content_type="application/json")
        response = web.StreamResponse(headers={"Content-Type": "application/json",
                                               "Content-Length": str(len(body))})
        await response.prepare(request)
        await response.write(body[:10])
        assert request.transport is not None
        request.transport.close()
        return response

    # --- Anthropic ------------------------------------------------------------------------
    async def messages(self, request: web.Request) -> web.StreamResponse:
        body = (await self.record(request)).json
        model = body.get("model", "")
        prompt = _last_user_text(body["messages"])
        if model.startswith("hostile-"):
            return await self._hostile(request, model.removeprefix("hostile-"), prompt)
        if model == "error-400":
            return web.json_response({"type": "error", "error": {
                "type": "invalid_request_error", "message": f"bad prompt: {prompt}"}}, status=400)
        reply = f"Echo: {prompt}"
        tool_input = {"to": prompt}
        usage = {"input_tokens": 1, "output_tokens": 1}
        if not body.get("stream"):
            block: dict[str, Any] = {"type": "text", "text": reply}
            if model == "tool":
                block = {"type": "tool_use", "id": "toolu_1", "name": "send", "input": tool_input}
            return web.json_response({
                "id": "msg_1", "type": "message", "role": "assistant", "model": model,
                "content": [block], "stop_reason": "end_turn", "stop_sequence": None,
                "usage": usage})
        events = [_sse({"type": "message_start", "message": {
            "id": "msg_1", "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": usage}}, "message_start")]
        if model == "tool":
            events.append(_sse({"type": "content_block_start", "index": 0, "content_block": {
                "type": "tool_use", "id": "toolu_1", "name": "send", "input": {}}},
                "content_block_start"))
            events += [_sse({"type": "content_block_delta", "index": 0, "delta": {
                "type": "input_json_delta", "partial_json": ch}}, "content_block_delta")
                for ch in json.dumps(tool_input)]
        else:
            events.append(_sse({"type": "content_block_start", "index": 0,
                                "content_block": {"type": "text", "text": ""}},
                               "content_block_start"))
            events += [_sse({"type": "content_block_delta", "index": 0, "delta": {
                "type": "text_delta", "text": ch}}, "content_block_delta") for ch in reply]
        events.append(_sse({"type": "content_block_stop", "index": 0}, "content_block_stop"))
        events.append(_sse({"type": "message_delta", "delta": {
            "stop_reason": "tool_use" if model == "tool" else "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 1}}, "message_delta"))
        events.append(_sse({"type": "message_stop"}, "message_stop"))
        return await self._stream(request, events, 8 if model == "die-mid-stream" else None)

    # --- Vertex ---------------------------------------------------------------------------
    async def vertex(self, request: web.Request) -> web.StreamResponse:
        tail = request.match_info["rest"]
        model, _, action = tail.rpartition("/models/")[2].partition(":")
        if "/publishers/anthropic/" in request.path:
            return await self.messages(request)
        body = (await self.record(request)).json
        prompt = "".join(p.get("text", "") for p in body["contents"][-1]["parts"])
        if model == "tool":
            part: dict[str, Any] = {"functionCall": {"name": "send", "args": {"to": prompt}}}
        else:
            part = {"text": f"Echo: {prompt}"}
        if action == "generateContent":
            return web.json_response({"candidates": [{"index": 0, "content": {
                "role": "model", "parts": [part]}, "finishReason": "STOP"}],
                "modelVersion": model})
        pieces = [{"text": ch} for ch in part["text"]] if "text" in part else [part]
        events = [_sse({"candidates": [{"index": 0, "content": {"role": "model",
                                                                "parts": [piece]}}]})
                  for piece in pieces]
        events.append(_sse({"candidates": [{"index": 0, "content": {"role": "model",
                                                                    "parts": []},
                                            "finishReason": "STOP"}]}))
        return await self._stream(request, events)

    # --- Bedrock --------------------------------------------------------------------------
    async def bedrock(self, request: web.Request) -> web.StreamResponse:
        body = (await self.record(request)).json
        model, action = request.match_info["model"], request.match_info["action"]
        if "hostile-" in model:
            prompt = "".join(c.get("text", "") for c in body["messages"][-1]["content"])
            return await self._hostile_eventstream(request, model.partition("hostile-")[2],
                                                   prompt)
        if action.startswith("invoke"):
            prompt = _last_user_text(body["messages"])
            if action == "invoke":
                return web.json_response({
                    "id": "msg_1", "type": "message", "role": "assistant", "model": model,
                    "content": [{"type": "text", "text": f"Echo: {prompt}"}],
                    "stop_reason": "end_turn", "usage": {"input_tokens": 1,
                                                         "output_tokens": 1}})
            inner = [{"type": "message_start", "message": {
                "id": "msg_1", "type": "message", "role": "assistant", "content": [],
                "model": model, "stop_reason": None, "stop_sequence": None,
                "usage": {"input_tokens": 1, "output_tokens": 1}}},
                     {"type": "content_block_start", "index": 0,
                      "content_block": {"type": "text", "text": ""}}]
            inner += [{"type": "content_block_delta", "index": 0,
                       "delta": {"type": "text_delta", "text": ch}} for ch in f"Echo: {prompt}"]
            inner += [{"type": "content_block_stop", "index": 0},
                      {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                       "usage": {"output_tokens": 1}}, {"type": "message_stop"}]
            frames = [eventstream.event("chunk", json.dumps({"bytes": base64.b64encode(
                json.dumps(e).encode()).decode()}).encode()).encode() for e in inner]
            return await self._stream(request, frames, content_type=EVENTSTREAM)
        prompt = "".join(c.get("text", "") for c in body["messages"][-1]["content"])
        reply = f"Echo: {prompt}"
        tool = model.endswith("tool")
        if action == "converse":
            block: dict[str, Any] = {"toolUse": {"toolUseId": "t1", "name": "send",
                                                 "input": {"to": prompt}}} if tool \
                else {"text": reply}
            return web.json_response({"output": {"message": {"role": "assistant",
                                                              "content": [block]}},
                                      "stopReason": "tool_use" if tool else "end_turn",
                                      "usage": {"inputTokens": 1, "outputTokens": 1,
                                                "totalTokens": 2}, "metrics": {"latencyMs": 1}})
        events: list[tuple[str, dict[str, Any]]] = [("messageStart", {"role": "assistant"})]
        if tool:
            events.append(("contentBlockStart", {"contentBlockIndex": 0, "start": {
                "toolUse": {"toolUseId": "t1", "name": "send"}}}))
            events += [("contentBlockDelta", {"contentBlockIndex": 0, "delta": {
                "toolUse": {"input": ch}}}) for ch in json.dumps({"to": prompt})]
        else:
            events += [("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": ch}})
                       for ch in reply]
        events += [("contentBlockStop", {"contentBlockIndex": 0}),
                   ("messageStop", {"stopReason": "tool_use" if tool else "end_turn"}),
                   ("metadata", {"usage": {"inputTokens": 1, "outputTokens": 1,
                                           "totalTokens": 2}, "metrics": {"latencyMs": 1}})]
        frames = [eventstream.event(kind, json.dumps(data).encode()).encode()
                  for kind, data in events]
        return await self._stream(request, frames, 5 if "die" in model else None,
                                  EVENTSTREAM)

    # --- Hostile answers ------------------------------------------------------------------
    async def _flood(self, request: web.Request, content_type: str, piece: bytes,
                     head: bytes = b"", tail: bytes = b"") -> web.StreamResponse:
        """`piece` repeated to `hostile_bytes`, in 64 KB writes, between head and tail. Cheap
        for the shared event loop: the fake must not be what stalls it."""
        response = web.StreamResponse(headers={"Content-Type": content_type})
        await response.prepare(request)
        block = piece * max(1, 65_536 // len(piece))
        try:
            await response.write(head)
            for _ in range(self.provider.hostile_bytes // len(block) + 1):
                await response.write(block)
            await response.write(tail)
            await response.write_eof()
        except ConnectionError:
            pass  # the gateway gave up on this answer, as it should
        return response

    async def _hostile(self, request: web.Request, kind: str, prompt: str
                       ) -> web.StreamResponse:
        """A provider that attacks the gateway's answer path. SSE: `comments` (comment lines
        and never a blank line), `cr-comments` (the same with CR endings), `line` (one line
        that never ends), `tiny-events`, `blank-lines`, `wide-event` (one event of many small
        values), `deep-event`, `surrogate-stream` (a lone surrogate first), `big-event` (not
        hostile: one large delta). JSON:
        `many-strings`, `many-numbers`, `deep`, `long-string` (one string), `surrogate`,
        `nan`, `overflow` (1e999), `not-json`, `plain-big` (nothing to restore). Floods are
        `hostile_bytes` long, and `deep` answers `hostile_depth` levels deep."""
        sse, depth = "text/event-stream", self.provider.hostile_depth
        anthropic = request.path.endswith("/messages")
        reply = f"Echo: {prompt}"
        if kind == "comments":
            return await self._flood(request, sse, b": keep-alive\n")
        if kind == "cr-comments":
            return await self._flood(request, sse, b":\r")
        if kind == "line":
            return await self._flood(request, sse, b"x" * 1024, head=b"data: ")
        if kind == "tiny-events":
            return await self._flood(request, sse, b"data: {}\n\n", tail=b"data: [DONE]\n\n")
        if kind == "blank-lines":
            return await self._flood(request, sse, b"\n", tail=b"data: [DONE]\n\n")
        if kind == "wide-event":
            return await self._flood(request, sse, b'"a",' * 1024, head=b'data: ["<",',
                                     tail=b'"a"]\n\n')
        if kind == "deep-event":
            return await self._flood(request, sse, b"\n", head=b'data: ["<", ' + b"[" * depth
                                     + b"]" * depth + b"]\n\n")
        if kind == "big-event":  # not hostile: one large delta, ending with the reply
            deltas = ["a" * self.provider.hostile_bytes + reply, " and more"]
            return await self._stream(request, _text_events(deltas, anthropic))
        if kind == "surrogate-stream":
            return await self._stream(request, _text_events(["\ud800", *reply], anthropic))
        if kind == "many-strings":
            return await self._flood(request, "application/json", b'"a",' * 1024,
                                     head=b'{"note": "<", "items": [', tail=b'"a"]}')
        if kind == "many-numbers":
            return await self._flood(request, "application/json", b"1," * 1024,
                                     head=b'{"note": "<", "items": [', tail=b"1]}")
        if kind == "deep":
            return web.Response(body=b"[" * depth + b'"<"' + b"]" * depth,
                                content_type="application/json")
        if kind == "long-string":
            return await self._flood(request, "application/json", b"a" * 1024,
                                     head=b'{"text": "<', tail=b'"}')
        if kind == "not-json":
            return await self._flood(request, "application/json", b"<not json> " * 1024,
                                     head=f"{reply} ".encode())
        if kind == "plain-big":
            return await self._flood(request, "application/json", b'"plain",' * 1024,
                                     head=b'{"items": [', tail=b'"end"]}')
        extra: dict[str, Any] = {"surrogate": {}, "nan": {"score": float("nan"), "low":
                                                          float("-inf")},
                                 "overflow": {"score": 1.0}}[kind]
        text = "\ud800 " + reply if kind == "surrogate" else reply
        answer: dict[str, Any] = {
            "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}, **extra,
        } if anthropic else {
            "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop", "logprobs": None}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}, **extra}
        raw = json.dumps(answer)  # ensure_ascii: the surrogate goes out as \ud800
        if kind == "overflow":
            raw = raw.replace('"score": 1.0', '"score": 1e999')
        return web.Response(body=raw.encode(), content_type="application/json")

    async def _hostile_eventstream(self, request: web.Request, kind: str, prompt: str
                                   ) -> web.StreamResponse:
        """Bedrock ConverseStream attacks: `tiny` (many small messages), `big` (one message
        near the size limit, in small writes), `headers` (a message of many tiny headers),
        `surrogate` (a lone surrogate in the first text delta)."""
        if kind == "tiny":
            piece = eventstream.event("metadata", b"{}").encode()
            return await self._flood(request, EVENTSTREAM, piece)
        if kind == "big":
            payload = b'{"contentBlockIndex": 0, "delta": {"text": "' + \
                b"a" * self.provider.hostile_bytes + b'"}}'
            frame = eventstream.event("contentBlockDelta", payload).encode()
            response = web.StreamResponse(headers={"Content-Type": EVENTSTREAM})
            await response.prepare(request)
            try:
                for at in range(0, len(frame), 1024):
                    await response.write(frame[at:at + 1024])
                await response.write_eof()
            except ConnectionError:
                pass  # the gateway gave up on this answer
            return response
        if kind == "headers":
            headers = [eventstream.Header(":event-type", eventstream.STRING, b"metadata")]
            headers += [eventstream.Header("", 0, b"")] * 40_000  # 2 bytes each
            frame = eventstream.Message(headers, b"{}").encode()
            return await self._flood(request, EVENTSTREAM, frame)
        assert kind == "surrogate"
        events: list[tuple[str, dict[str, Any]]] = [("messageStart", {"role": "assistant"})]
        events += [("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": ch}})
                   for ch in ["\ud800", *f"Echo: {prompt}"]]
        events += [("contentBlockStop", {"contentBlockIndex": 0}),
                   ("messageStop", {"stopReason": "end_turn"})]
        frames = [eventstream.event(kind, json.dumps(data).encode()).encode()
                  for kind, data in events]
        return await self._stream(request, frames, content_type=EVENTSTREAM)

    async def anything(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.json_response({"ok": True})


async def start_fake_provider(ssl_context: ssl.SSLContext | None = None
                              ) -> tuple[FakeProvider, web.AppRunner]:
    provider = FakeProvider()
    handlers = _Handlers(provider)
    app = web.Application()
    app.router.add_post("/v1/chat/completions", handlers.chat)
    app.router.add_post("/openai/deployments/{deployment}/chat/completions", handlers.chat)
    app.router.add_post("/openai/v1/chat/completions", handlers.chat)
    app.router.add_post("/v1/embeddings", handlers.embeddings)
    app.router.add_get("/v1/models", handlers.models)
    app.router.add_post("/v1/messages", handlers.messages)
    app.router.add_post("/v1/projects/{rest:.*}", handlers.vertex)
    app.router.add_post("/model/{model}/{action}", handlers.bedrock)
    app.router.add_route("*", "/{tail:.*}", handlers.anything)
    runner, port = await start_site(app, "127.0.0.1", 0, ssl_context)
    provider.url = f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"
    provider.port = port
    return provider, runner
