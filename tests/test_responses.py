"""The official openai SDK's Responses and Conversations calls through the gateway: what the
provider sees holds only tokens, what the client gets back holds the real values."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openai
import pydantic
import pytest

from proxy.detect.pool import WorkerPoolAnalyzer
from proxy.server import start_site
from tests.conftest import build_app, write_config
from tests.fake_responses import FakeResponses, start_fake_responses

NAME, EMAIL, CARD = "Jane Doe", "jane.doe@example.com", "4111 1111 1111 1111"
SEEDS = [NAME, EMAIL, CARD]
PROMPT = f"Please write to {NAME} at {EMAIL} about card {CARD}."


@dataclass
class Gateway:
    url: str
    provider: FakeResponses
    base_url: str  # what an SDK's base_url is
    clients: list[openai.AsyncOpenAI] = field(default_factory=list)

    def client(self, api_key: str = "sk-test") -> openai.AsyncOpenAI:
        api = openai.AsyncOpenAI(base_url=self.base_url, api_key=api_key, max_retries=0)
        self.clients.append(api)
        return api

    def assert_no_seed_left(self) -> None:
        seen = self.provider.all_text()
        assert self.provider.received, "the provider got nothing"
        for seed in SEEDS:
            assert seed not in seen


GatewayFactory = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def start(tmp_path: Path, analyzer: WorkerPoolAnalyzer
                ) -> AsyncIterator[GatewayFactory]:
    fake, fake_runner = await start_fake_responses()
    runners, gateways = [fake_runner], []

    async def start_gateway(**route: Any) -> Gateway:
        config = write_config(tmp_path, fake.url, **route)
        _, app = await build_app(config, analyzer)
        runner, port = await start_site(app, "127.0.0.1", 0)
        runners.append(runner)
        url = f"http://127.0.0.1:{port}"
        gateway = Gateway(url, fake,
                          f"{url}/openai/{'openai/' * (route.get('format') == 'azure')}v1")
        gateways.append(gateway)
        return gateway

    yield start_gateway
    for gateway in gateways:
        for api in gateway.clients:
            await api.close()
    for runner in reversed(runners):
        await runner.cleanup()


@pytest.fixture
async def gw(start: GatewayFactory) -> Gateway:
    return await start()


def user_text_seen(body: dict[str, Any]) -> str:
    value = body["input"]
    if isinstance(value, str):
        return value
    return json.dumps(value)


async def test_string_input(gw: Gateway) -> None:
    reply = await gw.client().responses.create(model="gpt-test", input=PROMPT,
                                               instructions=f"You help {NAME}.")
    assert reply.output_text == f"Echo: {PROMPT}"
    gw.assert_no_seed_left()
    sent = gw.provider.bodies()[0]
    assert "<PERSON_" in sent["input"] and "<EMAIL_ADDRESS_" in sent["input"]
    assert "<CREDIT_CARD_" in sent["input"] and "<PERSON_" in sent["instructions"]


async def test_item_input_with_history(gw: Gateway) -> None:
    items: Any = [
        {"role": "developer", "content": f"Card on file: {CARD}"},
        {"type": "message", "role": "user",
         "content": [{"type": "input_text", "text": f"I am {NAME}."}]},
        {"type": "message", "role": "assistant", "id": "msg_abcdef", "status": "completed",
         "content": [{"type": "output_text", "text": f"Hello {NAME}!", "annotations": []}]},
        {"role": "user", "content": [{"type": "input_text", "text": f"Mail {EMAIL}"}]},
    ]
    reply = await gw.client().responses.create(model="gpt-test", input=items,
                                               metadata={"customer": NAME})
    assert reply.output_text == f"Echo: Mail {EMAIL}"
    gw.assert_no_seed_left()
    sent = gw.provider.bodies()[0]
    assert sent["input"][2]["id"] == "msg_abcdef"  # an identifier passes as it is
    assert sent["input"][1]["content"][0]["text"].startswith("I am <PERSON_")
    assert sent["metadata"]["customer"].startswith("<PERSON_")
    assert reply.metadata == {"customer": NAME}


async def test_stream_deltas_add_up_to_the_real_text(gw: Gateway) -> None:
    stream = await gw.client().responses.create(model="gpt-test", input=PROMPT, stream=True)
    deltas, done, numbers = [], None, []
    completed: Any = None
    async for event in stream:
        numbers.append(event.sequence_number)
        if event.type == "response.output_text.delta":
            deltas.append(event.delta)
        elif event.type == "response.output_text.done":
            done = event.text
        elif event.type == "response.completed":
            completed = event.response
    assert "".join(deltas) == done == f"Echo: {PROMPT}"
    assert completed is not None and completed.output_text == f"Echo: {PROMPT}"
    assert numbers == sorted(numbers)
    gw.assert_no_seed_left()


async def test_stream_helper_accumulates_real_text(gw: Gateway) -> None:
    async with gw.client().responses.stream(model="gpt-test", input=PROMPT) as stream:
        snapshots = [e.snapshot async for e in stream if e.type == "response.output_text.delta"]
        final = await stream.get_final_response()
    assert snapshots[-1] == final.output_text == f"Echo: {PROMPT}"
    gw.assert_no_seed_left()


async def test_held_text_goes_out_before_the_done_event(gw: Gateway) -> None:
    """The answer ends with '<', which may start a token: it is held back, then sent as one
    more delta just before output_text.done, numbered as that event."""
    stream = await gw.client().responses.create(model="gpt-test", input=f"Mail {EMAIL} <",
                                                stream=True)
    events = [event async for event in stream]
    kinds = [event.type for event in events]
    done_at = kinds.index("response.output_text.done")
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert "".join(deltas) == events[done_at].text == f"Echo: Mail {EMAIL} <"  # type: ignore[union-attr]
    assert kinds[done_at - 1] == "response.output_text.delta"
    assert events[done_at - 1].delta == "<"  # type: ignore[union-attr]
    assert events[done_at - 1].sequence_number == events[done_at].sequence_number
    gw.assert_no_seed_left()


async def test_stream_cut_mid_way_raises_in_client(gw: Gateway) -> None:
    stream = await gw.client().responses.create(model="die-mid-stream", input=PROMPT,
                                                stream=True)
    got = []
    with pytest.raises(openai.APIError, match="broke off"):
        async for event in stream:
            if event.type == "response.output_text.delta":
                got.append(event.delta)
    assert got and f"Echo: {PROMPT}".startswith("".join(got))
    gw.assert_no_seed_left()


class Contact(pydantic.BaseModel):
    name: str
    note: str


async def test_parse_structured_output(gw: Gateway) -> None:
    reply = await gw.client().responses.parse(model="gpt-test", input=f"I am {NAME}",
                                              text_format=Contact)
    assert reply.output_parsed == Contact(name=f"I am {NAME}", note=f"I am {NAME}")
    gw.assert_no_seed_left()
    sent = gw.provider.bodies()[0]
    assert sent["text"]["format"]["name"] == "Contact"  # a schema's name is a name
    assert set(sent["text"]["format"]["schema"]["properties"]) == {"name", "note"}


SEND: Any = {"type": "function", "name": "send_mail", "description": "Send a mail",
        "parameters": {"type": "object", "properties": {"to": {"type": "string"}},
                       "required": ["to"], "additionalProperties": False}, "strict": True}


@pytest.mark.parametrize("stream", [False, True])
async def test_function_call_round_trip(gw: Gateway, stream: bool) -> None:
    api = gw.client()
    prompt = f"Mail {NAME} at {EMAIL}"
    if stream:
        events: Any = await api.responses.create(model="gpt-test", input=prompt,
                                                 tools=[SEND], stream=True)
        arguments, done_arguments, call = "", "", None
        async for event in events:
            if event.type == "response.function_call_arguments.delta":
                arguments += event.delta
            elif event.type == "response.function_call_arguments.done":
                done_arguments = event.arguments
            elif event.type == "response.output_item.done" and event.item.type == "function_call":
                call = event.item
        assert call is not None and arguments == done_arguments == call.arguments
    else:
        reply: Any = await api.responses.create(model="gpt-test", input=prompt, tools=[SEND])
        call = reply.output[0]
        assert call.type == "function_call"
    assert json.loads(call.arguments) == {"to": prompt}
    assert call.name == "send_mail"
    followup = await api.responses.create(model="gpt-test", tools=[SEND], input=[
        {"role": "user", "content": prompt},
        {"type": "function_call", "id": call.id, "call_id": call.call_id, "name": call.name,
         "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id,
         "output": f"Mail sent to {EMAIL}"}])
    assert followup.output_text == f"Tool said: Mail sent to {EMAIL}"
    gw.assert_no_seed_left()
    sent = gw.provider.bodies()[-1]["input"]
    assert json.loads(sent[1]["arguments"])["to"].startswith("Mail <PERSON_")
    assert sent[1]["call_id"] == call.call_id and sent[2]["call_id"] == call.call_id


@pytest.mark.parametrize("stream", [False, True])
async def test_reasoning_encrypted_content_untouched_both_ways(gw: Gateway,
                                                               stream: bool) -> None:
    api = gw.client()
    kwargs: Any = {"model": "gpt-test", "input": PROMPT, "reasoning": {"summary": "auto"},
                   "include": ["reasoning.encrypted_content"], "store": False}
    if stream:
        events = await api.responses.create(**kwargs, stream=True)
        summary, reply = "", None
        async for event in events:
            if event.type == "response.reasoning_summary_text.delta":
                summary += event.delta
            elif event.type == "response.completed":
                reply = event.response
        assert reply is not None and summary == f"Thinking: {PROMPT}"
    else:
        reply = await api.responses.create(**kwargs)
    reasoning = reply.output[0]
    assert reasoning.type == "reasoning"
    assert reasoning.summary[0].text == f"Thinking: {PROMPT}"
    provider_blob = gw.provider.last_blob
    assert reasoning.encrypted_content == provider_blob
    assert "-" in provider_blob and "_" in provider_blob  # OpenAI's URL-safe base64
    followup = await api.responses.create(model="gpt-test", store=False, input=[
        {"role": "user", "content": PROMPT},
        reasoning.model_dump(exclude_none=True),
        {"role": "user", "content": "And again?"}])
    assert followup.output_text == "Echo: And again?"
    gw.assert_no_seed_left()
    resent = gw.provider.bodies()[-1]["input"][1]
    assert resent["encrypted_content"] == provider_blob
    assert resent["summary"][0]["text"].startswith("Thinking: Please write to <PERSON_")


async def test_encrypted_content_is_never_restored(gw: Gateway) -> None:
    reply = await gw.client().responses.create(model="opaque-echo", input=f"I am {NAME}",
                                               reasoning={"effort": "low"})
    reasoning = reply.output[0]
    assert reasoning.type == "reasoning"
    assert reasoning.encrypted_content is not None
    assert reasoning.encrypted_content.startswith("I am <PERSON_")  # as the provider sent it
    assert reasoning.summary[0].text == f"Thinking: I am {NAME}"


async def test_encrypted_content_that_is_not_a_blob_is_refused(gw: Gateway) -> None:
    with pytest.raises(openai.PermissionDeniedError):
        await gw.client().responses.create(model="gpt-test", input=[
            {"type": "reasoning", "id": "rs_abc", "summary": [],
             "encrypted_content": f"{NAME} {EMAIL}"}])
    assert not gw.provider.received


async def test_previous_response_id_brings_back_the_first_turn(gw: Gateway) -> None:
    api = gw.client()
    first = await api.responses.create(model="gpt-test", input=f"My email is {EMAIL}")
    second = await api.responses.create(model="gpt-test", previous_response_id=first.id,
                                        input="What did I say?")
    assert second.output_text == f"Echo: What did I say? | Earlier: My email is {EMAIL}"
    gw.assert_no_seed_left()
    assert gw.provider.bodies()[1]["previous_response_id"] == first.id


async def test_retrieve_input_items_and_delete(gw: Gateway) -> None:
    api = gw.client()
    created = await api.responses.create(model="gpt-test", input=PROMPT)
    again = await api.responses.retrieve(created.id, include=["message.output_text.logprobs"])
    assert again.output_text == f"Echo: {PROMPT}"
    items: Any = await api.responses.input_items.list(created.id, limit=10, order="asc")
    assert items.data[0].content[0].text == PROMPT
    await api.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        await api.responses.retrieve(created.id)
    gw.assert_no_seed_left()
    paths = [(r.method, r.path, r.query) for r in gw.provider.received]
    assert ("GET", f"/v1/responses/{created.id}",
            "include[]=message.output_text.logprobs") in paths
    assert ("DELETE", f"/v1/responses/{created.id}", "") in paths


async def test_input_tokens_and_cancel(gw: Gateway) -> None:
    api = gw.client()
    counted = await api.responses.input_tokens.count(model="gpt-test", input=PROMPT)
    assert counted.input_tokens > 0
    created = await api.responses.create(model="gpt-test", input="hello")
    cancelled = await api.responses.cancel(created.id)
    assert cancelled.status == "cancelled"
    gw.assert_no_seed_left()


@pytest.mark.parametrize("path", [
    "/responses/resp abc", "/responses/jane.doe@example.com", "/responses/4111111111111111",
    "/conversations/conv_a/items/a/b"])
async def test_paths_that_are_not_ids_are_refused(gw: Gateway, path: str) -> None:
    api = gw.client()
    with pytest.raises((openai.PermissionDeniedError, openai.NotFoundError)):
        await api.get(path, cast_to=object)
    assert not gw.provider.received


async def test_unknown_query_parameter_is_refused(gw: Gateway) -> None:
    with pytest.raises(openai.PermissionDeniedError):
        await gw.client().responses.retrieve("resp_abc", extra_query={"note": NAME})
    with pytest.raises(openai.PermissionDeniedError):
        await gw.client().responses.retrieve("resp_abc", extra_query={"include[]": EMAIL})
    assert not gw.provider.received


async def test_conversations(gw: Gateway) -> None:
    api = gw.client()
    conversation = await api.conversations.create(
        items=[{"type": "message", "role": "user", "content": f"I am {NAME}"}],
        metadata={"topic": f"card {CARD}"})
    assert conversation.metadata == {"topic": f"card {CARD}"}
    await api.conversations.update(conversation.id, metadata={"owner": EMAIL})
    added: Any = await api.conversations.items.create(conversation.id, items=[
        {"type": "message", "role": "user", "content": f"Mail {EMAIL}"}])
    assert added.data[0].content[0].text == f"Mail {EMAIL}"
    reply = await api.responses.create(model="gpt-test", conversation=conversation.id,
                                       input="Who am I?")
    assert reply.output_text == f"Echo: Who am I? | Earlier: I am {NAME}"
    items: Any = await api.conversations.items.list(conversation.id, order="asc")
    texts = [part.text for item in items.data for part in getattr(item, "content", [])
             if hasattr(part, "text")]
    assert texts[:2] == [f"I am {NAME}", f"Mail {EMAIL}"]
    one: Any = await api.conversations.items.retrieve(items.data[0].id,
                                                      conversation_id=conversation.id)
    assert one.content[0].text == f"I am {NAME}"
    fetched = await api.conversations.retrieve(conversation.id)
    assert fetched.metadata == {"owner": EMAIL}
    await api.conversations.items.delete(items.data[0].id, conversation_id=conversation.id)
    deleted = await api.conversations.delete(conversation.id)
    assert deleted.deleted
    gw.assert_no_seed_left()


async def test_azure_v1_responses(start: GatewayFactory) -> None:
    gw = await start(format="azure", deployments=["gpt-eu"], region="swedencentral")
    api = gw.client()
    reply = await api.responses.create(model="gpt-eu", input=PROMPT)
    assert reply.output_text == f"Echo: {PROMPT}"
    stream = await api.responses.create(model="gpt-eu", input=PROMPT, stream=True)
    text = "".join([e.delta async for e in stream if e.type == "response.output_text.delta"])
    assert text == f"Echo: {PROMPT}"
    again = await api.responses.retrieve(reply.id)
    assert again.output_text == f"Echo: {PROMPT}"
    with pytest.raises(openai.PermissionDeniedError):
        await api.responses.create(model="gpt-us", input="hello")
    gw.assert_no_seed_left()
    assert {r.path for r in gw.provider.received} == {
        "/openai/v1/responses", f"/openai/v1/responses/{reply.id}"}


async def test_azure_classic_paths_of_azure_openai(start: GatewayFactory) -> None:
    """`AzureOpenAI(azure_endpoint=...)` calls /openai/responses?api-version=..."""
    gw = await start(format="azure", deployments=["gpt-eu"], region="swedencentral")
    api = openai.AsyncAzureOpenAI(azure_endpoint=gw.base_url.removesuffix("/openai/v1"),
                                  api_version="2025-04-01-preview", api_key="k",
                                  max_retries=0)
    reply = await api.responses.create(model="gpt-eu", input=PROMPT)
    assert reply.output_text == f"Echo: {PROMPT}"
    follow = await api.responses.create(model="gpt-eu", input="Who was that?",
                                        previous_response_id=reply.id)
    assert NAME in follow.output_text or EMAIL in follow.output_text
    with pytest.raises(openai.PermissionDeniedError):
        await api.responses.create(model="gpt-us", input="hello")
    gw.assert_no_seed_left()
    assert {r.path for r in gw.provider.received} == {"/openai/responses"}
    assert all(r.query.startswith("api-version=") for r in gw.provider.received)
