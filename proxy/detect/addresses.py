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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import NamedTuple

from .places import is_known_place
from .spans import Span
from .terms import common_terms
from .trie import trie_pattern
from .words import zipf

ENTITY = "STREET_ADDRESS"
BLOCK_SCORE = 0.9    # a street line with a postcode, town or flat beside it
STREET_SCORE = 0.85  # a street line alone
PART_SCORE = 0.8     # a flat or box alone, a postcode beside a town or state

_L = r"[^\W\d_]"
_NOT_L = rf"(?!{_L})"
_WORD = re.compile(rf"{_L}{{1,40}}+(?:['\u2019.\-]{_L}{{1,40}}+){{0,4}}\.?")
# Tokens of a line: c/ (Spanish calle) and s/n (no number) first, then numbers with
# their letters and slashes (221B, 10/4, 3o), words, and any other single character or a
# wide gap (a street name is not spread over a table's columns).
_TOKEN = re.compile(rf"(?P<n>[Ss]/[Nn]{_NOT_L}|\d[^\W_]*(?:[/\-]\d[^\W_]*)*)"
                    rf"|(?P<w>[Cc]/(?=[ \t]|{_L})|{_L}+(?:['\u2019.\-]{_L}+)*\.?)"
                    r"|(?P<p>[^\w \t]|[ \t]{4,})")
_HOUSE = re.compile(r"\d{1,5}[A-Za-z]?(?:[/\-]\d{1,5}[A-Za-z]?){0,2}|[Ss]/[Nn]")
_DATE = re.compile(r"\d{4}-\d\d-\d\d|\d\d?[/-]\d\d?[/-]\d{2,4}")
_ORDINAL = re.compile(r"\d{1,3}(?:st|nd|rd|th|e|er|o|a)", re.IGNORECASE)

# Words that never make part of a street name; particles that may, but do not name it.
_STOP_WORDS = """a an and or but if of to in on at for with by from as is are was were be been
being this that these those it its my your our their his her i we you they he she me us them
not yes so then than there here when where which who what how do does did have has had will
would can could should may might must also just only very more most some any all each every
up down out over under into about after before between through near per please see call
visit go went going get got take took send sent ship shipped deliver delivered meet met live
lives lived living moved stay stayed"""
_STOP = frozenset(_STOP_WORDS.split())
_PARTICLES_WORDS = """de la le les du des d' l' del della delle dello dei degli di da das dos do e
y i van der den von zu am an im auf of the st st. san santa sant' são"""
_PARTICLES = frozenset(_PARTICLES_WORDS.split())
# Before a house number these make it a count ("the top 5 park names").
_QUANTIFIERS_WORDS = """a an top over under about around than nearly only all some those these
first last next every per each approximately almost least most another other few many
several"""
_QUANTIFIERS = frozenset(_QUANTIFIERS_WORDS.split())
# Before a number these make it a part of a document or plan ("Chapter 3 Main Street
# Economics", "In Chapter 12 Via Media"), not a house number.
_NUMBERED_WORDS = """chapter section step sprint page item figure fig table version level
part volume vol episode lesson phase round stage act scene"""
_NUMBERED = frozenset(_NUMBERED_WORDS.split())
# After a number these make it a measure, not a house number ("via email 12 times").
_MEASURES_WORDS = """times x min mins minute minutes sec secs second seconds ms s h hr hrs hour
hours day days week weeks month months year years km m cm mm kg g mb gb kb tb px pt percent
people users items pages lines rows steps points euros dollars files bytes records entries
requests downloads messages results hits views visits calls errors faster slower more less"""
_MEASURES = frozenset(_MEASURES_WORDS.split())
_NUMBER_MARK_WORDS = """no no. nº n° n. nr nr. num num. núm núm. #"""
_NUMBER_MARK = frozenset(_NUMBER_MARK_WORDS.split())
# Words that may stand right before a flat or suite on its own (`at Suite 300`).
_UNIT_LEAD_WORDS = """at in to from on the my our your his her their is address adresse
c/o"""
_UNIT_LEAD = frozenset(_UNIT_LEAD_WORDS.split())
_US_STATES_WORDS = """AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO
MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI"""
_US_STATES = frozenset(_US_STATES_WORDS.split())


