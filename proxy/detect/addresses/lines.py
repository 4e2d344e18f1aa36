"""Street lines in one stretch of a line of text: a house number beside a street name
with a street type after it (`221B Baker Street`), before it (`Via Roma 12`) or glued to
it (`Hauptstraße 12`), bare street names, and flats (`Apt 5B`)."""

from __future__ import annotations

import re
from typing import NamedTuple

from ..words import zipf
from .lists import (
    LETTER,
    MEASURES,
    NUMBER_MARK,
    NUMBERED,
    PARTICLES,
    QUANTIFIERS,
    STOP,
    UNIT_LEAD,
    is_rare,
    shape,
    street_lists,
)

_NOT_L = rf"(?!{LETTER})"
# Tokens of a line: c/ (Spanish calle) and s/n (no number) first, then numbers with
# their letters and slashes (221B, 10/4, 3o), words, and any other single character or a
# wide gap (a street name is not spread over a table's columns).
_TOKEN = re.compile(rf"(?P<n>[Ss]/[Nn]{_NOT_L}|\d[^\W_]*(?:[/\-]\d[^\W_]*)*)"
                    rf"|(?P<w>[Cc]/(?=[ \t]|{LETTER})|{LETTER}+(?:['\u2019.\-]{LETTER}+)*\.?)"
                    r"|(?P<p>[^\w \t]|[ \t]{4,})")
_HOUSE = re.compile(r"\d{1,5}[A-Za-z]?(?:[/\-]\d{1,5}[A-Za-z]?){0,2}|[Ss]/[Nn]")
_DATE = re.compile(r"\d{4}-\d\d-\d\d|\d\d?[/-]\d\d?[/-]\d{2,4}")
_ORDINAL = re.compile(r"\d{1,3}(?:st|nd|rd|th|e|er|o|a)", re.IGNORECASE)


def _is_house(token: str) -> bool:
    return _HOUSE.fullmatch(token) is not None and _DATE.fullmatch(token) is None


def _ends_sentence(tok: _Tok) -> bool:
    """A word with a full stop that is no abbreviation (`retries.`, not `St.`)."""
    return tok.text.endswith(".") and len(tok.text) > 5 and "." not in tok.text[:-1]


class _Tok(NamedTuple):  # a tuple: lines are tokenised often, and tuples come cheap
    start: int
    end: int
    text: str
    low: str
    kind: str   # "n" number, "w" word, "p" any other character (a line break too)


_FLOOR_SUFFIX = re.compile(r"[IVX]{1,4}|bis|ter|hoog|h|huis|boven|links|rechts")
_UNIT_NUMBER = re.compile(r"\d{1,5}[A-Za-z]?(?:[/\-]\d{1,4}[A-Za-z]?)?|[A-Z]\d{0,4}")


