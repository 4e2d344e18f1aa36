"""Find people's names that the small NER model misses: lower-case names, names from
outside its training data, names in JSON pastes and `Name:` lines.

Rules, each a PERSON finding:
- cue: after words that introduce a person ("my name is", "dear", "ask", "Dr", ...),
  up to three name-like words;
- given name: a known given name followed by a surname-like word, or a capitalised known
  given name inside a sentence;
- capitalised run: two or more capitalised uncommon words inside a sentence;
- fields: the value of a name field in JSON, code or `Name: ...` lines (the name column
  of a table: columns.py).

A word is name-like when it is a known given name, or an uncommon word (by English word
frequency) that is not an ordinary tech or calendar term.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from spacy.lang.en.stop_words import STOP_WORDS

from .places import is_place_name
from .spans import Span
from .terms import common_terms
from .words import (
    NAME_WORD,
    given_names,
    is_given_name,
    is_listed_surname,
    is_lower_case_name,
    is_surname,
    is_word_name,
    surnames,
    zipf,
)

# Words after which a name is near certain. Cues end with spaces or tabs only: a name is
# on its cue's line (and packed texts, joined by blank lines, never lend each other cues).
_STRONG_CUE = re.compile(
    r"(?<![\w])(?:my name is|name is|call me|dear|regards,?|sincerely,?|cc:?|attendees:?|"
    r"approved by|signed by|assigned to|mr\.?|mrs\.?|ms\.?|mx\.?|miss|dr\.?|prof\.?|"
    # honorifics in other languages
    r"herr|frau|señor|señora|sr\.|sra\.|srta\.|don|doña|monsieur|madame|mme\.?|mlle\.?|"
    r"signor|signora|sig\.|sig\.ra|senhor|senhora|mevrouw|meneer|pan|pani)[ \t]+",
    re.IGNORECASE)
# After these a name is likely: greetings and verbs aimed at a person, where a rare
# lower-case word is a name too ("ask priya") ...
_ADDRESSING_CUE = re.compile(
    r"(?<![\w])(?:hi|hello|hey|thanks|thank you|ask|loop in|tell|ping|spoke (?:to|with)|"
    r"met with|emailed|texted)[ \t]+", re.IGNORECASE)
# ... and words after which only a capitalised word or a known given name counts
# ("This is deprecated", "Contact support").
_CAPITALISED_CUE = re.compile(
    r"(?<![\w])(?:i am|i'm|this is|best,?|cheers,?|from:|to:|customer|patient|client|"
    r"contact|employee)[ \t]+", re.IGNORECASE)
_FIELD = re.compile(
    r"""(?ix)["']?(?:full_?name|first_?name|last_?name|given_?name|family_?name|surname|
    name|customer(?:_?name)?|patient(?:_?name)?|contact(?:_?name)?|author|owner|assignee|
    employee)["']?\s*[:=]\s*["']([^"'\n]{2,60})["']""")
_LINE_FIELD = re.compile(r"(?im)^[ \t]*(?:[-*][ \t]+)?(?:name|full name|first name|"
                         r"last name|surname|customer|patient|attendees?|contact|from|to|"
                         r"cc)[ \t]*:[ \t]*([^\n]+)$")
# The answer to a question about a name, on the same line: "Last name? Bilić".
_ASKED = re.compile(r"(?<![\w])(?:(?:first|last|given|family|middle|full|maiden)[ \t]+name|"
                    r"surname|(?:your|his|her|their)[ \t]+name)[ \t]*\?[ \t]*", re.IGNORECASE)
# After a name: a verb that only a person takes ("Mijo said"), or, for a name opening a
# sentence, a comma and words addressed to that person ("Inna, can I ...").
_SPEECH_VERB = re.compile(r"[ \t]+(?:said|says|told|tells|asked|asks|wrote|writes|replied|"
                          r"thinks|thought|mentioned|agreed|confirmed|promised|emailed|texted|"
                          r"called me|will (?:come|send|call|join|be)|is (?:out|away|off|on leave))"
                          r"\b", re.IGNORECASE)
_SPEAKER = re.compile(r"(?<![\w])([A-Z][^\W\d_]+)(?=[ \t]+(?:said|says|told|asked|wrote|"
                      r"replied|mentioned|agreed|confirmed|promised|emailed|texted)\b)")
_VOCATIVE = re.compile(r",[ \t]+(?:can|could|would|will|do|did|are|have|please|thanks|"
                       r"thank|i|we|you|let's|just|when|what|where|how|is)\b", re.IGNORECASE)
