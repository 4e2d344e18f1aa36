"""Word lists of street addresses: the street, unit and direction words of
data/street_types.txt, the words that stop or qualify a street name, and word shapes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from ..terms import common_terms
from ..words import zipf

ENTITY = "STREET_ADDRESS"
BLOCK_SCORE = 0.9    # a street line with a postcode, town or flat beside it
STREET_SCORE = 0.85  # a street line alone
PART_SCORE = 0.8     # a flat or box alone, a postcode beside a town or state


# A letter in any script, for the regexes of the other modules.
LETTER = r"[^\W\d_]"


# Words that never make part of a street name; particles that may, but do not name it.
_STOP_WORDS = """a an and or but if of to in on at for with by from as is are was were be been
being this that these those it its my your our their his her i we you they he she me us them
not yes so then than there here when where which who what how do does did have has had will
would can could should may might must also just only very more most some any all each every
up down out over under into about after before between through near per please see call
visit go went going get got take took send sent ship shipped deliver delivered meet met live
lives lived living moved stay stayed"""
STOP = frozenset(_STOP_WORDS.split())
_PARTICLES_WORDS = """de la le les du des d' l' del della delle dello dei degli di da das dos do e
y i van der den von zu am an im auf of the st st. san santa sant' são"""
PARTICLES = frozenset(_PARTICLES_WORDS.split())
# Before a house number these make it a count ("the top 5 park names").
_QUANTIFIERS_WORDS = """a an top over under about around than nearly only all some those these
first last next every per each approximately almost least most another other few many
several"""
QUANTIFIERS = frozenset(_QUANTIFIERS_WORDS.split())
# Before a number these make it a part of a document or plan ("Chapter 3 Main Street
# Economics", "In Chapter 12 Via Media"), not a house number.
_NUMBERED_WORDS = """chapter section step sprint page item figure fig table version level
part volume vol episode lesson phase round stage act scene"""
NUMBERED = frozenset(_NUMBERED_WORDS.split())
# After a number these make it a measure, not a house number ("via email 12 times").
_MEASURES_WORDS = """times x min mins minute minutes sec secs second seconds ms s h hr hrs hour
hours day days week weeks month months year years km m cm mm kg g mb gb kb tb px pt percent
people users items pages lines rows steps points euros dollars files bytes records entries
requests downloads messages results hits views visits calls errors faster slower more less"""
MEASURES = frozenset(_MEASURES_WORDS.split())
_NUMBER_MARK_WORDS = """no no. nº n° n. nr nr. num num. núm núm. #"""
NUMBER_MARK = frozenset(_NUMBER_MARK_WORDS.split())
# Words that may stand right before a flat or suite on its own (`at Suite 300`).
_UNIT_LEAD_WORDS = """at in to from on the my our your his her their is address adresse
c/o"""
UNIT_LEAD = frozenset(_UNIT_LEAD_WORDS.split())
_US_STATES_WORDS = """AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO
MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI"""
US_STATES = frozenset(_US_STATES_WORDS.split())


@dataclass(frozen=True)
class StreetLists:
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
def street_lists() -> StreetLists:
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
    return StreetLists(frozenset(kinds["after"]), frozenset(kinds["before"]),
                       frozenset(suffix - rare), frozenset(rare),
                       frozenset(kinds["unit"]), frozenset(kinds["weak"]),
                       frozenset(kinds["direction"]),
                       frozenset(marked.get("after", set()) | marked.get("before", set())
                                 | marked.get("unit", set())),
                       tuple(sorted({w.rstrip(".") for w in suffix}, key=len, reverse=True)),
                       frozenset(kinds["capital"]), frozenset(strict))


BOX_WORDS = ("po", "p.o.", "p. o.", "pob", "post office box", "postfach", "postboks",
             "postbus", "postbox", "apartado", "caixa postal", "casella postale",
             "boîte postale", "boite postale", "skrytka pocztowa", "private bag")
CUE_WORDS = ("postcode", "post code", "postal code", "zip", "zipcode", "zip code", "plz",
             "cep", "cap", "eircode", "pin", "pincode", "pin code", "code postal",
             "código postal", "codigo postal", "postnummer", "postinumero",
             "kod pocztowy")
NOT_TOWN = frozenset({*STOP, *(w for c in CUE_WORDS for w in c.split()), "address",
                      "adresse", "addr", "indirizzo", "dirección", "endereço"})


OPTIONAL_SPACE = "[ \t]?"   # a space in a listed word is optional: `p.o. box`, `p.o.box`


def shape(word: str) -> str:
    """'upper' (two letters or more), 'title' or 'lower', by the first letter."""
    if not word[:1].isupper():
        return "lower"
    return "upper" if len(word) > 1 and word.isupper() else "title"


def is_rare(word: str) -> bool:
    """Not an ordinary English or tech word: `roma` in `via roma 12`, not `email`."""
    bare = word.rstrip(".").casefold()
    return zipf(bare) < 4.0 and bare not in common_terms()
