"""A fake OpenAI Responses and Conversations API: a real aiohttp server on 127.0.0.1, port 0.

It keeps state the way OpenAI does: a response is stored with its input items unless the
request says `store: false`; `previous_response_id` puts the earlier input and output in
context, and so does `conversation` (whose items the response then extends). It answers by
echoing the last user text as it saw it (tokens, through the gateway), and:

    with `tools`, unless the last input is a function_call_output: a function_call whose
      arguments are {"to": <last user text>}
    after a function_call_output: "Tool said: <output>"
    with text.format json_schema: a JSON object, every string property the last user text
    with `reasoning`: first a reasoning item (a summary quoting the text, and an
      `encrypted_content` blob in OpenAI's URL-safe base64)
    with earlier context: the text ends " | Earlier: <the first user text in context>"
    model `opaque-echo`: the reasoning item's encrypted_content is the user text itself
      (nothing a real provider would send; it shows what the gateway restores there)
    model `die-mid-stream`: a stream that breaks off after a few events

Streams follow the documented event sequence (created, in_progress, output_item.added,
content_part.added, one-character deltas, done events, completed), numbered from 0.
Routes are served under both /v1 and Azure's /openai/v1.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from proxy.server import start_site
from tests.fake_provider import Received, receive

Json = Any


def new_id(prefix: str) -> str:
    """Letters only: a long run of digits in a path segment is refused by the gateway (see
    the report on real OpenAI ids, which are hex)."""
    return prefix + "_" + "".join(secrets.choice(string.ascii_letters) for _ in range(24))


def encrypted_blob() -> str:
    """Random bytes in URL-safe base64, as OpenAI's encrypted_content is, with - and _ in it."""
    while True:
        blob = base64.urlsafe_b64encode(b"\x80" + secrets.token_bytes(95)).decode()
        if "-" in blob and "_" in blob:
            return blob


@dataclass
class FakeResponses:
    url: str = ""
    received: list[Received] = field(default_factory=list)
    responses: dict[str, dict[str, Any]] = field(default_factory=dict)
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_blob: str = ""  # the last reasoning item's encrypted_content it sent

    def all_text(self) -> str:
        """Everything the provider saw: paths, headers and bodies."""
        return "\n".join(f"{r.method} {r.path}?{r.query} {r.headers} {r.text}"
                         for r in self.received)

    def bodies(self, path_end: str = "/responses") -> list[Json]:
        return [r.json for r in self.received if r.method == "POST" and r.path.endswith(path_end)]


