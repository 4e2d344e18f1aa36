"""Which tokens the gateway has issued to a tenant, remembered for a while.

A request may carry tokens back (Anthropic's signed thinking comes back as the provider
wrote it, tokens and all), and detection must not cut into those. But text merely shaped
like a token (`<X_4111111111111111>`) is the client's own and is inspected like any text.
Only what is remembered here counts as a token; the memory holds keyed digests, never a
value or a token, and forgets the oldest first. A token it has forgotten is inspected like
text: the worst that can happen is that a finding inside it changes signed text, and the
provider refuses it.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable

DEFAULT_CAPACITY = 500_000   # about 60 MB at most


class IssuedTokens:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._digests: OrderedDict[bytes, None] = OrderedDict()
        self._capacity = capacity

    @staticmethod
    def _digest(scope: bytes, token: str) -> bytes:
        return hashlib.blake2b(token.encode(), key=scope[:64], digest_size=16).digest()

    @classmethod
    def digests(cls, scope: bytes, tokens: Iterable[str]) -> list[bytes]:
        """What `remember` keeps of tokens. `scope` is the tenant's token key: one tenant's
        tokens never count for another. (Pure: a large request works these out in a
        thread.)"""
        return [cls._digest(scope, token) for token in tokens]

    def remember(self, digests: list[bytes]) -> None:
        """On the event loop only; `knows` may run in a thread beside it (a lookup in a
        dict is atomic)."""
        for digest in digests:
            self._digests[digest] = None
            self._digests.move_to_end(digest)
        while len(self._digests) > self._capacity:
            self._digests.popitem(last=False)

    def knows(self, scope: bytes, token: str) -> bool:
        return self._digest(scope, token) in self._digests