_GAP = re.compile(r"[ \t]+")
_WORD_BEFORE = re.compile(r"(?:^|[ \t])([^\W\d_]+)[ \t]+\Z")
_WORD_AFTER_NAME = re.compile(r"(?:'s)?[ \t]*,?[ \t]*([^\W\d_]+)")
_BEFORE_PERSON_WORDS = """to with and ask asked tell told from for cc ping pinged call
called thank thanks hi hey hello by met meet email emailed text texted invite invited dear
or saw see let tag loop remind reminded"""
_BEFORE_PERSON = frozenset(_BEFORE_PERSON_WORDS.split())
_AFTER_PERSON_WORDS = """and or said says will would is was has had asked told thinks
thought wants wanted can could should mentioned wrote replied who agreed"""
_AFTER_PERSON = frozenset(_AFTER_PERSON_WORDS.split())
_SAID = frozenset(["said", "says", "asked", "told", "thinks", "thought", "wants", "wanted",
                   "mentioned", "wrote", "replied", "agreed"])
_GLUE = frozenset("0123456789_@/\\-")
_CAMEL = re.compile(r"[a-z][A-Z]")
_NAME_PREFIX = re.compile(r"(?:Mc|Mac|De|Di|Da|Du|La|Le|Van|Von|Fitz)[A-Z][a-z]+\Z")
_AFTER_NUMBER = re.compile(r"\d[ \t]*\Z")
_INITIAL = re.compile(r"[ \t]+[A-Z]\.?[ \t]+")
_INITIAL_WORD = re.compile(r"[A-Z]\.?")
_SENTENCE = re.compile(r"[^.!?\n]+")
RARE_LOWER_CASE = 3.0
NAME_INSIDE_MARGIN = 0.5
COMMON_SURNAME = 2.5  # borne by 300 in a million or more: Park, Young, King
# A list of capitalised items, one or two words each: "Mijo, Ana and Petar".
# Repeats are possessive and a list starts after no letter or joiner: `Ana-Ana-Ana-...`
# would otherwise be retried from each part and backtracked through (quadratic).
_WORD_PARTS = r"[^\W\d_]++(?:['\u2019\-][^\W\d_]++)*+"
_ITEM = rf"[A-Z]{_WORD_PARTS}(?:[ \t][A-Z]{_WORD_PARTS})?"
_LIST = re.compile(rf"(?<![\w'\u2019\-]){_ITEM}"
                   rf"(?:(?:,[ \t]*(?:(?:and|&)[ \t]+)?|[ \t]+(?:and|&)[ \t]+){_ITEM})+(?![\w])")
_LIST_ITEM = re.compile(_ITEM)
_LIST_AND = re.compile(r"[ \t](?:and|&)[ \t]")
_LINE = re.compile(r"[^\n]+")
# The line under a name in a postal address block: a house number and a street word, or a
# flat or box (`14 Maple Avenue`, `Apt 5`).
_STREET_LINE_START = re.compile(r"[ \t]*(?:\d+[A-Za-z]?(?:[-/]\d+)?,?[ \t]+[^\W\d_]{2,}|"
                                r"(?:P\.?[ \t]?O\.?[ \t]+Box|Apt\.?|Suite|Flat)[ \t]+\w)",
                                re.IGNORECASE)
_SIGN_OFF = re.compile(r"[ \t]*(?:(?:best|kind|warm|warmest|with)[ \t]+regards|regards|"
                       r"sincerely|yours(?:[ \t]+(?:truly|sincerely))?|cheers|thanks|"
                       r"many[ \t]+thanks|thank[ \t]+you|best|best[ \t]+wishes|"
                       r"all[ \t]+the[ \t]+best|take[ \t]+care)[ \t]*[,.!-]?[ \t]*", re.IGNORECASE)
_PARTICLE_WORDS = "al bin binti da das de del della den der di dos du el ibn la le ten ter van von"
_PARTICLES = frozenset(_PARTICLE_WORDS.split())
# Job titles and nouns that sit beside names and are no names themselves.
_TITLE_WORDS = """manager director engineer salesperson officer president chief clerk
nurse doctor professor coach captain sergeant judge senator governor mayor minister chairman
suite apt unit room floor team dept department office ceo cto cfo coo vp lead head intern
customer client patient employee agent analyst admin support sales"""
_TITLES = frozenset(_TITLE_WORDS.split())
STRONG_SCORE, CUE_SCORE, PAIR_SCORE, GIVEN_SCORE, RUN_SCORE = 0.85, 0.7, 0.8, 0.65, 0.6


