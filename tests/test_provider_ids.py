"""Ids the providers issue pass the digit-run rule where a provider's id is expected (a
path, an `id` field), and nowhere a client chooses the string (a custom_id, a header)."""

from __future__ import annotations

import aiohttp

from tests.conftest import Gateway

# A provider-shaped id around a card number.
SHAPED = "msg_41111111111111110000"


async def post(gw: Gateway, path: str, body: object, headers: dict[str, str] | None = None
               ) -> tuple[int, object]:
    async with aiohttp.ClientSession() as session, session.post(
            gw.url + path, json=body, headers={"x-api-key": "k", **(headers or {})}) as resp:
        return resp.status, await resp.json()


async def test_a_client_chosen_string_gets_no_provider_id_exemption(gateway: Gateway) -> None:
    batch = {"requests": [{"custom_id": SHAPED, "params": {
        "model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}}]}
    status, _ = await post(gateway, "/anthropic/v1/messages/batches", batch)
    assert status == 400
    chat = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    status, _ = await post(gateway, "/openai/v1/chat/completions", chat,
                           {"Idempotency-Key": SHAPED.replace("msg_", "file-")})
    assert status == 400
    assert gateway.provider.received == []


async def test_a_provider_id_with_a_digit_run_passes_in_a_path(gateway: Gateway) -> None:
    """A fifth of OpenAI's hex ids hold nine digits in a row."""
    issued = "resp_68af4030592c81938ec0a5fbab4a3e9f05438e46b5f69a3b"
    async with aiohttp.ClientSession() as session, session.get(
            f"{gateway.url}/openai/v1/responses/{issued}",
            headers={"Authorization": "Bearer k"}) as resp:
        assert resp.status != 403
    assert gateway.provider.received[-1].path == f"/v1/responses/{issued}"
