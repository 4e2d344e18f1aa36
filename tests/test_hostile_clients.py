"""Hostile clients at the connection edge, over raw sockets: connections that never finish
their request, too many connections, malformed HTTP that carries personal data, an
`Expect: 100-continue` for a body already too large, and stopping while requests hang."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import re
import resource
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from proxy.connections.budget import cap_within
from proxy.logs import RateLimit, Scrub
from tests.conftest import Gateway, GatewayFactory, write_config
from tests.fake_provider import FakeProvider

CHAT = "/openai/v1/chat/completions"
EMAIL, CARD = "jane.doe@example.com", "4111111111111111"
MARKERS = (EMAIL, CARD, EMAIL.upper())


# --- raw socket helpers --------------------------------------------------------------------

@asynccontextmanager
async def connect(url: str) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        yield reader, writer
    finally:
        writer.close()


async def exchange(url: str, raw: bytes, wait: float = 5.0) -> bytes:
    """Send bytes, read until the gateway closes the connection."""
    async with connect(url) as (reader, writer):
        writer.write(raw)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), wait)


async def read_response(reader: asyncio.StreamReader) -> tuple[bytes, dict[str, str], bytes]:
    """One response with a Content-Length: status line, headers, body."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status.encode(), headers, body


def split_response(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, body


async def healthz_on_new_connection(url: str) -> bytes:
    return await exchange(url, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")


def edge_config(client_idle: float = 15, shutdown: float = 10, max_connections: int = 900
                ) -> dict[str, Any]:
    return {"timeouts": {"connect": 2, "read": 10, "client_idle": client_idle,
                         "shutdown": shutdown},
            "limits": {"max_body_bytes": 1_000_000, "max_decompressed_bytes": 2_000_000,
                       "max_connections": max_connections}}


# --- slowloris: idle connections and headers that never finish ------------------------------

async def test_a_connection_that_sends_nothing_is_closed(start_gateway: GatewayFactory) -> None:
    gw = await start_gateway(edge_config(client_idle=1))
    async with connect(gw.url) as (reader, _):
        started = time.monotonic()
        assert await asyncio.wait_for(reader.read(), 5) == b""
        assert 0.8 < time.monotonic() - started < 3
    assert (await healthz_on_new_connection(gw.url)).startswith(b"HTTP/1.1 200")


async def test_dripping_header_bytes_does_not_extend_the_timeout(start_gateway: GatewayFactory
                                                                 ) -> None:
    gw = await start_gateway(edge_config(client_idle=1))
    request = b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: a\r\n" * 40
    async with connect(gw.url) as (reader, writer):
        started = time.monotonic()

        async def drip() -> None:
            for byte in request:   # one byte every 50 ms: the whole would take 25 s
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.05)

        dripping = asyncio.create_task(drip())
        try:
            closed = await asyncio.wait_for(reader.read(), 5)
        finally:
            dripping.cancel()
        assert closed == b""   # closed without an answer: there was no request
        assert time.monotonic() - started < 3


async def test_an_idle_keep_alive_connection_is_closed(start_gateway: GatewayFactory) -> None:
    gw = await start_gateway(edge_config(client_idle=1))
    async with connect(gw.url) as (reader, writer):
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, _ = await read_response(reader)
        assert status.startswith(b"HTTP/1.1 200") and headers.get("connection") != "close"
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")   # half a second request
        started = time.monotonic()
        assert await asyncio.wait_for(reader.read(), 5) == b""
        assert time.monotonic() - started < 3


# --- the connection cap ---------------------------------------------------------------------

async def test_connections_over_the_cap_get_a_clear_503_and_are_closed(
        start_gateway: GatewayFactory) -> None:
    gw = await start_gateway(edge_config(max_connections=4))
    held = []
    for _ in range(4):   # each answered once, so each is surely open and counted
        host, port = gw.url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await read_response(reader))[0].startswith(b"HTTP/1.1 200")
        held.append(writer)
    try:
        refused = await exchange(gw.url, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 2)
        status, headers, body = split_response(refused)
        assert status == "HTTP/1.1 503 Service Unavailable"
        assert headers["connection"] == "close" and headers["content-type"] == "application/json"
        assert json.loads(body) == {"error": {
            "message": "aliasgate has too many open connections; try again shortly",
            "type": "server_error", "code": "aliasgate_overloaded"}}
        held.pop().close()   # a slot frees up, and is served again
        for _ in range(50):
            answer = await healthz_on_new_connection(gw.url)
            if answer.startswith(b"HTTP/1.1 200"):
                break
            await asyncio.sleep(0.05)
        assert answer.startswith(b"HTTP/1.1 200")
    finally:
        for writer in held:
            writer.close()