@dataclass(frozen=True)
class _Lists:
    after: frozenset[str]
    before: frozenset[str]
    suffix: frozenset[str]        # may stand alone after a name
    rare_suffix: frozenset[str]   # only inside a rare compound
    unit: frozenset[str]
    weak: frozenset[str]
    direction: frozenset[str]
    english: frozenset[str]       # `after` and `before` types that are English words
    suffixes: tuple[str, ...]     # every suffix without its dot, longest first
    capital: frozenset[str]       # lead a street name only when capitalised (`Am Markt`)
    strict: frozenset[str]        # English words that need a rare name (`Samantha Points`)


@cache
def _lists() -> _Lists:
    text = (resources.files("proxy.detect") / "data" / "street_types.txt").read_text("utf-8")
    kinds: dict[str, set[str]] = {}
    marked: dict[str, set[str]] = {}
    strict: set[str] = set()
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, _, words = line.partition(":")
        for word in words.split():
            if word.endswith("??"):   # an English word too, and a strict one
                word = word[:-1]
                strict.add(word[:-1])
            if word.endswith("?"):
                word = word[:-1]
                marked.setdefault(kind.strip(), set()).add(word)
            kinds.setdefault(kind.strip(), set()).add(word)
    suffix, rare = kinds["suffix"], marked.get("suffix", set())
    return _Lists(frozenset(kinds["after"]), frozenset(kinds["before"]),
                  frozenset(suffix - rare), frozenset(rare),
                  frozenset(kinds["unit"]), frozenset(kinds["weak"]),
                  frozenset(kinds["direction"]),
                  frozenset(marked.get("after", set()) | marked.get("before", set())
                            | marked.get("unit", set())),
                  tuple(sorted({w.rstrip(".") for w in suffix}, key=len, reverse=True)),
                  frozenset(kinds["capital"]), frozenset(strict))


_BOX_WORDS = ("po", "p.o.", "p. o.", "pob", "post office box", "postfach", "postboks",
              "postbus", "postbox", "apartado", "caixa postal", "casella postale",
              "boîte postale", "boite postale", "skrytka pocztowa", "private bag")
_CUE_WORDS = ("postcode", "post code", "postal code", "zip", "zipcode", "zip code", "plz",
              "cep", "cap", "eircode", "pin", "pincode", "pin code", "code postal",
              "código postal", "codigo postal", "postnummer", "postinumero",
              "kod pocztowy")
_NOT_TOWN = frozenset({*_STOP, *(w for c in _CUE_WORDS for w in c.split()), "address",
                       "adresse", "addr", "indirizzo", "dirección", "endereço"})


_OPTIONAL_SPACE = "[ \t]?"   # a space in a listed word is optional: `p.o. box`, `p.o.box`

# Scanning regexes start with a character class or a literal, so the regex engine skips
# fast to where they can match; word boundaries are checked after a match.
_BEFORE_WORD = "\\s(\\[{,;:\"'/*>|#\\-"


@cache
def _gate() -> re.Pattern[str]:
    """Street types, unit, box and cue words after a separator, in lower-cased text."""
    lists = _lists()
    words = (lists.after | lists.before | lists.capital | lists.suffix | lists.unit
             | set(_BOX_WORDS)
             | set(_CUE_WORDS) | {"gate"})
    listed = trie_pattern(words, _OPTIONAL_SPACE)
    return re.compile(rf"[{_BEFORE_WORD}](?:{listed})(?:(?<=/)|(?![^\W\d_]))")


