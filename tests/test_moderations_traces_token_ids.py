"""Moderations, the Agents SDK's trace ingest and inputs sent as token ids, through the
gateway with the official clients (openai, openai-agents, langchain-openai)."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import tiktoken
from agents.tracing import custom_span, generation_span, set_trace_processors, trace
from agents.tracing.processors import BackendSpanExporter, BatchTraceProcessor
from langchain_openai import OpenAIEmbeddings
from pydantic import SecretStr

import proxy
from proxy.detect.pool import WorkerPoolAnalyzer
from proxy.server import start_site
from tests.conftest import Gateway, build_app, write_config
from tests.fake_gemini import start_fake_gemini

SEEDS = ["Jane Doe", "jane.doe@example.com", "4111 1111 1111 1111"]
PROMPT = "Please write to Jane Doe at jane.doe@example.com about card 4111 1111 1111 1111."
SEND_TEXT = "check_embedding_ctx_length=False"
_URL_SHA1 = "9b5ad71b2ce5302211f9c61530b329a4922fc6a4"  # tiktoken's cache name for cl100k


@pytest.fixture(scope="module")
def client_tiktoken(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tiktoken.Encoding]:
    """The clients' own tiktoken (LangChain's), offline: its cache holds the file the gateway
    ships, under the name tiktoken gives the download."""
    cache = tmp_path_factory.mktemp("tiktoken")
    shipped = Path(proxy.__file__).parent / "data" / "tiktoken" / "cl100k_base.tiktoken.gz"
    (cache / _URL_SHA1).write_bytes(gzip.decompress(shipped.read_bytes()))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
        yield tiktoken.get_encoding("cl100k_base")


@pytest.fixture
async def gateway(tmp_path: Path, analyzer: WorkerPoolAnalyzer,
                  client_tiktoken: tiktoken.Encoding) -> AsyncIterator[Gateway]:
    fake, fake_runner = await start_fake_gemini()
    settings, app = await build_app(write_config(tmp_path, fake.url), analyzer)
    runner, port = await start_site(app, "127.0.0.1", 0)
    yield Gateway(f"http://127.0.0.1:{port}", settings.state_dir, fake)
    await runner.cleanup()
    await fake_runner.cleanup()


def client(gw: Gateway) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gw.url}/openai/v1", api_key="sk-test", max_retries=0)


def assert_no_seed_left(gw: Gateway) -> None:
    assert gw.provider.received, "the provider got nothing"
    seen = gw.provider.all_text()
    for seed in SEEDS:
        assert seed not in seen


# --- Moderations ----------------------------------------------------------------------------
async def test_moderation_of_text_and_a_list(gateway: Gateway) -> None:
    api = client(gateway)
    one = await api.moderations.create(model="omni-moderation-latest", input=PROMPT)
    many = await api.moderations.create(input=[PROMPT, "Call Jane Doe"])
    assert len(one.results) == 1 and len(many.results) == 2
    assert one.results[0].flagged is False
    assert_no_seed_left(gateway)
    sent = gateway.provider.received[0].json["input"]
    assert "<PERSON_" in sent and "<EMAIL_ADDRESS_" in sent and "<CREDIT_CARD_" in sent


async def test_moderation_of_parts_inspects_text_and_refuses_images(gateway: Gateway) -> None:
    api = client(gateway)
    text_part: Any = {"type": "text", "text": PROMPT}
    moderated = await api.moderations.create(model="omni-moderation-latest",
                                             input=[text_part])
    assert len(moderated.results) == 1
    assert gateway.provider.received[0].json["input"][0]["text"].count("<PERSON_") == 1
    image: Any = {"type": "image_url", "image_url": {"url": "https://example.com/jane.png"}}
    with pytest.raises(openai.PermissionDeniedError, match="cannot inspect: 1 image_url"):
        await api.moderations.create(model="omni-moderation-latest", input=[text_part, image])
    assert len(gateway.provider.received) == 1
    assert_no_seed_left(gateway)


# --- Trace ingest ---------------------------------------------------------------------------
async def test_agents_tracing_exported_through_the_gateway(gateway: Gateway) -> None:
    exporter = BackendSpanExporter(api_key="sk-test",
                                   endpoint=f"{gateway.url}/openai/v1/traces/ingest")
    processor = BatchTraceProcessor(exporter)
    set_trace_processors([processor])
    try:
        with trace("Support for Jane Doe", metadata={"customer": "Jane Doe"}):
            with custom_span("lookup", data={"Jane Doe": {"email": "jane.doe@example.com"}}):
                pass
            with generation_span(input=[{"role": "user", "content": PROMPT}],
                                 output=[{"role": "assistant", "content": "Done, Jane Doe."}],
                                 model="gpt-4o"):
                pass
        await asyncio.to_thread(processor.force_flush)  # the exporter's httpx is blocking
    finally:
        set_trace_processors([])
        await asyncio.to_thread(processor.shutdown)
    ingested = [r for r in gateway.provider.received if r.path == "/v1/traces/ingest"]
    assert ingested, "the exporter sent nothing through the gateway"
    assert ingested[0].headers["Authorization"] == "Bearer sk-test"
    assert ingested[0].headers["OpenAI-Beta"] == "traces=v1"
    assert_no_seed_left(gateway)
    items = [item for r in ingested for item in r.json["data"]]
    text = json.dumps(items)
    assert text.count("<PERSON_") >= 4 and "<EMAIL_ADDRESS_" in text
    lookup = next(i for i in items if i.get("span_data", {}).get("name") == "lookup")
    [key] = lookup["span_data"]["data"]  # the person's name was an object key
    assert key.startswith("<PERSON_")
    records = await gateway.audit_after(1)
    assert records[-1]["endpoint"] == "traces.ingest" and records[-1]["status"] == 204


# --- Token ids ------------------------------------------------------------------------------
async def test_langchain_embeddings_send_token_ids(gateway: Gateway,
                                                   client_tiktoken: tiktoken.Encoding) -> None:
    embeddings = OpenAIEmbeddings(model="text-embedding-3-small", api_key=SecretStr("sk-test"),
                                  base_url=f"{gateway.url}/openai/v1", max_retries=0)
    plain = "The weather is nice today."
    vectors = await embeddings.aembed_documents([PROMPT, plain])
    assert len(vectors) == 2 and all(len(v) == 2 for v in vectors)
    assert_no_seed_left(gateway)
    sent = gateway.provider.received[0].json["input"]
    assert all(isinstance(ids, list) and all(isinstance(t, int) for t in ids) for ids in sent)
    first, second = (client_tiktoken.decode(ids) for ids in sent)
    assert "<PERSON_" in first and "<EMAIL_ADDRESS_" in first and "<CREDIT_CARD_" in first
    assert first.startswith("Please write to <PERSON_")
    assert sent[1] == client_tiktoken.encode(plain)  # nothing found: the ids as they came
    assert second == plain


async def test_completions_prompt_as_token_ids(gateway: Gateway,
                                               client_tiktoken: tiktoken.Encoding) -> None:
    reply = await client(gateway).completions.create(
        model="gpt-3.5-turbo-instruct", prompt=client_tiktoken.encode(PROMPT))
    assert reply.choices[0].text == f"Echo: {PROMPT}"  # restored from the tokenized text
    assert_no_seed_left(gateway)
    sent = gateway.provider.received[0].json["prompt"]
    assert "<PERSON_" in client_tiktoken.decode(sent)


async def test_windows_that_split_a_character_at_their_ends(
        gateway: Gateway, client_tiktoken: tiktoken.Encoding) -> None:
    """A client that cuts ids into windows may cut a character in two at a window's end."""
    text = "Write to Jane Doe 日本語 at jane.doe@example.com"
    ids = client_tiktoken.encode(text)
    cut = next(at for at in range(1, len(ids)) if not _utf8(client_tiktoken.decode_bytes(
        ids[:at])))
    await client(gateway).embeddings.create(model="text-embedding-ada-002",
                                            input=[ids[:cut], ids[cut:]])
    assert_no_seed_left(gateway)
    first, second = gateway.provider.received[0].json["input"]
    joined = (client_tiktoken.decode_bytes(first) + client_tiktoken.decode_bytes(second))
    assert joined.decode("utf-8").startswith("Write to <PERSON_")
    assert "日本語 at <EMAIL_ADDRESS_" in joined.decode("utf-8")


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.parametrize(("model", "ids", "reason"), [
    ("my-own-embedder", [[9906, 1917]], "knows no tiktoken encoding for model 'my-own-embedder'"),
    ("text-embedding-3-small", [[100300]], "not a token of the model's encoding"),
    ("text-embedding-3-small", [[9906, 162, 9906, 1917]], "split a character inside"),
])
async def test_token_ids_it_cannot_read_are_refused(gateway: Gateway, model: str,
                                                    ids: list[list[int]], reason: str) -> None:
    with pytest.raises(openai.PermissionDeniedError) as caught:
        await client(gateway).embeddings.create(model=model, input=ids)
    assert reason in caught.value.message and SEND_TEXT in caught.value.message
    assert gateway.provider.received == []