def test_the_cap_fits_under_the_file_descriptor_limit() -> None:
    assert cap_within(900, fd_limit=20_000) == 900
    assert cap_within(900, fd_limit=1024) == 768      # 256 kept for everything else
    assert cap_within(900, fd_limit=300) == 150       # never less than half the limit


async def test_a_cap_above_the_hard_fd_limit_is_lowered_with_a_warning() -> None:
    code = ("import logging; logging.basicConfig(); "
            "from proxy.connections import connection_cap; print(connection_cap(900))")

    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (600, 600))

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, preexec_fn=limit_files)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err
    assert out.decode().strip() == "344"
    assert "limits.max_connections is 900 but this process may open only 600 files" in err.decode()


# --- malformed HTTP: no bytes in answers or logs, and an audit line --------------------------

MALFORMED = [
    # a control character in a header value
    b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Mail: " + EMAIL.encode()
    + b"\x01\r\n\r\n",
    # a broken chunk after a chunk of JSON
    b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
    b"\r\nTransfer-Encoding: chunked\r\n\r\n2c\r\n"
    + json.dumps({"messages": [{"content": CARD}]}).encode() + b"\r\nZZ\r\n",
    # a header line over the limit
    b"GET /healthz HTTP/1.1\r\nX-Card: " + CARD.encode() + b"x" * 9000 + b"\r\n\r\n",
    # a method that is not a token
    EMAIL.encode() + b" /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    # a target that is not a URL
    b"GET http://[" + EMAIL.encode() + b"/ HTTP/1.1\r\nHost: x\r\n\r\n",
    # a Content-Length that is not a number
    b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " + CARD.encode()
    + b"x\r\n\r\n",
]


def assert_no_marker(text: str) -> None:
    for marker in MARKERS:
        assert marker not in text


async def test_malformed_requests_get_our_400_an_audit_line_and_no_bytes_in_logs(
        gateway: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for raw in MALFORMED:
        answer = await exchange(gateway.url, raw)
        status, headers, body = split_response(answer)
        assert status.split()[1] == "400", answer[:200]
        assert headers["connection"] == "close"
        assert json.loads(body) == {"error": {"message": "the request is not valid HTTP",
                                              "type": "invalid_request_error",
                                              "code": "aliasgate_bad_request"}}
        assert_no_marker(answer.decode("latin-1"))
    lines = await gateway.audit_after(len(MALFORMED))
    refused = [r for r in lines if r["error"] == "bad_request"]
    assert len(refused) == len(MALFORMED)
    for line in refused:
        assert (line["decision"], line["status"]) == ("refused", 400)
        assert line["reason"] == "the request is not valid HTTP"
    assert_no_marker((gateway.state_dir / "audit.jsonl").read_text())
    formatter = logging.Formatter("%(name)s %(message)s")   # with any traceback
    assert caplog.records, "the refusals are logged"
    for logged in caplog.records:
        assert_no_marker(formatter.format(logged))
    assert gateway.provider.received == []


async def test_a_body_that_breaks_midway_is_refused_at_once(gateway: Gateway) -> None:
    async with connect(gateway.url) as (reader, writer):
        writer.write(b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer sk-test\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.2)   # the handler is reading the body now
        chunk = json.dumps({"messages": [{"role": "user", "content": CARD}]}).encode()
        writer.write(f"{len(chunk):x}".encode() + b"\r\n" + chunk + b"\r\nZZ\r\n")
        answer = await asyncio.wait_for(reader.read(), 5)
    status, _, body = split_response(answer)
    assert status.startswith("HTTP/1.1 400")
    assert json.loads(body)["error"]["code"] == "aliasgate_bad_request"
    assert_no_marker(answer.decode("latin-1"))
    await gateway.audit_after(1)
    await asyncio.sleep(0.2)   # no second line follows
    [record] = gateway.audit_lines()
    assert (record["decision"], record["error"], record["route"]) == ("refused", "bad_request",
                                                                      "openai")
    assert gateway.provider.received == []


async def test_an_unknown_expectation_is_not_echoed(gateway: Gateway) -> None:
    answer = await exchange(gateway.url, b"GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: "
                            + EMAIL.encode() + b"\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200")
    assert_no_marker(answer.decode("latin-1"))


def test_library_log_lines_lose_what_they_quote_and_their_traceback() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(Scrub())
    library = logging.getLogger("aiohttp.test_library")
    library.addHandler(handler)
    try:
        try:
            raise ValueError(f"bad byte in b'{EMAIL}'")
        except ValueError:
            library.exception("Error handling request from %s: %r", "127.0.0.1", EMAIL.encode())
        logging.getLogger("asyncio").handlers.append(handler)
        try:
            logging.getLogger("asyncio").error(
                "Task exception was never retrieved\nfuture: <Task exception=X('%s')>", EMAIL)
        finally:
            logging.getLogger("asyncio").handlers.remove(handler)
    finally:
        library.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines == ["aiohttp.test_library: Error handling request from 127.0.0.1 (ValueError)",
                     "asyncio: Task exception was never retrieved"]


def test_the_same_error_is_logged_once_per_interval_with_a_count() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RateLimit(interval=0.3))
    log = logging.getLogger("aliasgate.test_rate_limit")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        for number in range(50):
            log.error("request %s failed: %s", f"{number:032x}", "OSError")
            log.info("request %s forwarded", number)   # below warning: never held back
        log.error("another failure: %s", "KeyError")
        time.sleep(0.35)
        log.error("request %s failed: %s", "f" * 32, "OSError")
    finally:
        log.removeHandler(handler)
        log.setLevel(logging.NOTSET)
        log.propagate = True
    lines = stream.getvalue().splitlines()
    failed = [line for line in lines if "failed" in line]
    assert len(failed) == 2
    assert re.fullmatch(r"request f{32} failed: OSError \(49 more like this in the last \d+ s "
                        r"were not logged\)", failed[1])
    assert sum("forwarded" in line for line in lines) == 50
    assert "another failure: KeyError" in lines


