"""Find place names the small NER model misses, from a gazetteer (data/places.txt, built
by tools/build_places.py from GeoNames and ISO 3166): countries, regions (ISO 3166-2
subdivisions), cities of 15,000+ people and towns of 1,000+, in Latin script (accents
and ø, ł, ß folded) and, where the data has them, Greek and Cyrillic.

How much context a name needs depends on what it names and on the word itself:
- a country, region or city, capitalised (or in capitals), counts on its own unless it is
  an ordinary English word (Reading, Mobile, Split) or a given name (Victoria, Georgia);
  a frequent name that is frequent because it is a place (Italy, Texas) has no caution;
- a town counts when capitalised and rare in English (Hønefoss), or with evidence;
- evidence: a word that introduces a place ("in", "near", "lives in"), a region, region
  code or country after a comma (Laval, QC; Springfield, IL 62704; Hønefoss, Norway), a
  postcode (80331 München), a line of its own in an address block, or a `city:` field
  (table columns: columns.py); an ordinary word or a given name needs evidence other
  than "to", "at", "from";
- a region code (IL, QC, NSW) counts only right after "<place>, ";
- lower case counts after a cue word or, in a text written wholly in lower case, when
  the word is rare; a country's name in lower case counts unless it is an ordinary
  English word too (china, turkey).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from re import Match

from .spans import Span
from .terms import common_terms
from .words import WORD, is_given_name, zipf

SCORE = 0.7
# What people call a few places in chat: in any case, anywhere (nyc, philly) ...
_NICKNAMES = frozenset({"nyc", "philly", "nola", "socal", "norcal", "chitown", "joburg"})
# ... and in capitals after a word like "in" or "to" ("back in NY", "flying to LA").
_SHORT_NAMES = frozenset({"LA", "SF", "DC", "NY", "NJ", "UK", "USA", "UAE", "NZ", "KL"})
_PHRASE_END = re.compile(r"[ \t]*(?:$|[.,;:!?)\n]|(?:for|on|at|in|and|tomorrow|today|"
                         r"tonight|this|next|last|soon|now)\b)")
# Countries whose name in lower case is an ordinary English word.
_WORD_COUNTRIES = frozenset({"china", "turkey", "chad", "jordan", "georgia", "guinea",
                             "jersey", "niger", "man"})
RARE_SCORE = 0.55     # a rare town without context: a person found there outranks it
COMMON = 4.5          # zipf from which a word is ordinary English
RARE = 2.5            # zipf under which a capitalised town needs no context
MAX_WORDS = 4

# Letters Unicode does not decompose into a base letter and an accent.
_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "\u0131": "i", "æ": "ae", "œ": "oe",
                          "þ": "th", "ð": "d", "ħ": "h"})
# Words introducing a place. Strong cues take only places; to/at/from also take people,
# firms and things ("to split", "from Victoria").
_STRONG_CUE = (r"in|near|outside|around|visit(?:ing|ed)?|city of|town of|"
               r"based in|lives? in|living in|moved to|relocat(?:e|ed|ing) to|located in|"
               r"office in|branch in|born in|grew up in|native of|resident of|flight to|"
               r"flew to|trip to|travel(?:l?ed|l?ing)? to|headquartered in|hq in")
_CUE = re.compile(rf"(?i)(?<![^\W\d_])(?:(?P<strong>{_STRONG_CUE})|to|at|from|via)[ \t]+$")
# Evidence after a name: ", " then a region code, region or country.
_COMMA = re.compile(r",[ \t]*")
# A region code ends the line or the phrase, or a postcode follows: not another capitalised
# word (COPYRIGHT HOLDER, OR ANY OTHER PARTY).
_CODE = re.compile(r"[A-Z]{2,3}(?![^\W\d_])(?![ \t]+(?=[^\W\d_]*[A-Z])[^\W\d_]+\b)")
_CODE_POSTCODE = re.compile(r",[ \t]*(?P<code>[A-Z]{2})[ \t]+(?:\d{5}(?:-\d{4})?|"
                            r"[A-Z]\d[A-Z][ \t]?\d[A-Z]\d)\b")
_POSTCODE_BEFORE = re.compile(r"(?:^|\n|,)[ \t]*(?:[A-Z]{1,3}-)?\d{4,5}[ \t]+$")
_POSTCODE_AFTER = re.compile(r"[ \t]+(?:[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}|\d{5})\b")
# A name followed by an acronym (not a region code before a postcode) or a number.
_PRODUCT_AFTER = re.compile(r"[ \t]+(?:[A-Z]{2,5}(?![^\W\d_])(?![ \t]+\d{4,5}\b)|v?\d)")
# `city: Hønefoss`, `billing_city=London`, `"town": "Grimstad"`, `City name: X` in plain
# text: found from the key word (one set lookup per word).
_FIELD_WORDS = frozenset({"city", "town", "village", "locality", "municipality", "hometown",
                          "birthplace", "birth"})
_FIELD_TAIL = re.compile(r"(?i)(?:[ _]name)?[\"']?[ \t]*[:=][ \t]*[\"']?")
_PLACE_OF = re.compile(r"(?i)place[ _]of[ _]$")
_VALUE = re.compile(r"[^\W\d_]+(?:['\u2019.\-][^\W\d_]+)*(?:[ \t](?:[^\W\d_]+['\u2019.\-]?)+)"
                    r"{0,3}")
# A line above a town in an address block is short and holds a number and a word (12 Main
# St). Two searches, not one regex with `.*` between them, which backtracks over long lines.
_HOUSE_DIGIT = re.compile(r"\d")
_LETTERS_RUN = re.compile(r"[^\W\d_]{2}")
MAX_STREET_LINE = 120
# The end of a town's line: a trailing comma or full stop and spaces, then a line break.
_LINE_END = re.compile(r"[ \t,.]*+\r?(?:\n|\Z)")
# Lower-case words inside a place name (Sant Julià de Lòria, Stratford-upon-Avon).
_PARTICLE_WORDS = ("de del della di da do dos das du des la le les el en y e i am an "
                       "im auf bei ob upon on of the sur sous van von der den op aan ter")
_PARTICLES = frozenset(_PARTICLE_WORDS.split())
# Job titles that are also towns: never a place.
_TITLE_WORDS = ("officer manager director engineer president chief clerk nurse doctor "
                    "captain sheriff judge mayor teacher admin lead principal general "
                    "major marshal governor bishop dean")
_TITLES = frozenset(_TITLE_WORDS.split())


@lru_cache(maxsize=1 << 16)
def key(name: str) -> str:
    """Case- and accent-insensitive form: Wrocław, wroclaw and WROCLAW are one place."""
    decomposed = unicodedata.normalize("NFKD", name.casefold()).translate(_LETTERS)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """Each name is in one of countries, regions, cities and towns (no set is the union
    of others: building unions of 250,000 names cost a third of the loading time)."""

    countries: frozenset[str]
    regions: frozenset[str]
    cities: frozenset[str]
    towns: frozenset[str]
    famous: frozenset[str]    # frequent words that are frequent as places (Italy, Texas)
    ordinary: frozenset[str]  # ordinary words though not frequent ones (Bath, Liberty)
    tech: frozenset[str]      # software names too (Argo, Presto): evidence beyond a cue
    codes: frozenset[str]     # region and country codes, upper case
    common: frozenset[str]    # frequent words that are names or start one (time, the)
    first: dict[str, int]     # first word of a name of several words -> most words
    lookup: dict[str, int]    # any name or first word -> most words (1: a one-word name)

    def major(self, name: str) -> bool:
        """A country, region or city: counts capitalised without evidence."""
        return name in self.cities or name in self.regions or name in self.countries

    def known(self, name: str) -> bool:
        return name in self.towns or self.major(name)


@cache
def gazetteer() -> Gazetteer:
    text = (resources.files("proxy.detect") / "data" / "places.txt").read_text("utf-8")
    sections: dict[str, list[str]] = {}
    for section in text.split("\n## ")[1:]:
        title, _, body = section.partition("\n")
        sections[title] = body.split("\n")
    first = {word: int(count) for word, _, count in
             (line.partition(" ") for line in sections.pop("first") if line)}
    sets = {title: frozenset(lines) - {""} for title, lines in sections.items()}
    # One dict lookup per word of a text instead of five (a tenth of find_places' time).
    lookup = dict.fromkeys(itertools.chain(sets["countries"], sets["regions"],
                                           sets["cities"], sets["towns"]), 1)
    lookup.update(first)
    return Gazetteer(sets["countries"], sets["regions"], sets["cities"], sets["towns"],
                     sets["famous"], sets["ordinary"], sets["tech"], sets["codes"],
                     sets["common"], first, lookup)


def places() -> Gazetteer:
    """Load the gazetteer now (the detection workers call this at start-up)."""
    return gazetteer()


def is_place_name(word: str) -> bool:
    """A country, region or city (not a town): what NER scoping and the name rules treat
    as a likely place."""
    g, name = gazetteer(), key(word)
    return g.major(name) and name not in g.ordinary


def is_known_place(name: str) -> bool:
    """Any place of the gazetteer, towns of 1,000+ people included (for callers that
    have their own evidence, such as an address)."""
    return gazetteer().known(key(name))


def find_places(text: str) -> tuple[list[Span], list[Span]]:
    """(places known by name alone, places the context vouches for: a cue word, a region
    or postcode beside them, a city field)."""
    return _Finder(text).run()


def _is_street_line(text: str, newline: int) -> bool:
    """The line ending at text[newline] is short and holds a number and a word."""
    window = max(0, newline - MAX_STREET_LINE - 1)
    above_start = text.rfind("\n", window, newline) + 1
    if above_start == 0 and window > 0:
        return False  # a long line: prose, not a street line
    above = text[above_start:newline]
    return _HOUSE_DIGIT.search(above) is not None and _LETTERS_RUN.search(above) is not None


class _Finder:
    def __init__(self, text: str) -> None:
        self.text = text
        self.g = gazetteer()
        self.words = list(WORD.finditer(text))
        self.likely: list[Span] = []
        self.cued: list[Span] = []
        self._lower_text: bool | None = None

    def run(self) -> tuple[list[Span], list[Span]]:
        words, g = self.words, self.g
        lookup, common = g.lookup, g.common
        i = 0
        while i < len(words):
            word = words[i].group()
            k = key(word)
            if k in _FIELD_WORDS:
                self._field(i, k)
            if k in _NICKNAMES or (word in _SHORT_NAMES and self._short_name(i)):
                self.cued.append(Span(words[i].start(), words[i].end(), "LOCATION", SCORE))
                i += 1
                continue
            most = lookup.get(k)
            # A lower-case frequent word (the, in, best): only a name of several words,
            # in a text written in lower case, may start with it.
            if most is None or (not word[0].isupper() and k in common
                                and (most == 1 or not self.lower_text())):
                if most is None and word[0].isupper():
                    self._unknown_town(i)
                i += 1
                continue
            size = self._longest(i, k, most)
            if size:
                self._judge(i, size)
            elif word[0].isupper():
                self._unknown_town(i)
            i += size or 1
        return self.likely, self.cued

    def _short_name(self, i: int) -> bool:
        """`LA`, `NY` after "in", "near"... or after "to", "from" at the end of a phrase
        ("flying to LA for the weekend"; not "set it to SF mode")."""
        match = self.words[i]
        cue = self._cue(match.start())
        return cue == "strong" or (cue == "weak" and _PHRASE_END.match(
            self.text, match.end()) is not None)

    def _longest(self, i: int, k: str, most: int) -> int:
        """How many words from word i name a place (0: none)."""
        words, text, known = self.words, self.text, self.g.known
        size, name, found = 1, k, int(most == 1 or known(k))
        while size < most and i + size < len(words):
            before, word = words[i + size - 1], words[i + size]
            if text[before.end():word.start()] not in (" ", ". "):
                break
            name += " " + key(word.group())
            size += 1
            if known(name):
                found = size
        return found

    def lower_text(self) -> bool:
        """Written wholly in lower case (a standalone "I" aside)."""
        if self._lower_text is None:
            self._lower_text = not any(w.group()[0].isupper() and w.group() != "I"
                                       for w in self.words)
        return self._lower_text

    def _judge(self, i: int, size: int) -> None:
        run = self.words[i:i + size]
        start, end = run[0].start(), run[-1].end()
        text, g = self.text, self.g
        value = text[start:end]
        name = " ".join(key(w.group()) for w in run)
        plain = [w.group() for w in run]
        first_up = plain[0][0].isupper()
        capitalised = first_up and all(w[0].isupper() or w.casefold() in _PARTICLES
                                       for w in plain[1:])
        famous = name in g.famous
        # Every word frequent in English (the one-word names are listed: this runs on
        # many words, and a first call of zipf costs tens of microseconds).
        frequent = name in g.common if size == 1 else \
            not famous and all(zipf(w) >= COMMON for w in plain)
        if not first_up and name in g.countries and name not in _WORD_COUNTRIES and \
                name not in g.ordinary and not (size == 1 and is_given_name(value)):
            self.cued.append(Span(start, end, "LOCATION", SCORE))   # italy, new zealand
            return
        if not capitalised and frequent:
            return  # lower-case ordinary words: the bulk of matches, rejected cheaply
        if name in common_terms() or all(w.casefold() in common_terms() for w in plain) \
                or name in _TITLES:
            return
        major = g.major(name)
        common = frequent or name in g.ordinary
        given = size == 1 and is_given_name(value)
        # In capitals and short: an acronym, unless a city's in a line of capitals (OSLO).
        acronym = value.isupper() and len(value) <= 4 and not (
            major and self._caps_beside(i, size))
        short = len(name) <= 3 and zipf(value) >= RARE  # Mon, Var, Tar
        tech = name in g.tech
        cautious = common or given or acronym or short or tech
        span = Span(start, end, "LOCATION", SCORE)
        if capitalised:
            region = self._region_after(end)  # also finds the region or code itself
            strong = region or self._postcode(start, end) or self._address_line(start, end)
            if not strong and not value.isupper() and _PRODUCT_AFTER.match(text, end):
                return  # Argo CD 2.0, Bazel API, Paris 2024: a product or an event
            if major and not cautious and (famous or not self._after_given_name(i)):
                # A famous name is a frequent word: the engine's common-word filter would
                # drop it unless vouched for.
                (self.cued if famous else self.likely).append(span)
            elif strong or ((cue := self._cue(start)) is not None
                            and ((cue == "strong" and not acronym and not tech)
                                 or not cautious)):
                self.cued.append(span)
            elif not major and not cautious and min(zipf(w) for w in plain) < RARE \
                    and not self._beside_name(i, size):
                self.likely.append(Span(start, end, "LOCATION", RARE_SCORE))
            return
        # Lower case: after a cue word, or rare in a text written in lower case.
        if common or tech or len(value) < 4:
            return
        cue = self._cue(start)
        frequency = min(zipf(w) for w in plain)  # of the rarest word
        if (cue == "strong" and (famous or frequency < 3.3 or (major and self.lower_text()))) \
                or (cue == "weak" and not given and (famous or frequency < RARE)):
            self.cued.append(span)
        elif frequency < RARE and self.lower_text():
            self.likely.append(Span(start, end, "LOCATION", RARE_SCORE))

    def _beside_name(self, i: int, size: int) -> bool:
        """A capitalised uncommon word or a given name right beside: a rare town there
        is more likely a surname (Maria Arroyo, Fujita Kenji)."""
        words, text = self.words, self.text
        for j in (i - 1, i + size):
            if not 0 <= j < len(words):
                continue
            a, b = (words[j], words[i]) if j < i else (words[i + size - 1], words[j])
            word = words[j].group()
            if text[a.end():b.start()] == " " and word[0].isupper() \
                    and (zipf(word) < COMMON or is_given_name(word)):
                return True
        return False

    def _caps_beside(self, i: int, size: int) -> bool:
        """A word in capitals beside: a line in capitals (OSLO CITY HALL), not an acronym."""
        words = self.words
        return any(0 <= j < len(words) and len(words[j].group()) > 1
                   and words[j].group().isupper() for j in (i - 1, i + size))

    def _after_given_name(self, i: int) -> bool:
        """Milena Ivanova, Florence Arroyo: a surname, though a city's name too."""
        if i == 0:
            return False
        before = self.words[i - 1]
        word = before.group()
        return self.text[before.end():self.words[i].start()] == " " and word[0].isupper() \
            and is_given_name(word)

    def _cue(self, start: int) -> str | None:
        match = _CUE.search(self.text, max(0, start - 24), start)
        if match is None:
            return None
        return "strong" if match.group("strong") else "weak"

    def _region_after(self, end: int) -> bool:
        """", IL", ", Illinois", ", Norway" after the name: the region or country is a
        place too."""
        comma = _COMMA.match(self.text, end)
        if comma is None:
            return False
        after = comma.end()
        code = _CODE.match(self.text, after)
        if code is not None and code.group() in self.g.codes and not (
                self.text[end - 1].isupper() and zipf(code.group()) >= 5.0):  # HOLDER, OR
            self.cued.append(Span(after, code.end(), "LOCATION", SCORE))
            return True
        following = self._words_from(after)
        for size in range(min(MAX_WORDS, len(following)), 0, -1):
            run = following[:size]
            name = " ".join(key(w.group()) for w in run)
            if run[0].group()[0].isupper() and (name in self.g.regions
                                                or name in self.g.countries):
                self.cued.append(Span(after, run[-1].end(), "LOCATION", SCORE))
                return True
        return False

    def _words_from(self, position: int) -> list[Match[str]]:
        found: list[Match[str]] = []
        for match in WORD.finditer(self.text, position, position + 60):
            if found and self.text[found[-1].end():match.start()] != " ":
                break
            if not found and match.start() != position:
                break
            found.append(match)
        return found

    def _postcode(self, start: int, end: int) -> bool:
        """80331 München, 0190 Oslo, London SW1A 1AA."""
        return _POSTCODE_BEFORE.search(self.text, max(0, start - 16), start) is not None \
            or _POSTCODE_AFTER.match(self.text, end) is not None

    def _address_line(self, start: int, end: int) -> bool:
        """The name is a line of its own (a trailing comma aside) under a street line.
        Only the characters around the name are read: this runs for each capitalised
        place, and a long line holds many."""
        text = self.text
        line_start = start
        while line_start > 0 and text[line_start - 1] in " \t":
            line_start -= 1
        if line_start == 0 or text[line_start - 1] != "\n" or \
                _LINE_END.match(text, end) is None:
            return False
        return _is_street_line(text, line_start - 1)

    def _unknown_town(self, i: int) -> None:
        """A place the gazetteer does not know, before a region code and a postcode
        (Smallville, KS 66002; Tinytown, QC H7N 5H9): up to three capitalised words."""
        text, words = self.text, self.words
        if not text.startswith(",", words[i].end()):
            return
        tail = _CODE_POSTCODE.match(text, words[i].end())
        if tail is None or tail.group("code") not in self.g.codes:
            return
        first = i
        while first > i - 2 and first > 0 and words[first - 1].group()[0].isupper() \
                and text[words[first - 1].end():words[first].start()] == " ":
            first -= 1
        if all(zipf(w.group()) >= COMMON for w in words[first:i + 1]):
            return  # Hello, NY 10001
        self.cued.append(Span(words[first].start(), words[i].end(), "LOCATION", SCORE))
        self.cued.append(Span(tail.start("code"), tail.end("code"), "LOCATION", SCORE))

    def _field(self, i: int, k: str) -> None:
        """`city: X` and `city=X` in plain text: the value is a place whether or not the
        gazetteer knows it. (Table columns so named: columns.py.)"""
        text, word = self.text, self.words[i]
        if k == "birth" and _PLACE_OF.search(text, max(0, word.start() - 9),
                                             word.start()) is None:
            return
        tail = _FIELD_TAIL.match(text, word.end())
        if tail is not None:
            self._field_value(tail.end(), tail.end() + 80)

    def _field_value(self, start: int, limit: int) -> None:
        value = _VALUE.match(self.text, start, limit)
        if value is None:
            return
        words = value.group().split()
        known = self.g.known(" ".join(key(w) for w in words))
        if all(w.casefold() in common_terms() for w in words) or not (
                known or (words[0][0].isupper() and min(zipf(w) for w in words) < COMMON)):
            return
        self.cued.append(Span(value.start(), value.end(), "LOCATION", SCORE))