@cache
def _reversed_scan() -> re.Pattern[str]:
    """In reversed lower-cased text, a number right after a word ending in a street
    suffix (`hauptstraße 12`): the regex then starts at digits, not at every letter."""
    suffixes = trie_pattern((s[::-1] for s in _lists().suffixes), _OPTIONAL_SPACE)
    return re.compile(rf"\d[ \t]++(?:\.?(?:rn|on|ºn|°n)[ \t]*+)?,?[ \t]*+\.?(?:{suffixes})"
                      rf"{_L}{{2}}")


# A ZIP or PIN right after a capitalised word (`Texas 78701`, `Bengaluru 560001`).
_TOWN_ZIP = re.compile(r"[A-Z][a-zA-Z.'\-]{0,30}+[ \t]*+[,\-]?[ \t]*+"
                       r"(\d{5}(?:-\d{4})?|[1-9]\d\d ?\d{3})(?![\w\-])")


def _lowered(text: str) -> str:
    """text.lower(), one character for one (a few letters lower to two)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


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
_YEAR = re.compile(r"(?:19|20)\d\d")
_FLOOR = re.compile(
    r"(?i)(?:\d{1,3}[ ]?[º°ªoa]\.?(?:[ ]?(?:[a-z]|izq(?:da|uierda)?|dcha|dch|dcho|derecha"
    r"|centro|ctro|esq|dto|dt)\.?)?|\d{1,2}\.?[ ]?(?:tv|th|mf|sal|og|eg|stock|etage|étage"
    r"|piso|andar|hoog|verdieping)\.?|\d{1,3}(?:st|nd|rd|th)[ ]floor|(?:floor|fl\.|piso|planta"
    r"|étage|etage|stock|andar|bus|bte|boîte|interno|int\.|scala|lgh\.?|door|porta|puerta"
    r"|escalera|esc\.|m\.|lok\.?|lokal|mieszk\.)[ ]?\d{1,4}[a-z]?)(?![\w])")


def _is_house(token: str) -> bool:
    return _HOUSE.fullmatch(token) is not None and _DATE.fullmatch(token) is None


def _shape(word: str) -> str:
    """'upper' (two letters or more), 'title' or 'lower', by the first letter."""
    if not word[:1].isupper():
        return "lower"
    return "upper" if len(word) > 1 and word.isupper() else "title"


def _rare(word: str) -> bool:
    """Not an ordinary English or tech word: `roma` in `via roma 12`, not `email`."""
    bare = word.rstrip(".").casefold()
    return zipf(bare) < 4.0 and bare not in common_terms()


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


class _Line:
    """Street lines, bare street names and flats in one stretch of a line."""

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text = text
        self.toks = [_Tok(m.start(), m.end(), word, word.casefold(), m.lastgroup or "p")
                     for m in _TOKEN.finditer(text, start, end) if (word := m.group())]
        self.lists = _lists()
        self.streets: list[tuple[int, int]] = []
        self.bare: list[tuple[int, int]] = []
        self.units: list[tuple[int, int]] = []

    def find(self) -> _Line:
        lists = self.lists
        for i, tok in enumerate(self.toks):
            if tok.kind != "w":
                continue
            low, bare = tok.low, tok.low.rstrip(".")  # `Road.` ends a sentence
            if low in lists.after or bare in lists.after:
                self._after(i)
            if low in lists.before or bare in lists.before or (
                    low in lists.capital and _shape(tok.text) == "title"):
                self._before(i)
            if low in lists.unit or bare in lists.unit:
                self._unit(i)
            if low in lists.suffix or bare == "gate" or bare.endswith(lists.suffixes):
                self._suffix(i)
        return self

    def _tok(self, i: int) -> _Tok | None:
        return self.toks[i] if 0 <= i < len(self.toks) else None

    def _name_word(self, tok: _Tok) -> bool:
        return ((tok.kind == "w" and tok.low not in _STOP)
                or (tok.kind == "n" and _ORDINAL.fullmatch(tok.text) is not None))

    def _names_after(self, i: int, limit: int, capital: bool) -> int:
        """Index past the name words from i (particles inside), at most `limit` tokens;
        after a capitalised type only capitalised words (`2 Avenue campaigns` is none)."""
        j = i
        while j < len(self.toks) and j - i < limit:
            tok = self.toks[j]
            if (tok.kind == "w" and tok.low in _PARTICLES) or (self._name_word(tok) and (
                    not capital or tok.kind == "n" or _shape(tok.text) != "lower")):
                j += 1
                if _ends_sentence(tok):
                    break
            else:
                break
        while j > i and self.toks[j - 1].low in _PARTICLES:
            j -= 1  # a name does not end on a particle
        return j

    def _number_starts(self, i: int) -> bool:
        """The number at i is not glued to a time, amount or decimal, nor a count."""
        tok = self.toks[i]
        if tok.start > 0 and self.text[tok.start - 1] in ".:$€£/-+,":
            return False
        prev = self._tok(i - 1)
        return not (prev is not None and prev.kind == "w"
                    and (prev.low in _QUANTIFIERS or prev.low.rstrip(".") in _NUMBERED))

    def _house_after(self, j: int) -> int | None:
        """Index past a house number at token j (after an optional comma and `nº`), with
        its staircase letter and flat (`5 A 12`, `7 B`)."""
        tok = self._tok(j)
        if tok is not None and tok.text == ",":
            j += 1
            tok = self._tok(j)
        if tok is not None and tok.low in _NUMBER_MARK:
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
        if word is not None and word.kind == "w" and word.low in _MEASURES:
            return None
        return j

    def _english_ok(self, type_tok: _Tok, names: list[_Tok]) -> bool:
        """A street type that is also an English word (way, place, via) needs a capital
        on it and its name, or a name that is not an ordinary English word."""
        if type_tok.low.rstrip(".") not in self.lists.english:
            return True
        words = [t for t in names if t.kind == "w" and (t.low not in _PARTICLES
                                                         or t.text == "The")]
        if any(_rare(t.text) for t in words):
            return True
        return type_tok.low.rstrip(".") not in self.lists.strict and \
            _shape(type_tok.text) != "lower" and any(_shape(t.text) != "lower" for t in words)

    def _after(self, i: int) -> None:
        """`221B Baker Street`, `1600 Pennsylvania Ave NW`, `3 The Close`."""
        # Under a capitalised type the name is capitalised too: `12 hours away via Main
        # Road` names Main Road only.
        capital = _shape(self.toks[i].text) != "lower"
        j = i
        while j > 0 and i - j < 4 and self._name_word(tok := self.toks[j - 1]) and (
                not capital or tok.kind == "n" or tok.low in _PARTICLES
                or _shape(tok.text) != "lower") and not _ends_sentence(tok):
            j -= 1
        names = self.toks[j:i]
        if not any(t.low not in _PARTICLES or t.text == "The" for t in names):
            return
        if names[0].low in _MEASURES:
            return  # `12 hours away via main road`
        if not self._english_ok(self.toks[i], names):
            return
        end = self.toks[i].end
        direction = self._tok(i + 1)
        if direction is not None and direction.low in self.lists.direction \
                and _shape(direction.text) != "lower":
            end = direction.end
        number = self._tok(j - 1)
        if number is not None and number.kind == "n" and _is_house(number.text) \
                and self._number_starts(j - 1):
            self.streets.append((number.start, end))
        elif capital == all(_shape(t.text) != "lower" for t in names):
            self.bare.append((names[0].start, end))  # for `Plot 12, MG Road`

    def _before(self, i: int) -> None:
        """`12 rue de la Paix`, `Via Roma 12`, `Avenida Paulista, 1578`."""
        k = self._names_after(i + 1, 6, _shape(self.toks[i].text) != "lower")
        names = self.toks[i + 1:k]
        words = [t for t in names if t.low not in _PARTICLES]
        if not words or not self._english_ok(self.toks[i], names):
            return
        before = i - 2 if self._tok(i - 1) is not None and self.toks[i - 1].text == "," else i - 1
        number = self._tok(before)
        if number is not None and number.kind == "n" and _is_house(number.text) \
                and self._number_starts(before):
            if all(_shape(t.text) == "lower" for t in words) and len(words) > 3:
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
            names = [t for t in self.toks[j:i] if t.low not in _PARTICLES]
            if not names:
                return
            if tok.low == "gate" and not (tok.text == "gate" and _shape(names[-1].text)
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
                    and _shape(self.toks[j - 1].text) != "lower" \
                    and self.toks[j - 1].low not in _STOP and zipf(self.toks[j - 1].text) < 3.5:
                j -= 1
        house = self._house_after(i + 1)
        if house is not None:
            self.streets.append((self.toks[j].start, self.toks[house - 1].end))

    def _unit(self, i: int) -> None:
        """`Apt 5B`, `Suite 300`, `Flat 4`. `suite 3` or `flat 4` in lower case may be
        music, tests or engines: those count only beside a street (see _Blocks)."""
        tok = self.toks[i]
        if tok.low.rstrip(".") in self.lists.english and _shape(tok.text) == "lower":
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
        if before is not None and before.kind == "w" and before.low not in _UNIT_LEAD:
            return
        if after is not None and after.kind == "w" and (
                after.low in _MEASURES or after.low == "of"  # `Suite 3 of tests`
                or (_shape(after.text) == "lower" and after.low not in _STOP)):
            return
        self.units.append((tok.start, number.end))


# ---------------------------------------------------------------------------- parts

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


def _town_after(text: str, pos: int) -> int | None:
    """End of a town at pos: up to three capitalised words, or a known place in any case,
    with a district number or letter after it (`Dublin 2`, `København Ø`, `Roma RM`)."""
    state = _LOWER_STATE_AT.match(text, pos)  # `new york, ny 10118`
    if state is not None and state.group(1).upper() in _US_STATES:
        return state.end(1)
    words = _words_at(text, pos, 3)
    end = None
    for size in range(len(words), 0, -1):
        run = words[:size]
        if is_known_place(text[pos:run[-1].end()].rstrip(".")) or all(
                _shape(w.group()) != "lower" and w.group().casefold() not in _NOT_TOWN
                for w in run):
            end = run[-1].end() - run[-1].group().endswith(".")
            break
    if end is None:
        return None
    state = _LOWER_STATE.match(text, end)  # `boston ma 02118`
    if state is not None and state.group(1).upper() in _US_STATES:
        return state.end(1)
    tail = _TOWN_TAIL.match(text, end)
    if tail is not None and not _POSTCODE_ANY_CASE.match(text, tail.start() + 1):
        end = tail.end()
    return end


_SPACES = re.compile(r"[ \t]++")
_TOWN_SEP = re.compile(r"[ \t]*+(?:[,\-][ \t]*+)?")


def _postcode_at(text: str, pos: int) -> int | None:
    """End of a postcode at pos and of the town after it on the same line; plain digits
    (`2024`) count only with a town after them."""
    match = _POSTCODE_ANY_CASE.match(text, pos)
    if match is None:
        return None
    spaced = _SPACES.match(text, match.end())
    if spaced is not None:
        town = _town_after(text, spaced.end())
        if town is not None and (not _YEAR.fullmatch(match.group())
                                 or is_known_place(text[spaced.end():town])):
            return town  # but `2024 Report` is no postcode and town
    if _PLAIN_DIGITS.fullmatch(match.group()):
        return None
    return match.end()


def _town_then_code(text: str, pos: int) -> int | None:
    """`London SW1A 1AA`, `Springfield, IL 62704`, `São Paulo - SP, 01310-100`."""
    for _ in range(3):
        town = _town_after(text, pos)
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


# ---------------------------------------------------------------------------- blocks

_SEP = re.compile(r"[ \t]*+(?:[,;][ \t]*+|[\-|][ \t]++|(?<=[ \t]))")
_SEP_LINE = re.compile(r"[ \t]*+[,;]?[ \t]*+\r?\n[ \t]*+")
_SEP_BACK = re.compile(r"(?:[ \t]*+[,;][ \t]*+|[ \t]*+[,;]?[ \t]*+\r?\n[ \t]*+|[ \t]++)\Z")
_CODE_BEFORE = re.compile(r"(?<![\w.,:/\-])\d{4,5}\Z")


@cache
def _weak_units() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A unit, floor or number word with its number (`Unit 7`, `No. 12`, `#4`), matched
    at a position and ending at one."""
    lists = _lists()
    words = lists.weak | lists.unit | {"house no", "door no", "h. no"}
    body = (r"(?:(?:" + trie_pattern(words, _OPTIONAL_SPACE)
            + r")\.?[ ]?(?:no\.?[ ]?|#[ ]?)?|#[ ]?)[A-Za-z]?\d{1,5}[A-Za-z]?"
            r"(?:[/\-]\d{1,5}[A-Za-z]?)?(?![\w\-])")
    return (re.compile(body, re.IGNORECASE),
            re.compile(rf"(?<![\w\-]){body}\Z", re.IGNORECASE))


