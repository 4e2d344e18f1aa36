"""A fake Anthropic API that keeps state, as Anthropic does: a real aiohttp server on
127.0.0.1, port 0. It records every request, so a test can check what left the gateway.

- Messages (`POST /v1/messages`, plain or streamed in one-character deltas, with the
  documented event sequence). The answer echoes the last user text, and from the second
  turn of a conversation on also quotes its first user text, as the provider saw it.
- Message threads (`thread: {"type": "create"}` or `{"type": "continue",
  "previous_message_id"}`, beta `message-threads-2026-08-12`): a thread remembers the
  conversation as the provider saw it (tokens), with the tools and system it was created
  with, under each reply's id; a continue sends only the new turn.
- Tool use: when the request (or its thread) has tools and the last user message is text,
  the answer is a `tool_use` of the first tool whose input quotes that text; after a
  `tool_result`, a text answer quoting the result and the first user text.
- Message Batches: create stores the requests; retrieve says `ended` with an absolute
  `results_url` on this server; the results are JSONL of `succeeded` results whose message
  echoes each request's last user text; list, cancel and delete answer in their shapes.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from proxy.server import start_site
from tests.fake_provider import Received, receive

THREADS_BETA = "message-threads-2026-08-12"
_LETTERS = string.ascii_letters


def new_id(prefix: str) -> str:
    """Letters only: random digits could run to nine, the shape of personal data."""
    return prefix + "".join(secrets.choice(_LETTERS) for _ in range(24))


@dataclass
class Thread:
    """What the provider holds for a thread: the conversation as it saw it."""

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    system: Any = None


@dataclass
class Batch:
    id: str
    requests: list[dict[str, Any]]
    created_at: str = "2026-09-01T10:00:00.000000Z"
    canceled: bool = False


@dataclass
class FakeAnthropic:
    url: str = ""
    received: list[Received] = field(default_factory=list)
    threads: dict[str, Thread] = field(default_factory=dict)   # reply id -> thread
    batches: dict[str, Batch] = field(default_factory=dict)

    def all_text(self) -> str:
        """Everything the provider saw: paths, queries, headers and bodies."""
        return "\n".join(f"{r.method} {r.path}?{r.query} {r.headers} {r.text}"
                         for r in self.received)

    def bodies(self, path: str) -> list[Any]:
        return [r.json for r in self.received if r.path == path and r.body]


def _error(status: int, kind: str, message: str, **details: Any) -> web.Response:
    error: dict[str, Any] = {"type": kind, "message": message}
    if details:
        error["details"] = details
    return web.json_response({"type": "error", "error": error}, status=status)


def _texts(content: Any, block_type: str = "text") -> str:
    if isinstance(content, str):
        return content if block_type == "text" else ""
    out = []
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict) or block.get("type") != block_type:
            continue
        if block_type == "text":
            out.append(str(block.get("text", "")))
        else:
            out.append(_texts(block.get("content", "")))
    return "".join(out)


def _user_texts(messages: list[dict[str, Any]]) -> list[str]:
    return [t for m in messages if m.get("role") == "user" and (t := _texts(m.get("content")))]


def reply_content(messages: list[dict[str, Any]], tools: list[dict[str, Any]]
                  ) -> tuple[list[dict[str, Any]], str]:
    """The answer's content blocks and stop reason, for the whole conversation."""
    last = messages[-1] if messages else {"role": "user", "content": ""}
    said = _user_texts(messages)
    first = said[0] if said else ""
    result = _texts(last.get("content"), "tool_result")
    if result:
        return [{"type": "text", "text": f"Done: {result}. You first asked: {first}"}], "end_turn"
    prompt = _texts(last.get("content"))
    if tools:
        return [{"type": "tool_use", "id": new_id("toolu_"), "name": tools[0]["name"],
                 "input": {"to": prompt}}], "tool_use"
    text = f"Echo: {prompt}" + (f" (earlier: {first})" if len(said) > 1 else "")
    return [{"type": "text", "text": text}], "end_turn"


def _message(content: list[dict[str, Any]], stop_reason: str, model: str) -> dict[str, Any]:
    return {"id": new_id("msg_"), "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": stop_reason, "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 5}}


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def stream_events(message: dict[str, Any]) -> list[bytes]:
    """The documented sequence: message_start, per block content_block_start, deltas of one
    character, content_block_stop; then message_delta and message_stop (a ping after the
    start, as Anthropic sends)."""
    start = {**message, "content": [], "stop_reason": None,
             "usage": {"input_tokens": 10, "output_tokens": 1}}
    events = [_sse("message_start", {"type": "message_start", "message": start}),
              _sse("ping", {"type": "ping"})]
    for index, block in enumerate(message["content"]):
        if block["type"] == "tool_use":
            opening = {**block, "input": {}}
            pieces = [{"type": "input_json_delta", "partial_json": ch}
                      for ch in json.dumps(block["input"])]
        else:
            opening = {"type": "text", "text": ""}
            pieces = [{"type": "text_delta", "text": ch} for ch in block["text"]]
        events.append(_sse("content_block_start", {"type": "content_block_start",
                                                   "index": index, "content_block": opening}))
        events += [_sse("content_block_delta", {"type": "content_block_delta", "index": index,
                                                "delta": piece}) for piece in pieces]
        events.append(_sse("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(_sse("message_delta", {
        "type": "message_delta", "delta": {"stop_reason": message["stop_reason"],
                                           "stop_sequence": None},
        "usage": {"output_tokens": 5}}))
    events.append(_sse("message_stop", {"type": "message_stop"}))
    return events


