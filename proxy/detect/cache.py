"""A bounded cache of detection results, keyed by the detection settings and a keyed hash
of the text.

Chat clients resend the whole conversation on every turn; with the cache only new text
is analyzed. Results depend only on the text and the policy's detection settings (the
DetectionSpec), and different settings never share an entry. The cache is nonetheless
partitioned by tenant: a hit answers faster than a miss, so a shared entry would let one
tenant learn from the latency whether another recently sent an exact text. Each caller
passes a secret `scope` (one per tenant), and the text is hashed with it as the BLAKE2b
key: an entry made under one scope can never be found under another, and the keys in
memory say nothing about the texts without the secret.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from .spans import Span
from .spec import DetectionSpec

Key = tuple[DetectionSpec, bytes]
_Stored = tuple[int, int, str, float]


class DetectionCache:
    def __init__(self, max_chars: int) -> None:
        """About 1.5 bytes of memory per character cached (the findings, not the text)."""
        # Findings are kept as plain tuples, which the garbage collector stops tracking:
        # a full cache of Span objects made every full collection (which holds the GIL,
        # and so the event loop) some 50 ms longer.
        self._entries: OrderedDict[Key, tuple[int, tuple[_Stored, ...]]] = OrderedDict()
        self._chars = 0
        self._max_chars = max_chars
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(spec: DetectionSpec, text: str, scope: bytes = b"") -> Key:
        """`scope`: the caller's secret (a BLAKE2b key holds 64 bytes: a longer one is
        hashed down, not cut, so two long scopes never share a key)."""
        if len(scope) > 64:
            scope = hashlib.blake2b(scope).digest()
        return spec, hashlib.blake2b(text.encode("utf-8", "surrogatepass"), key=scope,
                                     digest_size=16).digest()

    def get(self, key: Key) -> list[Span] | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return [Span(*stored) for stored in entry[1]]

    def put(self, key: Key, length: int, spans: list[Span]) -> None:
        if length > self._max_chars or key in self._entries:
            return
        self._entries[key] = (length, tuple((s.start, s.end, s.entity, s.score) for s in spans))
        self._chars += length
        while self._chars > self._max_chars:
            _, (old_length, _) = self._entries.popitem(last=False)
            self._chars -= old_length
