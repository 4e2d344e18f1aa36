"""Street addresses: street lines, flats and boxes, postcodes, and the blocks they form.

A street line is a house number beside a street name that carries a street type, in the
orders countries write them (data/street_types.txt):
- `221B Baker Street`, `1600 Pennsylvania Ave NW` (type after the name, number first);
- `12 rue de la Paix`, `Via Roma 12`, `ul. Marszałkowska 10/4` (type before the name);
- `Hauptstraße 12`, `Kerkstraat 3`, `Lange Straße 3` (compound or German-style name).
Flats, suites and post boxes (`Apt 5B`, `PO Box 1234`, `Postfach 12 34`) count alone.
Postcodes count only inside an address: beside a street line or a town, after a US state
or a cue word (`ZIP:`). A street line and the parts around it (flat, floor, postcode,
town, on one line or the next) make one span: the whole block is one value.

Speed: it runs on every text. Street, unit, box and cue words are found by one
trie-shaped regex, compounds by a regex on the reversed text (from the number back into
`...straße`); a line is tokenised only around such a word with a number where a street
line needs one. Every scanning regex starts with a literal or a class, and repeated
spaces are possessive, so nothing backtracks over long runs, and the token list of a
line is never searched from its start. Measured on a shared 2-core machine: about 1 s per
MB of text dense with numbers and street words, about 4 s per MB of text made of nothing
but flats (`Apt 5 Apt 5 ...`: each grows its block over the next eight), far less on
ordinary text; linear in the text's length.

Layout: `lists.py` the word lists (data/street_types.txt and the stop words), `scan.py`
where to look, `lines.py` street lines and flats, `postcodes.py` postcodes and towns,
`blocks.py` blocks grown around street lines; here the steps in order.
"""

from __future__ import annotations

import re

from ..spans import Span
from .blocks import Blocks, part_before
from .lines import StreetLine
from .lists import BLOCK_SCORE, BOX_WORDS, CUE_WORDS, ENTITY, PART_SCORE, STREET_SCORE
from .postcodes import TOWN_ZIP, cued_postcode, loose_postcodes
from .scan import compound_pattern, gate_pattern, line_windows, lowered, street_reach

__all__ = ["BLOCK_SCORE", "ENTITY", "PART_SCORE", "STREET_SCORE", "street_addresses"]

_DIGIT = re.compile(r"\d")
_BOX = re.compile(r"[ \t]*+\.?[ \t]*+(box[ \t]*+)?(?:no\.?[ \t]*+|#[ \t]*+)?"
                  r"\d{1,6}(?:[ ]\d{2,4})?(?![\w\-/])", re.IGNORECASE)
_BP = re.compile(r"B\.?P\.?[ \t]?\d{1,5}(?![\w/%\-])(?![.,]\d)(?![ \t]+[a-z])")


# US military mail: `PSC 1184, Box 0101`, `Unit 2050 Box 4190`, `APO AE 09012`.
_MILITARY = re.compile(r"\b(?:(?:PSC|CMR|Unit) \d{1,5},? Box \d{1,5}"
                       r"|(?:APO|FPO|DPO) A[AEP] \d{5}(?:-\d{4})?"
                       r"|USNS [A-Z][a-z]+(?: [A-Z][a-z]+)?)\b")


def street_addresses(text: str) -> list[Span]:
    """STREET_ADDRESS spans of text: one per block, overlapping ones merged."""
    if _DIGIT.search(text) is None and "/" not in text:  # no number, nor `s/n`
        return []
    spans: list[Span] = []
    units: list[tuple[int, int]] = []
    reaches: list[tuple[int, int]] = []
    low = lowered(text)
    backwards = low[::-1]
    for match in gate_pattern().finditer("\n" + low):
        start, end = match.start(), match.end() - 1  # in text
        word = re.sub(r"[ \t]+", " ", low[start:end])
        if word in CUE_WORDS:
            cued = cued_postcode(text, end, word)
            if cued is not None:
                spans.append(cued)
        if word in BOX_WORDS:
            box = _BOX.match(text, end)
            if box is not None and (box.group(1) or word not in ("po", "p.o.", "p. o.")):
                units.append((start, box.end()))
        reach = street_reach(word, start, end, low, backwards)
        if reach is not None:
            reaches.append(reach)
    size = len(text)
    for match in compound_pattern().finditer(backwards):
        # The match runs, reversed, from the number back into the compound word.
        reaches.append((max(0, size - match.end() - 40), size - match.start() + 12))
    zips = [(m.start(1), m.end(1)) for m in TOWN_ZIP.finditer(text)
            if m.start() == 0 or not text[m.start() - 1].isalnum()]
    units += [(m.start(), m.end()) for m in _MILITARY.finditer(text)]
    units += [(m.start(), m.end()) for m in _BP.finditer(text)
              if m.start() == 0 or not (text[m.start() - 1].isalnum()
                                        or text[m.start() - 1] in "._")]
    streets: list[tuple[int, int]] = []
    bare: list[tuple[int, int]] = []
    for start, end in line_windows(reaches, text):
        line = StreetLine(text, start, end).find()
        streets += line.streets
        bare += line.bare
        units += line.units
    # A unit or number right before a bare street name (`Plot 12, MG Road`) makes a line.
    unit_ends = {e: s for s, e in units}
    streets += [(left, end) for start, end in bare
                if (left := part_before(text, start, unit_ends)) is not None]
    blocks = Blocks(text, streets, bare, units)
    for (start, end), unit in [*((s, False) for s in streets), *((u, True) for u in units)]:
        s, e, grown = blocks.extend(start, end, unit)
        alone = PART_SCORE if unit else STREET_SCORE
        spans.append(Span(s, e, ENTITY, BLOCK_SCORE if grown else alone))
    spans += loose_postcodes(text, zips)
    return _union(spans, text)


def _union(spans: list[Span], text: str) -> list[Span]:
    """Overlapping spans as one, without a full stop at the end (no part of a value)."""
    merged: list[Span] = []
    for span in sorted(spans):
        if text[span.end - 1] == "." and span.end - span.start > 1:
            span = Span(span.start, span.end - 1, span.entity, span.score)
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Span(last.start, max(last.end, span.end), ENTITY,
                              max(last.score, span.score))
        else:
            merged.append(span)
    return merged
