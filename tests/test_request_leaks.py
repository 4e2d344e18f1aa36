"""Hostile clients: personal data placed around the detector, in every place a request has.

Each test plants values where an attack review found they went out uninspected (headers,
query, path, numbers, keys, identifier fields, token-shaped wrappers, opaque blobs) and
checks that the provider saw none of them, or that the request was refused, and that our
own audit log holds none of them either.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import aiohttp
import pytest

from tests.conftest import Gateway, GatewayFactory
from tests.test_edge import CHAT, chat_body, post

CARD, SSN, EMAIL, NAME = "4111111111111111", "536228471", "jane.doe@example.com", "Jane Doe"
MARKERS = (CARD, SSN, EMAIL, NAME, "536-22-8471")


def provider_saw_none(gw: Gateway) -> None:
    seen = gw.provider.all_text()
    assert not [m for m in MARKERS if m in seen], seen[:2000]


async def audit_holds_none(gw: Gateway, count: int = 1) -> list[dict[str, Any]]:
    lines = await gw.audit_after(count)
    text = (gw.state_dir / "audit.jsonl").read_text()
    assert not [m for m in MARKERS if m in text]
    return lines


async def get(gw: Gateway, path: str, headers: dict[str, str] | None = None
              ) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(
            gw.url + path, headers={"Authorization": "Bearer sk-test", **(headers or {})}
    ) as resp:
        return resp.status, await resp.json(content_type=None)


# --- headers -----------------------------------------------------------------------------

async def test_free_text_headers_do_not_carry_data_out(gateway: Gateway) -> None:
    status, _, _ = await post(gateway, CHAT, json_body=chat_body("hello"), headers={
        "User-Agent": f"{NAME} {EMAIL}", "x-stainless-os": NAME.replace(" ", ""),
        "x-stainless-custom": EMAIL, "openai-anything": EMAIL,
        "x-amzn-bedrock-trace": CARD, "X-Forwarded-For": EMAIL})
    assert status == 200
    sent = gateway.provider.received[0].headers
    assert "User-Agent" not in sent or NAME not in sent["User-Agent"]
    assert "openai-anything" not in sent and "x-amzn-bedrock-trace" not in sent
    provider_saw_none(gateway)


@pytest.mark.parametrize("header", ["Idempotency-Key", "OpenAI-Organization", "OpenAI-Project"])
async def test_known_headers_of_the_wrong_shape_are_refused(gateway: Gateway,
                                                            header: str) -> None:
    status, body, _ = await post(gateway, CHAT, json_body=chat_body("hello"),
                                 headers={header: f"{NAME} {SSN}"})
    assert status == 400 and header.lower() in body["error"]["message"]
    assert gateway.provider.received == []
    await audit_holds_none(gateway)


async def test_sdk_headers_of_the_right_shape_pass(gateway: Gateway) -> None:
    status, _, _ = await post(gateway, CHAT, json_body=chat_body("hello"), headers={
        "User-Agent": "OpenAI/Python 1.54.3", "Idempotency-Key": "stainless-python-retry-1f0e",
        "OpenAI-Organization": "org-abc123", "x-stainless-arch": "x64"})
    assert status == 200
    sent = gateway.provider.received[0].headers
    assert sent["User-Agent"] == "OpenAI/Python 1.54.3" and sent["x-stainless-arch"] == "x64"
    assert sent["OpenAI-Organization"] == "org-abc123"


# --- query and path ----------------------------------------------------------------------

@pytest.mark.parametrize("query", [f"limit={EMAIL}", "order=Jane+Doe", f"api-version={CARD}",
                                   f"after={SSN}"])
async def test_query_values_must_have_their_shape(gateway: Gateway, query: str) -> None:
    status, body = await get(gateway, f"/openai/v1/models?{query}")
    assert status == 403 and body["error"]["code"] == "aliasgate_refused"
    assert gateway.provider.received == []
    await audit_holds_none(gateway)


async def test_query_values_of_the_right_shape_pass(gateway: Gateway) -> None:
    status, _ = await get(gateway, "/openai/v1/models?limit=20&order=desc&after=model-1")
    assert status == 200 and gateway.provider.received[0].query == \
        "limit=20&order=desc&after=model-1"


@pytest.mark.parametrize("segment", [EMAIL, "Jane%20Doe", CARD, f"gpt-{SSN}", "536_22_8471"])
async def test_path_segments_that_are_not_ids_are_refused(gateway: Gateway,
                                                          segment: str) -> None:
    status, body = await get(gateway, f"/openai/v1/models/{segment}")
    assert status == 403 and body["error"]["code"] == "aliasgate_refused"
    assert gateway.provider.received == []
    await audit_holds_none(gateway)


# --- numbers, keys, identifier fields ----------------------------------------------------

def _tool_turn(arguments: str, call_id: str = "call_1") -> list[dict[str, Any]]:
    return [{"role": "user", "content": "look it up"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": call_id, "type": "function",
                 "function": {"name": "lookup", "arguments": arguments}}]},
            {"role": "tool", "tool_call_id": call_id, "content": "done"}]


@pytest.mark.parametrize("body", [
    chat_body("hi", metadata={"card": int(CARD)}),
    {"model": "gpt-test", "messages": _tool_turn(json.dumps({"ssn": int(SSN)}))},
    {"model": "gpt-test", "messages": _tool_turn(json.dumps(CARD))},
    {"model": "gpt-test", "messages": _tool_turn(CARD)},
    chat_body("hi", logit_bias={CARD: 1}),
    {"model": "gpt-test", "messages": [{"role": "user", "content": "hi",
                                        f"{NAME} {EMAIL}": "x"}]},
    {"model": "gpt-test", "messages": _tool_turn("{}", call_id=f"Dr. {NAME} 536-22-8471")},
    chat_body("hi", service_tier=EMAIL, user=f"{NAME} ssn {SSN}"),
    chat_body(f"The card is <X_{CARD}> and my SSN is <US_SSN_{SSN}>."),
    chat_body(f"ssn_{SSN}, card_{CARD}"),
    chat_body("my card 4111_1111_1111_1111, ssn 536_22_8471"),
    {"model": "gpt-test", "messages": _tool_turn("{}", call_id="call_4111_1111_1111_1111")},
    chat_body("hi", temperature=1.0, metadata={"ssn:536:22:8471": "x"}),
], ids=["number-in-metadata", "number-in-arguments", "arguments-only-a-number",
        "arguments-bare-digits", "logit-bias-key", "extra-key-on-a-message",
        "tool-call-id", "identifier-fields", "token-shaped-wrappers", "glued-underscores",
        "digits-joined-by-underscores", "id-of-underscored-digits", "key-of-colon-digits"])
async def test_values_around_the_detector_do_not_reach_the_provider(
        gateway: Gateway, body: dict[str, Any]) -> None:
    status, reply, _ = await post(gateway, CHAT, json_body=body)
    assert status == 200, reply   # inspected and sent, not refused
    provider_saw_none(gateway)
    await audit_holds_none(gateway)


async def test_a_model_name_that_is_not_one_is_inspected(gateway: Gateway) -> None:
    status, _, _ = await post(gateway, CHAT, json_body={
        "model": EMAIL, "messages": [{"role": "user", "content": "hi"}]})
    assert status == 200
    provider_saw_none(gateway)
    [record] = await audit_holds_none(gateway)
    assert record["entities"]["EMAIL_ADDRESS"]["count"] == 1


async def test_names_of_tools_and_schemas_are_left_alone(gateway: Gateway) -> None:
    body = chat_body("hi", tools=[{"type": "function", "function": {
        "name": "email_harriet", "parameters": {"type": "object", "properties": {
            "lorem": {"type": "string"}, "metadata": {"type": "object"}}}}}],
        response_format={"type": "json_schema", "json_schema": {
            "name": "x", "schema": {"type": "object", "properties": {"x": {"type": "string"}}}}})
    status, reply, _ = await post(gateway, CHAT, json_body=body)
    assert status == 200, reply
    sent = gateway.provider.received[0].json
    assert sent["tools"] == body["tools"] and sent["response_format"] == body["response_format"]


async def test_a_tool_name_of_another_shape_gets_a_bracketless_token(gateway: Gateway) -> None:
    body = chat_body("hi", tools=[{"type": "function", "function": {
        "name": f"mail {EMAIL}", "parameters": {"type": "object"}}}])
    status, _, _ = await post(gateway, CHAT, json_body=body)
    assert status == 200
    name = gateway.provider.received[0].json["tools"][0]["function"]["name"]
    assert name.startswith("mailEMAIL_ADDRESS_") and "<" not in name


# --- tokens ------------------------------------------------------------------------------

async def test_a_real_token_sent_back_in_signed_thinking_is_left_alone(gateway: Gateway
                                                                       ) -> None:
    import base64
    import hashlib

    async def send(messages: list[dict[str, Any]]) -> Any:
        status, reply, _ = await post(gateway, "/anthropic/v1/messages", json_body={
            "model": "claude-test", "max_tokens": 10, "messages": messages},
            headers={"x-api-key": "sk-ant-test"})
        assert status == 200, reply
        return gateway.provider.received[-1].json

    first = await send([{"role": "user", "content": f"I am {NAME}"}])
    token = first["messages"][0]["content"].removeprefix("I am ")
    assert token.startswith("<PERSON_")
    signature = base64.b64encode(hashlib.sha512(b"s").digest()).decode()
    thinking = f"The user is {token}, card <X_{CARD}>."
    second = await send([
        {"role": "user", "content": f"I am {NAME}"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": thinking, "signature": signature}]},
        {"role": "user", "content": "go on"}])
    sent = second["messages"][1]["content"][0]["thinking"]
    assert sent.startswith(f"The user is {token}, card <X_<CREDIT_CARD_")
    provider_saw_none(gateway)


# --- opaque blobs and parts the gateway cannot read --------------------------------------

@pytest.mark.parametrize("block", [
    {"type": "redacted_thinking", "data": f"{NAME} {EMAIL}"},
    {"type": "thinking", "thinking": "ok", "signature": f"{NAME} {SSN}"},
    {"type": "thinking", "thinking": "ok", "signature": "4111-1111-1111-1111"},
    {"type": "redacted_thinking", "data": "+44-20-7946-0958"},
    # text that is valid base64 is still text
    {"type": "redacted_thinking",
     "data": base64.b64encode(f"{NAME} {EMAIL} {CARD}".encode()).decode()},
])
async def test_opaque_blobs_holding_client_text_are_refused(gateway: Gateway,
                                                            block: dict[str, Any]) -> None:
    status, reply, _ = await post(gateway, "/anthropic/v1/messages", json_body={
        "model": "claude-test", "max_tokens": 10, "messages": [
            {"role": "user", "content": "hi"}, {"role": "assistant", "content": [block]},
            {"role": "user", "content": "go on"}]})
    assert status == 403 and reply["type"] == "error"
    assert gateway.provider.received == []


@pytest.mark.parametrize("part", [
    {"type": "text", "text": "hi", "image_url": {"url": "data:image/png;base64,AAAA"}},
    {"type": "IMAGE_URL", "image_url": {"url": "data:image/png;base64,AAAA"}},
])
async def test_parts_carrying_binary_content_are_refused_whatever_their_type(
        gateway: Gateway, part: dict[str, Any]) -> None:
    status, _, _ = await post(gateway, CHAT, json_body={
        "model": "gpt-test", "messages": [{"role": "user", "content": [part]}]})
    assert status == 403
    assert gateway.provider.received == []


@pytest.mark.parametrize("value", [{"text": NAME}, [["a"]], 3.5])
async def test_embeddings_input_of_another_shape_is_refused(gateway: Gateway,
                                                            value: Any) -> None:
    status, _, _ = await post(gateway, "/openai/v1/embeddings",
                              json_body={"model": "e", "input": value})
    assert status == 400
    assert gateway.provider.received == []


# --- JSON that is not JSON, or too much of it --------------------------------------------

@pytest.mark.parametrize("raw", [b'{"model":"m","messages":[],"temperature":NaN}',
                                 b'{"model":"m","messages":[],"temperature":1e400}',
                                 b'{"model":"m","messages":[],"temperature":Infinity}',
                                 b'{"model":"m","messages":[' + b"[" * 5000 + b"]" * 5000 + b"]}",
                                 b'{"model":"m","messages":[' + b"[" * 100 + b"]" * 100 + b"]}"])
async def test_not_quite_json_is_400(gateway: Gateway, raw: bytes) -> None:
    status, reply, _ = await post(gateway, CHAT, data=raw,
                                  headers={"Content-Type": "application/json"})
    assert status == 400 and reply["error"]["code"] == "aliasgate_bad_request"
    assert gateway.provider.received == []


async def test_a_body_of_too_many_values_is_413(gateway: Gateway) -> None:
    body = chat_body("hi", metadata={"k": ["ab"] * 150_000})
    status, reply, _ = await post(gateway, CHAT, json_body=body)
    assert status == 413 and reply["error"]["code"] == "aliasgate_too_large"


async def test_a_lone_surrogate_goes_out_as_valid_utf8(gateway: Gateway) -> None:
    raw = b'{"model":"m","messages":[{"role":"user","content":"a \\ud800 b"}]}'
    status, _, _ = await post(gateway, CHAT, data=raw,
                              headers={"Content-Type": "application/json"})
    assert status == 200
    sent = gateway.provider.received[0].body
    assert json.loads(sent.decode("utf-8"))["messages"][0]["content"] == "a \ud800 b"


# --- our own words in the audit log -----------------------------------------------------

@pytest.mark.parametrize("headers", [{"Content-Encoding": f"{NAME} {EMAIL} " * 200}])
async def test_refusal_reasons_never_quote_the_request(gateway: Gateway,
                                                       headers: dict[str, str]) -> None:
    status, _, _ = await post(gateway, CHAT, json_body=chat_body("hi"), headers=headers)
    assert status == 415
    [record] = await audit_holds_none(gateway)
    assert len(json.dumps(record)) < 2000


async def test_residency_reasons_never_quote_a_deployment(start_gateway: GatewayFactory
                                                          ) -> None:
    gw = await start_gateway(format="azure", deployments=["gpt-eu"], region="swedencentral")
    status, _, _ = await post(gw, f"/openai/openai/deployments/{NAME.replace(' ', '-')}"
                              f"{SSN}/chat/completions?api-version=2024-10-21",
                              json_body=chat_body("hi"))
    assert status == 403
    await audit_holds_none(gw)


# --- tenants -----------------------------------------------------------------------------

async def test_a_gateway_key_header_does_not_pick_the_tenant_where_none_are_issued(
        gateway: Gateway) -> None:
    for key in ("agk_one", "agk_two"):
        status, _, _ = await post(gateway, CHAT, json_body=chat_body(f"I am {NAME}"),
                                  headers={"x-aliasgate-key": key})
        assert status == 200
    first, second = (r.json["messages"][0]["content"] for r in gateway.provider.received)
    assert first == second   # one provider credential, one tenant


# --- shapes ------------------------------------------------------------------------------

@pytest.mark.parametrize(("segment", "passes"), [
    ("claude-sonnet-4-5@20250929:rawPredict", True),        # Vertex, a versioned model
    ("anthropic.claude-sonnet-4-20250514-v1:0", True),     # Bedrock
    ("ft:gpt-4o-mini:my-org:custom:abc123", True),
    ("jane.doe@example.com", False), ("536_22_8471", False), ("192.168.12.34", False),
])
def test_path_segment_shapes(segment: str, passes: bool) -> None:
    from proxy.shapes import SEGMENT, has_shape

    assert has_shape(segment, SEGMENT) is passes


def test_a_vertex_project_number_is_an_id_only_with_twelve_digits() -> None:
    from proxy.errors import Refused
    from proxy.routes import _check_segments

    path = "/v1/projects/{}/locations/us-east5/publishers/google/models/gemini:generateContent"
    _check_segments(path.format("123456789012"))
    with pytest.raises(Refused):
        _check_segments(path.format(SSN))


def test_provider_blobs_are_binary_base64() -> None:
    import hashlib

    from proxy.shapes import is_blob

    assert is_blob(base64.b64encode(hashlib.sha512(b"x").digest() * 4).decode())
    assert not is_blob(base64.b64encode(b"Jane Doe, 4111 1111 1111 1111, as text").decode())
    assert not is_blob("Jane_Doe_jane_doe_example_com")
