"""Company and institution names, by the words that end or start them.

A name is up to four capitalised words before a legal form ("Acme Corp", "Initech GmbH",
"Foo S.p.A.", "Quux A/S", "Globex Pty Ltd") or before a word that names a kind of
organisation ("Xenon Pharmaceuticals", "Umbrella Holdings", "Mercy Hospital"), with that
word; or "University of ...", "Bank of ..." and the like. A kind-of-organisation word
needs a word before it that is not an ordinary English word ("Working Group" is no
company). The words stop at a lower-case word, a line break or punctuation, so "Dr Smith
of Acme Corp" leaves "Dr Smith" a person; "of" joins only after an institution word
("Bank of America Corp"). A person's title or a sentence word ("Dear", "The", "At") in
front is left out. A given name and another word before a kind-of-organisation word read
as a person ("Jane Smith Group lead"); before a legal form, as a company ("Martin
Marietta Inc.").

The engine drops names and places inside these spans (a company is not a person) and
tokenizes the spans themselves only for policies that ask for ORGANIZATION.
"""

from __future__ import annotations

import re

from .spans import Span
from .words import given_names, zipf

SCORE = 0.85
MAX_WORDS = 4
GIVEN_NAME = 2.5   # log10 bearers per million: Jane 3.4, Tom 3.7; Sterling 1.9 is not one
COMMON = 4.7   # English words at least this frequent do not make a company name on their own

# Legal forms, the dotted spelling before the bare one.
_LEGAL = (
    r"Inc\.|Inc|Incorporated|Corp\.|Corp|Corporation|Co\.,? Ltd\.?|Co\.|Ltd\.|Ltd|"
    r"Limited|L\.L\.C\.|LLC|L\.L\.P\.|LLP|L\.P\.|LP|PLC|Plc|plc|GmbH & Co\. KG|gGmbH|GmbH|"
    r"AG|KGaA|KG|OHG|UG|e\.V\.|SE|S\.A\. de C\.V\.|S\.A\.S\.|S\.A\.|SAS|SA|S\.p\.A\.|SpA|"
    r"S\.r\.l\.|Srl|S\.L\.|SL|SARL|S\.à r\.l\.|B\.V\.|BV|N\.V\.|NV|AB|A/S|ASA|AS|Oyj|Oy|"
    r"Pty\.? Ltd\.?|Pvt\.? Ltd\.?|Private Limited|K\.K\.|KK|Sp\. z o\.o\.|s\.r\.o\.|a\.s\.|"
    r"Kft\.?|Zrt\.?|d\.o\.o\.|Sdn\.? Bhd\.?|Bhd|Tbk|& Co\.|& Co|and Co\.|& Sons|and Sons|"
    r"Bros\.|"
    # more European forms: Swiss and French, Nordic, Austrian, Belgian and Dutch, Polish,
    # Iberian and Latin American, Italian, Baltic; family firms ("e figli", "& Søn")
    r"S[àa]rl\.?|S[àa]RL|SNC|S\.N\.C\.|ApS|I/S|HB|KB|Oy Ab|Ab Oy|ehf\.?|GesbR|OG|KEG|"
    r"CommV|Comm\.V\.|BVBA|VOF|C\.V\.|CV|Sp\. ?z ?o\.o\.|Sp\. ?k\.|Sp\. ?j\.|S\.C\.|s\.c\.|"
    r"Ltda\.?|S\.Com\.|S\.L\.U\.|SLU|S\.R\.L\.|SRL|SPA|SIA|UAB|OÜ|"
    r"e [Ff]igli|e [Ff]ilhos|y [Aa]sociados|& S[øo]n|og S[øo]n|"
    r"Co\.\s?LTD\.?|LTD\.?|LIMITED|INC\.?|CORP\.?")