class _Blocks:
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
        code = _postcode_at(text, pos) or _town_then_code(text, pos)
        if code is not None:
            return code, "code"
        if newline:
            return None
        town = _town_after(text, pos)
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
                town = _town_after(text, pos)
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
        if code is not None and not _YEAR.fullmatch(code.group()):
            return code.start()
    return None


# ---------------------------------------------------------------------------- postcodes

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
                _shape(word := words[keep - 1]) == "upper"  # a state: `Ottawa ON`
                or (_shape(word) == "title" and word.casefold() not in _NOT_TOWN)):
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


def _postcodes(text: str, zips: list[tuple[int, int]]) -> list[Span]:
    """Postcodes outside a street block: after a US state, after a known town (ZIP or PIN
    at `zips`), a UK, Canadian or Irish code after a town, a postcode before a known town."""
    spans = []
    for match in _STATE_ZIP.finditer(text):
        if match.group(1) in _US_STATES and _free(text, match.start(), match.end()):
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
        if len(code) == 4 and _YEAR.fullmatch(code):
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


_WORD_AFTER = re.compile(rf"[ \t]++({_L}++)")
_CUE_GAP = re.compile(r"[ \t]*+(?:code)?[ \t]*+[:#.=]?[ \t]*+", re.IGNORECASE)


