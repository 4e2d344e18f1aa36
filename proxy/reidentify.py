"""Put real values back in place of tokens, in whole texts and streams.

A token restores if this request issued it, or if the tenant's vault holds it (the
provider sent back a token from state it keeps: a stored response, a thread, a batch).
Tokens a model rewrote (`PERSON_7QK2M9XH4R2A`, `<person 7qk2m9xh4r2a>`) restore the same
way and are counted as repaired. Anything else shaped like a token (a model inventing one,
a user pasting another tenant's) is left as it is and counted as unknown. Inside a JSON
document held as a string (tool-call arguments) a value is JSON-escaped.

The vault is asked through `lookup`, which blocks: a restorer with one runs in a thread
(see relay.py), never on the event loop.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from .jsonbudget import DEFAULT as DEFAULT_BUDGET
from .jsonbudget import Budget
from .token_forms import ISSUED as TOKEN_SHAPE
from .token_forms import Found, TokenForms, forms_for
from .tokens import TokenMap

__all__ = ["TOKEN_SHAPE", "Lookup", "RestoreStats", "Restorer", "StreamRestorer"]

_OPENERS = frozenset("<&[{(")
# Distinct tokens one answer may ask the vault for (an answer holds a few hundred).
MAX_VAULT_ASKS = 20_000
# The vault's values for tokens (issued spelling) it holds, of those asked for.
Lookup = Callable[[list[str]], dict[str, str]]


@dataclass
class RestoreStats:
    restored: int = 0
    repaired: int = 0   # of those restored, how many a model had rewritten
    unknown: int = 0


class Restorer:
    """Restores the tokens of one tenant in one answer and keeps count; shared by all texts
    of the answer. `bounds` limit how much of the provider's JSON may be parsed."""

    def __init__(self, tokens: TokenMap, bounds: Budget = DEFAULT_BUDGET,
                 lookup: Lookup | None = None, types: frozenset[str] = frozenset()) -> None:
        self.bounds = bounds
        self._values = tokens.by_token
        self._lookup = lookup
        self._vaulted: dict[str, str | None] = {}  # asked of the vault (None: not there)
        self.stats = RestoreStats()
        self.holding = 0  # stream restorers holding back text that may become a token
        # The policy's types and those of this request's tokens (kept by type and value).
        self._forms: TokenForms = forms_for(types | {entity for entity, _ in tokens.by_value})

    @property
    def needs_thread(self) -> bool:
        """Restoring may ask the vault, which blocks."""
        return self._lookup is not None

    @property
    def token_starts(self) -> frozenset[str]:
        """Characters a token in any form may begin with."""
        return self._forms.first_letters | _OPENERS

    def may_hold(self, raw: bytes) -> bool:
        """Whether an answer's bytes may hold a token in any form."""
        return self._forms.may_hold(raw)

    def _value(self, found: Found) -> str | None:
        value = self._values.get(found.key)
        return value if value is not None else self._vaulted.get(found.key)

    def _ask_vault(self, found: list[Found]) -> None:
        missing = list(dict.fromkeys(f.key for f in found if f.key not in self._values
                                     and f.key not in self._vaulted))  # in text order
        # A hostile answer may hold a million made-up tokens: past a bound, the rest are
        # counted unknown without asking (and without remembering them).
        missing = missing[:max(0, MAX_VAULT_ASKS - len(self._vaulted))]
        if not missing or self._lookup is None:
            return
        answer = self._lookup(missing)
        for key in missing:
            self._vaulted[key] = answer.get(key)

    def restore(self, text: str, json_escape: bool = False) -> str:
        found = list(self._forms.find(text))
        if not found:
            return text
        self._ask_vault(found)
        pieces, position = [], 0
        for token in found:
            value = self._value(token)
            if value is None:
                self.stats.unknown += 1
                continue
            self.stats.restored += 1
            self.stats.repaired += not token.exact
            pieces += [text[position:token.start],
                       json.dumps(value, ensure_ascii=False)[1:-1] if json_escape else value]
            position = token.end
        pieces.append(text[position:])
        return "".join(pieces)

    def held_prefix_start(self, text: str, before: str = "") -> int:
        """Where a possible token starts at the end of text (more text may complete or
        extend it), else len(text). `before`: the character just before `text`, already
        sent (a letter after it starts no word)."""
        starts = self._forms.first_letters
        for at in range(max(0, len(text) - self._forms.longest), len(text)):
            char = text[at]
            previous = text[at - 1] if at else before
            word_start = char in starts and not previous.isalnum()
            if (char in _OPENERS or word_start) and self._forms.may_start(text, at):
                return at
        return len(text)

    def stream(self, json_escape: bool = False) -> StreamRestorer:
        return StreamRestorer(self, json_escape)


class StreamRestorer:
    """Restores one stream of text deltas, holding back only a possible token."""

    def __init__(self, restorer: Restorer, json_escape: bool) -> None:
        self._restorer = restorer
        self._json = json_escape
        self._held = ""
        self._before = ""  # the last character sent
        self._starts = restorer.token_starts

    def feed(self, delta: str) -> str:
        if not self._held and len(delta) == 1 and delta not in self._starts:
            self._before = delta  # the usual one-character delta: nothing to hold or find
            return delta
        text = self._held + delta
        cut = self._restorer.held_prefix_start(text, self._before)
        restored = self._restorer.restore(text[:cut], self._json)
        if cut:
            self._before = text[cut - 1]
        self._hold(text[cut:])
        return restored

    def flush(self) -> str:
        restored = self._restorer.restore(self._held, self._json)
        self._hold("")
        return restored

    def _hold(self, text: str) -> None:
        self._restorer.holding += bool(text) - bool(self._held)
        self._held = text

    @property
    def holding(self) -> bool:
        return bool(self._held)
