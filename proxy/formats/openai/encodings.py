"""OpenAI's tiktoken encodings, loaded from files the package ships: never downloaded.

tiktoken's own loader fetches the BPE rank files from the internet and caches them; the
gateway reads its copies under proxy/data/tiktoken/ instead, checks each against the sha256
tiktoken itself expects, and builds the Encoding once per process. Loading takes a few
hundred milliseconds and tens of MB, so it happens on first need, in a thread (`ensure`).
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import tiktoken

_DATA = Path(__file__).resolve().parents[2] / "data" / "tiktoken"


@dataclass(frozen=True)
class _Spec:
    """What tiktoken_ext/openai_public.py builds an encoding from (tiktoken 0.14.0)."""

    sha256: str
    pat_str: str
    special_tokens: dict[str, int]


_O200K_PATTERN = "|".join([
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""",
    r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
    r"""\s*[\r\n]+""",
    r"""\s+(?!\S)""",
    r"""\s+""",
])
_SPECS = {
    "cl100k_base": _Spec(
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++"""
        r"""[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
        {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
         "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276}),
    "o200k_base": _Spec(
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d", _O200K_PATTERN,
        {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}),
}
SHIPPED = frozenset(_SPECS)


@dataclass(frozen=True)
class Loaded:
    """An encoding and the token ids it can decode: the ranks 0..ranks-1 and the special
    tokens (the ids between are unassigned)."""

    encoding: tiktoken.Encoding
    ranks: int
    special_ids: frozenset[int]

    def valid(self, token: int) -> bool:
        return 0 <= token < self.ranks or token in self.special_ids


_loaded: dict[str, Loaded] = {}
_lock = threading.Lock()


def encoding_name(model: str) -> str | None:
    """The encoding tiktoken names for a model, if the gateway ships it."""
    try:
        name = tiktoken.encoding_name_for_model(model)
    except KeyError:
        return None
    return name if name in _SPECS else None


def loaded(name: str) -> Loaded | None:
    """The encoding if it was loaded already (never loads: safe on the event loop)."""
    return _loaded.get(name)


async def ensure(name: str) -> Loaded:
    """The encoding, loaded in a thread the first time."""
    ready = _loaded.get(name)
    return ready if ready is not None else await asyncio.to_thread(load, name)


def load(name: str) -> Loaded:
    """Read, check and build one shipped encoding (blocking; once per process)."""
    with _lock:
        if name in _loaded:
            return _loaded[name]
        spec = _SPECS[name]
        data = gzip.decompress((_DATA / f"{name}.tiktoken.gz").read_bytes())
        if hashlib.sha256(data).hexdigest() != spec.sha256:
            raise ValueError(f"the shipped {name} file does not have tiktoken's sha256")
        ranks = {base64.b64decode(token): int(rank)
                 for token, rank in (line.split() for line in data.splitlines() if line)}
        if sorted(ranks.values()) != list(range(len(ranks))):
            raise ValueError(f"the shipped {name} ranks are not 0..n-1")
        encoding = tiktoken.Encoding(name, pat_str=spec.pat_str, mergeable_ranks=ranks,
                                     special_tokens=spec.special_tokens)
        _loaded[name] = Loaded(encoding, len(ranks), frozenset(spec.special_tokens.values()))
        return _loaded[name]