async def test_langchain_with_an_unknown_model_is_told_the_setting(gateway: Gateway) -> None:
    settings: dict[str, Any] = {"model": "my-own-embedder", "api_key": "sk-test",
                                "base_url": f"{gateway.url}/openai/v1", "max_retries": 0}
    with pytest.raises(openai.PermissionDeniedError, match=SEND_TEXT):
        await OpenAIEmbeddings(**settings).aembed_query("Jane Doe")
    vector = await OpenAIEmbeddings(**settings, check_embedding_ctx_length=False
                                    ).aembed_query("Jane Doe")
    assert len(vector) == 2
    assert gateway.provider.received[0].json["input"][0].startswith("<PERSON_")
    assert_no_seed_left(gateway)


def test_shipped_encodings_are_tiktokens(tmp_path: Path) -> None:
    """The files the gateway ships build the encodings tiktoken itself builds from its
    downloads (pattern, special tokens, ids), each checked against tiktoken's sha256."""
    from tiktoken_ext import openai_public  # type: ignore[import-untyped]

    from proxy.formats.openai import encodings

    names = {"cl100k_base": _URL_SHA1, "o200k_base": "fb374d419588a4632f3f557e76b4b70aebbca790"}
    data = Path(proxy.__file__).parent / "data" / "tiktoken"
    for name, cached in names.items():
        (tmp_path / cached).write_bytes(gzip.decompress(
            (data / f"{name}.tiktoken.gz").read_bytes()))
    text = "Jane Doe, jane.doe@example.com: héllo 日本語 <|endoftext|>"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
        for name in names:
            reference = openai_public.ENCODING_CONSTRUCTORS[name]()
            ours = encodings.load(name).encoding
            assert ours._pat_str == reference["pat_str"]
            assert ours._special_tokens == reference["special_tokens"]
            assert ours.encode(text, disallowed_special=()) == tiktoken.Encoding(
                name, **{k: v for k, v in reference.items() if k != "name"}
            ).encode(text, disallowed_special=())
    assert encodings.encoding_name("text-embedding-3-large") == "cl100k_base"
    assert encodings.encoding_name("gpt-4o-mini") == "o200k_base"
    assert encodings.encoding_name("davinci") is None  # r50k_base: not shipped
