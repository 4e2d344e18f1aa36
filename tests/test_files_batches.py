"""OpenAI Files and Batch through the gateway with the official openai SDK: what the provider
keeps holds only tokens; what comes back (file objects, a batch, its output file) is real."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest

from proxy.detect.pool import WorkerPoolAnalyzer
from proxy.formats.openai.multipart import OutPart, build_form, parse_form
from proxy.server import start_site
from tests.conftest import build_app, write_config
from tests.fake_files import FakeFiles, start_fake_files

SEEDS = ["Jane Doe", "jane.doe@example.com", "4111 1111 1111 1111"]
PROMPT = "Please write to Jane Doe at jane.doe@example.com about card 4111 1111 1111 1111."
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


@dataclass
class Gateway:
    url: str
    fake: FakeFiles
    state_dir: Path
    clients: list[openai.AsyncOpenAI] = field(default_factory=list)

    def client(self) -> openai.AsyncOpenAI:
        self.clients.append(openai.AsyncOpenAI(base_url=f"{self.url}/openai/v1",
                                               api_key="sk-test", max_retries=0))
        return self.clients[-1]

    def assert_provider_saw_no_seed(self) -> None:
        seen = self.fake.all_text() + "".join(
            f.content.decode("utf-8", "replace") + json.dumps(f.meta)
            for f in self.fake.files.values())
        for seed in SEEDS:
            assert seed not in seen


@pytest.fixture
async def fake() -> AsyncIterator[FakeFiles]:
    files, runner = await start_fake_files()
    yield files
    await runner.cleanup()


async def _gateway(tmp_path: Path, fake: FakeFiles, analyzer: WorkerPoolAnalyzer,
                   policy: str = "default", config_extra: dict[str, Any] | None = None
                   ) -> AsyncIterator[Gateway]:
    config = write_config(tmp_path, fake.url, config_extra, policy=policy)
    settings, app = await build_app(config, analyzer)
    runner, port = await start_site(app, "127.0.0.1", 0)
    gateway = Gateway(f"http://127.0.0.1:{port}", fake, settings.state_dir)
    yield gateway
    for client in gateway.clients:
        await client.close()
    await runner.cleanup()


@pytest.fixture
async def gateway(tmp_path: Path, fake: FakeFiles, analyzer: WorkerPoolAnalyzer
                  ) -> AsyncIterator[Gateway]:
    async for gw in _gateway(tmp_path, fake, analyzer):
        yield gw


@pytest.fixture
async def lenient_gateway(tmp_path: Path, fake: FakeFiles, analyzer: WorkerPoolAnalyzer
                          ) -> AsyncIterator[Gateway]:
    """A route whose policy lets uninspectable content (a binary file) through."""
    policies = tmp_path / "policies"
    policies.mkdir(exist_ok=True)
    default = (Path(__file__).parent.parent / "proxy/policies/default.yaml").read_text()
    (policies / "lenient.yaml").write_text(
        default.replace("name: default", "name: lenient")
        .replace("uninspectable_content: refuse", "uninspectable_content: allow"))
    async for gw in _gateway(tmp_path, fake, analyzer, policy="lenient"):
        yield gw


@pytest.fixture
async def small_budget_gateway(tmp_path: Path, fake: FakeFiles, analyzer: WorkerPoolAnalyzer
                               ) -> AsyncIterator[Gateway]:
    """A gateway that walks at most 100 JSON values in one inspection."""
    limits = {"max_body_bytes": 1_000_000, "max_decompressed_bytes": 2_000_000,
              "max_json_values": 100}
    async for gw in _gateway(tmp_path, fake, analyzer, config_extra={"limits": limits}):
        yield gw


def _chat_line(custom_id: str, prompt: str, url: str = "/v1/chat/completions") -> str:
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": url, "body": {
        "model": "gpt-test", "messages": [{"role": "user", "content": prompt}]}})


async def test_batch_round_trip(gateway: Gateway) -> None:
    api = gateway.client()
    lines = [_chat_line("request-1", PROMPT), _chat_line("Jane Doe", "Is Jane Doe in?"),
             json.dumps({"custom_id": "request-3", "method": "POST", "url": "/v1/embeddings",
                         "body": {"model": "emb", "input": ["jane.doe@example.com"]}})]
    uploaded = await api.files.create(
        file=("batch.jsonl", "\n".join(lines).encode(), "application/jsonl"), purpose="batch")
    assert uploaded.filename == "batch.jsonl" and uploaded.purpose == "batch"

    [stored] = gateway.fake.uploads()
    kept = [json.loads(line) for line in stored.content.decode().splitlines()]
    assert [k["url"] for k in kept] == ["/v1/chat/completions"] * 2 + ["/v1/embeddings"]
    assert kept[0]["custom_id"] == "request-1"
    assert kept[1]["custom_id"].startswith("<PERSON_")
    first = kept[0]["body"]["messages"][0]["content"]
    assert "<PERSON_" in first and "<EMAIL_ADDRESS_" in first and "<CREDIT_CARD_" in first
    assert kept[2]["body"]["input"][0].startswith("<EMAIL_ADDRESS_")
    assert stored.meta["filename"] == "batch.jsonl"

    batch = await api.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                                     completion_window="24h", metadata={"owner": "Jane Doe"})
    assert batch.metadata == {"owner": "Jane Doe"}
    assert gateway.fake.received[-1].path == "/v1/batches"
    done = await api.batches.retrieve(batch.id)
    assert done.status == "completed" and done.output_file_id
    assert done.metadata == {"owner": "Jane Doe"}

    output = await api.files.content(done.output_file_id)
    results = {r["custom_id"]: r for r in map(json.loads, output.text.splitlines())}
    assert set(results) == {"request-1", "Jane Doe", "request-3"}
    answer = results["request-1"]["response"]["body"]["choices"][0]["message"]["content"]
    assert answer == f"Echo: {PROMPT}"
    answer = results["Jane Doe"]["response"]["body"]["choices"][0]["message"]["content"]
    assert answer == "Echo: Is Jane Doe in?"
    gateway.assert_provider_saw_no_seed()
    audit = (gateway.state_dir / "audit.jsonl").read_text()
    [upload] = [r for r in map(json.loads, audit.splitlines()) if r["endpoint"] == "files.create"]
    assert upload["decision"] == "forwarded" and upload["entities"]["PERSON"]["count"] >= 3
    for seed in SEEDS:
        assert seed not in audit


async def test_text_upload_and_its_name(gateway: Gateway) -> None:
    api = gateway.client()
    notes = f"Call notes\n{PROMPT}\n"
    uploaded = await api.files.create(
        file=("Jane Doe notes.md", notes.encode(), "text/markdown"), purpose="user_data",
        expires_after={"anchor": "created_at", "seconds": 3600})
    assert uploaded.filename == "Jane Doe notes.md"
    sent = gateway.fake.received[0].body
    assert b'name="expires_after[seconds]"\r\n\r\n3600\r\n' in sent
    assert b'name="expires_after[anchor]"\r\n\r\ncreated_at\r\n' in sent
    [stored] = gateway.fake.uploads()
    assert stored.meta["filename"].startswith("<PERSON_")
    assert stored.meta["filename"].endswith(" notes.md")
    assert stored.content.decode().startswith("Call notes\n")
    assert "<EMAIL_ADDRESS_" in stored.content.decode()
    content = await api.files.content(uploaded.id)
    assert content.text == notes
    again = await api.files.retrieve(uploaded.id)
    assert again.filename == "Jane Doe notes.md"
    gateway.assert_provider_saw_no_seed()


async def test_json_and_jsonl_files_keep_their_structure(gateway: Gateway) -> None:
    api = gateway.client()
    document = {"customer": {"name": "Jane Doe", "email": "jane.doe@example.com"},
                "Jane Doe": ["card 4111 1111 1111 1111"], "id": "Jane Doe"}
    await api.files.create(file=("customer.json", json.dumps(document).encode(),
                                 "application/json"), purpose="assistants")
    rows = [{"messages": [{"role": "user", "content": PROMPT},
                          {"role": "assistant", "content": "Done, Jane Doe."}]}] * 2
    await api.files.create(file=("train.jsonl", "\n".join(map(json.dumps, rows)).encode(),
                                 "application/octet-stream"), purpose="fine-tune")
    as_json, as_jsonl = gateway.fake.uploads()
    kept = json.loads(as_json.content)
    assert kept["customer"]["name"].startswith("<PERSON_")
    assert kept["customer"]["email"].startswith("<EMAIL_ADDRESS_")
    assert kept["id"].startswith("<PERSON_")  # no field of a user's document is trusted
    [name_key] = [k for k in kept if k not in ("customer", "id")]
    assert name_key.startswith("<PERSON_")    # keys are data too
    assert kept[name_key][0].startswith("card <CREDIT_CARD_")
    kept_rows = [json.loads(line) for line in as_jsonl.content.decode().splitlines()]
    assert len(kept_rows) == 2 and kept_rows[0] == kept_rows[1]
    assert kept_rows[0]["messages"][1]["content"].startswith("Done, <PERSON_")
    gateway.assert_provider_saw_no_seed()


async def test_large_jsonl_file_inspected_in_parts(small_budget_gateway: Gateway) -> None:
    """More values than one inspection walks: the lines go in halves, structure intact."""
    rows = [{"n": i, "who": "Jane Doe", "mail": "jane.doe@example.com", "tags": ["a", "b"]}
            for i in range(40)]
    data = "\n".join(map(json.dumps, rows)).encode()
    await small_budget_gateway.client().files.create(
        file=("rows.jsonl", data, "application/jsonl"), purpose="user_data")
    [stored] = small_budget_gateway.fake.uploads()
    kept = [json.loads(line) for line in stored.content.decode().splitlines()]
    assert [k["n"] for k in kept] == list(range(40))
    assert all(k["who"].startswith("<PERSON_") and k["tags"] == ["a", "b"] for k in kept)
    small_budget_gateway.assert_provider_saw_no_seed()


async def test_binary_file_refused(gateway: Gateway) -> None:
    with pytest.raises(openai.PermissionDeniedError) as caught:
        await gateway.client().files.create(file=("scan.png", PNG, "image/png"),
                                            purpose="vision")
    assert caught.value.status_code == 403
    body: Any = caught.value.body
    assert body["type"] == "permission_error" and body["code"] == "aliasgate_refused"
    assert "binary" in body["message"]
    not_utf8 = "Jane Doe".encode("utf-16")
    with pytest.raises(openai.PermissionDeniedError):
        await gateway.client().files.create(file=("a.txt", not_utf8, "text/plain"),
                                            purpose="user_data")
    assert gateway.fake.received == []


async def test_binary_file_forwarded_when_the_policy_allows(lenient_gateway: Gateway) -> None:
    uploaded = await lenient_gateway.client().files.create(
        file=("Jane Doe.png", PNG, "image/png"), purpose="vision")
    [stored] = lenient_gateway.fake.uploads()
    assert stored.content == PNG
    assert stored.meta["filename"].startswith("<PERSON_")
    assert uploaded.filename == "Jane Doe.png"
    lenient_gateway.assert_provider_saw_no_seed()


async def test_malformed_batch_line_refused_by_number(gateway: Gateway) -> None:
    bad = '{"custom_id": "x", "body": Jane Doe'
    file = "\n".join([_chat_line("request-1", PROMPT), "", bad]).encode()
    with pytest.raises(openai.BadRequestError) as caught:
        await gateway.client().files.create(file=("b.jsonl", file, "application/jsonl"),
                                            purpose="batch")
    message = caught.value.body["message"]  # type: ignore[index]
    assert "line 3 of the batch file" in message and "Jane" not in message
    assert gateway.fake.received == []


@pytest.mark.parametrize("line", [
    _chat_line("request-1", PROMPT, url="/v1/images/generations"),
    _chat_line("request-1", PROMPT, url="/v1/files"),
    json.dumps({"custom_id": "r", "method": "GET", "url": "/v1/chat/completions", "body": {}}),
    json.dumps({"custom_id": "r", "method": "POST", "url": "/v1/chat/completions",
                "body": {"model": "m", "messages": []}, "extra": "Jane Doe"}),
])
async def test_batch_line_the_gateway_does_not_inspect_refused(gateway: Gateway,
                                                               line: str) -> None:
    file = "\n".join([_chat_line("request-0", PROMPT), line]).encode()
    with pytest.raises((openai.PermissionDeniedError, openai.BadRequestError)) as caught:
        await gateway.client().files.create(file=("b.jsonl", file, "application/jsonl"),
                                            purpose="batch")
    assert "line 2 of the batch file" in caught.value.body["message"]  # type: ignore[index]
    assert gateway.fake.received == []


async def test_list_retrieve_delete_and_cancel(gateway: Gateway) -> None:
    api = gateway.client()
    uploaded = await api.files.create(
        file=("batch.jsonl", _chat_line("request-1", PROMPT).encode(), "application/jsonl"),
        purpose="batch")
    listed = await api.files.list(purpose="batch", limit=10, order="desc")
    assert [f.id for f in listed.data] == [uploaded.id]
    assert sorted(gateway.fake.received[-1].query.split("&")) == [
        "limit=10", "order=desc", "purpose=batch"]
    assert (await api.files.retrieve(uploaded.id)).id == uploaded.id
    batch = await api.batches.create(input_file_id=uploaded.id, completion_window="24h",
                                     endpoint="/v1/chat/completions")
    assert [b.id for b in (await api.batches.list(limit=5)).data] == [batch.id]
    cancelled = await api.batches.cancel(batch.id)
    assert cancelled.status == "cancelling"
    deleted = await api.files.delete(uploaded.id)
    assert deleted.deleted and deleted.id == uploaded.id
    assert [r.method for r in gateway.fake.received] == [
        "POST", "GET", "GET", "POST", "GET", "POST", "DELETE"]
    with pytest.raises(openai.PermissionDeniedError):
        await api.files.list(purpose="Jane Doe")
    with pytest.raises(openai.PermissionDeniedError):
        await api.files.retrieve("jane.doe@example.com")
    gateway.assert_provider_saw_no_seed()


async def _raw_upload(gateway: Gateway, body: bytes, content_type: str
                      ) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(
            f"{gateway.url}/openai/v1/files", data=body,
            headers={"Content-Type": content_type, "Authorization": "Bearer sk-test"}) as resp:
        return resp.status, await resp.json()


@pytest.mark.parametrize("fields", [
    [("purpose", None, b"batch"), ("file", "a.txt", b"x"), ("note", None, b"Jane Doe")],
    [("purpose", None, b"user_data"), ("purpose", None, b"batch"), ("file", "a.txt", b"x")],
    [("purpose", None, b"Jane Doe"), ("file", "a.txt", b"x")],
    [("purpose", None, b"user_data")],
    [("purpose", None, b"user_data")] + [("file", "a.txt", b"x")] * 5,
])
async def test_odd_forms_refused(gateway: Gateway, fields: list[tuple[str, str | None, bytes]]
                                 ) -> None:
    body, content_type = build_form([OutPart(n, d, f) for n, f, d in fields])
    status, answer = await _raw_upload(gateway, body, content_type)
    assert status == 400 and "Jane" not in answer["error"]["message"]
    assert gateway.fake.received == []


async def test_nested_multipart_and_extra_part_headers_refused(gateway: Gateway) -> None:
    inner, inner_type = build_form([OutPart("file", b"Jane Doe", "a.txt")])
    nested = (b"--outer\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n"
              + f"Content-Type: {inner_type}\r\n\r\n".encode() + inner
              + b"\r\n--outer--\r\n")
    status, _ = await _raw_upload(gateway, nested, "multipart/form-data; boundary=outer")
    assert status == 400
    smuggled = (b"--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nuser_data\r\n"
                b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\nSmFuZSBEb2U=\r\n--b--\r\n")
    status, _ = await _raw_upload(gateway, smuggled, "multipart/form-data; boundary=b")
    assert status == 400
    status, _ = await _raw_upload(gateway, b"purpose=batch", "application/x-www-form-urlencoded")
    assert status == 415
    assert gateway.fake.received == []


async def test_form_rebuilt_with_a_fresh_boundary() -> None:
    """The rebuilt form parses back to the same fields, and never reuses the client's
    framing, even when a part's bytes hold a line that looks like a boundary."""
    data = b"--aliasgate-0000\r\nnot a boundary\r\n"
    body, content_type = build_form([OutPart("purpose", b"user_data"),
                                     OutPart("file", data, 'a "b".txt', "text/plain")])
    parts = await parse_form(body, content_type, 4)
    assert [(p.name, p.data, p.filename, p.content_type) for p in parts] == [
        ("purpose", b"user_data", None, None), ("file", data, "a %22b%22.txt", "text/plain")]
    again, again_type = build_form([OutPart("purpose", b"user_data")])
    assert again_type != content_type and again.startswith(b"--aliasgate-")