# --- Expect: 100-continue ---------------------------------------------------------------------

def expect_request(length: int) -> bytes:
    return (b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer sk-test\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(length).encode() + b"\r\nExpect: 100-continue\r\n\r\n")


async def test_no_100_continue_for_a_body_over_the_limit(gateway: Gateway) -> None:
    async with connect(gateway.url) as (reader, writer):
        writer.write(expect_request(1_000_001))   # the limit is 1,000,000
        status, _, body = await read_response(reader)
    assert status.startswith(b"HTTP/1.1 413"), status
    assert json.loads(body)["error"]["code"] == "aliasgate_too_large"
    record = (await gateway.audit_after(1))[-1]
    assert (record["status"], record["error"]) == (413, "too_large")
    assert gateway.provider.received == []


async def test_100_continue_for_a_body_within_the_limit(gateway: Gateway) -> None:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode()
    async with connect(gateway.url) as (reader, writer):
        writer.write(expect_request(len(body)))
        assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5) == \
            b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(body)
        status, _, _ = await read_response(reader)
    assert status.startswith(b"HTTP/1.1 200")


# --- a real `aliasgate serve`: its stderr, and stopping --------------------------------------

def children_of(pid: int) -> set[int]:
    """Every process below `pid` (workers, the resource tracker), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Serve:
    """`aliasgate serve` in a subprocess, its stderr in a file."""

    def __init__(self, tmp_path: Path, upstream: str, config_extra: dict[str, Any]) -> None:
        config = write_config(tmp_path, upstream, config_extra)
        data = yaml.safe_load(config.read_text())
        data["detection"] = {"workers": 1}
        config.write_text(yaml.safe_dump(data))
        self.config, self.tmp_path = config, tmp_path
        self.stderr = tmp_path / "stderr.txt"
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> asyncio.subprocess.Process:
        with self.stderr.open("wb") as err:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "proxy", "serve", "--config", str(self.config),
                "--port", str(self.port), "--log-format", "text", stderr=err)
        for _ in range(600):
            try:
                answer = await exchange(self.url, b"GET /readyz HTTP/1.1\r\nHost: x\r\n"
                                        b"Connection: close\r\n\r\n")
                if answer.startswith(b"HTTP/1.1 200"):
                    return self.process
            except OSError:
                pass
            assert self.process.returncode is None, self.stderr.read_text()
            await asyncio.sleep(0.1)
        await self.stop()
        raise AssertionError("the gateway did not become ready")

    async def stop(self) -> None:
        """After a failed test: two signals stop it at once, workers included; a SIGKILL
        would leave its workers behind."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        family = children_of(process.pid)
        for sig in (signal.SIGTERM, signal.SIGTERM):
            process.send_signal(sig)
            await asyncio.sleep(0.2)
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            for pid in (process.pid, *family):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)


class Hanging:
    """An upstream that takes requests and never answers (until the test ends)."""

    def __init__(self) -> None:
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.arrived.set()
        await self.release.wait()
        return web.json_response({})


@asynccontextmanager
async def hanging_upstream() -> AsyncIterator[tuple[str, Hanging]]:
    hanging = Hanging()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hanging.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", hanging
    finally:
        hanging.release.set()
        await runner.cleanup()