def _cued(text: str, cue_end: int, cue: str) -> Span | None:
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
    if after is not None and after.group(1).casefold() in _MEASURES:
        return None  # `the ZIP 12345 times faster`: a count
    return Span(code.start(), code.end(), ENTITY, PART_SCORE)


# ---------------------------------------------------------------------------- entry

_DIGIT = re.compile(r"\d")
_BOX = re.compile(r"[ \t]*+\.?[ \t]*+(box[ \t]*+)?(?:no\.?[ \t]*+|#[ \t]*+)?"
                  r"\d{1,6}(?:[ ]\d{2,4})?(?![\w\-/])", re.IGNORECASE)
_BP = re.compile(r"B\.?P\.?[ \t]?\d{1,5}(?![\w/%\-])(?![.,]\d)(?![ \t]+[a-z])")


# Cheap necessary conditions, matched at the street word so the line around it is only
# tokenised when a number stands where a street line needs one. `_BACK` ones read the
# reversed lower-cased text from the word's start backwards.
_NAME = r"[^\s,;:!?()\"]{1,40}+"
_BACK_NAMES_NUMBER = re.compile(rf"[ \t]++(?:{_NAME}[ \t]++){{1,4}}(?:,[ \t]*+)?[a-z]?\d")
_BACK_NUMBER = re.compile(r"[ \t]*+,?[ \t]*+[a-z]?\d")
_NAMES_NUMBER = re.compile(rf"\.?[ \t]*+(?:{_NAME}[ \t]++){{0,5}}{_NAME}[ \t]*+,?[ \t]*+"
                           r"(?:n[o°º]\.?[ \t]*+|nr\.?[ \t]*+|#[ \t]*+)?(?:\d|s/n)")
