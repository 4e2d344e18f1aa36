"""The edge: bad input, limits, headers, routing and refusals, over raw HTTP."""

from __future__ import annotations

import gzip
import json
import re
import zlib
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

from tests.conftest import Gateway, GatewayFactory

CHAT = "/openai/v1/chat/completions"


def chat_body(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-test", "messages": [{"role": "user", "content": text}], **extra}


async def post(gw: Gateway, path: str, data: bytes | None = None, json_body: Any = None,
               headers: dict[str, str] | None = None) -> tuple[int, Any, aiohttp.ClientResponse]:
    hdrs = {"Authorization": "Bearer sk-test", **(headers or {})}
    async with aiohttp.ClientSession() as session, session.post(
            gw.url + path, data=data, json=json_body, headers=hdrs,
            allow_redirects=False) as resp:
        raw = await resp.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        return resp.status, body, resp


def openai_error(body: Any) -> str:
    assert set(body) == {"error"} and body["error"]["message"]
    return str(body["error"]["code"])


async def test_malformed_json_is_400_and_nothing_is_sent(gateway: Gateway) -> None:
    status, body, _ = await post(gateway, CHAT, data=b'{"messages": [',
                                 headers={"Content-Type": "application/json"})
    assert status == 400 and openai_error(body) == "aliasgate_bad_request"
    assert gateway.provider.received == []
    assert (await gateway.audit_after(1))[-1]["decision"] == "refused"


async def test_wrong_content_type_is_415(gateway: Gateway) -> None:
    status, body, _ = await post(gateway, CHAT, data=json.dumps(chat_body("hi")).encode(),
                                 headers={"Content-Type": "text/plain"})
    assert status == 415 and openai_error(body) == "aliasgate_unsupported_media"
    assert gateway.provider.received == []


async def test_oversize_body_is_413(gateway: Gateway) -> None:
    big = json.dumps(chat_body("x" * 1_100_000)).encode()
    status, body, _ = await post(gateway, CHAT, data=big,
                                 headers={"Content-Type": "application/json"})
    assert status == 413 and openai_error(body) == "aliasgate_too_large"
    assert gateway.provider.received == []


async def test_oversize_chunked_body_is_413(gateway: Gateway) -> None:
    async def chunks() -> Any:
        for _ in range(30):
            yield b"x" * 50_000

    status, _, _ = await post(gateway, CHAT, data=chunks(),
                              headers={"Content-Type": "application/json"})
    assert status == 413
    assert gateway.provider.received == []


async def test_gzip_body_is_inspected(gateway: Gateway) -> None:
    raw = json.dumps(chat_body("Mail jane.doe@example.com")).encode()
    status, body, _ = await post(gateway, CHAT, data=gzip.compress(raw), headers={
        "Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert status == 200
    assert body["choices"][0]["message"]["content"] == "Echo: Mail jane.doe@example.com"
    sent = gateway.provider.received[0]
    assert "jane.doe@example.com" not in sent.text and "Content-Encoding" not in sent.headers


async def test_deflate_body_is_inspected(gateway: Gateway) -> None:
    raw = json.dumps(chat_body("hello")).encode()
    status, _, _ = await post(gateway, CHAT, data=zlib.compress(raw), headers={
        "Content-Type": "application/json", "Content-Encoding": "deflate"})
    assert status == 200


async def test_gzip_bomb_is_413(gateway: Gateway) -> None:
    bomb = gzip.compress(b'{"messages": "' + b"A" * 50_000_000 + b'"}')
    assert len(bomb) < 1_000_000
    status, body, _ = await post(gateway, CHAT, data=bomb, headers={
        "Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert status == 413 and openai_error(body) == "aliasgate_too_large"
    assert gateway.provider.received == []


async def test_unknown_encoding_is_415(gateway: Gateway) -> None:
    status, _, _ = await post(gateway, CHAT, data=b"xx", headers={
        "Content-Type": "application/json", "Content-Encoding": "br"})
    assert status == 415


async def test_corrupt_gzip_is_400(gateway: Gateway) -> None:
    status, _, _ = await post(gateway, CHAT, data=b"\x1f\x8bnot gzip", headers={
        "Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert status == 400


async def test_unknown_route_is_404(gateway: Gateway) -> None:
    status, body, _ = await post(gateway, "/nowhere/v1/chat/completions", json_body={})
    assert status == 404 and "no route" in body["error"]["message"]
    assert gateway.provider.received == []


async def test_unknown_post_path_is_refused_in_provider_shape(gateway: Gateway) -> None:
    form = aiohttp.FormData()
    form.add_field("file", b"Jane Doe, 4111 1111 1111 1111", filename="people.csv")
    form.add_field("purpose", "fine-tune")
    status, body, _ = await post(gateway, "/openai/v1/uploads", data=form)  # type: ignore[arg-type]
    assert status == 403 and openai_error(body) == "aliasgate_refused"
    status, body, _ = await post(gateway, "/anthropic/v1/skills", json_body={})
    assert status == 403 and body["type"] == "error"
    assert body["error"]["type"] == "permission_error"
    assert gateway.provider.received == []


async def test_policy_passthrough_forwards_listed_path(start_gateway: GatewayFactory,
                                                       tmp_path: Path) -> None:
    write_policy(tmp_path, "uploads", passthrough=["POST /v1/uploads"])
    gw = await start_gateway(policy="uploads")
    status, _, _ = await post(gw, "/openai/v1/uploads", data=b"raw",
                              headers={"Content-Type": "application/octet-stream"})
    assert status == 200 and gw.provider.received[0].body == b"raw"
    assert (await gw.audit_after(1))[-1]["decision"] == "passthrough"


async def test_image_part_is_refused_unless_policy_allows(start_gateway: GatewayFactory,
                                                          tmp_path: Path) -> None:
    body = {"model": "gpt-test", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "Who is this? Jane Doe?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]}
    gw = await start_gateway()
    status, reply, _ = await post(gw, CHAT, json_body=body)
    assert status == 403 and "1 image_url" in reply["error"]["message"]
    assert gw.provider.received == []
    write_policy(tmp_path, "images", uninspectable_content="allow")
    gw2 = await start_gateway(policy="images")
    status, _, _ = await post(gw2, CHAT, json_body=body)
    assert status == 200 and "Jane Doe" not in gw2.provider.received[0].text


async def test_block_action_is_422(start_gateway: GatewayFactory, tmp_path: Path) -> None:
    write_policy(tmp_path, "strict", entities={"CREDIT_CARD": "block", "PERSON": "tokenize"})
    gw = await start_gateway(policy="strict")
    status, body, _ = await post(gw, CHAT, json_body=chat_body("Card 4111 1111 1111 1111"))
    assert status == 422 and "CREDIT_CARD" in body["error"]["message"]
    assert gw.provider.received == []
    record = (await gw.audit_after(1))[-1]
    assert record["decision"] == "blocked"
    card = record["entities"]["CREDIT_CARD"]
    assert (card["action"], card["count"]) == ("block", 1) and card["min_score"] >= 0.5


async def test_redact_action_is_irreversible(start_gateway: GatewayFactory, tmp_path: Path) -> None:
    write_policy(tmp_path, "redact", entities={"EMAIL_ADDRESS": "redact"})
    gw = await start_gateway(policy="redact")
    status, body, _ = await post(gw, CHAT, json_body=chat_body("Mail jane.doe@example.com"))
    assert status == 200
    assert gw.provider.received[0].json["messages"][0]["content"] == \
        "Mail [REDACTED_EMAIL_ADDRESS]"
    assert body["choices"][0]["message"]["content"] == "Echo: Mail [REDACTED_EMAIL_ADDRESS]"


async def test_allow_and_deny_lists(start_gateway: GatewayFactory, tmp_path: Path) -> None:
    write_policy(tmp_path, "lists", allow=["Jane Doe"], deny=["Project Falcon"])
    gw = await start_gateway(policy="lists")
    await post(gw, CHAT, json_body=chat_body("Jane Doe leads project falcon."))
    sent = gw.provider.received[0].json["messages"][0]["content"]
    assert sent.startswith("Jane Doe leads <DENY_LIST_")


async def test_routing_ignores_host_and_forwarded_headers(gateway: Gateway) -> None:
    status, _, _ = await post(gateway, CHAT, json_body=chat_body("hi"), headers={
        "Host": "api.anthropic.com", "X-Forwarded-Host": "evil.example",
        "X-Forwarded-For": "10.0.0.1", "Forwarded": "host=evil.example"})
    assert status == 200
    seen = gateway.provider.received[0]
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["Host"] == gateway.provider.url.removeprefix("http://")
    for name in ("X-Forwarded-Host", "X-Forwarded-For", "Forwarded"):
        assert name not in seen.headers


async def test_absolute_form_target_does_not_change_routing(gateway: Gateway) -> None:
    import asyncio

    host, port = gateway.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    body = json.dumps(chat_body("hi")).encode()
    writer.write(b"POST http://evil.example/anthropic/v1/messages HTTP/1.1\r\n"
                 b"Host: evil.example\r\nContent-Type: application/json\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
                 + body)
    await writer.drain()
    response = await reader.read()
    writer.close()
    assert response.startswith(b"HTTP/1.1 200")
    assert gateway.provider.received[0].path == "/v1/messages"


async def test_hop_by_hop_headers_are_not_forwarded(gateway: Gateway) -> None:
    await post(gateway, CHAT, json_body=chat_body("hi"), headers={
        "Connection": "keep-alive, X-Secret", "X-Secret": "1", "Keep-Alive": "timeout=5",
        "TE": "trailers", "Proxy-Authorization": "Basic Zm9vOmJhcg=="})
    seen = gateway.provider.received[0].headers
    for name in ("X-Secret", "Keep-Alive", "TE", "Proxy-Authorization"):
        assert name not in seen
    assert seen["Authorization"] == "Bearer sk-test"


async def test_redirects_are_not_followed_nor_passed_on(gateway: Gateway) -> None:
    # An SDK that followed a redirect would resend the original body, untokenized.
    status, body, resp = await post(gateway, CHAT, json_body=chat_body("hi", model="redirect"))
    assert status == 502 and openai_error(body) == "aliasgate_upstream_failed"
    assert "Location" not in resp.headers
    assert len(gateway.provider.received) == 1


async def test_dead_upstream_is_502(start_gateway: GatewayFactory) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    gw = await start_gateway(upstream=f"http://127.0.0.1:{dead_port}")
    status, body, _ = await post(gw, CHAT, json_body=chat_body("Jane Doe"))
    assert status == 502 and openai_error(body) == "aliasgate_upstream_failed"


async def test_slow_upstream_times_out_with_504(start_gateway: GatewayFactory) -> None:
    gw = await start_gateway(config_extra={"timeouts": {"connect": 1, "read": 0.5}})
    status, body, _ = await post(gw, CHAT, json_body=chat_body("hi", model="slow"))
    assert status == 504 and openai_error(body) == "aliasgate_upstream_timeout"


async def test_compressed_answer_is_restored_and_length_rebuilt(gateway: Gateway) -> None:
    status, body, resp = await post(gateway, CHAT, json_body=chat_body("I am Jane Doe",
                                                                       model="gzip"))
    assert status == 200
    assert body["choices"][0]["message"]["content"] == "Echo: I am Jane Doe"
    assert "Content-Encoding" not in resp.headers
    assert int(resp.headers["Content-Length"]) == len(json.dumps(body, ensure_ascii=False))


async def test_a_pasted_token_restores_only_for_its_own_tenant(gateway: Gateway) -> None:
    await post(gateway, CHAT, json_body=chat_body("I am Jane Doe."))
    token = gateway.provider.received[0].json["messages"][0]["content"].split()[-1].rstrip(".")
    assert token.startswith("<PERSON_")
    other = {"Authorization": "Bearer sk-another-tenant"}
    status, body, _ = await post(gateway, CHAT, json_body=chat_body(f"Who is {token}?"),
                                 headers=other)
    assert status == 200
    assert body["choices"][0]["message"]["content"] == f"Echo: Who is {token}?"
    record = (await gateway.audit_after(2))[-1]
    assert record["token_lookalikes_in_request"] == 1 and record["tokens_unknown"] == 1
    # The tenant it was issued to gets the value: the vault holds it for that tenant.
    status, body, _ = await post(gateway, CHAT, json_body=chat_body(f"Who is {token}?"))
    assert body["choices"][0]["message"]["content"] == "Echo: Who is Jane Doe?"


async def test_audit_has_one_line_per_request_and_no_values(gateway: Gateway) -> None:
    await post(gateway, CHAT, json_body=chat_body("Jane Doe, jane.doe@example.com"))
    await post(gateway, "/openai/v1/files", json_body={})
    lines = await gateway.audit_after(2)
    assert [r["decision"] for r in lines] == ["forwarded", "refused"]
    assert lines[0]["entities"]["PERSON"]["count"] == 1
    assert lines[0]["tokens_issued"] == 2 and lines[0]["tokens_restored"] == 2
    text = (gateway.state_dir / "audit.jsonl").read_text()
    assert "Jane" not in text and "jane.doe" not in text and "sk-test" not in text


def _read_settled(path: Path) -> str:
    """A state file's text; "" for the head's temporary copy, renamed away meanwhile (its
    content is read under the head's own name)."""
    try:
        return path.read_bytes().decode("utf-8", "replace")  # the vault is binary
    except FileNotFoundError:
        return ""


def write_policy(tmp_path: Path, name: str, **fields: Any) -> None:
    import yaml

    policy = {"name": name, "version": 1,
              "entities": {"PERSON": "tokenize", "EMAIL_ADDRESS": "tokenize"}, **fields}
    (tmp_path / "policies").mkdir(exist_ok=True)
    (tmp_path / "policies" / f"{name}.yaml").write_text(yaml.safe_dump(policy))


@pytest.mark.parametrize("path", ["/openai/../anthropic/v1/messages", "/openai//v1/models",
                                  "/openai/%2e%2e/anthropic/v1/models", "/openai/v1%2Fmodels"])
async def test_odd_paths_are_rejected(gateway: Gateway, path: str) -> None:
    url = URL(gateway.url + path, encoded=True)
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        assert resp.status == 400
    assert gateway.provider.received == []


async def test_tenant_header_scopes_tokens_and_is_required(start_gateway: GatewayFactory
                                                          ) -> None:
    gw = await start_gateway(tenant_header="X-Tenant")
    status, body, _ = await post(gw, CHAT, json_body=chat_body("I am Jane Doe"))
    assert status == 403 and "X-Tenant" in body["error"]["message"]
    for tenant in ("acme", "globex"):
        status, _, _ = await post(gw, CHAT, json_body=chat_body("I am Jane Doe"),
                                  headers={"X-Tenant": tenant})
        assert status == 200
    first, second = (r.json["messages"][0]["content"] for r in gw.provider.received)
    assert first != second
    assert all("X-Tenant" not in r.headers for r in gw.provider.received)


async def test_fixed_tenant_ignores_the_api_key(start_gateway: GatewayFactory) -> None:
    gw = await start_gateway(tenant="acme")
    for key in ("sk-one", "sk-two"):
        await post(gw, CHAT, json_body=chat_body("I am Jane Doe"),
                   headers={"Authorization": f"Bearer {key}"})
    first, second = (r.json["messages"][0]["content"] for r in gw.provider.received)
    assert first == second


async def test_no_seed_value_reaches_logs_metrics_or_audit(
        gateway: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    seeds = ["Jane Doe", "jane.doe@example.com", "sk-secret-key"]
    headers = {"Authorization": "Bearer sk-secret-key"}
    await post(gateway, CHAT, json_body=chat_body("Jane Doe, jane.doe@example.com"),
               headers=headers)
    await post(gateway, CHAT, data=b"{broken Jane Doe", headers={
        **headers, "Content-Type": "application/json"})
    await post(gateway, CHAT, json_body=chat_body("Jane Doe", model="die-mid-stream",
                                                  stream=True), headers=headers)
    async with aiohttp.ClientSession() as session, \
            session.get(gateway.url + "/metrics") as resp:
        metrics = await resp.text()
    await gateway.audit_after(3)  # the streamed request's line is written last
    written = caplog.text + metrics + "".join(
        _read_settled(p) for p in gateway.state_dir.iterdir() if p.name != "master.key")
    for seed in seeds:
        assert seed not in written


async def test_only_allowlisted_headers_reach_the_provider(gateway: Gateway) -> None:
    await post(gateway, CHAT, json_body=chat_body("hi"), headers={
        "X-User": "Jane Doe", "Cookie": "session=jane", "OpenAI-Organization": "org-1",
        "Idempotency-Key": "k1"})
    seen = gateway.provider.received[0].headers
    assert "X-User" not in seen and "Cookie" not in seen
    assert seen["OpenAI-Organization"] == "org-1" and seen["Idempotency-Key"] == "k1"


async def test_unknown_query_parameters_are_refused(gateway: Gateway) -> None:
    status, body, _ = await post(gateway, CHAT + "?email=jane.doe%40example.com",
                                 json_body=chat_body("hi"))
    assert status == 403 and openai_error(body) == "aliasgate_refused"
    assert gateway.provider.received == []
    async with aiohttp.ClientSession() as session, session.get(
            gateway.url + "/anthropic/v1/models?limit=5&beta=true") as resp:
        assert resp.status == 200
    assert gateway.provider.received[0].query == "limit=5&beta=true"


async def test_encoded_route_prefix_cannot_move_the_upstream_host(gateway: Gateway) -> None:
    url = URL(gateway.url + "/%6Fpenai/v1/models", encoded=True)
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        assert resp.status == 200
    assert gateway.provider.received[0].path == "/v1/models"


async def test_gzip_with_trailing_data_is_400(gateway: Gateway) -> None:
    raw = json.dumps(chat_body("hi")).encode()
    status, _, _ = await post(gateway, CHAT, data=gzip.compress(raw) + gzip.compress(b"x"),
                              headers={"Content-Type": "application/json",
                                       "Content-Encoding": "gzip"})
    assert status == 400
    assert gateway.provider.received == []


async def test_valid_messages_without_content_are_accepted(gateway: Gateway) -> None:
    body = {"model": "m", "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "tool_calls": [{"id": "c", "type": "function",
                                              "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c", "content": "ok"}]}
    status, _, _ = await post(gateway, CHAT, json_body=body)
    assert status == 200


async def test_message_name_stays_a_valid_openai_identifier(gateway: Gateway) -> None:
    body = {"model": "m", "messages": [
        {"role": "user", "name": "Jane", "content": "I am Jane, Jane Doe."}]}
    status, _, _ = await post(gateway, CHAT, json_body=body)
    assert status == 200
    sent = gateway.provider.received[0].json["messages"][0]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", sent["name"]) and "Jane" not in sent["name"]


async def test_a_gateway_key_sent_as_bearer_is_not_forwarded(start_gateway: GatewayFactory
                                                              ) -> None:
    from proxy.callers import hash_key

    gw = await start_gateway(api_keys=[hash_key("agk_secret")])
    status, _, _ = await post(gw, CHAT, json_body=chat_body("hi"),
                              headers={"Authorization": "Bearer agk_secret"})
    assert status == 200
    assert "Authorization" not in gw.provider.received[0].headers
    status, _, _ = await post(gw, CHAT, json_body=chat_body("hi"),
                              headers={"x-aliasgate-key": "agk_secret",
                                       "Authorization": "Bearer sk-provider"})
    assert status == 200
    assert gw.provider.received[1].headers["Authorization"] == "Bearer sk-provider"
    status, body, _ = await post(gw, CHAT, json_body=chat_body("hi"))
    assert status == 401 and openai_error(body) == "aliasgate_unauthorized"


@pytest.mark.parametrize("count", [1, 3000])   # read whole, and streamed (over 64 KB)
async def test_answers_with_nothing_to_restore_pass_whole(gateway: Gateway, count: int) -> None:
    async with aiohttp.ClientSession() as session, session.get(
            f"{gateway.url}/openai/v1/models?limit={count}") as resp:
        assert resp.status == 200
        listing = await resp.json()
    assert [m["id"] for m in listing["data"]] == \
        ["gpt-test", *[f"gpt-test-{i}" for i in range(1, count)]]
    [record] = await gateway.audit_after(1)
    assert record["decision"] == "forwarded" and record["status"] == 200


async def test_a_small_answer_cut_short_is_502(gateway: Gateway) -> None:
    async with aiohttp.ClientSession() as session, session.get(
            f"{gateway.url}/openai/v1/models?after=cut") as resp:
        assert resp.status == 502
        assert (await resp.json())["error"]["code"] == "aliasgate_upstream_failed"