class StreetLine:
    """Street lines, bare street names and flats in one stretch of a line."""

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text = text
        self.toks = [_Tok(m.start(), m.end(), word, word.casefold(), m.lastgroup or "p")
                     for m in _TOKEN.finditer(text, start, end) if (word := m.group())]
        self.lists = street_lists()
        self.streets: list[tuple[int, int]] = []
        self.bare: list[tuple[int, int]] = []
        self.units: list[tuple[int, int]] = []

    def find(self) -> StreetLine:
        lists = self.lists
        for i, tok in enumerate(self.toks):
            if tok.kind != "w":
                continue
            low, bare = tok.low, tok.low.rstrip(".")  # `Road.` ends a sentence
            if low in lists.after or bare in lists.after:
                self._after(i)
            if low in lists.before or bare in lists.before or (
                    low in lists.capital and shape(tok.text) == "title"):
                self._before(i)
            if low in lists.unit or bare in lists.unit:
                self._unit(i)
            if low in lists.suffix or bare == "gate" or bare.endswith(lists.suffixes):
                self._suffix(i)
        return self

    def _tok(self, i: int) -> _Tok | None:
        return self.toks[i] if 0 <= i < len(self.toks) else None

    def _name_word(self, tok: _Tok) -> bool:
        return ((tok.kind == "w" and tok.low not in STOP)
                or (tok.kind == "n" and _ORDINAL.fullmatch(tok.text) is not None))

    def _names_after(self, i: int, limit: int, capital: bool) -> int:
        """Index past the name words from i (particles inside), at most `limit` tokens;
        after a capitalised type only capitalised words (`2 Avenue campaigns` is none)."""
        j = i
        while j < len(self.toks) and j - i < limit:
            tok = self.toks[j]
            if (tok.kind == "w" and tok.low in PARTICLES) or (self._name_word(tok) and (
                    not capital or tok.kind == "n" or shape(tok.text) != "lower")):
                j += 1
                if _ends_sentence(tok):
                    break
            else:
                break
        while j > i and self.toks[j - 1].low in PARTICLES:
            j -= 1  # a name does not end on a particle
        return j

    def _number_starts(self, i: int) -> bool:
        """The number at i is not glued to a time, amount or decimal, nor a count."""
        tok = self.toks[i]
        if tok.start > 0 and self.text[tok.start - 1] in ".:$€£/-+,":
            return False
        prev = self._tok(i - 1)
        return not (prev is not None and prev.kind == "w"
                    and (prev.low in QUANTIFIERS or prev.low.rstrip(".") in NUMBERED))

    def _house_after(self, j: int) -> int | None:
        """Index past a house number at token j (after an optional comma and `nº`), with
        its staircase letter and flat (`5 A 12`, `7 B`)."""
        tok = self._tok(j)
        if tok is not None and tok.text == ",":
            j += 1
            tok = self._tok(j)
        if tok is not None and tok.low in NUMBER_MARK:
            j += 1
            tok = self._tok(j)
        if tok is None or tok.kind != "n" or not _is_house(tok.text):
            return None
        after = self.text[tok.end:tok.end + 2]
        if after[:1] in (":", "%") or (after[:1] in (".", ",") and after[1:2].isdigit()):
            return None
        j += 1
        floor = self._tok(j + 1)  # `123-II`, `3-hoog`, `12-bis`: glued to the number
        if floor is not None and self.text[tok.end:floor.start] == "-" \
                and _FLOOR_SUFFIX.fullmatch(floor.text):
            j += 2
        letter, flat = self._tok(j), self._tok(j + 1)
        if letter is not None and letter.kind == "w" and len(letter.text) == 1 \
                and self.text[letter.start - 1] == " ":
            has_flat = flat is not None and flat.kind == "n" and flat.text.isdigit() \
                and len(flat.text) <= 3 and self.text[flat.start - 1] == " "
            if has_flat:
                j += 2  # `5 A 12`, `5 a 12`
            elif letter.text.isupper():
                j += 1  # `7 B`
        word = self._tok(j)
        if word is not None and word.kind == "w" and word.low in MEASURES:
            return None
        return j

    def _english_ok(self, type_tok: _Tok, names: list[_Tok]) -> bool:
        """A street type that is also an English word (way, place, via) needs a capital
        on it and its name, or a name that is not an ordinary English word."""
        if type_tok.low.rstrip(".") not in self.lists.english:
            return True
        words = [t for t in names if t.kind == "w" and (t.low not in PARTICLES
                                                         or t.text == "The")]
        if any(is_rare(t.text) for t in words):
            return True
        return type_tok.low.rstrip(".") not in self.lists.strict and \
            shape(type_tok.text) != "lower" and any(shape(t.text) != "lower" for t in words)

    def _after(self, i: int) -> None:
        """`221B Baker Street`, `1600 Pennsylvania Ave NW`, `3 The Close`."""
        # Under a capitalised type the name is capitalised too: `12 hours away via Main
        # Road` names Main Road only.
        capital = shape(self.toks[i].text) != "lower"
        j = i
        while j > 0 and i - j < 4 and self._name_word(tok := self.toks[j - 1]) and (
                not capital or tok.kind == "n" or tok.low in PARTICLES
                or shape(tok.text) != "lower") and not _ends_sentence(tok):
            j -= 1
        names = self.toks[j:i]
        if not any(t.low not in PARTICLES or t.text == "The" for t in names):
            return
        if names[0].low in MEASURES:
            return  # `12 hours away via main road`
        if not self._english_ok(self.toks[i], names):
            return
        end = self.toks[i].end
        direction = self._tok(i + 1)
        if direction is not None and direction.low in self.lists.direction \
                and shape(direction.text) != "lower":
            end = direction.end
        number = self._tok(j - 1)
        if number is not None and number.kind == "n" and _is_house(number.text) \
                and self._number_starts(j - 1):
            self.streets.append((number.start, end))
        elif capital == all(shape(t.text) != "lower" for t in names):
            self.bare.append((names[0].start, end))  # for `Plot 12, MG Road`

    def _before(self, i: int) -> None:
        """`12 rue de la Paix`, `Via Roma 12`, `Avenida Paulista, 1578`."""
        k = self._names_after(i + 1, 6, shape(self.toks[i].text) != "lower")
        names = self.toks[i + 1:k]
        words = [t for t in names if t.low not in PARTICLES]
        if not words or not self._english_ok(self.toks[i], names):
            return
        before = i - 2 if self._tok(i - 1) is not None and self.toks[i - 1].text == "," else i - 1
        number = self._tok(before)
        if number is not None and number.kind == "n" and _is_house(number.text) \
                and self._number_starts(before):
            if all(shape(t.text) == "lower" for t in words) and len(words) > 3:
                k = self.toks.index(words[2], i + 1, k) + 1  # lower case: a guessed end
            self.streets.append((number.start, self.toks[k - 1].end))
            return
        house = self._house_after(k)
        if house is not None:
            self.streets.append((self.toks[i].start, self.toks[house - 1].end))

    def _suffix(self, i: int) -> None:
        """`Hauptstraße 12`, `Bahnhofstr. 5a`, `Lange Straße 3`, `Karl Johans gate 22`."""
        tok = self.toks[i]
        lists = self.lists
        if tok.low in lists.suffix or tok.low == "gate":
            j = i  # the type as a word of its own, after the name
            while j > 0 and i - j < 3 and self._name_word(self.toks[j - 1]):
                j -= 1
            names = [t for t in self.toks[j:i] if t.low not in PARTICLES]
            if not names:
                return
            if tok.low == "gate" and not (tok.text == "gate" and shape(names[-1].text)
                                          == "title" and names[-1].text.endswith("s")):
                return  # Norwegian `Karl Johans gate`, not `Boarding Gate 5`
        else:
            base = tok.low.rstrip(".")
            suffix = next(s for s in lists.suffixes if base.endswith(s))
            if len(base) - len(suffix) < 2:
                return
            limit = 1.0 if suffix in lists.rare_suffix else 2.0
            if zipf(base) >= limit:
                return  # an English word: `aggregate 5`, `string 3`
            j = i  # capitalised words before the compound: `Alte Hauptstraße`
            while j > 0 and i - j < 2 and self.toks[j - 1].kind == "w" \
                    and shape(self.toks[j - 1].text) != "lower" \
                    and self.toks[j - 1].low not in STOP and zipf(self.toks[j - 1].text) < 3.5:
                j -= 1
        house = self._house_after(i + 1)
        if house is not None:
            self.streets.append((self.toks[j].start, self.toks[house - 1].end))

    def _unit(self, i: int) -> None:
        """`Apt 5B`, `Suite 300`, `Flat 4`. `suite 3` or `flat 4` in lower case may be
        music, tests or engines: those count only beside a street (see Blocks)."""
        tok = self.toks[i]
        if tok.low.rstrip(".") in self.lists.english and shape(tok.text) == "lower":
            return
        j = i + 1
        mark = self._tok(j)
        if mark is not None and (mark.text == "#" or mark.low in ("no", "no.")):
            j += 1
        number = self._tok(j)
        if number is None or number.kind not in ("n", "w") \
                or not _UNIT_NUMBER.fullmatch(number.text):
            return
        # `Test Suite 3`, `Flat 4 engine`, `Unit 7 covers`: the word before or after
        # makes it something else.
        before, after = self._tok(i - 1), self._tok(j + 1)
        if before is not None and before.kind == "w" and before.low not in UNIT_LEAD:
            return
        if after is not None and after.kind == "w" and (
                after.low in MEASURES or after.low == "of"  # `Suite 3 of tests`
                or (shape(after.text) == "lower" and after.low not in STOP)):
            return
        self.units.append((tok.start, number.end))
