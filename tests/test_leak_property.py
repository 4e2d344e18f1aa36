"""Property: whatever the request body, headers and query, personal values planted anywhere
in them either never reach the provider, or the request is refused.

Bodies are random JSON in the shape of each format's main endpoint, with values planted in
strings, numbers, object keys, identifier fields (`model`, `tool_call_id`, ...), headers and
the query. The gateway and a fake provider run on 127.0.0.1 in a thread of their own, so
Hypothesis drives them with plain blocking HTTP calls and can shrink a failure.
`ALIASGATE_PROPERTY_EXAMPLES` sets how many bodies per format (default 150).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxy.detect.pool import WorkerPoolAnalyzer
from proxy.server import start_site
from tests.conftest import build_app
from tests.fake_provider import FakeProvider, start_fake_provider

EXAMPLES = int(os.environ.get("ALIASGATE_PROPERTY_EXAMPLES", "150"))
# Values every policy protects and detection finds in any context, in the written forms a
# client would use; the digits of each must never appear in what the provider sees.
STRING_VALUES = ["jane.doe@example.com", "4111 1111 1111 1111", "5500-0055-5555-5559",
                 "DE89370400440532013000", "+44 20 7946 0958", "SSN 536-22-8471",
                 "192.168.12.34"]
NUMBER_VALUES = [4111111111111111, 5500005555555559]
SIGNATURES = ["jane.doe@example.com", "4111111111111111", "5500005555555559",
              "DE89370400440532013000", "2079460958", "536228471", "192.168.12.34"]
FORMATS = ("openai", "anthropic", "azure", "vertex")

_words = st.sampled_from(["note", "the", "order", "for", "id", "x", "status", "Total", "ok"])
_filler = st.lists(_words, max_size=4).map(" ".join)
planted_text = st.tuples(_filler, st.sampled_from(STRING_VALUES), _filler).map(" ".join)
plain_text = st.text(alphabet="abcdefgh XYZ-_.", max_size=12)
keys = st.one_of(st.sampled_from(["a", "name", "ssn", "value", "card", "x-y", "$ref"]),
                 planted_text, plain_text)
leaves = st.one_of(planted_text, plain_text, st.sampled_from(NUMBER_VALUES),
                   st.integers(-1000, 1000), st.booleans(), st.none())
json_values = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)), max_leaves=12)
identifier_value = st.one_of(st.sampled_from(["gpt-test", "call_1", "auto"]), planted_text,
                             st.sampled_from([str(v) for v in NUMBER_VALUES]))


@st.composite
def requests(draw: st.DrawFn, fmt: str) -> tuple[str, dict[str, str], bytes]:
    """(path with query, headers, body) for one format's main endpoint."""
    extra = draw(st.dictionaries(keys, json_values, max_size=3))
    ident = draw(identifier_value)
    content = draw(st.one_of(planted_text, plain_text))
    if fmt in ("openai", "azure"):
        messages: list[Any] = [{"role": "user", "content": content,
                                **draw(st.dictionaries(keys, json_values, max_size=2))}]
        if draw(st.booleans()):
            arguments = draw(st.one_of(json_values.map(json.dumps), planted_text))
            messages += [{"role": "assistant", "content": None, "tool_calls": [
                {"id": ident, "type": "function",
                 "function": {"name": "lookup", "arguments": arguments}}]},
                {"role": "tool", "tool_call_id": ident, "content": draw(planted_text)}]
        body: dict[str, Any] = {"model": draw(identifier_value), "messages": messages,
                                "metadata": draw(st.dictionaries(keys, json_values,
                                                                 max_size=3)), **extra}
        path = "/openai/v1/chat/completions" if fmt == "openai" else \
            "/azure/openai/deployments/gpt-eu/chat/completions"
    elif fmt == "anthropic":
        body = {"model": draw(identifier_value), "max_tokens": 10, "messages": [
            {"role": "user", "content": [{"type": "text", "text": content}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": ident, "name": "f",
                                               "input": draw(json_values)}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": ident,
                                          "content": draw(planted_text)}]}], **extra}
        path = "/anthropic/v1/messages"
    else:
        body = {"contents": [{"role": "user", "parts": [
            {"text": content}, {"functionResponse": {"name": "f",
                                                     "response": draw(json_values)}}]}],
                "labels": draw(st.dictionaries(keys, json_values, max_size=2)), **extra}
        path = ("/vertex/v1/projects/p-1/locations/local/publishers/google/models/"
                "gemini-test:generateContent")
    query_name = draw(st.sampled_from(["limit", "order", "after", "api-version", "alt", "x"]))
    if draw(st.booleans()):
        path += f"?{query_name}={draw(st.sampled_from(SIGNATURES))}"
    header = draw(st.sampled_from(["User-Agent", "Idempotency-Key", "OpenAI-Organization",
                                   "anthropic-beta", "x-stainless-os", "X-Custom"]))
    headers = {"Content-Type": "application/json", "Authorization": "Bearer sk-test",
               header: draw(st.one_of(planted_text, st.sampled_from(SIGNATURES)))}
    return path, headers, json.dumps(body).encode()


class _ThreadGateway:
    """A fake provider and the gateway, serving from their own event loop in a thread."""

    def __init__(self, config: Path, analyzer: WorkerPoolAnalyzer) -> None:
        self.loop = asyncio.new_event_loop()
        self._config, self._analyzer = config, analyzer
        self._ready = threading.Event()
        self.provider: FakeProvider | None = None
        self.port = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._stop: asyncio.Event | None = None

    def _run(self) -> None:
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        provider, provider_runner = await start_fake_provider()
        self.provider = provider
        text = self._config.read_text().replace("UPSTREAM", provider.url)
        self._config.write_text(text)
        _, app = await build_app(self._config, self._analyzer)
        runner, self.port = await start_site(app, "127.0.0.1", 0)
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()
        await provider_runner.cleanup()

    def __enter__(self) -> _ThreadGateway:
        self._thread.start()
        assert self._ready.wait(60), "the gateway did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def send(self, path: str, headers: dict[str, str], body: bytes) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, analyzer: WorkerPoolAnalyzer
           ) -> Iterator[_ThreadGateway]:
    base = tmp_path_factory.mktemp("property")
    (base / "policies").mkdir()
    routes = [{"name": fmt, "path": f"/{fmt}", "format": fmt, "upstream": "UPSTREAM",
               "policy": "default", **({"deployments": ["gpt-eu"], "region": "local"}
                                       if fmt == "azure" else {})} for fmt in FORMATS]
    config = base / "aliasgate.yaml"
    config.write_text(yaml.safe_dump({"state_dir": "state", "policies_dir": "policies",
                                      "routes": routes}))
    with _ThreadGateway(config, analyzer) as gateway:
        yield gateway


@pytest.mark.parametrize("fmt", FORMATS)
def test_planted_values_never_reach_the_provider(served: _ThreadGateway, fmt: str) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(requests(fmt))
    def check(request: tuple[str, dict[str, str], bytes]) -> None:
        path, headers, body = request
        provider = served.provider
        assert provider is not None
        before = len(provider.received)
        status = served.send(path, headers, body)
        sent = provider.received[before:]
        if status >= 400:
            assert sent == [], "a refused request reached the provider"
            return
        assert status == 200, status
        seen = "\n".join(f"{r.path}?{r.query} {dict(r.headers)} {r.text}" for r in sent)
        digits = "".join(c for c in seen if c.isdigit())
        leaked = [v for v in SIGNATURES if v in seen or (v.isdigit() and v in digits)]
        assert not leaked, f"{leaked} reached the provider"

    check()