def _name_like(word: str, first: bool, cue: str) -> bool:
    """Whether a word after a cue can be (part of) a name. After a "strong" cue any
    uncommon word; after an "addressing" one a capitalised uncommon word or a rare
    lower-case one; after a "capitalised" one only a capitalised uncommon word. A known
    given name always; a following word may be a commoner surname (Park, Young)."""
    lowered = word.casefold()
    if lowered in common_terms() or lowered in STOP_WORDS:
        return False
    if is_given_name(word):
        return True
    if cue != "capitalised" and word.casefold() not in given_names().words and \
            given_names().score(word) is not None:
        return True  # listed, and the cue says person: ask rowan
    if not first and word.islower() and cue != "strong":  # a surname, not "reports"
        return is_listed_surname(word) or zipf(word) < 3.5 or \
            (surnames().score(word) or 0.0) >= COMMON_SURNAME  # park, young
    if not first:
        return zipf(word) < 5.6
    if cue == "strong":
        return zipf(word) < 4.5
    if word[:1].isupper():
        return zipf(word) < 4.0
    return cue == "addressing" and zipf(word) < 3.0


def _words_after(text: str, position: int, cue: str, limit: int = 3
                 ) -> tuple[int, int] | None:
    """The run of name-like words starting at position (same line), or None."""
    end = None
    cursor = position
    for count in range(limit):
        match = NAME_WORD.match(text, cursor)
        if match is None or not _name_like(match.group(), count == 0, cue) \
                or text[match.end():match.end() + 1] in ("-", "_", "@") \
                or text[match.end():match.end() + 1].isdigit():
            break  # part of an identifier or address, not a name
        end = match.end()
        gap = re.match(r"[ \t]+", text[end:])
        if gap is None:
            break
        cursor = end + gap.end()
    return (position, end) if end is not None else None


def _cue_names(text: str, pattern: re.Pattern[str], cue: str) -> list[Span]:
    spans = []
    score = STRONG_SCORE if cue == "strong" else CUE_SCORE
    for match in pattern.finditer(text):
        if _AFTER_NUMBER.search(text, max(0, match.start() - 8), match.start()) and \
                match.group().strip().casefold() in ("ms", "ms."):
            continue  # 35 ms timeout: milliseconds, not Ms
        run = _words_after(text, match.end(), cue)
        if run:
            spans.append(Span(run[0], run[1], "PERSON", score))
    return spans


def _sentence_start(text: str, position: int) -> bool:
    # Read back from position, not text[:position].rstrip(): that copies the text before
    # each capitalised word (quadratic on `Ana, Ana, ...`).
    i = position
    while i > 0 and text[i - 1] in " \t\"'(":
        i -= 1
    return i == 0 or text[i - 1] in ".!?\n:"


def _capitalised(word: str) -> bool:
    return word[0].isupper() and not word.isupper()


def _adjacent(text: str, left: re.Match[str], right: re.Match[str]) -> bool:
    """Only spaces or tabs between two words."""
    return _GAP.fullmatch(text, left.end(), right.start()) is not None


def _ordinary(word: str) -> bool:
    lowered = word.casefold()
    return lowered in common_terms() or lowered in STOP_WORDS or lowered in _TITLES


def _lower_case_sentences(text: str) -> list[tuple[int, int]]:
    """Sentences of three or more words with no capitalised word but maybe the first:
    written in lower case (chat), where names are in lower case too."""
    ranges = []
    for sentence in _SENTENCE.finditer(text):
        words = NAME_WORD.findall(sentence.group())
        if len(words) > 2 and all(not w[:1].isupper() for w in words[1:]):
            ranges.append((sentence.start(), sentence.end()))
    return ranges


