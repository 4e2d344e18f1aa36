"""State Anthropic keeps between requests, through the gateway: message threads, the tool
runner (which threads by default), Message Batches; and langchain-anthropic's ChatAnthropic.

The provider holds what it saw, tokens, and hands it back in later answers; the client
must get its real values back, and the provider must never see one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import pytest
from anthropic import beta_tool
from langchain_anthropic import ChatAnthropic
from langchain_core.messages import AIMessage
from pydantic import SecretStr

from proxy.detect.pool import WorkerPoolAnalyzer
from proxy.server import start_site
from tests.conftest import build_app, write_config
from tests.fake_anthropic_state import THREADS_BETA, FakeAnthropic, start_fake_anthropic

SEEDS = ["Jane Doe", "jane.doe@example.com", "4111 1111 1111 1111"]
PROMPT = "Please write to Jane Doe at jane.doe@example.com about card 4111 1111 1111 1111."
LATER = "What did I ask you first?"
API_KEY = "sk-ant-test-state"


@dataclass
class Stateful:
    url: str
    provider: FakeAnthropic
    clients: list[anthropic.AsyncAnthropic] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"{self.url}/anthropic"

    def client(self) -> anthropic.AsyncAnthropic:
        """Closed when the test ends, on the test's own loop."""
        client = anthropic.AsyncAnthropic(base_url=self.base_url, api_key=API_KEY,
                                          max_retries=0)
        self.clients.append(client)
        return client

    def sync_client(self) -> anthropic.Anthropic:
        return anthropic.Anthropic(base_url=self.base_url, api_key=API_KEY, max_retries=0)

    def assert_provider_saw_no_value(self) -> None:
        seen = self.provider.all_text()
        assert self.provider.received, "the provider got nothing"
        for seed in SEEDS:
            assert seed not in seen


@pytest.fixture
async def gw(tmp_path: Path, analyzer: WorkerPoolAnalyzer) -> AsyncIterator[Stateful]:
    provider, provider_runner = await start_fake_anthropic()
    _, app = await build_app(write_config(tmp_path, provider.url), analyzer)
    runner, port = await start_site(app, "127.0.0.1", 0)
    stateful = Stateful(f"http://127.0.0.1:{port}", provider)
    yield stateful
    for client in stateful.clients:
        await client.close()
    await runner.cleanup()
    await provider_runner.cleanup()


def _text(message: Any) -> str:
    return "".join(block.text for block in message.content if block.type == "text")


# --- Message threads --------------------------------------------------------------------

@pytest.mark.parametrize("stream", [False, True])
async def test_thread_second_turn_restores_the_first_turns_values(gw: Stateful, stream: bool
                                                                  ) -> None:
    thread = gw.client().beta.messages.thread(model="claude-test", max_tokens=100)
    first = await thread.send({"role": "user", "content": PROMPT})
    assert _text(first) == f"Echo: {PROMPT}"
    second: Any
    if stream:
        async with thread.stream({"role": "user", "content": LATER}) as events:
            streamed = "".join([t async for t in events.text_stream])
            second = await events.get_final_message()
        assert streamed == _text(second)
    else:
        second = await thread.send({"role": "user", "content": LATER})
    # The provider quotes the first turn from the thread it holds: tokens this request did
    # not carry, restored all the same.
    assert _text(second) == f"Echo: {LATER} (earlier: {PROMPT})"
    gw.assert_provider_saw_no_value()
    create, resume = gw.provider.bodies("/v1/messages")
    assert create["thread"] == {"type": "create"}
    assert resume["thread"] == {"type": "continue", "previous_message_id": first.id}
    assert [m["content"] for m in resume["messages"]] == [LATER]  # only the new turn
    for received in gw.provider.received:
        assert THREADS_BETA in received.headers["anthropic-beta"]


async def test_lost_thread_is_replayed_through_the_gateway(gw: Stateful) -> None:
    """The provider's `thread_not_found` reaches the SDK in its shape, so the SDK replays
    the whole history under a new thread: tokenized again, restored again."""
    thread = gw.client().beta.messages.thread(model="claude-test", max_tokens=100)
    await thread.send({"role": "user", "content": PROMPT})
    gw.provider.threads.clear()
    second = await thread.send({"role": "user", "content": LATER})
    assert _text(second) == f"Echo: {LATER} (earlier: {PROMPT})"
    gw.assert_provider_saw_no_value()
    statuses = [b["thread"]["type"] for b in gw.provider.bodies("/v1/messages")]
    assert statuses == ["create", "continue", "create"]
    replay = gw.provider.bodies("/v1/messages")[-1]["messages"]
    assert [m["role"] for m in replay] == ["user", "assistant", "user"]