# Words for a kind of organisation.
_KINDS = (
    r"Company|Brothers|Holdings?|Group|Gruppen|Gruppe|Gruppo|Groupe|Grupo|Grupa|Technolog(?:y|ies)|Tech|Labs?|Laborator(?:y|ies)|Partners|Associates|"
    r"Systems|Solutions|Pharmaceuticals?|Pharma|Therapeutics|Biosciences|Biotech|"
    r"Industries|Enterprises|Ventures|Capital|Consulting|Consultants|Bank|Bancorp|"
    r"Insurance|Assurance|Airlines|Airways|Motors|Foods|Brands|Networks|Software|Studios|"
    r"Energy|Petroleum|Resources|Logistics|Semiconductors?|Electronics|Communications|"
    r"Telecom|Robotics|Analytics|Dynamics|Aerospace|Foundation|Institute|Hospital|Clinic|"
    r"Medical Center|Medical Centre|Health System|University|College|Academy|Trust|"
    r"Council|Agency|Authority|Association|Society|Federation|Museum|Chambers|Bakery|"
    r"Realty|Properties|Investments|Securities|Financial|Manufacturing|Construction|"
    r"Engineering|Architects")
# The first-letter lookahead makes the scan of ordinary text three times cheaper.
_SUFFIX = re.compile(rf"(?=[A-Z&apgesdyo])(?<![\w&-])(?:({_LEGAL})|({_KINDS}))(?![\w&/]|\.\w)")
# Institutions named by what follows: "University of Oslo", "Bank of America".
_HEADS = ("University|Bank|Institute|College|Ministry|Department|Museum|Academy|Society|"
          "Federation|Association|Council|Board|Church|School|Faculty|Office|Court|"
          "Chamber|Commonwealth|Republic|Kingdom|Hospital|Federal Reserve Bank")
_OF = re.compile(rf"(?=[A-Z])(?<![\w-])({_HEADS}) (?:of|for) (?:the )?")
_JOINERS = frozenset({"of", "for", "de", "du", "des", "del", "di", "van", "von", "der",
                      "für", "&"})
# Two-letter legal forms that are also abbreviations or words in capitals ("SUCH AS").
_SHORT_FORMS = frozenset({"AS", "SA", "SE", "AB", "SL", "KK", "UG", "LP", "AG", "KG", "BV",
                          "NV", "SAS", "ASA", "HB", "KB", "OG", "CV", "SPA", "SIA", "LTD",
                          "INC", "CORP", "LIMITED"})
# Capitalised words that start a sentence or introduce a name, never part of a company.
_OUTSIDE = frozenset({
    "a", "an", "and", "at", "about", "after", "also", "as", "before", "both", "but", "by", "call",
    "contact", "dear", "email", "for", "from", "hello", "hi", "i", "if", "in", "into", "join",
    "joined", "joining", "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "dame",
    "lord", "lady", "rev", "my", "our", "per", "please", "re", "so", "thanks", "the", "then",
    "this", "that", "these", "those", "to", "today", "tomorrow", "via", "visit", "we", "with",
    "without", "yesterday", "you", "your", "their", "his", "her", "its", "they", "he", "she",
    "it", "when", "where", "while", "ask", "tell", "cc", "fwd", "is", "was", "are", "were", "has",
    "have", "had", "will", "would", "should", "could", "sent", "see", "such", "than", "or", "not"})


def organizations(text: str) -> list[Span]:
    spans = []
    for match in _SUFFIX.finditer(text):
        legal = match.group(1) is not None
        start = _name_start(text, match.start(), kind=not legal, comma=legal)
        if start is not None and match.group() in _SHORT_FORMS and _shouting(
                text[start:match.start()].split()):
            continue
        if start is not None:
            spans.append(Span(start, match.end(), "ORGANIZATION", SCORE))
    for match in _OF.finditer(text):
        end = _words_after(text, match.end())
        if end is not None:
            start = _name_start(text, match.start(), kind=False, comma=False)
            start = match.start() if start is None else start
            spans.append(Span(start, end, "ORGANIZATION", SCORE))
    return _disjoint(spans)


