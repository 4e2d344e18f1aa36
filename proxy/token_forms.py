"""How a token may come back: as it was issued, or as a model rewrote it.

Issued: `<PERSON_7QK2M9XH4R2A>`. Models change the case, drop or swap the brackets, spell
the type with spaces, or put spaces or hyphens for underscores: `<person_7qk2m9xh4r2a>`,
`PERSON_7QK2M9XH4R2A`, `[PERSON 7QK2M9XH4R2A]`, `<CREDIT CARD 7QK2M9XH4R2A>`. Each form is
read back to the issued spelling (its key); whether it restores is up to the tokens the
tenant was issued. A rewritten form counts only where it cannot be ordinary words or a
number: it has a bracket, or its code has the issued length (12) and holds letters and
digits. ("credit card 4111111111111111" and "PERSON PERSON" are not tokens.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import regex

ISSUED = re.compile(r"<[A-Z][A-Z0-9_]*_[0-9A-Z]{5,16}>")
# Every type a shipped policy names; a route's own types are added to these.
KNOWN_TYPES = frozenset({
    "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE",
    "IP_ADDRESS", "LOCATION", "STREET_ADDRESS", "ORGANIZATION", "DATE_TIME", "URL",
    "MRN", "MEDICAL_LICENSE", "INSURANCE_CARD", "EMPLOYEE_ID", "DENY_LIST"})
# Brackets a model may write around a token; `<` and `>` are the token's own, so one of
# them alone is eaten, where another kind is eaten only as a pair.
_PAIRS = {"(": ")", "[": "]", "{": "}"}
_OWN_OPEN, _OWN_CLOSE = ("<", "&lt;"), (">", "&gt;")
_CLOSERS = (">", "&gt;", " >", " &gt;", "]", "}", ")")
TOKEN_LENGTH = 12  # tokens.TOKEN_LENGTH (not imported: tokens.py needs none of this)
_SLICE = 1 << 16
_SEPARATORS = " _-"
# What every form holds: a bracket, or a digit in its code.
_MARKS = ("<", "[", "(", "{", "&", *"0123456789")
_SHORTEST = len("URL 0ABCD")  # the shortest type, a separator and five characters
_SEPARATOR_BYTES = (b" ", b"_", b"-")


@dataclass(frozen=True, slots=True)
class Found:
    """A token in a text: where it stands, the issued spelling, and whether it was written
    exactly so."""

    start: int
    end: int
    key: str
    exact: bool


def _types_pattern(types: Iterable[str]) -> str:
    names = sorted(types, key=len, reverse=True)  # CREDIT_CARD before a shorter prefix
    return "|".join("[ _-]".join(re.escape(w) for w in name.split("_")) for name in names)


def _pattern(types: Iterable[str]) -> str:
    """Any form, from its first character (for a stream's tail)."""
    return (r"(?P<issued>(?-i:<[A-Z][A-Z0-9_]*_[0-9A-Z]{5,16}>))"
            r"|(?P<open><|&lt;|\[|\{|\()?\ ?(?<![0-9A-Za-z])"
            + _rewritten_from_type(types))


def _rewritten_from_type(types: Iterable[str]) -> str:
    """A rewritten form from its type on: the type, a separator, the code, a bracket."""
    return (rf"(?P<type>{_types_pattern(types)})[ _-](?P<code>[0-9A-Za-z]{{5,16}})"
            r"(?![0-9A-Za-z])\ ?(?P<close>>|&gt;|\]|\}|\))?")


class TokenForms:
    """Finds tokens of the given entity types in the forms above.

    A pattern with a long alternation is slow in Python's `re` (it tries every type at
    every position), so rewritten forms are found from where a type's first word occurs,
    which plain substring search finds fast.
    """

    def __init__(self, types: frozenset[str]) -> None:
        self._partial = regex.compile(_pattern(types), regex.IGNORECASE)
        # By a type's first word: the pattern of the types that begin with it.
        by_word: dict[str, list[str]] = {}
        for name in types:
            by_word.setdefault(name.split("_")[0].lower(), []).append(name)
        self._at_type = {word: re.compile(_rewritten_from_type(names), re.IGNORECASE)
                         for word, names in by_word.items()}
        self._bytes_at_type = {
            word.encode(): re.compile(f"(?:{_types_pattern(names)})[ _-][0-9A-Za-z]{{5}}"
                                      .encode(), re.IGNORECASE)
            for word, names in by_word.items()}
        # Letters a type begins with, either case: only there may a rewritten form start.
        self.first_letters = frozenset(c for t in types for c in (t[0].lower(), t[0].upper()))
        # The longest form: brackets as entities, spaces, the type and a 16-character code.
        self.longest = 4 + 1 + max(len(t) for t in types) + 1 + 16 + 1 + 4

    def find(self, text: str) -> list[Found]:
        """Every token in `text`, in order, none overlapping."""
        # Most texts can hold none: every form has a bracket, or a code with a digit.
        # Substring tests run at C speed, where any pattern would cost 25 us a KB.
        if len(text) < _SHORTEST or not any(mark in text for mark in _MARKS):
            return []
        found = [Found(m.start(), m.end(), m.group(), exact=True)
                 for m in ISSUED.finditer(text)] if "<" in text else []
        lowered = text.lower()
        if len(lowered) != len(text):  # `İ` lowers to two characters: keep offsets aligned
            lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        for word, pattern in self._at_type.items():
            at = lowered.find(word)
            while at != -1:
                after = at + len(word)
                # Cheap tests first: a word of its own, then a separator.
                if (at == 0 or not text[at - 1].isalnum()) and after < len(text) and \
                        text[after] in _SEPARATORS:
                    match = pattern.match(text, at)
                    rewritten = _rewritten(text, match) if match else None
                    if rewritten is not None:
                        found.append(rewritten)
                at = lowered.find(word, after)
        return _disjoint(found)

    def may_hold(self, raw: bytes) -> bool:
        """Whether `raw` may hold a token in any form (in slices, with an overlap, so no
        step holds the GIL long)."""
        for at in range(0, len(raw), _SLICE):
            piece = raw[max(0, at - self.longest):at + _SLICE]
            # Any \u escape may spell a token's letters: JSON decodes them before restoring.
            if b"<" in piece or b"\\u" in piece:
                return True
            lowered = piece.lower()
            for word, pattern in self._bytes_at_type.items():
                start = lowered.find(word)
                while start != -1:
                    after = start + len(word)
                    if piece[after:after + 1] in _SEPARATOR_BYTES and \
                            pattern.match(piece, start):
                        return True
                    start = lowered.find(word, after)
        return False

    def may_start(self, text: str, at: int) -> bool:
        """`text[at:]` is a token's beginning, or a whole one that more text may extend."""
        match = self._partial.match(text, at, partial=True)
        if match is None:
            return False
        rest = text[match.end():]  # a closing `&gt;` may still be arriving
        return match.partial or not rest or any(c.startswith(rest) for c in _CLOSERS)


def _disjoint(found: list[Found]) -> list[Found]:
    """In order of position; where two overlap, the one that starts first (an issued
    token before the rewritten reading of its inside)."""
    kept: list[Found] = []
    for item in sorted(found, key=lambda f: (f.start, not f.exact)):
        if not kept or item.start >= kept[-1].end:
            kept.append(item)
    return kept


def _rewritten(text: str, match: re.Match[str]) -> Found | None:
    kind, code, closing = match.group("type"), match.group("code"), match.group("close")
    opening = _opener(text, match.start())
    if not (opening or closing or _looks_issued(code)):
        return None  # "credit card number", "phone number 5551234567": ordinary text
    # A pair of other brackets was the token's own, unless it is a Markdown link's text.
    paired = opening.strip() in _PAIRS and _PAIRS[opening.strip()] == closing and \
        not text.startswith("(", match.end())
    start = match.start() - len(opening) if (opening.strip() in _OWN_OPEN or paired) \
        else match.start()
    end = match.end() if (closing in _OWN_CLOSE or paired) else match.end("code")
    key = "<" + re.sub(r"[ -]", "_", kind.upper()) + "_" + code.upper() + ">"
    return Found(start, end, key, exact=False)


def _looks_issued(code: str) -> bool:
    """An unbracketed code as the gateway issues them: 12 characters, letters and digits
    (a code of letters alone, one in a hundred, restores only in brackets)."""
    return len(code) == TOKEN_LENGTH and any(c.isalpha() for c in code) and \
        any(c.isdigit() for c in code)


def _opener(text: str, at: int) -> str:
    """The bracket (and a space) written just before a type at `at`, or ''."""
    before = text[max(0, at - 5):at]
    for opening in ("&lt; ", "&lt;", "< ", "<", "[ ", "[", "{ ", "{", "( ", "("):
        if before.endswith(opening):
            return opening
    return ""


@lru_cache(maxsize=64)
def forms_for(types: frozenset[str]) -> TokenForms:
    """The forms of the known types and `types` (a route's policy, a request's tokens)."""
    valid = frozenset(t for t in types if re.fullmatch(r"[A-Z][A-Z0-9_]*", t))
    return TokenForms(KNOWN_TYPES | valid)