def _given_names(text: str, words: list[re.Match[str]]) -> list[Span]:
    """A known given name and what follows it: a surname-like word (Ana Xyzkowski), a
    middle initial and a surname (John Q. Public); on its own, capitalised inside a
    sentence, or at its start when rare or followed by a comma or a verb (Mijo said,
    Inna, can I ...). In lower case only names that are not ordinary words (ana, petar)."""
    spans = []
    lower_sentences: Iterator[tuple[int, int]] | None = None  # worked out when needed
    sentence = None
    scores = given_names().scores
    for i, word in enumerate(words):
        value = word.group()
        key = value.casefold()
        if key not in scores or key in common_terms() or value.isupper() or \
                (key in given_names().words and key not in given_names().chosen) or \
                _code_like(text, word):
            continue  # most words; Will, Rose (see _speakers); IBAN: acronyms; boto3: code
        following = words[i + 1] if i + 1 < len(words) else None
        if following is not None and not _adjacent(text, word, following):
            following = None
        if not value[0].isupper():
            if lower_sentences is None:
                lower_sentences = iter(_lower_case_sentences(text))
                sentence = next(lower_sentences, None)
            while sentence is not None and sentence[1] <= word.start():
                sentence = next(lower_sentences, None)
            spans += _lower_case_given_name(
                text, word, following, sentence is not None and sentence[0] <= word.start())
            continue
        if not is_given_name(value):
            continue  # names that are also ordinary words: _speakers
        initial = _INITIAL.match(text, word.end())
        surname = NAME_WORD.match(text, initial.end()) if initial else None
        if surname is not None and _capitalised(surname.group()) and \
                not _ordinary(surname.group()):
            spans.append(Span(word.start(), surname.end(), "PERSON", PAIR_SCORE))
        elif following is not None and _surname_like(following.group()):
            spans.append(Span(word.start(), following.end(), "PERSON", PAIR_SCORE))
        elif (_name_first(value) if _sentence_start(text, word.start())
              else _name_inside(value)) or _person_context(text, word):
            spans.append(Span(word.start(), word.end(), "PERSON", GIVEN_SCORE))
    return spans


def _name_inside(word: str) -> bool:
    """Read as a name inside a sentence: chosen by hand, or about as common as a name as
    it is as an English word (Emin, Petar; not Gregorian, Julian day)."""
    key = word.casefold()
    return key in given_names().chosen or \
        (given_names().score(key) or 0.0) >= zipf(key) - NAME_INSIDE_MARGIN


def _name_first(word: str) -> bool:
    """Read as a name even opening a sentence: chosen by hand and rare in English, or at
    least as common as a name as it is as a word (Ana, Mijo; not Amber, Gregorian)."""
    key = word.casefold()
    frequency = zipf(key)
    if key in given_names().chosen and frequency < 3.5:
        return True
    return (given_names().score(key) or 0.0) >= frequency


def _surname_like(word: str) -> bool:
    """A capitalised word that can follow a given name as its surname."""
    return _capitalised(word) and _name_like(word, False, "")


def _lower_case_given_name(text: str, word: re.Match[str], following: re.Match[str] | None,
                           in_lower_case_sentence: bool) -> list[Span]:
    """ana petrović, takeru ouyang: a given name that is no ordinary word, with a listed
    surname or a rare word after it; alone only in a sentence written in lower case."""
    if not is_lower_case_name(word.group()):
        return []
    if following is not None and following.group().islower() and \
            not _ordinary(following.group()) and (
                (is_listed_surname(following.group()) and zipf(following.group()) < 4.0)
                or is_lower_case_name(following.group())
                or zipf(following.group()) < RARE_LOWER_CASE):
        return [Span(word.start(), following.end(), "PERSON", PAIR_SCORE)]
    if in_lower_case_sentence and _among_people(text, word):
        return [Span(word.start(), word.end(), "PERSON", GIVEN_SCORE)]
    return []


def _among_people(text: str, word: re.Match[str]) -> bool:
    """Where a person stands in chat: after "to", "with", "ask"... or before "and",
    "said", "will"... (i talked to ana and petar; baraka asked). Not in code (-ablah,
    (alo, blo)) nor in ordinary phrases (may be ints)."""
    before = _WORD_BEFORE.search(text, max(0, word.start() - 30), word.start())
    after = _WORD_AFTER_NAME.match(text, word.end())
    if before is not None and before.group(1).casefold() in _BEFORE_PERSON:
        return True
    if after is None:
        return False
    following = after.group(1).casefold()
    # "and", "will", "is" follow many words: enough only after a name rare as a word
    return following in _SAID or (following in _AFTER_PERSON and zipf(word.group()) < 3.0)


def _person_context(text: str, word: re.Match[str]) -> bool:
    """Followed by a verb of speech (Mijo said), or opening a sentence as the person
    addressed (Inna, can I ...)."""
    after = text[word.end():word.end() + 24]
    if _SPEECH_VERB.match(after):
        return True
    return _sentence_start(text, word.start()) and _VOCATIVE.match(after) is not None


