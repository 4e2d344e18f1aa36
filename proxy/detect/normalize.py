"""Fold obfuscated text into a plain form for detection, and map findings back.

Detection runs on the folded text; each finding is mapped back to the original offsets,
so the whole original value (zero-width characters inside it included) is replaced and
the provider never sees half of a value that folding joined.

Folding:
- NFKC per character: fullwidth digits and `＠`, ligatures, superscripts; every kind of
  decimal digit (Arabic-Indic, Devanagari, ...) becomes an ASCII digit;
- invisible characters (zero-width, direction marks, soft hyphens, every Unicode format
  character, variation selectors) are dropped;
- every kind of space becomes a space, every kind of hyphen or dash a `-`;
- in a word that mixes Latin with Cyrillic or Greek, look-alike letters become Latin
  (a purely Cyrillic or Greek word is left alone);
- characters spaced out one by one (`4 1 1 1 ...`, `j a n e @ ...`, six or more, one or
  two spaces apart) are joined;
- an escaped line break or tab written out in a paste (`Phone:\\n+46 ...`, from a log or
  a string literal) reads as one, unless a lower-case letter follows (`C:\\nikolaj`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .spans import Span

_DROP = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e")
_SPACES = frozenset("\u00a0\u2007\u202f\u3000\u1680") | frozenset(map(chr, range(0x2000, 0x200b)))
_HYPHENS = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")
_LOOKALIKES = {
    # Cyrillic
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y", "і": "i", "ј": "j",
    "ԁ": "d", "ѕ": "s", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "А": "A", "В": "B", "Е": "E",
    "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X", "У": "Y",
    "І": "I", "Ј": "J", "Ѕ": "S",
    # Greek
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "κ": "k", "τ": "t", "υ": "u", "Α": "A",
    "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
}
_WORD = re.compile(r"[^\W\d_]+")
_SPACED_OUT = re.compile(r"(?<![^\W_])\S(?: {1,2}\S){5,}(?![^\W_])")
_ESCAPED_BREAK = re.compile(r"\\([ntr])(?![a-z])")


@dataclass
class Folded:
    """Folded text; starts[i]:ends[i] is the original range of folded character i."""

    text: str
    starts: list[int]
    ends: list[int]

    def original(self, span: Span) -> Span:
        return Span(self.starts[span.start], self.ends[span.end - 1], span.entity, span.score)

    def _keep(self, positions: list[int]) -> Folded:
        return Folded("".join(self.text[i] for i in positions),
                      [self.starts[i] for i in positions], [self.ends[i] for i in positions])


def _plain(char: str) -> str:
    """The plain form of one character: "" for invisible ones."""
    if char.isascii():
        return char
    if char in _DROP or unicodedata.category(char) == "Cf" or "\ufe00" <= char <= "\ufe0f":
        return ""
    if char in _SPACES:
        return " "
    if char in _HYPHENS:
        return "-"
    digit = unicodedata.decimal(char, None)  # Arabic-Indic, Devanagari, fullwidth digits...
    if digit is not None:
        return str(digit)
    return unicodedata.normalize("NFKC", char)


def _latin_lookalikes(folded: Folded) -> Folded:
    """Make look-alike letters Latin in words that also hold Latin letters."""
    text = list(folded.text)
    changed = False
    for match in _WORD.finditer(folded.text):
        word = match.group()
        if any("a" <= c.lower() <= "z" for c in word) and any(c in _LOOKALIKES for c in word):
            for i, char in enumerate(word):
                if char in _LOOKALIKES:
                    text[match.start() + i] = _LOOKALIKES[char]
                    changed = True
    return Folded("".join(text), folded.starts, folded.ends) if changed else folded


def _escaped_breaks(folded: Folded) -> Folded:
    """`\\n` and `\\t` written out become a space and a line break or tab: two characters
    for two, so offsets stay as they are."""
    text = _ESCAPED_BREAK.sub(lambda m: " " + ("\t" if m.group(1) == "t" else "\n"),
                              folded.text)
    return Folded(text, folded.starts, folded.ends)


def fold(text: str) -> Folded:
    if text.isascii():
        folded = Folded(text, list(range(len(text))), list(range(1, len(text) + 1)))
    else:
        chars: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        for i, char in enumerate(text):
            for piece in _plain(char):
                chars.append(piece)
                starts.append(i)
                ends.append(i + 1)
        # Look-alikes are judged after invisible characters are gone: `W\u200bЕST` is a word.
        folded = _latin_lookalikes(Folded("".join(chars), starts, ends))
    if "\\" in folded.text:
        folded = _escaped_breaks(folded)
    if not _SPACED_OUT.search(folded.text):
        return folded
    joined: set[int] = set()
    for match in _SPACED_OUT.finditer(folded.text):
        joined.update(i for i in range(match.start(), match.end()) if folded.text[i] == " ")
    return folded._keep([i for i in range(len(folded.text)) if i not in joined])