def _batch_json(provider: FakeAnthropic, batch: Batch, ended: bool) -> dict[str, Any]:
    count = len(batch.requests)
    status = "canceling" if batch.canceled and not ended else "ended" if ended else "in_progress"
    return {
        "id": batch.id, "type": "message_batch", "processing_status": status,
        "request_counts": {"processing": 0 if ended else count,
                           "succeeded": count if ended else 0,
                           "errored": 0, "canceled": 0, "expired": 0},
        "created_at": batch.created_at, "expires_at": "2026-09-02T10:00:00.000000Z",
        "ended_at": "2026-09-01T10:05:00.000000Z" if ended else None,
        "cancel_initiated_at": "2026-09-01T10:01:00.000000Z" if batch.canceled else None,
        "archived_at": None,
        "results_url": f"{provider.url}/v1/messages/batches/{batch.id}/results"
        if ended else None,
    }


class _Handlers:
    def __init__(self, provider: FakeAnthropic) -> None:
        self.provider = provider

    async def record(self, request: web.Request) -> Received:
        received = await receive(request)
        self.provider.received.append(received)
        return received

    async def messages(self, request: web.Request) -> web.StreamResponse:
        body = (await self.record(request)).json
        thread, tools, messages = body.get("thread"), body.get("tools") or [], body["messages"]
        if thread is not None:
            if THREADS_BETA not in request.headers.get("anthropic-beta", ""):
                return _error(400, "invalid_request_error",
                              f"thread requires the {THREADS_BETA} beta")
            if thread.get("type") == "continue":
                held = self.provider.threads.get(thread.get("previous_message_id", ""))
                if held is None:
                    return _error(404, "not_found_error", "thread not found",
                                  error_code="thread_not_found")
                if "tools" in body or "system" in body:
                    return _error(400, "invalid_request_error",
                                  "system and tools are set when a thread is created")
                messages, tools = [*held.messages, *messages], held.tools
        content, stop_reason = reply_content(messages, tools)
        message = _message(content, stop_reason, body.get("model", "m"))
        if thread is not None:
            self.provider.threads[message["id"]] = Thread(
                [*messages, {"role": "assistant", "content": content}], tools,
                body.get("system"))
        if not body.get("stream"):
            return web.json_response(message)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for event in stream_events(message):
            await response.write(event)
            await asyncio.sleep(0)
        await response.write_eof()
        return response

    async def create_batch(self, request: web.Request) -> web.Response:
        body = (await self.record(request)).json
        batch = Batch(new_id("msgbatch_"), body["requests"])
        self.provider.batches[batch.id] = batch
        return web.json_response(_batch_json(self.provider, batch, ended=False))

    async def list_batches(self, request: web.Request) -> web.Response:
        await self.record(request)
        data = [_batch_json(self.provider, b, ended=True)
                for b in self.provider.batches.values()]
        return web.json_response({"data": data, "has_more": False,
                                  "first_id": data[0]["id"] if data else None,
                                  "last_id": data[-1]["id"] if data else None})

    def _batch(self, request: web.Request) -> Batch:
        batch = self.provider.batches.get(request.match_info["id"])
        if batch is None:
            raise web.HTTPNotFound(text=json.dumps({"type": "error", "error": {
                "type": "not_found_error", "message": "batch not found"}}),
                content_type="application/json")
        return batch

    async def retrieve_batch(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.json_response(_batch_json(self.provider, self._batch(request), ended=True))

    async def cancel_batch(self, request: web.Request) -> web.Response:
        await self.record(request)
        batch = self._batch(request)
        batch.canceled = True
        return web.json_response(_batch_json(self.provider, batch, ended=False))

    async def delete_batch(self, request: web.Request) -> web.Response:
        await self.record(request)
        batch = self.provider.batches.pop(self._batch(request).id)
        return web.json_response({"id": batch.id, "type": "message_batch_deleted"})

    async def batch_results(self, request: web.Request) -> web.Response:
        await self.record(request)
        lines = []
        for item in self._batch(request).requests:
            params = item["params"]
            content, stop_reason = reply_content(params["messages"], params.get("tools") or [])
            lines.append(json.dumps({"custom_id": item["custom_id"], "result": {
                "type": "succeeded",
                "message": _message(content, stop_reason, params.get("model", "m"))}}))
        return web.Response(body=("\n".join(lines) + "\n").encode(),
                            headers={"Content-Type": "application/x-jsonl"})


async def start_fake_anthropic() -> tuple[FakeAnthropic, web.AppRunner]:
    provider = FakeAnthropic()
    handlers = _Handlers(provider)
    app = web.Application()
    app.router.add_post("/v1/messages", handlers.messages)
    app.router.add_post("/v1/messages/batches", handlers.create_batch)
    app.router.add_get("/v1/messages/batches", handlers.list_batches)
    app.router.add_get("/v1/messages/batches/{id}", handlers.retrieve_batch)
    app.router.add_delete("/v1/messages/batches/{id}", handlers.delete_batch)
    app.router.add_post("/v1/messages/batches/{id}/cancel", handlers.cancel_batch)
    app.router.add_get("/v1/messages/batches/{id}/results", handlers.batch_results)
    runner, port = await start_site(app, "127.0.0.1", 0)
    provider.url = f"http://127.0.0.1:{port}"
    return provider, runner
