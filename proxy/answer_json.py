"""Provider JSON on the answer side: parsed only within a budget, written back as valid UTF-8.

A provider may send anything. An answer that cannot hold a token (token_forms.py says so)
is never parsed (its bytes go back as they came). Before any other is parsed, its structure
is counted on the bytes, which is cheap: one `json.loads` holds the GIL, and so the event
loop, for its whole run, about 100 ms per million values. Each step here holds it for a
bounded time: long byte scans go in slices of `SLICE` bytes.

NaN and Infinity keep the provider's meaning: they come back as the same literals (the
provider's bytes were no more valid JSON than that). A number too large for a float is
refused, since writing it back would turn valid JSON (`1e999`) into invalid (`Infinity`).
"""

from __future__ import annotations

import json
import math
from typing import Any

from .jsonbudget import Budget

Json = Any
SLICE = 1 << 20
# Every value but the root follows one of these; an object's first key follows its `{`.
_STRUCTURE = b",:[{"
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in _STRUCTURE)


class UnsafeJson(Exception):
    """Provider JSON the gateway will not parse or cannot write back faithfully. The
    message is the gateway's own words, never the provider's bytes."""


def parse(text: bytes | str, budget: Budget) -> Json:
    """`text` parsed; ValueError when it is not JSON, UnsafeJson past the budget."""
    if len(text) > budget.max_values:  # (a value takes at least a byte: short texts pass)
        structure = _structure(text)
        if len(structure) + 1 > budget.max_values:
            raise UnsafeJson(f"holds more than {budget.max_values} JSON values")
        text, containers = _text(text), structure.count(b"[") + structure.count(b"{")
    else:
        text = _text(text)
        containers = text.count("[") + text.count("{")
    try:
        document = _DECODER.decode(text)
    except RecursionError as exc:
        raise UnsafeJson(f"is nested deeper than {budget.max_depth} levels") from exc
    if containers > budget.max_depth:
        _check_depth(document, budget.max_depth)
    return document


def dumps(document: Json) -> str:
    return json.dumps(document, ensure_ascii=False)


def utf8(text: str) -> bytes:
    """UTF-8 for the wire. A lone surrogate (a provider may send `"\\ud800"`) cannot be
    encoded: it goes out as the JSON escape `\\ud800` it came in as."""
    return text.encode("utf-8", "backslashreplace")


def _structure(text: bytes | str) -> bytes:
    """The bytes of `text` that can start a value (`,:[{`), counted slice by slice."""
    kept = []
    for at in range(0, len(text), SLICE):
        piece = text[at:at + SLICE]
        raw = piece.encode("utf-8", "surrogatepass") if isinstance(piece, str) else piece
        kept.append(raw.translate(None, _NOT_STRUCTURE))
    return b"".join(kept)


def _finite(literal: str) -> float:
    value = float(literal)
    if math.isinf(value):
        raise UnsafeJson("holds a number too large to pass on unchanged")
    return value


_DECODER = json.JSONDecoder(parse_float=_finite)


def _text(raw: bytes | str) -> str:
    """As json.loads reads bytes (UTF-8, -16 or -32); UnicodeDecodeError is a ValueError."""
    if isinstance(raw, str):
        return raw
    return raw.decode(json.detect_encoding(raw), "surrogatepass")


def _check_depth(document: Json, max_depth: int) -> None:
    """Iterative: a document is nested only as deep as `max_depth` containers."""
    stack = [(document, 1)] if isinstance(document, (dict, list)) else []
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, (dict, list)):
                if depth >= max_depth:
                    raise UnsafeJson(f"is nested deeper than {max_depth} levels")
                stack.append((child, depth + 1))