async def test_azure_batch_through_azure_openai(tmp_path: Path, fake: FakeFiles,
                                                analyzer: WorkerPoolAnalyzer) -> None:
    """Azure's batch lines name `/chat/completions`; each line's deployment is checked."""
    config = write_config(tmp_path, fake.url, None, format="azure", deployments=["gpt-eu"],
                          region="swedencentral")
    _, app = await build_app(config, analyzer)
    runner, port = await start_site(app, "127.0.0.1", 0)
    api = openai.AsyncAzureOpenAI(azure_endpoint=f"http://127.0.0.1:{port}/openai",
                                  api_version="2024-10-21", api_key="k", max_retries=0)
    try:
        line = json.dumps({"custom_id": "r1", "method": "POST", "url": "/chat/completions",
                           "body": {"model": "gpt-eu", "messages": [
                               {"role": "user", "content": PROMPT}]}})
        uploaded = await api.files.create(file=("b.jsonl", line.encode(), "application/jsonl"),
                                          purpose="batch")
        [stored] = fake.uploads()
        kept = json.loads(stored.content)
        assert kept["url"] == "/chat/completions"
        assert "<PERSON_" in kept["body"]["messages"][0]["content"]
        batch = await api.batches.create(input_file_id=uploaded.id,
                                         endpoint="/chat/completions",  # type: ignore[arg-type]
                                         completion_window="24h")
        done = await api.batches.retrieve(batch.id)
        assert done.output_file_id
        output = await api.files.content(done.output_file_id)
        [result] = map(json.loads, output.text.splitlines())
        answer = result["response"]["body"]["choices"][0]["message"]["content"]
        assert answer == f"Echo: {PROMPT}"
        elsewhere = line.replace("gpt-eu", "gpt-us")
        with pytest.raises(openai.PermissionDeniedError):
            await api.files.create(file=("c.jsonl", elsewhere.encode(), "application/jsonl"),
                                   purpose="batch")
        assert {r.path.split("/")[2] for r in fake.received} == {"files", "batches"}
        for seed in SEEDS:
            assert seed not in fake.all_text() + stored.content.decode()
    finally:
        await api.close()
        await runner.cleanup()


async def test_a_percent_encoded_name_and_a_numeric_extension_are_inspected(
        gateway: Gateway) -> None:
    """aiohttp's FormData percent-encodes file names; a number is no file type."""
    form = aiohttp.FormData()
    form.add_field("purpose", "user_data")
    form.add_field("file", b"notes", filename="Jane Doe 536-22-8471.txt",
                   content_type="text/plain")
    async with aiohttp.ClientSession() as session, session.post(
            gateway.url + "/openai/v1/files", data=form,
            headers={"Authorization": "Bearer sk-test"}) as resp:
        assert resp.status == 200
    await gateway.client().files.create(file=("x.4111111111111111", b"notes", "text/plain"),
                                        purpose="user_data")
    names = [f.meta["filename"] for f in gateway.fake.uploads()]
    assert names[0].startswith("<PERSON_") and names[0].endswith(".txt")
    assert "536-22-8471" not in names[0] and "%20" not in names[0]
    assert "4111111111111111" not in names[1]
