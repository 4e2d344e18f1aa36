"""Where to look: street, unit, box and cue words found by one trie-shaped regex on the
lower-cased text, compounds (`hauptstraße 12`) by one on the reversed text, and the
stretches around them where a number stands as a street line needs one."""

from __future__ import annotations

import re
from functools import cache

from ..trie import trie_pattern
from .lists import BOX_WORDS, CUE_WORDS, LETTER, OPTIONAL_SPACE, street_lists

# Scanning regexes start with a character class or a literal, so the regex engine skips
# fast to where they can match; word boundaries are checked after a match.
_BEFORE_WORD = "\\s(\\[{,;:\"'/*>|#\\-"


@cache
def gate_pattern() -> re.Pattern[str]:
    """Street types, unit, box and cue words after a separator, in lower-cased text."""
    lists = street_lists()
    words = (lists.after | lists.before | lists.capital | lists.suffix | lists.unit
             | set(BOX_WORDS)
             | set(CUE_WORDS) | {"gate"})
    listed = trie_pattern(words, OPTIONAL_SPACE)
    return re.compile(rf"[{_BEFORE_WORD}](?:{listed})(?:(?<=/)|(?![^\W\d_]))")


@cache
def compound_pattern() -> re.Pattern[str]:
    """In reversed lower-cased text, a number right after a word ending in a street
    suffix (`hauptstraße 12`): the regex then starts at digits, not at every letter."""
    suffixes = trie_pattern((s[::-1] for s in street_lists().suffixes), OPTIONAL_SPACE)
    return re.compile(rf"\d[ \t]++(?:\.?(?:rn|on|ºn|°n)[ \t]*+)?,?[ \t]*+\.?(?:{suffixes})"
                      rf"{LETTER}{{2}}")


def lowered(text: str) -> str:
    """text.lower(), one character for one (a few letters lower to two)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


# Cheap necessary conditions, matched at the street word so the line around it is only
# tokenised when a number stands where a street line needs one. `_BACK` ones read the
# reversed lower-cased text from the word's start backwards.
_NAME = r"[^\s,;:!?()\"]{1,40}+"
_BACK_NAMES_NUMBER = re.compile(rf"[ \t]++(?:{_NAME}[ \t]++){{1,4}}(?:,[ \t]*+)?[a-z]?\d")
_BACK_NUMBER = re.compile(r"[ \t]*+,?[ \t]*+[a-z]?\d")
_NAMES_NUMBER = re.compile(rf"\.?[ \t]*+(?:{_NAME}[ \t]++){{0,5}}{_NAME}[ \t]*+,?[ \t]*+"
                           r"(?:n[o°º]\.?[ \t]*+|nr\.?[ \t]*+|#[ \t]*+)?(?:\d|s/n)")
_NUMBER_AFTER = re.compile(r"\.?[ \t]*+,?[ \t]*+(?:#|n[o°º]\.?|nr\.?)?[ \t]*+[a-z]?\d")


def street_reach(word: str, start: int, end: int, low: str, backwards: str
                 ) -> tuple[int, int] | None:
    """The stretch a street line through the street word at start:end can cover (with
    the word before its number, which may make it a count), or None when no number
    stands where the word's street lines need one."""
    lists = street_lists()
    size = len(low)
    first, last = end, end
    if word in lists.after:
        back = _BACK_NAMES_NUMBER.match(backwards, size - start)
        if back is not None:
            first, last = size - back.end() - 30, end + 8
    if word in lists.before or word in lists.capital:
        back = _BACK_NUMBER.match(backwards, size - start)
        ahead = _NAMES_NUMBER.match(low, end)
        if back is not None:
            first, last = min(first, size - back.end() - 30), max(last, end + 60)
        if ahead is not None:
            first, last = min(first, start - 1), max(last, ahead.end() + 12)
    if word in lists.suffix or word == "gate" or word in lists.unit:
        ahead = _NUMBER_AFTER.match(low, end)
        if ahead is not None:
            # The word before a unit may make it a test suite (`Run Suite 3`); the
            # name before `Straße`.
            reach = 25 if word in lists.unit else 30
            first, last = min(first, start - reach), max(
                last, ahead.end() + 12)
    return (max(0, first), last) if first < end else None


def line_windows(reaches: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """The stretches to tokenise, merged, each starting at a word's start."""
    windows: list[list[int]] = []
    for start, end in sorted(reaches):
        if windows and start <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], end)
        else:
            windows.append([start, end])
    result = []
    for start, end in windows:
        if start > 0 and not text[start - 1].isspace():  # not from inside a word
            space = _SPACE.search(text, start, end)
            start = space.end() if space else start
        result.append((start, min(end, len(text))))
    return result


_SPACE = re.compile(r"\s")
