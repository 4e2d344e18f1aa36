"""Postcodes and the towns around them: a postcode's shapes, a town after or before a
position, and the postcodes that count outside a street block (after a US state, a
known town or a cue word such as `ZIP:`)."""

from __future__ import annotations

import re

from ..places import is_known_place
from ..spans import Span
from .lists import ENTITY, LETTER, MEASURES, NOT_TOWN, PART_SCORE, US_STATES, shape

_WORD = re.compile(rf"{LETTER}{{1,40}}+(?:['\u2019.\-]{LETTER}{{1,40}}+){{0,4}}\.?")


# A ZIP or PIN right after a capitalised word (`Texas 78701`, `Bengaluru 560001`).
TOWN_ZIP = re.compile(r"[A-Z][a-zA-Z.'\-]{0,30}+[ \t]*+[,\-]?[ \t]*+"
                      r"(\d{5}(?:-\d{4})?|[1-9]\d\d ?\d{3})(?![\w\-])")


_POSTCODE = (r"(?:[A-Z]{1,2}-)?(?:\d{5}-\d{3}|\d{4}-\d{3}|\d{2}-\d{3}|\d{4}[ ]?[A-Z]{2}(?![^\W\d_])"
             r"|\d{3}[ ]\d{3}|\d{3}[ ]\d{2}|\d{5}-\d{4}|\d{4,6})(?![\w\-])"
             r"|[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[ABD-HJLNP-UW-Z]{2}(?![\w\-])"
             r"|[A-Z]\d[A-Z][ ]?\d[A-Z]\d(?![\w\-])"
             r"|(?:[AC-FHKNPRTV-Y]\d{2}|D6W)[ ]?[AC-FHKNPRTV-Y\d]{4}(?![\w\-])")
_POSTCODE_ANY_CASE = re.compile(_POSTCODE, re.IGNORECASE)
_PLAIN_DIGITS = re.compile(r"(?:[A-Za-z]{1,2}-)?\d{4,6}")
# Distinctive shapes that stand for a postcode beside any capitalised town.
_UK_CA_IE = re.compile(r"[A-Z](?:[A-Z]?\d[A-Z\d]?[ ]?\d[ABD-HJLNP-UW-Z]{2}|\d[A-Z][ ]?\d[A-Z]\d"
                       r"|\d{2}[ ]?[AC-FHKNPRTV-Y\d]{4}|6W[ ]?[AC-FHKNPRTV-Y\d]{4})(?![\w\-])")
_STATE_ZIP = re.compile(r"([A-Z]{2})[ \t]++(\d{5}(?:-\d{4})?)(?![\w\-])")
# A postcode opening a line or following a comma, then a town: `10115 Berlin`.
_CODE_TOWN = re.compile(r"[\n,;:(][ \t]*+((?:[A-Z]{1,2}-)?\d\d(?:\d\d ?[A-Z]{2}(?![^\W\d_])"
                        r"|\d[ ]\d\d(?!\d)|-\d{3}|\d\d-\d{3}|\d{3}-\d{3}|\d{2,3}))[ \t]++(?=\w)")
YEAR = re.compile(r"(?:19|20)\d\d")


def _words_at(text: str, pos: int, limit: int) -> list[re.Match[str]]:
    """Up to `limit` words from pos, one space apart, on one line."""
    words: list[re.Match[str]] = []
    while len(words) < limit:
        match = _WORD.match(text, pos)
        if match is None:
            break
        if text[match.end():match.end() + 1].isalnum():
            break  # `OX` of `OX1 4AR` is no word
        words.append(match)
        pos = match.end()
        if text[pos:pos + 1] != " " or match.group().endswith("."):
            break  # a town does not run over a full stop
        pos += 1
    return words


_LOWER_STATE = re.compile(r"[ ]+([a-z]{2})(?=[ ,]+\d{5}(?![\w\-]))")
_LOWER_STATE_AT = re.compile(r"([a-z]{2})(?=[ ]+\d{5}(?![\w\-]))")
_TOWN_TAIL = re.compile(r"[ ]+(?:\d{1,2}|[A-ZÆØÅ]|[A-Z]{2}|CEDEX(?:[ ]\d{1,2})?)(?![\w\-])")


