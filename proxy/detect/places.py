"""Find place names the small NER model misses, from a list of cities, countries and
US states (data/places.txt, from GeoNames).

A capitalised run of one to four words that names a place is a LOCATION. When a word of
it is a common English word (Reading, Nice, Split), it counts only after a word that
introduces a place ("in", "from", "office in", ...). Lower-case place names count only
after such a word.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from functools import cache, lru_cache
from importlib import resources

from .spans import Span
from .words import WORD, zipf

_CUE = re.compile(r"(?i)(?<!\w)(?:in|at|from|to|near|visit(?:ing)?|via|city|town|"
                  r"based|lives|living|moved|located|office|branch|born)[ \t]+$")
SCORE = 0.7
MAX_WORDS = 4


@lru_cache(maxsize=1 << 16)
def _key(name: str) -> str:
    """Case- and accent-insensitive form: Wrocław, wroclaw and WROCLAW are one place."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def places() -> frozenset[str]:
    text = (resources.files("proxy.detect") / "data" / "places.txt").read_text("utf-8")
    return frozenset(_key(line.strip()) for line in text.splitlines()
                     if len(line.strip()) >= 3 and not line.startswith("#"))


def is_place_name(word: str) -> bool:
    return _key(word) in places()


@cache
def _first_words() -> frozenset[str]:
    """The first word of every place name: a run starting elsewhere is not looked up."""
    return frozenset(match.group() for name in places()
                     if (match := WORD.match(name)) is not None)


def find_places(text: str) -> tuple[list[Span], list[Span]]:
    """(places known by name alone, places after a cue word such as "in" or "from")."""
    known = places()
    words = list(WORD.finditer(text))
    spans: list[Span] = []
    cued_spans: list[Span] = []
    i = 0
    first_words = _first_words()
    while i < len(words):
        match = None
        if _key(words[i].group()) not in first_words:
            i += 1
            continue
        for size in range(min(MAX_WORDS, len(words) - i), 0, -1):
            run = words[i:i + size]
            if any(text[a.end():b.start()] != " " for a, b in itertools.pairwise(run)):
                continue
            if _key(text[run[0].start():run[-1].end()]) in known:
                match = run
                break
        if match is None:
            i += 1
            continue
        start, end = match[0].start(), match[-1].end()
        capitalised = all(w.group()[0].isupper() for w in match)
        common = any(zipf(w.group()) >= 4.5 for w in match)
        span = Span(start, end, "LOCATION", SCORE)
        if _CUE.search(text, max(0, start - 20), start) is not None:
            cued_spans.append(span)
        elif capitalised and not common:
            spans.append(span)
        i += len(match)
    return spans, cued_spans