def _shouting(words: list[str]) -> bool:
    """Words in capitals, one of them an ordinary word: "REPLY AS SOON AS", not "SAP SE"."""
    return all(w.isupper() for w in words) and any(zipf(w) >= 4.0 for w in words)


def _name_start(text: str, suffix_start: int, kind: bool, comma: bool) -> int | None:
    """Where the capitalised words before a suffix begin, or None when there are none."""
    words: list[tuple[int, str]] = []
    position = suffix_start
    while len(words) < MAX_WORDS:
        gap = _gap_before(text, position, comma=comma and not words)
        if gap is None:
            break
        word = _last_word(text, position - gap)
        if word is None:
            break
        start, value = word
        if (value.casefold() in _JOINERS and not _joins(text, start, words)) or \
                value.casefold().rstrip(".") in _OUTSIDE:
            break    # a person before "of", a title, a word that starts a sentence
        if value.casefold() not in _JOINERS and not (value[0].isupper() or value[0].isdigit()):
            break
        words.append((start, value))
        position = start
    while words and words[-1][1].casefold() in _JOINERS:
        words.pop()
    named = [v for _, v in words if v.casefold() not in _JOINERS]
    if not named:
        return None
    if kind and all(zipf(v.strip(".'\u2019")) >= COMMON and not v.isupper() for v in named):
        return None
    if kind and len(named) >= 2 and _given_name(named[-1]):
        return None    # "Jane Smith Group lead": a person first; a leaked company costs less
    return words[-1][0]


def _given_name(word: str) -> bool:
    """A common given name (Jane, Tom), even one that is also an English word."""
    score = given_names().score(word)
    return score is not None and score >= GIVEN_NAME


def _gap_before(text: str, position: int, comma: bool) -> int | None:
    """The width of the separator before `position` inside a name: one space, or a comma
    and a space right before a legal form ("Acme, Inc.")."""
    if text[position - 1:position] != " " or position < 2:
        return None
    before = text[position - 2]
    if before == ",":
        return 2 if comma else None
    return None if before.isspace() else 1


_WORD_CHARS = frozenset("'\u2019.&-")


def _last_word(text: str, end: int) -> tuple[int, str] | None:
    """The word of a name that ends at `end` (letters, digits, ' . & -; not ending in . or -)."""
    start = end
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_" or
                         text[start - 1] in _WORD_CHARS):
        start -= 1
    value = text[start:end]
    while value and value[0] in ".-":   # a word starts with a letter, digit, ' or &
        start, value = start + 1, value[1:]
    if not value or value[-1] in ".-":
        return None
    if "." in value.rstrip(".") and not value.isupper():
        return None    # a file or host name (report.pdf, example.com)
    return start, value


def _joins(text: str, start: int, words: list[tuple[int, str]]) -> bool:
    """A lower-case joiner belongs to the name only after an institution word (Bank of
    America Corp) or inside a company name's "&"; never between a person and a company."""
    before = _last_word(text, start - 1) if text[start - 1:start] == " " else None
    if before is None or not words:
        return False
    joiner = text[start:start + 3].casefold()
    if joiner.startswith("&"):
        return before[1][0].isupper()
    return re.fullmatch(_HEADS, before[1]) is not None


_CAPITALISED = r"[A-ZÀ-Þ][\w'\u2019]*(?:-\w+)*"
_AFTER_OF = re.compile(rf"{_CAPITALISED}(?:(?: | & ){_CAPITALISED}){{0,2}}")


def _words_after(text: str, position: int) -> int | None:
    """The end of one to three capitalised words after "University of"."""
    match = _AFTER_OF.match(text, position)
    return None if match is None else match.end()


def _disjoint(spans: list[Span]) -> list[Span]:
    """The longest of overlapping spans ("Bank of America Corp" over "America Corp")."""
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if kept and span.start < kept[-1].end:
            if span.end > kept[-1].end:
                kept[-1] = Span(kept[-1].start, span.end, span.entity, span.score)
            continue
        kept.append(span)
    return kept