def chat_request(text: str) -> bytes:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": text}]}).encode()
    return (b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer sk-test\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
            + body)


async def test_served_gateway_stderr_holds_no_request_bytes(tmp_path: Path,
                                                            provider: FakeProvider) -> None:
    serve = Serve(tmp_path, provider.url, edge_config())
    process = await serve.start()
    try:
        for _ in range(5):
            for index, raw in enumerate(MALFORMED):
                assert b" 400 " in (await exchange(serve.url, raw))[:20], index
        answer = await exchange(serve.url, chat_request(f"Mail {EMAIL}"))
        assert answer.startswith(b"HTTP/1.1 200")
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        await serve.stop()
    stderr = serve.stderr.read_text()
    assert_no_marker(stderr)
    assert "Traceback" not in stderr
    # 30 malformed requests: each line (one per exception class) once in the interval
    assert 1 <= stderr.count("the request is not valid HTTP") <= len(MALFORMED), stderr
    audit = Gateway("", tmp_path / "state", provider).audit_lines()
    assert sum(r["error"] == "bad_request" for r in audit) == 5 * len(MALFORMED)


async def test_sigterm_stops_in_bounded_time_while_requests_hang(tmp_path: Path) -> None:
    async with hanging_upstream() as (upstream, hanging):
        serve = Serve(tmp_path, upstream, edge_config(shutdown=2, client_idle=30))
        process = await serve.start()
        family = children_of(process.pid)
        assert family, "detection workers run in child processes"
        stuck = []
        try:
            # a request waiting for a provider that never answers
            reader, writer = await asyncio.open_connection("127.0.0.1", serve.port)
            writer.write(chat_request("hello"))
            await asyncio.wait_for(hanging.arrived.wait(), 30)
            stuck.append((reader, writer))
            # a client that sends half its body, and one that sends half its headers
            reader, writer = await asyncio.open_connection("127.0.0.1", serve.port)
            writer.write(chat_request("hello")[:-10])
            stuck.append((reader, writer))
            reader, writer = await asyncio.open_connection("127.0.0.1", serve.port)
            writer.write(b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
            stuck.append((reader, writer))
            await asyncio.sleep(0.3)
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 20) == 0
            took = time.monotonic() - started
            for reader, _ in stuck:   # none is left hanging
                await asyncio.wait_for(reader.read(), 1)
        finally:
            for _, writer in stuck:
                writer.close()
            await serve.stop()
    assert took < 2 + 4, f"stopped after {took:.1f} s"
    assert took > 1.5, "open requests had their drain time"
    for _ in range(50):   # the resource tracker exits once its pipe closes
        if not any(running(pid) for pid in family):
            break
        await asyncio.sleep(0.1)
    assert not [pid for pid in family if running(pid)], "no child outlives the gateway"
    assert "Traceback" not in serve.stderr.read_text()


async def test_a_second_signal_stops_at_once(tmp_path: Path) -> None:
    async with hanging_upstream() as (upstream, hanging):
        serve = Serve(tmp_path, upstream, edge_config(shutdown=60))
        process = await serve.start()
        family = children_of(process.pid)
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", serve.port)
            writer.write(chat_request("hello"))
            await asyncio.wait_for(hanging.arrived.wait(), 30)
            process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)
            assert process.returncode is None   # draining: it would wait a minute
            started = time.monotonic()
            process.send_signal(signal.SIGINT)
            assert await asyncio.wait_for(process.wait(), 5) == 128 + signal.SIGINT
            assert time.monotonic() - started < 2
            writer.close()
        finally:
            await serve.stop()
    for _ in range(50):
        if not any(running(pid) for pid in family):
            break
        await asyncio.sleep(0.1)
    assert not [pid for pid in family if running(pid)], "no child outlives the gateway"
    assert "second SIGINT: stopping now" in serve.stderr.read_text()


async def test_workers_exit_when_the_gateway_is_killed(tmp_path: Path) -> None:
    """SIGKILL or the OOM killer leave no handler to stop the workers: they notice."""
    serve = Serve(tmp_path, "http://127.0.0.1:9", {})
    process = await serve.start()
    family = children_of(process.pid)
    assert family, "the gateway runs detection workers"
    process.kill()
    await process.wait()
    for _ in range(100):
        if not any(running(pid) for pid in family):
            break
        await asyncio.sleep(0.1)
    leftover = [pid for pid in family if running(pid)]
    for pid in leftover:   # never leave them behind, even when the test fails
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    assert not leftover, "detection workers outlived a killed gateway"
