"""Pattern recognizers: a regex, an optional checksum validator and context words.

Policies declare their own (see Policy.recognizers); a few built-in ones live in
builtin.py. A match scores `score`, plus `context_boost` when one of the context words
appears within `context_window` characters before or after it; a failed checksum drops it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from .spans import Span


def luhn_valid(value: str) -> bool:
    digits = [int(c) for c in value if c.isdigit()]
    if len(digits) < 12:
        return False
    total = 0
    for i, digit in enumerate(reversed(digits)):
        if i % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def iban_valid(value: str) -> bool:
    compact = re.sub(r"[\s-]", "", value).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


VALIDATORS: dict[str, Callable[[str], bool]] = {"luhn": luhn_valid, "iban": iban_valid}


@dataclass(frozen=True)
class PatternRule:
    entity: str
    regex: str
    score: float
    validator: str | None = None
    context: tuple[str, ...] = ()
    context_window: int = 40
    context_boost: float = 0.35
    ignore_case: bool = False

    def find(self, text: str) -> list[Span]:
        spans = []
        lowered = text.casefold() if self.context else ""
        for match in _compiled(self.regex, self.ignore_case).finditer(text):
            if match.end() == match.start():
                continue
            if self.validator and not VALIDATORS[self.validator](match.group()):
                continue
            score = self.score
            if self.context and _near(lowered, match.start(), match.end(), self.context,
                                      self.context_window):
                score = min(1.0, score + self.context_boost)
            spans.append(Span(match.start(), match.end(), self.entity, score))
        return spans


@cache
def _compiled(regex: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(regex, re.IGNORECASE if ignore_case else 0)


def _near(lowered: str, start: int, end: int, words: tuple[str, ...], window: int) -> bool:
    around = lowered[max(0, start - window):start] + " " + lowered[end:end + window]
    return any(re.search(rf"(?<!\w){re.escape(w.casefold())}(?!\w)", around) for w in words)