async def test_thread_text_is_inspected(gw: Stateful) -> None:
    """Whatever text a thread field carries besides its id is inspected like any other."""
    thread: Any = {"type": "create", "note": "for Jane Doe"}
    reply = await gw.client().beta.messages.create(
        model="claude-test", max_tokens=10, messages=[{"role": "user", "content": "hi"}],
        betas=[THREADS_BETA], thread=thread)
    assert _text(reply) == "Echo: hi"
    gw.assert_provider_saw_no_value()
    assert gw.provider.bodies("/v1/messages")[0]["thread"]["note"].startswith("for <PERSON_")


async def test_thread_id_of_another_shape_is_not_let_through_as_an_id(gw: Stateful) -> None:
    with pytest.raises(anthropic.NotFoundError):
        await gw.client().beta.messages.create(
            model="claude-test", max_tokens=10, betas=[THREADS_BETA],
            messages=[{"role": "user", "content": "hi"}],
            thread={"type": "continue", "previous_message_id": "jane.doe@example.com"})
    gw.assert_provider_saw_no_value()


# --- The tool runner, which threads by default -----------------------------------------

async def test_tool_runner_gets_real_values_and_the_provider_only_tokens(gw: Stateful) -> None:
    calls: list[str] = []

    @beta_tool
    def send_email(to: str) -> str:
        """Send an e-mail.

        Args:
            to: who to write to, and what about.
        """
        calls.append(to)
        return f"sent to {to}"

    def run() -> Any:
        runner = gw.sync_client().beta.messages.tool_runner(
            model="claude-test", max_tokens=100, tools=[send_email],
            messages=[{"role": "user", "content": PROMPT}])
        return runner.until_done()

    final = await asyncio.to_thread(run)
    assert calls == [PROMPT]
    assert _text(final) == f"Done: sent to {PROMPT}. You first asked: {PROMPT}"
    gw.assert_provider_saw_no_value()
    create, resume = gw.provider.bodies("/v1/messages")
    assert create["thread"] == {"type": "create"} and create["tools"][0]["name"] == "send_email"
    assert resume["thread"]["type"] == "continue" and "tools" not in resume
    [result] = resume["messages"][0]["content"]
    assert result["type"] == "tool_result" and "<PERSON_" in json.dumps(result)


async def test_streamed_tool_use_input_is_restored(gw: Stateful) -> None:
    async with gw.client().messages.stream(
            model="claude-test", max_tokens=100, messages=[{"role": "user", "content": PROMPT}],
            tools=[{"name": "send", "input_schema": {"type": "object"}}]) as events:
        message = await events.get_final_message()
    [block] = message.content
    assert block.type == "tool_use" and block.input == {"to": PROMPT}
    gw.assert_provider_saw_no_value()


# --- Message Batches --------------------------------------------------------------------

def _batch_requests(*prompts: str) -> list[Any]:
    return [{"custom_id": f"req-{i}", "params": {
        "model": "claude-test", "max_tokens": 100, "system": "You help Jane Doe.",
        "messages": [{"role": "user", "content": prompt}]}} for i, prompt in enumerate(prompts)]


async def test_batch_create_retrieve_results(gw: Stateful) -> None:
    api = gw.client()
    other = "Call Jane Doe about jane.doe@example.com"
    batch = await api.messages.batches.create(requests=_batch_requests(PROMPT, other))
    assert batch.processing_status == "in_progress"
    [sent] = gw.provider.bodies("/v1/messages/batches")
    assert [r["custom_id"] for r in sent["requests"]] == ["req-0", "req-1"]
    assert sent["requests"][0]["params"]["system"].startswith("You help <PERSON_")
    ended = await api.messages.batches.retrieve(batch.id)
    assert ended.processing_status == "ended"
    # Results are read through the gateway, never from the provider's own address.
    assert ended.results_url == f"/v1/messages/batches/{batch.id}/results"
    results = {r.custom_id: r async for r in await api.messages.batches.results(batch.id)}
    texts = {}
    for custom_id, item in results.items():
        assert item.result.type == "succeeded"
        texts[custom_id] = _text(item.result.message)
    assert texts == {"req-0": f"Echo: {PROMPT}", "req-1": f"Echo: {other}"}
    gw.assert_provider_saw_no_value()
    assert gw.provider.received[-1].path == f"/v1/messages/batches/{batch.id}/results"