def _speakers(text: str) -> list[Span]:
    """A given name that is also an ordinary word, followed by a verb of speech: Rose said,
    Will asked. The verb vouches for it (the common-word filter would drop Rose)."""
    return [Span(m.start(), m.end(1), "PERSON", GIVEN_SCORE) for m in _SPEAKER.finditer(text)
            if is_word_name(m.group(1))]


def _surname_pairs(text: str, words: list[re.Match[str]]) -> list[Span]:
    """A listed surname beside a capitalised word that is no ordinary word: Xyz Kowalski,
    Wenjie Nguyen (the given name unlisted), Raghav K. Menon. A common surname that is
    also an ordinary word (Park, Young) only after a rare word inside a sentence."""
    spans = []
    scores, ordinary_words = surnames().scores, surnames().words
    for i, right in enumerate(words):
        last = right.group()
        key = last.casefold()
        if i == 0 or key not in scores:
            continue  # most words
        left = words[i - 1]
        if last.islower():
            if key not in ordinary_words and _lower_case_pair(text, left, right) and \
                    not _code_like(text, left) and not _code_like(text, right):
                spans.append(Span(left.start(), right.end(), "PERSON", PAIR_SCORE))
            continue
        if not _capitalised(last):
            continue
        if i >= 2 and _INITIAL_WORD.fullmatch(left.group()) and \
                _INITIAL.fullmatch(text, words[i - 2].end(), right.start()):
            left = words[i - 2]  # Raghav K. Menon
        elif not _adjacent(text, left, right):
            continue
        first = left.group()
        if not _capitalised(first) or _ordinary(first) or zipf(first) >= 4.0 or \
                is_place_name(first) or _code_like(text, left) or _code_like(text, right):
            continue
        if is_surname(last) or (
                zipf(first) < 2.5 and scores[key] >= COMMON_SURNAME
                and not _sentence_start(text, left.start())):
            spans.append(Span(left.start(), right.end(), "PERSON", PAIR_SCORE))
    return spans


def _code_like(text: str, word: re.Match[str]) -> bool:
    """Part of an identifier (boto3, user_name, ana.petrovic@) or camel-cased (NaN,
    JavaScript; not McDonald, DeSantis)."""
    before = text[max(0, word.start() - 2):word.start()]
    after = text[word.end():word.end() + 2]
    if before[-1:] in _GLUE or after[:1] in _GLUE or \
            (after[:1] == "." and after[1:].isalnum()) or \
            (before[-1:] == "." and before[:1].isalnum()):
        return True  # c.Emin, ana.petrovic
    value = word.group()
    return _CAMEL.search(value) is not None and _NAME_PREFIX.match(value) is None


def _lower_case_pair(text: str, left: re.Match[str], right: re.Match[str]) -> bool:
    """henrietta wolstenholme, xyz okafor: a listed surname that is no ordinary word and
    rare in English, after a given name or a rare word, all in lower case."""
    first, last = left.group(), right.group()
    if not first.islower() or len(first) < 3 or not _adjacent(text, left, right) or \
            _ordinary(first) or not is_listed_surname(last) or zipf(last) >= 3.0:
        return False
    return zipf(first) < 2.5 or is_given_name(first)


def _name_lists(text: str) -> list[Span]:
    """Capitalised words in a list with known given names (Mijo, Ana and Xyzzy): a word
    that is no ordinary word and not too common counts too, when two or more items are
    known given names, or one is and the others are rare."""
    spans = []
    for match in _LIST.finditer(text):
        items = list(_LIST_ITEM.finditer(match.group()))
        if any(_ordinary(item.group()) or item.group().isupper() for item in items) or \
                (len(items) < 3 and not _LIST_AND.search(match.group())):
            continue
        named = [is_given_name(item.group().split()[0]) for item in items]
        rare = [all(zipf(w) < RARE_LOWER_CASE for w in item.group().split())
                for item in items]
        if sum(named) >= 2 or (any(named) and all(n or r for n, r in zip(named, rare,
                                                                          strict=True))):
            for item, name in zip(items, named, strict=True):
                words = item.group().split()
                if name or all(zipf(w) < 4.0 or is_word_name(w) for w in words):
                    start = match.start() + item.start()
                    spans.append(Span(start, start + len(item.group()), "PERSON",
                                      GIVEN_SCORE))
    return spans


