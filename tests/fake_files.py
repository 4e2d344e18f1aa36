"""A fake OpenAI Files and Batch API: a real aiohttp server on 127.0.0.1, port 0.

It keeps files and batches the way OpenAI does (the file object, the batch object, the
batch output line; see openai/types/file_object.py and batch.py) and records every request,
so a test can check what left the gateway. A batch runs when it is first retrieved: its
output file holds, per input line, a chat.completion that echoes that line's last user
text as the provider saw it (tokens), under the line's custom_id.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, StreamReader, web
from aiohttp.base_protocol import BaseProtocol

from proxy.server import start_site
from tests.fake_provider import Received, receive


def _new_id(prefix: str) -> str:
    # Letters only: a run of nine digits in a random id would read as personal data.
    return prefix + "".join(secrets.choice(string.ascii_letters) for _ in range(24))


@dataclass
class StoredFile:
    meta: dict[str, Any]
    content: bytes


@dataclass
class FakeFiles:
    url: str = ""
    received: list[Received] = field(default_factory=list)
    files: dict[str, StoredFile] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)

    def all_text(self) -> str:
        """Everything the provider saw: paths, queries, headers and bodies."""
        return "\n".join(f"{r.method} {r.path}?{r.query} {r.headers} {r.text}"
                         for r in self.received)

    def uploads(self) -> list[StoredFile]:
        return [f for f in self.files.values() if not f.meta["purpose"].endswith("_output")]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "invalid_request_error",
                                        "param": None, "code": None}}, status=status)


def _echo_line(line: dict[str, Any]) -> dict[str, Any]:
    """One batch output line: the request's answer, as OpenAI writes it."""
    body = line["body"]
    if line["url"] == "/v1/embeddings":
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        answer: dict[str, Any] = {"object": "list", "model": body["model"], "data": [
            {"object": "embedding", "index": i, "embedding": [0.5]} for i in range(len(inputs))],
            "usage": {"prompt_tokens": 1, "total_tokens": 1}}
    else:
        prompt = next((m["content"] for m in reversed(body["messages"])
                       if m.get("role") == "user" and isinstance(m.get("content"), str)), "")
        answer = {"id": _new_id("chatcmpl-"), "object": "chat.completion",
                  "created": int(time.time()), "model": body["model"],
                  "choices": [{"index": 0, "message": {"role": "assistant",
                                                       "content": f"Echo: {prompt}"},
                               "finish_reason": "stop", "logprobs": None}],
                  "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
    return {"id": _new_id("batch_req_"), "custom_id": line["custom_id"],
            "response": {"status_code": 200, "request_id": _new_id("req_"), "body": answer},
            "error": None}


async def _form_fields(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """A form's fields by name: (file name, bytes), read in memory (no temporary files)."""
    fields = {}
    async for part in MultipartReader({"Content-Type": content_type}, _stream(body)):
        assert isinstance(part, BodyPartReader) and part.name
        fields[part.name] = (part.filename, bytes(await part.read()))
    return fields


def _stream(body: bytes) -> StreamReader:
    loop = asyncio.get_running_loop()
    stream = StreamReader(BaseProtocol(loop), 2 * len(body) + 65_536, loop=loop)
    stream.feed_data(body)
    stream.feed_eof()
    return stream


class _Handlers:
    def __init__(self, fake: FakeFiles) -> None:
        self.fake = fake

    async def _record(self, request: web.Request) -> bytes:
        received = await receive(request)
        self.fake.received.append(received)
        return received.body

    def _store(self, purpose: str, filename: str, content: bytes) -> dict[str, Any]:
        meta: dict[str, Any] = {"id": _new_id("file-"), "object": "file", "bytes": len(content),
                                "created_at": int(time.time()), "filename": filename,
                                "purpose": purpose, "status": "processed", "expires_at": None,
                                "status_details": None}
        self.fake.files[meta["id"]] = StoredFile(meta, content)
        return meta

    async def upload(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        fields = await _form_fields(request.headers["Content-Type"], body)
        if "file" not in fields or "purpose" not in fields:
            return _error(400, "file and purpose are required")
        filename, content = fields["file"]
        return web.json_response(self._store(fields["purpose"][1].decode(), filename or "",
                                             content))

    def _file(self, request: web.Request) -> StoredFile:
        stored = self.fake.files.get(request.match_info["id"])
        if stored is None:
            raise web.HTTPNotFound()
        return stored

    async def list_files(self, request: web.Request) -> web.Response:
        await self._record(request)
        purpose = request.query.get("purpose")
        data = [f.meta for f in self.fake.files.values()
                if purpose is None or f.meta["purpose"] == purpose]
        return web.json_response({"object": "list", "data": data, "has_more": False,
                                  "first_id": data[0]["id"] if data else None,
                                  "last_id": data[-1]["id"] if data else None})

    async def retrieve_file(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.json_response(self._file(request).meta)

    async def delete_file(self, request: web.Request) -> web.Response:
        await self._record(request)
        stored = self._file(request)
        del self.fake.files[stored.meta["id"]]
        return web.json_response({"id": stored.meta["id"], "object": "file", "deleted": True})

    async def file_content(self, request: web.Request) -> web.Response:
        await self._record(request)
        # OpenAI sends a file's bytes untyped, whatever they hold.
        return web.Response(body=self._file(request).content,
                            content_type="application/octet-stream")

    async def create_batch(self, request: web.Request) -> web.Response:
        body = json.loads(await self._record(request))
        stored = self.fake.files.get(body["input_file_id"])
        if stored is None or stored.meta["purpose"] != "batch":
            return _error(400, "input_file_id must name a file uploaded for batch")
        total = len(stored.content.splitlines())
        batch = {"id": _new_id("batch_"), "object": "batch", "endpoint": body["endpoint"],
                 "errors": None, "input_file_id": body["input_file_id"],
                 "completion_window": body["completion_window"], "status": "validating",
                 "output_file_id": None, "error_file_id": None,
                 "created_at": int(time.time()), "in_progress_at": None,
                 "expires_at": int(time.time()) + 86400, "finalizing_at": None,
                 "completed_at": None, "failed_at": None, "expired_at": None,
                 "cancelling_at": None, "cancelled_at": None,
                 "request_counts": {"total": total, "completed": 0, "failed": 0},
                 "metadata": body.get("metadata")}
        self.fake.batches[batch["id"]] = batch
        return web.json_response(batch)

    def _batch(self, request: web.Request) -> dict[str, Any]:
        batch = self.fake.batches.get(request.match_info["id"])
        if batch is None:
            raise web.HTTPNotFound()
        return batch

    async def retrieve_batch(self, request: web.Request) -> web.Response:
        await self._record(request)
        batch = self._batch(request)
        if batch["status"] == "validating":  # it runs now, all at once
            lines = self.fake.files[batch["input_file_id"]].content.decode().splitlines()
            output = "".join(json.dumps(_echo_line(json.loads(line))) + "\n"
                             for line in lines if line.strip())
            meta = self._store("batch_output", "batch_output.jsonl", output.encode())
            now = int(time.time())
            batch.update(status="completed", output_file_id=meta["id"], in_progress_at=now,
                         finalizing_at=now, completed_at=now)
            batch["request_counts"] = {"total": len(lines), "completed": len(lines),
                                       "failed": 0}
        return web.json_response(batch)

    async def list_batches(self, request: web.Request) -> web.Response:
        await self._record(request)
        data = list(self.fake.batches.values())
        return web.json_response({"object": "list", "data": data, "has_more": False,
                                  "first_id": data[0]["id"] if data else None,
                                  "last_id": data[-1]["id"] if data else None})

    async def cancel_batch(self, request: web.Request) -> web.Response:
        await self._record(request)
        batch = self._batch(request)
        batch.update(status="cancelling", cancelling_at=int(time.time()))
        return web.json_response(batch)


async def start_fake_files() -> tuple[FakeFiles, web.AppRunner]:
    fake = FakeFiles()
    handlers = _Handlers(fake)
    app = web.Application()
    for prefix in ("/v1", "/openai"):  # OpenAI's paths, and Azure's (`?api-version=`)
        app.router.add_post(prefix + "/files", handlers.upload)
        app.router.add_get(prefix + "/files", handlers.list_files)
        app.router.add_get(prefix + "/files/{id}", handlers.retrieve_file)
        app.router.add_delete(prefix + "/files/{id}", handlers.delete_file)
        app.router.add_get(prefix + "/files/{id}/content", handlers.file_content)
        app.router.add_post(prefix + "/batches", handlers.create_batch)
        app.router.add_get(prefix + "/batches", handlers.list_batches)
        app.router.add_get(prefix + "/batches/{id}", handlers.retrieve_batch)
        app.router.add_post(prefix + "/batches/{id}/cancel", handlers.cancel_batch)
    runner, port = await start_site(app, "127.0.0.1", 0)
    fake.url = f"http://127.0.0.1:{port}"
    return fake, runner