def town_after(text: str, pos: int) -> int | None:
    """End of a town at pos: up to three capitalised words, or a known place in any case,
    with a district number or letter after it (`Dublin 2`, `København Ø`, `Roma RM`)."""
    state = _LOWER_STATE_AT.match(text, pos)  # `new york, ny 10118`
    if state is not None and state.group(1).upper() in US_STATES:
        return state.end(1)
    words = _words_at(text, pos, 3)
    end = None
    for size in range(len(words), 0, -1):
        run = words[:size]
        if is_known_place(text[pos:run[-1].end()].rstrip(".")) or all(
                shape(w.group()) != "lower" and w.group().casefold() not in NOT_TOWN
                for w in run):
            end = run[-1].end() - run[-1].group().endswith(".")
            break
    if end is None:
        return None
    state = _LOWER_STATE.match(text, end)  # `boston ma 02118`
    if state is not None and state.group(1).upper() in US_STATES:
        return state.end(1)
    tail = _TOWN_TAIL.match(text, end)
    if tail is not None and not _POSTCODE_ANY_CASE.match(text, tail.start() + 1):
        end = tail.end()
    return end


_SPACES = re.compile(r"[ \t]++")
_TOWN_SEP = re.compile(r"[ \t]*+(?:[,\-][ \t]*+)?")


def postcode_at(text: str, pos: int) -> int | None:
    """End of a postcode at pos and of the town after it on the same line; plain digits
    (`2024`) count only with a town after them."""
    match = _POSTCODE_ANY_CASE.match(text, pos)
    if match is None:
        return None
    spaced = _SPACES.match(text, match.end())
    if spaced is not None:
        town = town_after(text, spaced.end())
        if town is not None and (not YEAR.fullmatch(match.group())
                                 or is_known_place(text[spaced.end():town])):
            return town  # but `2024 Report` is no postcode and town
    if _PLAIN_DIGITS.fullmatch(match.group()):
        return None
    return match.end()


def town_then_code(text: str, pos: int) -> int | None:
    """`London SW1A 1AA`, `Springfield, IL 62704`, `São Paulo - SP, 01310-100`."""
    for _ in range(3):
        town = town_after(text, pos)
        if town is None:
            return None
        sep = _TOWN_SEP.match(text, town)
        assert sep is not None
        code = _POSTCODE_ANY_CASE.match(text, sep.end())
        if code is not None:
            return code.end()
        if sep.end() == town:
            return None
        pos = sep.end()
    return None


# Read backwards (on reversed text, so the match is anchored where the postcode starts):
# a separator, then one to three words of a town or state, with a district number.
_TOWN_GROUP_REVERSED = re.compile(r"(?P<sep>[ \t]*+(?:[,\-][ \t]*+)?)"
                                  r"(?P<words>(?:\d{1,2}[ ])?[^\s,;:()\[\]{}\"]+"
                                  r"(?:[ ][^\s,;:()\[\]{}\"]+){0,2})")
_AMBIGUOUS_STATES_WORDS = """IN OR ME OK HI DE PA MA LA ID CO AL GA MO VA WA"""
_AMBIGUOUS_STATES = frozenset(_AMBIGUOUS_STATES_WORDS.split())