def _name_lines(text: str) -> list[Span]:
    """A name alone on its line: the first line of a postal address block (the next line
    a street with a number), or the line after a sign-off (Best regards,)."""
    spans = []
    lines = list(_LINE.finditer(text))
    if not lines:
        return []  # an empty text or only line breaks
    for before, line, after in zip([None, *lines[:-1]], lines, [*lines[1:], None],
                                   strict=True):
        signed = before is not None and _SIGN_OFF.fullmatch(before.group()) is not None
        addressed = after is not None and _STREET_LINE_START.match(after.group()) is not None
        if not (signed or addressed):
            continue
        value = line.group().strip()
        words = value.split()
        if not 1 <= len(words) <= 4 or (addressed and not signed and len(words) < 2):
            continue
        if all(_name_line_word(w, signed) for w in words) and \
                any(is_given_name(w) or is_surname(w) or is_word_name(w) or signed
                    for w in words if len(w) > 2):
            start = line.start() + line.group().index(value)
            spans.append(Span(start, start + len(value), "PERSON", STRONG_SCORE))
    return spans


def _name_line_word(word: str, signed: bool) -> bool:
    if _INITIAL_WORD.fullmatch(word) or word.casefold() in _PARTICLES:
        return True
    if not NAME_WORD.fullmatch(word) or not _capitalised(word) or _ordinary(word):
        return False
    return is_given_name(word) or is_word_name(word) or surnames().score(word) is not None \
        or zipf(word) < (4.0 if signed else 3.0)


def _capitalised_runs(text: str, words: list[re.Match[str]]) -> list[Span]:
    """Two or more capitalised uncommon words inside a sentence: most likely a name
    (`for Fabián Etxeberria`). Tech and product names are filtered out later (terms.py)."""
    spans = []
    i = 0
    while i < len(words):
        j = i
        while j < len(words) and _capitalised_name_word(words[j].group()) and \
                (j == i or re.fullmatch(r"[ \t]+", text[words[j - 1].end():words[j].start()])):
            j += 1
        if j - i >= 2 and not _sentence_start(text, words[i].start()):
            spans.append(Span(words[i].start(), words[j - 1].end(), "PERSON", RUN_SCORE))
        i = max(j, i + 1)
    return spans


def _capitalised_name_word(word: str) -> bool:
    return word[0].isupper() and not word.isupper() and \
        word.casefold() not in common_terms() and (is_given_name(word) or zipf(word) < 3.5)


def _field_values(text: str) -> list[Span]:
    spans = []
    for match in [*_FIELD.finditer(text), *_LINE_FIELD.finditer(text)]:
        value_start = match.start(1)
        for part in re.finditer(r"[^,;]+", match.group(1)):
            words = NAME_WORD.findall(part.group())
            if 1 <= len(words) <= 4 and "@" not in part.group():
                lead = len(part.group()) - len(part.group().lstrip())
                start = value_start + part.start() + lead
                spans.append(Span(start, value_start + part.end() - (
                    len(part.group()) - len(part.group().rstrip())), "PERSON", STRONG_SCORE))
    return spans


# A hashtag of a given name and a surname in camel case: #JustinBieber, #AnaHorvat.
_HASHTAG = re.compile(r"(?<![\w#])#([A-Z][a-z]+)([A-Z][a-z]+)(?![^\W\d_])")


def _hashtag_names(text: str) -> list[Span]:
    """The two words of a name written as a hashtag, each its own finding (one word in
    camel case would read as an identifier)."""
    spans = []
    for match in _HASHTAG.finditer(text):
        first, last = match.group(1), match.group(2)
        if is_given_name(first) and (is_listed_surname(last) or is_given_name(last)
                                     or zipf(last) < RARE_LOWER_CASE):
            spans += [Span(match.start(1), match.end(1), "PERSON", STRONG_SCORE),
                      Span(match.start(2), match.end(2), "PERSON", STRONG_SCORE)]
    return spans


def strong_names(text: str) -> list[Span]:
    """Names the context vouches for: after a strong cue, in a name field or column."""
    asked = _cue_names(text, _ASKED, "strong") if "?" in text else []
    return [*_cue_names(text, _STRONG_CUE, "strong"), *asked,
            *_field_values(text), *_name_lines(text),
            *_speakers(text), *(_hashtag_names(text) if "#" in text else [])]


def likely_names(text: str) -> list[Span]:
    """Names inferred from the words themselves; the common-term filter applies to them."""
    words = list(NAME_WORD.finditer(text))
    return [*_cue_names(text, _ADDRESSING_CUE, "addressing"),
            *_cue_names(text, _CAPITALISED_CUE, "capitalised"), *_given_names(text, words),
            *_surname_pairs(text, words), *_name_lists(text), *_capitalised_runs(text, words)]
