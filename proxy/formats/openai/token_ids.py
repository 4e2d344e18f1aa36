"""Inputs sent as token ids (`/v1/embeddings` `input`, `/v1/completions` `prompt`): read as
the text they encode, inspected like any text, and sent on as token ids again.

LangChain's OpenAIEmbeddings and other clients tokenize with tiktoken before sending, so
`input` is a list of ints or a list of lists of ints. The ids are decoded with the model's
encoding (tiktoken.encoding_name_for_model; one the gateway ships, see encodings.py) into
the exact bytes the model reads, so what is inspected is what is sent:
- ids that decode to the same text as another sequence would (a non-canonical split) are
  still exactly that text; an input whose text did not change goes on as the ids it came in;
  a changed text is encoded afresh (tokens such as <PERSON_...> are text like any other);
- a client that cut a long text into windows of ids may split a character at either end of
  a window: those bytes are kept aside, sent as single-byte tokens, and the rest inspected;
- ids that split a character inside the text, ids the encoding does not have, or a model
  whose encoding is unknown are refused (403), naming the client setting that sends text.
The encoding is loaded once, in a thread, by the endpoint's body handler (`TokenIdInputs`)
before the body is inspected; extraction itself never loads anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ...errors import BadRequest, Refused, UnsupportedMedia
from ...offload import off_loop_if
from ...shapes import shown
from ..base import ApiFormat, Endpoint, InspectsBodies, OutboundBody
from ..extraction import Extraction, TextSlot
from . import encodings
from .encodings import Loaded

# Parsing a body this large to find its model takes longer than a hop to a thread.
_INLINE_BYTES = 32_768
_SEND_TEXT = ("send the {key} as text instead (LangChain: OpenAIEmbeddings("
              "check_embedding_ctx_length=False); the openai SDK: pass strings)")


class Undecodable(ValueError):
    """Token ids that do not stand for a text the gateway can read."""


@dataclass(frozen=True)
class Decoded:
    """The text a list of ids encodes, and the split character bytes at its ends."""

    ids: list[int]
    text: str
    head: bytes
    tail: bytes
    loaded: Loaded

    def encode(self, text: str) -> list[int]:
        """Ids for a new text: the ends' bytes as they were, the text encoded afresh, with
        the special tokens the client sent still special."""
        encoding = self.loaded.encoding
        special = {encoding.decode_single_token_bytes(t).decode("utf-8")
                   for t in self.ids if t in self.loaded.special_ids}
        def raw(data: bytes) -> list[int]:
            return [encoding.encode_single_token(bytes([byte])) for byte in data]
        return [*raw(self.head),
                *encoding.encode(text, allowed_special=special, disallowed_special=()),
                *raw(self.tail)]


def decode(ids: list[int], loaded: Loaded) -> Decoded:
    if not all(loaded.valid(token) for token in ids):
        raise Undecodable("an id is not a token of the model's encoding")
    raw = loaded.encoding.decode_bytes(ids)
    head = _split_head(raw)
    tail = _split_tail(raw[head:])
    try:
        text = raw[head:len(raw) - tail].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Undecodable("the ids split a character inside the text") from exc
    return Decoded(ids, text, raw[:head], raw[len(raw) - tail:], loaded)


def _split_head(raw: bytes) -> int:
    """How many continuation bytes (the rest of a character cut off before) start it."""
    count = 0
    while count < min(3, len(raw)) and 0x80 <= raw[count] < 0xC0:
        count += 1
    return count


def _split_tail(raw: bytes) -> int:
    """How many bytes at the end start a character that the ids do not finish."""
    for back in range(1, min(3, len(raw)) + 1):
        byte = raw[-back]
        if byte < 0x80:
            return 0
        if byte >= 0xC0:
            needed = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return back if needed > back else 0
    return 0


@dataclass
class TokenIdsSlot(TextSlot):
    """A list of ids in the body: detection reads its text, tokenization writes ids back."""

    decoded: Decoded = field(kw_only=True)

    @property
    def text(self) -> str:
        return self.decoded.text

    def write(self, text: str) -> None:
        if text != self.decoded.text:
            self.container[self.key] = self.decoded.encode(text)  # type: ignore[index]


def _is_ids(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value)


def id_lists(value: object) -> list[list[int]] | None:
    """The lists of ids of an `input`/`prompt`; None when it holds text (or nothing)."""
    if _is_ids(value):
        return [value]  # type: ignore[list-item]
    if isinstance(value, list) and value and all(_is_ids(v) for v in value):
        return value
    return None


def _encoding(body: dict[str, Any], key: str) -> Loaded:
    model = body.get("model")
    name = encodings.encoding_name(model) if isinstance(model, str) else None
    if name is None:
        which = shown(model) if isinstance(model, str) else "(none)"
        raise Refused(f"aliasgate cannot read the {key} token ids: it knows no tiktoken "
                      f"encoding for model {which}; " + _SEND_TEXT.format(key=key))
    loaded = encodings.loaded(name)
    if loaded is None:  # only the endpoint's handler loads encodings
        raise Refused(f"aliasgate reads {key} token ids only on the embeddings and "
                      "completions endpoints; " + _SEND_TEXT.format(key=key))
    return loaded


def walk_body(extraction: Extraction, body: dict[str, Any], key: str) -> None:
    """Walk the body, reading `key` as text, as a list of texts or as token ids."""
    value = body.get(key)
    if value is None or isinstance(value, str) or \
            (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        extraction.walk_body(body)
        return
    lists = id_lists(value)
    if lists is None:
        raise BadRequest(f"{key} must be a string, a list of strings or token ids")
    loaded = _encoding(body, key)
    single = lists[0] is value
    for index, ids in enumerate(lists):
        try:
            decoded = decode(ids, loaded)
        except Undecodable as exc:
            raise Refused(f"aliasgate cannot read the {key} token ids: {exc}; "
                          + _SEND_TEXT.format(key=key)) from exc
        container: dict[str, Any] | list[Any] = body if single else value
        extraction.values.append(TokenIdsSlot(container, key if single else index,
                                              decoded=decoded))
    body[key] = None  # the ids are read above: the walk skips them, and reads the rest
    try:
        extraction.walk_body(body)
    finally:
        body[key] = value


def _needed_encoding(body: bytes, key: str) -> str | None:
    """The encoding a body's token ids need, if it has any (a body that does not parse is
    left to inspection, which refuses it)."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or id_lists(document.get(key)) is None:
        return None
    model = document.get("model")
    return encodings.encoding_name(model) if isinstance(model, str) else None


@dataclass(frozen=True)
class TokenIdInputs:
    """The body handler of an endpoint whose `key` may hold token ids: loads the model's
    encoding off the event loop (once per process), then inspects the body as JSON."""

    format: ApiFormat
    endpoint: Endpoint
    key: str

    async def inspect(self, body: bytes, content_type: str, inspect: InspectsBodies
                      ) -> OutboundBody:
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise UnsupportedMedia("the request body must be application/json")
        name = await off_loop_if(len(body) > _INLINE_BYTES, _needed_encoding, body, self.key)
        if name is not None:
            await encodings.ensure(name)
        return OutboundBody(await inspect.json_body(self.format, self.endpoint, body))