async def test_beta_batches_list_cancel_delete(gw: Stateful) -> None:
    api = gw.client()
    batch = await api.beta.messages.batches.create(requests=_batch_requests(PROMPT))
    page = await api.messages.batches.list(limit=10, after_id=batch.id)
    assert [b.id for b in page.data] == [batch.id]
    assert page.data[0].results_url == f"/v1/messages/batches/{batch.id}/results"
    canceled = await api.beta.messages.batches.cancel(batch.id)
    assert canceled.processing_status == "canceling" and canceled.results_url is None
    deleted = await api.messages.batches.delete(batch.id)
    assert deleted.id == batch.id and deleted.type == "message_batch_deleted"
    methods = [(r.method, r.path.removeprefix(f"/v1/messages/batches/{batch.id}"))
               for r in gw.provider.received]
    assert methods == [("POST", "/v1/messages/batches"), ("GET", "/v1/messages/batches"),
                       ("POST", "/cancel"), ("DELETE", "")]
    assert sorted(gw.provider.received[1].query.split("&")) == [f"after_id={batch.id}",
                                                                "limit=10"]
    gw.assert_provider_saw_no_value()


@pytest.mark.parametrize("custom_id", ["jane.doe@example.com", "Jane Doe", "4111111111111111",
                                       "x" * 65])
async def test_batch_custom_id_must_be_an_id(gw: Stateful, custom_id: str) -> None:
    requests = _batch_requests("hello")
    requests[0]["custom_id"] = custom_id
    with pytest.raises(anthropic.BadRequestError) as caught:
        await gw.client().messages.batches.create(requests=requests)
    assert custom_id not in str(caught.value.body)
    assert gw.provider.received == []


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1/messages/batches/jane.doe@example.com"),
    ("GET", "/v1/messages/batches/Jane%20Doe/results"),
    ("POST", "/v1/messages/batches/4111111111111111/cancel"),
    ("DELETE", "/v1/messages/batches/msgbatch_1/extra"),
])
async def test_batch_paths_need_an_id(gw: Stateful, method: str, path: str) -> None:
    async with aiohttp.ClientSession() as session, session.request(
            method, gw.base_url + path, headers={"x-api-key": API_KEY}) as resp:
        assert resp.status == 403
        assert (await resp.json())["type"] == "error"
    assert gw.provider.received == []


async def test_batch_query_cursor_of_another_shape_is_refused(gw: Stateful) -> None:
    with pytest.raises(anthropic.PermissionDeniedError):
        await gw.client().messages.batches.list(after_id="jane.doe@example.com")
    assert gw.provider.received == []


# --- langchain-anthropic ----------------------------------------------------------------

def _chat(gw: Stateful) -> ChatAnthropic:
    return ChatAnthropic(model_name="claude-test", base_url=gw.base_url,
                         api_key=SecretStr(API_KEY), max_retries=0, max_tokens_to_sample=100,
                         timeout=10, stop=None)


async def test_langchain_invoke(gw: Stateful) -> None:
    answer = await _chat(gw).ainvoke(PROMPT)
    assert answer.content == f"Echo: {PROMPT}"
    gw.assert_provider_saw_no_value()


async def test_langchain_tool_call(gw: Stateful) -> None:
    def send_email(to: str) -> str:
        """Send an e-mail to someone."""
        return to

    answer = await _chat(gw).bind_tools([send_email]).ainvoke(PROMPT)
    assert isinstance(answer, AIMessage)
    [call] = answer.tool_calls
    assert call["name"] == "send_email" and call["args"] == {"to": PROMPT}
    gw.assert_provider_saw_no_value()


async def test_batch_results_jsonl_restored_over_plain_http(gw: Stateful) -> None:
    """The results as any HTTP client reads them: JSON lines, each restored."""
    batch = await gw.client().messages.batches.create(requests=_batch_requests(PROMPT))
    async with aiohttp.ClientSession() as session, session.get(
            f"{gw.base_url}/v1/messages/batches/{batch.id}/results",
            # As the SDK presents the key, so the tenant is the same.
            headers={"Authorization": f"Bearer {API_KEY}",
                     "anthropic-version": "2023-06-01"}) as resp:
        assert resp.status == 200
        lines = (await resp.read()).decode().splitlines()
    [line] = [json.loads(line) for line in lines if line]
    assert line["custom_id"] == "req-0"
    assert line["result"]["message"]["content"][0]["text"] == f"Echo: {PROMPT}"
    gw.assert_provider_saw_no_value()