def _items(value: Json) -> list[dict[str, Any]]:
    """`input` as a list of items, each with an id as OpenAI stores them."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [{"type": "message", "role": "user", "content": value}]
    items = []
    for item in value:
        item = dict(item)
        if item.get("role") and "type" not in item:
            item["type"] = "message"
        if item.get("type") == "message" and isinstance(item.get("content"), str):
            part = "output_text" if item.get("role") == "assistant" else "input_text"
            item["content"] = [{"type": part, "text": item["content"]}]
        item.setdefault("id", new_id("msg" if item.get("type") == "message" else "item"))
        items.append(item)
    return items


def _user_text(item: dict[str, Any]) -> str | None:
    if item.get("type") != "message" or item.get("role") != "user":
        return None
    return "".join(p.get("text", "") for p in item.get("content", []) if isinstance(p, dict))


def _from_schema(schema: dict[str, Any], text: str) -> Json:
    kind = schema.get("type")
    if kind == "object":
        return {name: _from_schema(sub, text)
                for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [_from_schema(schema.get("items") or {}, text)]
    if kind in ("integer", "number"):
        return 0
    if kind == "boolean":
        return False
    return text


def _message(text: str) -> dict[str, Any]:
    return {"type": "message", "id": new_id("msg"), "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": [],
                         "logprobs": []}]}


class _Handlers:
    def __init__(self, fake: FakeResponses) -> None:
        self.fake = fake

    async def record(self, request: web.Request) -> Received:
        received = await receive(request)
        self.fake.received.append(received)
        return received

    # --- Responses ------------------------------------------------------------------------
    def _context(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        previous = body.get("previous_response_id")
        if previous:
            return list(self.fake.responses[previous]["context"])
        conversation = body.get("conversation")
        if isinstance(conversation, dict):
            conversation = conversation.get("id")
        if conversation:
            return list(self.fake.conversations[conversation]["items"])
        return []

    def _output(self, body: dict[str, Any], context: list[dict[str, Any]],
                items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        everything = context + items
        texts = [t for t in map(_user_text, everything) if t is not None]
        last = texts[-1] if texts else ""
        output: list[dict[str, Any]] = []
        if body.get("reasoning") is not None:
            blob = last if body.get("model") == "opaque-echo" else encrypted_blob()
            self.fake.last_blob = blob
            output.append({"type": "reasoning", "id": new_id("rs"), "encrypted_content": blob,
                           "summary": [{"type": "summary_text", "text": f"Thinking: {last}"}]})
        tools = [t for t in body.get("tools") or [] if t.get("type") == "function"]
        last_item = everything[-1] if everything else {}
        text_format = (body.get("text") or {}).get("format") or {}
        if last_item.get("type") == "function_call_output":
            output.append(_message(f"Tool said: {last_item.get('output')}"))
        elif tools:
            output.append({"type": "function_call", "id": new_id("fc"),
                           "call_id": new_id("call"), "name": tools[0]["name"],
                           "arguments": json.dumps({"to": last}), "status": "completed"})
        elif text_format.get("type") == "json_schema":
            output.append(_message(json.dumps(_from_schema(text_format["schema"], last))))
        else:
            earlier = [t for t in map(_user_text, context) if t is not None]
            reply = f"Echo: {last}" + (f" | Earlier: {earlier[0]}" if earlier else "")
            output.append(_message(reply))
        return output

    def _response(self, body: dict[str, Any], output: list[dict[str, Any]], status: str,
                  response_id: str) -> dict[str, Any]:
        conversation = body.get("conversation")
        if isinstance(conversation, str):
            conversation = {"id": conversation}
        return {
            "id": response_id, "object": "response", "created_at": int(time.time()),
            "status": status, "model": body.get("model", "m"), "output": output,
            "error": None, "incomplete_details": None, "instructions": body.get("instructions"),
            "metadata": body.get("metadata") or {}, "parallel_tool_calls": True,
            "temperature": 1.0, "top_p": 1.0, "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools") or [], "text": body.get("text") or {
                "format": {"type": "text"}},
            "previous_response_id": body.get("previous_response_id"),
            "conversation": conversation, "reasoning": body.get("reasoning"),
            "store": body.get("store", True), "truncation": "disabled",
            "usage": {"input_tokens": 1, "input_tokens_details": {"cached_tokens": 0},
                      "output_tokens": 1, "output_tokens_details": {"reasoning_tokens": 0},
                      "total_tokens": 2}}

    async def create(self, request: web.Request) -> web.StreamResponse:
        body = (await self.record(request)).json
        context = self._context(body)
        items = _items(body.get("input"))
        output = self._output(body, context, items)
        response = self._response(body, output, "completed", new_id("resp"))
        if body.get("store", True) is not False:
            self.fake.responses[response["id"]] = {
                "response": response, "input_items": items, "context": context + items + output}
        conversation = response["conversation"]
        if conversation:
            self.fake.conversations[conversation["id"]]["items"] += items + output
        if not body.get("stream"):
            return web.json_response(response)
        return await self._stream(request, body, response)

    async def _stream(self, request: web.Request, body: dict[str, Any],
                      response: dict[str, Any]) -> web.StreamResponse:
        events: list[dict[str, Any]] = []

        def emit(kind: str, **fields: Any) -> None:
            events.append({"type": kind, "sequence_number": len(events), **fields})

        started = {**response, "status": "in_progress", "output": [], "usage": None}
        emit("response.created", response=started)
        emit("response.in_progress", response=started)
        for index, item in enumerate(response["output"]):
            at = {"item_id": item["id"], "output_index": index}
            if item["type"] == "message":
                emit("response.output_item.added", output_index=index,
                     item={**item, "status": "in_progress", "content": []})
                part = item["content"][0]
                emit("response.content_part.added", **at, content_index=0,
                     part={**part, "text": ""})
                for ch in part["text"]:
                    emit("response.output_text.delta", **at, content_index=0, delta=ch,
                         logprobs=[])
                emit("response.output_text.done", **at, content_index=0, text=part["text"],
                     logprobs=[])
                emit("response.content_part.done", **at, content_index=0, part=part)
            elif item["type"] == "function_call":
                emit("response.output_item.added", output_index=index,
                     item={**item, "status": "in_progress", "arguments": ""})
                for ch in item["arguments"]:
                    emit("response.function_call_arguments.delta", **at, delta=ch)
                emit("response.function_call_arguments.done", **at,
                     arguments=item["arguments"])
            elif item["type"] == "reasoning":
                emit("response.output_item.added", output_index=index,
                     item={**item, "summary": []})
                summary = item["summary"][0]
                emit("response.reasoning_summary_part.added", **at, summary_index=0,
                     part={**summary, "text": ""})
                for ch in summary["text"]:
                    emit("response.reasoning_summary_text.delta", **at, summary_index=0,
                         delta=ch)
                emit("response.reasoning_summary_text.done", **at, summary_index=0,
                     text=summary["text"])
                emit("response.reasoning_summary_part.done", **at, summary_index=0,
                     part=summary)
            emit("response.output_item.done", output_index=index, item=item)
        emit("response.completed", response=response)
        stream = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await stream.prepare(request)
        for number, event in enumerate(events):
            if body.get("model") == "die-mid-stream" and number == 12:
                assert request.transport is not None
                request.transport.close()
                return stream
            raw = f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
            await stream.write(raw[:9])  # each event split across writes
            await stream.write(raw[9:])
        await stream.write_eof()
        return stream

    def _stored(self, request: web.Request) -> dict[str, Any]:
        stored = self.fake.responses.get(request.match_info["response_id"])
        if stored is None:
            raise web.HTTPNotFound(text=json.dumps({"error": {
                "message": "No response found", "type": "invalid_request_error",
                "param": None, "code": None}}), content_type="application/json")
        return stored

    async def retrieve(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.json_response(self._stored(request)["response"])

    async def input_items(self, request: web.Request) -> web.Response:
        await self.record(request)
        items = list(self._stored(request)["input_items"])
        if request.query.get("order", "desc") == "desc":
            items.reverse()
        return web.json_response(_page(items))

    async def delete(self, request: web.Request) -> web.Response:
        await self.record(request)
        self._stored(request)
        del self.fake.responses[request.match_info["response_id"]]
        return web.json_response({"id": request.match_info["response_id"],
                                  "object": "response.deleted", "deleted": True})

    async def cancel(self, request: web.Request) -> web.Response:
        await self.record(request)
        stored = self._stored(request)
        stored["response"]["status"] = "cancelled"
        return web.json_response(stored["response"])

    async def input_tokens(self, request: web.Request) -> web.Response:
        body = (await self.record(request)).json
        count = len(json.dumps(body.get("input"))) // 4
        return web.json_response({"object": "response.input_tokens", "input_tokens": count})

    # --- Conversations --------------------------------------------------------------------
    def _conversation(self, request: web.Request) -> dict[str, Any]:
        conversation = self.fake.conversations.get(request.match_info["conversation_id"])
        if conversation is None:
            raise web.HTTPNotFound(text=json.dumps({"error": {
                "message": "Conversation not found", "type": "invalid_request_error",
                "param": None, "code": None}}), content_type="application/json")
        return conversation

    async def conversation_create(self, request: web.Request) -> web.Response:
        body = (await self.record(request)).json
        conversation: dict[str, Any] = {
            "id": new_id("conv"), "object": "conversation", "created_at": int(time.time()),
            "metadata": body.get("metadata") or {}}
        self.fake.conversations[conversation["id"]] = {
            "conversation": conversation, "items": _items(body.get("items"))}
        return web.json_response(conversation)

    async def conversation_retrieve(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.json_response(self._conversation(request)["conversation"])

    async def conversation_update(self, request: web.Request) -> web.Response:
        body = (await self.record(request)).json
        conversation = self._conversation(request)["conversation"]
        conversation["metadata"] = body.get("metadata") or {}
        return web.json_response(conversation)

    async def conversation_delete(self, request: web.Request) -> web.Response:
        await self.record(request)
        self._conversation(request)
        del self.fake.conversations[request.match_info["conversation_id"]]
        return web.json_response({"id": request.match_info["conversation_id"],
                                  "object": "conversation.deleted", "deleted": True})

    async def items_create(self, request: web.Request) -> web.Response:
        body = (await self.record(request)).json
        added = _items(body.get("items"))
        self._conversation(request)["items"] += added
        return web.json_response(_page(added))

    async def items_list(self, request: web.Request) -> web.Response:
        await self.record(request)
        items = list(self._conversation(request)["items"])
        if request.query.get("order", "desc") == "desc":
            items.reverse()
        return web.json_response(_page(items))

    def _item(self, request: web.Request) -> dict[str, Any]:
        for item in self._conversation(request)["items"]:
            if item["id"] == request.match_info["item_id"]:
                return item  # type: ignore[no-any-return]
        raise web.HTTPNotFound(text=json.dumps({"error": {"message": "Item not found"}}),
                               content_type="application/json")

    async def item_retrieve(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.json_response(self._item(request))

    async def item_delete(self, request: web.Request) -> web.Response:
        await self.record(request)
        item = self._item(request)
        conversation = self._conversation(request)
        conversation["items"].remove(item)
        return web.json_response(conversation["conversation"])

    async def anything(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.json_response({"ok": True})


def _page(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "list", "data": items, "has_more": False,
            "first_id": items[0]["id"] if items else None,
            "last_id": items[-1]["id"] if items else None}


async def start_fake_responses() -> tuple[FakeResponses, web.AppRunner]:
    fake = FakeResponses()
    h = _Handlers(fake)
    app = web.Application()
    one, conv = "/responses/{response_id}", "/conversations/{conversation_id}"
    for prefix in ("/v1", "/openai/v1", "/openai"):  # OpenAI, Azure v1, Azure classic
        app.router.add_post(prefix + "/responses", h.create)
        app.router.add_post(prefix + "/responses/input_tokens", h.input_tokens)
        app.router.add_get(prefix + one, h.retrieve)
        app.router.add_get(prefix + one + "/input_items", h.input_items)
        app.router.add_delete(prefix + one, h.delete)
        app.router.add_post(prefix + one + "/cancel", h.cancel)
        app.router.add_post(prefix + "/conversations", h.conversation_create)
        app.router.add_get(prefix + conv, h.conversation_retrieve)
        app.router.add_post(prefix + conv, h.conversation_update)
        app.router.add_delete(prefix + conv, h.conversation_delete)
        app.router.add_post(prefix + conv + "/items", h.items_create)
        app.router.add_get(prefix + conv + "/items", h.items_list)
        app.router.add_get(prefix + conv + "/items/{item_id}", h.item_retrieve)
        app.router.add_delete(prefix + conv + "/items/{item_id}", h.item_delete)
    app.router.add_route("*", "/{tail:.*}", h.anything)
    runner, port = await start_site(app, "127.0.0.1", 0)
    fake.url = f"http://127.0.0.1:{port}"
    return fake, runner