_NUMBER_AFTER = re.compile(r"\.?[ \t]*+,?[ \t]*+(?:#|n[o°º]\.?|nr\.?)?[ \t]*+[a-z]?\d")


def _reach(word: str, start: int, end: int, low: str, backwards: str
           ) -> tuple[int, int] | None:
    """The stretch a street line through the street word at start:end can cover (with
    the word before its number, which may make it a count), or None when no number
    stands where the word's street lines need one."""
    lists = _lists()
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


def _windows(reaches: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
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


# US military mail: `PSC 1184, Box 0101`, `Unit 2050 Box 4190`, `APO AE 09012`.
_MILITARY = re.compile(r"\b(?:(?:PSC|CMR|Unit) \d{1,5},? Box \d{1,5}"
                       r"|(?:APO|FPO|DPO) A[AEP] \d{5}(?:-\d{4})?"
                       r"|USNS [A-Z][a-z]+(?: [A-Z][a-z]+)?)\b")


def street_addresses(text: str) -> list[Span]:
    if _DIGIT.search(text) is None and "/" not in text:  # no number, nor `s/n`
        return []
    spans: list[Span] = []
    units: list[tuple[int, int]] = []
    reaches: list[tuple[int, int]] = []
    low = _lowered(text)
    backwards = low[::-1]
    for match in _gate().finditer("\n" + low):
        start, end = match.start(), match.end() - 1  # in text
        word = re.sub(r"[ \t]+", " ", low[start:end])
        if word in _CUE_WORDS:
            cued = _cued(text, end, word)
            if cued is not None:
                spans.append(cued)
        if word in _BOX_WORDS:
            box = _BOX.match(text, end)
            if box is not None and (box.group(1) or word not in ("po", "p.o.", "p. o.")):
                units.append((start, box.end()))
        reach = _reach(word, start, end, low, backwards)
        if reach is not None:
            reaches.append(reach)
    size = len(text)
    for match in _reversed_scan().finditer(backwards):
        # The match runs, reversed, from the number back into the compound word.
        reaches.append((max(0, size - match.end() - 40), size - match.start() + 12))
    zips = [(m.start(1), m.end(1)) for m in _TOWN_ZIP.finditer(text)
            if m.start() == 0 or not text[m.start() - 1].isalnum()]
    units += [(m.start(), m.end()) for m in _MILITARY.finditer(text)]
    units += [(m.start(), m.end()) for m in _BP.finditer(text)
              if m.start() == 0 or not (text[m.start() - 1].isalnum()
                                        or text[m.start() - 1] in "._")]
    streets: list[tuple[int, int]] = []
    bare: list[tuple[int, int]] = []
    for start, end in _windows(reaches, text):
        line = _Line(text, start, end).find()
        streets += line.streets
        bare += line.bare
        units += line.units
    # A unit or number right before a bare street name (`Plot 12, MG Road`) makes a line.
    unit_ends = {e: s for s, e in units}
    streets += [(left, end) for start, end in bare
                if (left := part_before(text, start, unit_ends)) is not None]
    blocks = _Blocks(text, streets, bare, units)
    for (start, end), unit in [*((s, False) for s in streets), *((u, True) for u in units)]:
        s, e, grown = blocks.extend(start, end, unit)
        alone = PART_SCORE if unit else STREET_SCORE
        spans.append(Span(s, e, ENTITY, BLOCK_SCORE if grown else alone))
    spans += _postcodes(text, zips)
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