def _town_before(text: str, pos: int) -> tuple[int, bool, bool] | None:
    """(start, known, comma) of the town and state words right before pos: up to three
    groups apart by commas or dashes (`Bengaluru, Karnataka 560001`); known: a group is
    a known place; comma: the groups were apart by one."""
    window = max(0, pos - 90)
    reversed_text = text[window:pos][::-1]
    start: int | None = None
    known = comma = False
    at = 0
    for group in range(3):
        match = _TOWN_GROUP_REVERSED.match(reversed_text, at)
        if match is None:
            break
        sep = match.group("sep")
        if (group == 0 and not sep) or (group > 0 and not sep.strip()):
            break
        words = match.group("words")[::-1].split(" ")
        # The capitalised words at the group's end (and a district number after them).
        keep = len(words) - (len(words) > 1 and words[-1].isdigit())
        while keep > 0 and words[keep - 1][0].isalpha() and (
                shape(word := words[keep - 1]) == "upper"  # a state: `Ottawa ON`
                or (shape(word) == "title" and word.casefold() not in NOT_TOWN)):
            keep -= 1
        words = words[keep:]
        if not words or not words[0][0].isalpha():
            break
        group_text = " ".join(words)
        comma = comma or group > 0
        known = known or any(is_known_place(" ".join(words[k:]).rstrip("."))
                             for k in range(len(words)))
        at = match.end("sep") + len(group_text)
        start = pos - at
        if match.end() != at:
            break  # lower-case words before the town: no more groups
    return None if start is None else (start, known, comma)


def _free(text: str, start: int, end: int) -> bool:
    """No letter, digit or hyphen glued to text[start:end] on either side."""
    return (start == 0 or not (text[start - 1].isalnum() or text[start - 1] in "-_")) and (
        end == len(text) or not (text[end].isalnum() or text[end] in "-_"))


def loose_postcodes(text: str, zips: list[tuple[int, int]]) -> list[Span]:
    """Postcodes outside a street block: after a US state, after a known town (ZIP or PIN
    at `zips`), a UK, Canadian or Irish code after a town, a postcode before a known town."""
    spans = []
    for match in _STATE_ZIP.finditer(text):
        if match.group(1) in US_STATES and _free(text, match.start(), match.end()):
            town = _town_before(text, match.start())
            if match.group(1) in _AMBIGUOUS_STATES and (town is None or not town[2]):
                continue  # `CALL ME 12345`
            spans.append(Span(town[0] if town else match.start(), match.end(), ENTITY,
                              PART_SCORE))
    for match in _UK_CA_IE.finditer(text):
        town = _town_before(text, match.start())
        if town is not None and _free(text, match.start(), match.end()):
            spans.append(Span(town[0], match.end(), ENTITY, PART_SCORE))
    for match in _CODE_TOWN.finditer("\n" + text):
        code = match.group(1)
        if len(code) == 4 and YEAR.fullmatch(code):
            continue
        end = match.end() - 1
        words = _words_at(text, end, 3)
        for size in range(len(words), 0, -1):
            name = text[end:words[size - 1].end()].rstrip(".")
            if is_known_place(name):
                spans.append(Span(match.start(1) - 1, end + len(name), ENTITY, PART_SCORE))
                break
    for start, end in zips:
        town = _town_before(text, start)
        if town is not None and town[1]:
            spans.append(Span(town[0], end, ENTITY, PART_SCORE))
    return spans


_WORD_AFTER = re.compile(rf"[ \t]++({LETTER}++)")
_CUE_GAP = re.compile(r"[ \t]*+(?:code)?[ \t]*+[:#.=]?[ \t]*+", re.IGNORECASE)


def cued_postcode(text: str, cue_end: int, cue: str) -> Span | None:
    """A postcode after `ZIP:`, `Postcode`, `PLZ`...; `PIN` takes six digits only, as
    `CAP` five (they are also a PIN code and a word)."""
    gap = _CUE_GAP.match(text, cue_end)
    assert gap is not None
    code = _POSTCODE_ANY_CASE.match(text, gap.end())
    if code is None:
        return None
    digits = sum(c.isdigit() for c in code.group())
    if (cue.startswith("pin") and digits != 6) or (cue == "cap" and digits != 5):
        return None
    after = _WORD_AFTER.match(text, code.end())
    if after is not None and after.group(1).casefold() in MEASURES:
        return None  # `the ZIP 12345 times faster`: a count
    return Span(code.start(), code.end(), ENTITY, PART_SCORE)
