"""Agent and LLM frameworks that speak the Responses API, pointed at the gateway: the
provider sees only tokens, the framework gets the real values back."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from pydantic import SecretStr

from tests.test_responses import EMAIL, NAME, PROMPT, Gateway
from tests.test_responses import gw as gw  # the fixtures of test_responses
from tests.test_responses import start as start

# litellm would fetch its model cost map from the internet when imported.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture
def agents_default_client(gw: Gateway) -> Iterator[openai.AsyncOpenAI]:
    """The openai-agents SDK's default client pointed at the gateway, and put back after."""
    import agents
    from agents import _config
    from agents.models import _openai_shared

    before = (_openai_shared.get_default_openai_client(),
              _openai_shared.get_use_responses_by_default())
    client = gw.client()
    agents.set_default_openai_client(client, use_for_tracing=True)
    agents.set_default_openai_api("responses")
    yield client
    _openai_shared.set_default_openai_client(before[0])  # type: ignore[arg-type]
    _config.set_default_openai_api("responses" if before[1] else "chat_completions")


async def test_openai_agents_runner_with_a_function_tool(
        gw: Gateway, agents_default_client: openai.AsyncOpenAI) -> None:
    from agents import Agent, Runner, function_tool, set_trace_processors
    from agents.tracing.processors import (
        BackendSpanExporter,
        BatchTraceProcessor,
        default_processor,
    )

    called_with: list[str] = []

    @function_tool
    def send_mail(to: str) -> str:
        """Send a mail."""
        called_with.append(to)
        return f"Mail sent to {to}"

    # Traces go to the gateway's /v1/traces/ingest, which inspects them like any request.
    exporter = BackendSpanExporter(api_key="sk-test", endpoint=f"{gw.base_url}/traces/ingest")
    processor = BatchTraceProcessor(exporter)
    set_trace_processors([processor])
    try:
        agent = Agent(name="mailer", instructions=f"You help {NAME}.", tools=[send_mail],
                      model="gpt-test")
        result = await Runner.run(agent, f"Mail {NAME} at {EMAIL}")
        await asyncio.to_thread(processor.force_flush)  # it posts with a blocking client
    finally:
        processor.shutdown()
        set_trace_processors([default_processor()])
    # The tool ran with the real values; the provider's final answer quotes its output.
    assert called_with == [f"Mail {NAME} at {EMAIL}"]
    assert result.final_output == f"Tool said: Mail sent to Mail {NAME} at {EMAIL}"
    gw.assert_no_seed_left()
    traces = [r for r in gw.provider.received if r.path.endswith("/traces/ingest")]
    assert traces, "the trace export did not reach the provider through the gateway"
    assert "<PERSON_" in traces[0].text


async def test_langchain_chat_openai_with_the_responses_api(gw: Gateway) -> None:
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="gpt-test", base_url=gw.base_url, api_key=SecretStr("sk-test"),
                     use_responses_api=True, max_retries=0)
    reply = await llm.ainvoke(PROMPT)
    assert reply.text == f"Echo: {PROMPT}"
    streamed = "".join([chunk.text async for chunk in llm.astream(PROMPT)])
    assert streamed == f"Echo: {PROMPT}"

    def send_mail(to: str) -> str:
        """Send a mail."""
        return to

    call = await llm.bind_tools([send_mail]).ainvoke(f"Mail {EMAIL}")
    assert call.tool_calls[0]["args"] == {"to": f"Mail {EMAIL}"}
    gw.assert_no_seed_left()


async def test_litellm_aresponses(gw: Gateway) -> None:
    import litellm

    litellm.telemetry = False
    reply: Any = await litellm.aresponses(model="openai/gpt-test", input=PROMPT,
                                          api_base=gw.base_url, api_key="sk-test")
    texts = [part.text for item in reply.output if item.type == "message"
             for part in item.content]
    assert texts == [f"Echo: {PROMPT}"]
    stream: Any = await litellm.aresponses(model="openai/gpt-test", input=PROMPT,
                                           api_base=gw.base_url, api_key="sk-test",
                                           stream=True)
    deltas = [event.delta async for event in stream
              if event.type == "response.output_text.delta"]
    assert "".join(deltas) == f"Echo: {PROMPT}"
    gw.assert_no_seed_left()
    sent = json.dumps([r.json for r in gw.provider.received if r.method == "POST"])
    assert "<PERSON_" in sent and "<EMAIL_ADDRESS_" in sent
