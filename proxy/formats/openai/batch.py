"""An OpenAI Batch input file: JSON Lines, each line one request the provider runs later.

    {"custom_id": "request-1", "method": "POST", "url": "/v1/chat/completions", "body": {...}}

Each line's `body` is inspected by the rules of the endpoint its `url` names, exactly as the
same request sent directly would be; a `url` the gateway does not inspect refuses the whole
upload. `custom_id` is the client's own string and comes back in the output file, so it is
inspected as text (all of a file's ids in one call); the output file's tokens are restored
on the way back like any answer's. Errors name the line, never its content.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from ...errors import BadRequest, Blocked, PayloadTooLarge, Refused
from ...offload import off_loop_if
from ..base import ApiFormat, Endpoint, InspectsBodies, Json
from ..extraction import NotJson, loads_strict
from .documents import INLINE_BYTES, inspect_documents

# What OpenAI runs in a batch and the gateway inspects (images are not inspected).
BATCH_URLS = frozenset({"/v1/chat/completions", "/v1/embeddings", "/v1/completions",
                        "/v1/responses", "/v1/moderations"})
MAX_LINES = 50_000  # OpenAI's own limit on requests in one batch
_AT_ONCE = 8        # lines in detection at once
_KEYS = frozenset({"custom_id", "method", "url", "body"})


@dataclass
class _Line:
    number: int          # 1-based, as an editor shows it
    custom_id: str
    url: str
    endpoint: Endpoint
    body: bytes          # the request body, serialized again from what was parsed


async def inspect_batch_file(inspect: InspectsBodies, fmt: ApiFormat, text: str) -> bytes:
    """The batch file with every request inspected, one line per request."""
    lines = await off_loop_if(len(text) > INLINE_BYTES, _parse_lines, fmt, text)
    ids = await inspect_documents(inspect, fmt, [line.custom_id for line in lines],
                                  sum(len(line.custom_id) for line in lines))
    for line, custom_id in zip(lines, ids, strict=True):
        if not isinstance(custom_id, str):
            raise BadRequest(f"line {line.number} of the batch file: custom_id must be a "
                             "string")
    # Lines are inspected a few at a time, so both detection workers stay busy; they share
    # the request's tokens, as the messages of one conversation do.
    gate = asyncio.Semaphore(_AT_ONCE)

    async def inspected(line: _Line, custom_id: str) -> bytes:
        async with gate:
            try:
                body = await _inspect_body(inspect, fmt, line)
            except (BadRequest, Refused, Blocked, PayloadTooLarge) as exc:
                raise type(exc)(f"line {line.number} of the batch file: {exc.message}") from exc
        # The inspected body goes in as it came back, spliced after the other keys (their
        # object without its closing brace), not parsed again.
        head = json.dumps({"custom_id": custom_id, "method": "POST", "url": line.url},
                          ensure_ascii=False, separators=(",", ":"))[:-1]
        return head.encode("utf-8", "backslashreplace") + b',"body":' + body + b"}\n"

    try:  # the first refusal cancels the lines still being inspected
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(inspected(line, custom_id))
                     for line, custom_id in zip(lines, ids, strict=True)]
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return b"".join(task.result() for task in tasks)


async def _inspect_body(inspect: InspectsBodies, fmt: ApiFormat, line: _Line) -> bytes:
    """A line's body, inspected as the same request sent directly would be: by its
    endpoint's handler when it has one (token ids), else as the endpoint's JSON."""
    handler = line.endpoint.handler
    if handler is None:
        return await inspect.json_body(fmt, line.endpoint, line.body)
    sent = await handler.inspect(line.body, "application/json", inspect)
    if sent.content_type != "application/json":
        raise Refused("a batch request's body must stay one JSON document")
    return sent.body


def _endpoint_of(fmt: ApiFormat, url: object) -> Endpoint | None:
    """The endpoint a line's `url` names: OpenAI writes `/v1/chat/completions`, Azure
    `/chat/completions` (its route serves it as `/openai/v1/chat/completions`)."""
    if not isinstance(url, str):
        return None
    path = url if url.startswith("/v1/") else "/v1" + url
    if path not in BATCH_URLS:
        return None
    return fmt.endpoint("POST", path) or fmt.endpoint("POST", "/openai" + path)


def _parse_lines(fmt: ApiFormat, text: str) -> list[_Line]:
    lines: list[_Line] = []
    # Newlines only: a JSON string may hold U+2028, which splitlines() would cut.
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        if len(lines) == MAX_LINES:
            raise PayloadTooLarge(f"a batch file holds at most {MAX_LINES} requests")
        lines.append(_parse_line(fmt, number, raw))
    return lines


def _parse_line(fmt: ApiFormat, number: int, raw: str) -> _Line:
    where = f"line {number} of the batch file"
    try:
        request: Json = loads_strict(raw)
    except (NotJson, ValueError, RecursionError) as exc:
        raise BadRequest(f"{where} is not a JSON document") from exc
    if not isinstance(request, dict) or set(request) != _KEYS:
        raise BadRequest(f"{where} must be an object with exactly custom_id, method, url "
                         "and body")
    custom_id, method, url, body = (request[k] for k in ("custom_id", "method", "url", "body"))
    if not isinstance(custom_id, str) or not custom_id:
        raise BadRequest(f"{where}: custom_id must be a non-empty string")
    if method != "POST":
        raise BadRequest(f"{where}: method must be POST")
    if not isinstance(body, dict):
        raise BadRequest(f"{where}: body must be a JSON object")
    endpoint = _endpoint_of(fmt, url)
    if endpoint is None or not endpoint.inspect:
        raise Refused(f"{where} names an endpoint aliasgate does not inspect in a batch; "
                      "the upload was not sent")
    encoded = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _Line(number, custom_id, url, endpoint, encoded.encode("utf-8", "backslashreplace"))
