"""Put real values back in place of the tokens a request sent, in whole texts and streams.

Only tokens in the request's own TokenMap are restored. Anything else shaped like a token
(a model inventing one, a user pasting another tenant's) is left as it is and counted.
Inside a JSON document held as a string (tool-call arguments) a value is JSON-escaped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property

from .jsonbudget import DEFAULT as DEFAULT_BUDGET
from .jsonbudget import Budget
from .tokens import TokenMap

TOKEN_SHAPE = re.compile(r"<[A-Z][A-Z0-9_]*_[0-9A-Z]{5,16}>")
_CODE = re.compile(r"[0-9A-Z]*")


@dataclass
class RestoreStats:
    restored: int = 0
    unknown: int = 0


class Restorer:
    """Restores tokens of one request and keeps count; shared by all texts of a response.
    `bounds` limit how much of the provider's JSON may be parsed to restore it."""

    def __init__(self, tokens: TokenMap, bounds: Budget = DEFAULT_BUDGET) -> None:
        self.bounds = bounds
        self._values = tokens.by_token
        self.stats = RestoreStats()
        self._longest = max((len(t) for t in self._values), default=0)

    @cached_property
    def _heads(self) -> frozenset[str]:
        """`<PERSON_` and the like: one per entity type of this request's tokens. (Not every
        prefix of every token: a request with 90,000 values would hold a million.)"""
        return frozenset(t[:t.rindex("_") + 1] for t in self._values)

    def _may_become_token(self, tail: str) -> bool:
        """`tail` (from a `<` on) is the start of a head, or a head and part of a code."""
        return any(head.startswith(tail) or (tail.startswith(head) and
                                             _CODE.fullmatch(tail, len(head)) is not None)
                   for head in self._heads)

    def restore(self, text: str, json_escape: bool = False) -> str:
        if "<" not in text:
            return text

        def swap(match: re.Match[str]) -> str:
            value = self._values.get(match.group())
            if value is None:
                self.stats.unknown += 1
                return match.group()
            self.stats.restored += 1
            return json.dumps(value, ensure_ascii=False)[1:-1] if json_escape else value

        return TOKEN_SHAPE.sub(swap, text)

    def held_prefix_start(self, text: str) -> int:
        """Where a possible token prefix starts at the end of text, else len(text)."""
        start = text.rfind("<", max(0, len(text) - self._longest))
        if start != -1 and self._may_become_token(text[start:]):
            return start
        return len(text)

    def stream(self, json_escape: bool = False) -> StreamRestorer:
        return StreamRestorer(self, json_escape)


class StreamRestorer:
    """Restores one stream of text deltas, holding back only a possible token prefix."""

    def __init__(self, restorer: Restorer, json_escape: bool) -> None:
        self._restorer = restorer
        self._json = json_escape
        self._held = ""

    def feed(self, delta: str) -> str:
        text = self._held + delta
        cut = self._restorer.held_prefix_start(text)
        self._held = text[cut:]
        return self._restorer.restore(text[:cut], self._json)

    def flush(self) -> str:
        text, self._held = self._held, ""
        return self._restorer.restore(text, self._json)

    @property
    def holding(self) -> bool:
        return bool(self._held)
