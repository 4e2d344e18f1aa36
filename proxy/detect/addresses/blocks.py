"""Address blocks: a street line or flat grown over the flat, floor, postcode and town
beside it, on its line or the next (`Flat 4, 12 High St, London SW1A 1AA`)."""

from __future__ import annotations

import re
from functools import cache

from ..places import is_known_place
from ..trie import trie_pattern
from .lists import OPTIONAL_SPACE, street_lists
from .postcodes import YEAR, postcode_at, town_after, town_then_code

_FLOOR = re.compile(
    r"(?i)(?:\d{1,3}[ ]?[º°ªoa]\.?(?:[ ]?(?:[a-z]|izq(?:da|uierda)?|dcha|dch|dcho|derecha"
    r"|centro|ctro|esq|dto|dt)\.?)?|\d{1,2}\.?[ ]?(?:tv|th|mf|sal|og|eg|stock|etage|étage"
    r"|piso|andar|hoog|verdieping)\.?|\d{1,3}(?:st|nd|rd|th)[ ]floor|(?:floor|fl\.|piso|planta"
    r"|étage|etage|stock|andar|bus|bte|boîte|interno|int\.|scala|lgh\.?|door|porta|puerta"
    r"|escalera|esc\.|m\.|lok\.?|lokal|mieszk\.)[ ]?\d{1,4}[a-z]?)(?![\w])")


_SEP = re.compile(r"[ \t]*+(?:[,;][ \t]*+|[\-|][ \t]++|(?<=[ \t]))")
_SEP_LINE = re.compile(r"[ \t]*+[,;]?[ \t]*+\r?\n[ \t]*+")
_SEP_BACK = re.compile(r"(?:[ \t]*+[,;][ \t]*+|[ \t]*+[,;]?[ \t]*+\r?\n[ \t]*+|[ \t]++)\Z")
_CODE_BEFORE = re.compile(r"(?<![\w.,:/\-])\d{4,5}\Z")


@cache
def _weak_units() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A unit, floor or number word with its number (`Unit 7`, `No. 12`, `#4`), matched
    at a position and ending at one."""
    lists = street_lists()
    words = lists.weak | lists.unit | {"house no", "door no", "h. no"}
    body = (r"(?:(?:" + trie_pattern(words, OPTIONAL_SPACE)
            + r")\.?[ ]?(?:no\.?[ ]?|#[ ]?)?|#[ ]?)[A-Za-z]?\d{1,5}[A-Za-z]?"
            r"(?:[/\-]\d{1,5}[A-Za-z]?)?(?![\w\-])")
    return (re.compile(body, re.IGNORECASE),
            re.compile(rf"(?<![\w\-]){body}\Z", re.IGNORECASE))


class Blocks:
    """Grows street lines and flats into the address blocks around them."""

    def __init__(self, text: str, streets: list[tuple[int, int]],
                 bare: list[tuple[int, int]], units: list[tuple[int, int]]) -> None:
        self.text = text
        self.street_at = dict(streets)
        self.bare_at = dict(bare)
        self.unit_at = dict(units)
        self.street_ends = {e: s for s, e in streets}
        self.unit_ends = {e: s for s, e in units}
        self.weak = _weak_units()[0]

    def _part(self, pos: int, after_unit: bool) -> tuple[int, str] | None:
        if pos in self.street_at:
            return self.street_at[pos], "street"
        if pos in self.unit_at:
            return self.unit_at[pos], "unit"
        if after_unit and pos in self.bare_at:
            return self.bare_at[pos], "street"
        unit = self.weak.match(self.text, pos)
        if unit is not None:
            return unit.end(), "unit"
        return None

    def _next(self, pos: int, kind: str, newline: bool) -> tuple[int, str] | None:
        """The part starting at pos after a part of `kind`."""
        text = self.text
        part = self._part(pos, kind == "unit")
        if part is not None:
            return part
        if not newline:
            floor = _FLOOR.match(text, pos)
            if floor is not None:
                return floor.end(), "unit"
        code = postcode_at(text, pos) or town_then_code(text, pos)
        if code is not None:
            return code, "code"
        if newline:
            return None
        town = town_after(text, pos)
        if town is None:
            return None
        sep = _SEP.match(text, town)
        if sep is not None:
            follow = self._part(sep.end(), False)  # a building name: `Prestige Towers, 12`
            if follow is not None and follow[1] == "street":
                return follow[0], "street"
        if is_known_place(text[pos:town].rstrip(".")):
            return town, "town"
        return None

    def extend(self, start: int, end: int, unit: bool) -> tuple[int, int, bool]:
        """The block around the street line or flat (`unit`) start:end, and whether it
        grew."""
        text = self.text
        grown = False
        for _ in range(3):
            left = self._left(start, street=unit)
            if left is None:
                break
            start, grown = left, True
        kind = "street"
        for _ in range(8):
            found = None
            if kind in ("code", "town"):
                # After the postcode or town only a place on the same line: a country.
                sep = _SEP.match(text, end)
                pos = end if sep is None else sep.end()
                town = town_after(text, pos)
                if town is not None and is_known_place(text[pos:town]):
                    found = town, "town"
            else:
                for sep, newline in ((_SEP.match(text, end), False),
                                     (_SEP_LINE.match(text, end), True)):
                    if sep is not None:
                        found = self._next(sep.end(), kind, newline)
                        if found is not None:
                            break
            if found is None or found[0] <= end or kind == found[1] == "street":
                break  # a second street line is a second address
            end, kind = found
            grown = True
        return start, end, grown

    def _left(self, start: int, street: bool) -> int | None:
        return part_before(self.text, start, self.unit_ends,
                           self.street_ends if street else None)


def part_before(text: str, start: int, unit_ends: dict[int, int],
                street_ends: dict[int, int] | None = None) -> int | None:
    """The start of a flat (`unit_ends`: end -> start, or a weak unit such as `Plot 12`),
    a postcode or (given `street_ends`) a street line right before `start`: a street
    line before another is another address."""
    sep = _SEP_BACK.search(text, max(0, start - 12), start)
    if sep is None:
        return None
    at = sep.start()
    if at in unit_ends:
        return unit_ends[at]
    if street_ends is not None and at in street_ends:
        return street_ends[at]
    unit = _weak_units()[1].search(text, max(0, at - 40), at)
    if unit is not None:
        return unit.start()
    if sep.group() == " " and text[start:start + 1].isalpha():
        code = _CODE_BEFORE.search(text, max(0, at - 6), at)  # `4936 Søndervænget 52`
        if code is not None and not YEAR.fullmatch(code.group()):
            return code.start()
    return None
