"""Find people's names that the small NER model misses: lower-case names, names from
outside its training data, names in CSV and JSON pastes.

Rules, each a PERSON finding:
- cue: after words that introduce a person ("my name is", "dear", "ask", "Dr", ...),
  up to three name-like words;
- given name: a known given name followed by a surname-like word, or a capitalised known
  given name inside a sentence;
- capitalised run: two or more capitalised uncommon words inside a sentence;
- fields: the value of a name field in JSON, code or `Name: ...` lines, and the name
  column of a CSV paste.

A word is name-like when it is a known given name, or an uncommon word (by English word
frequency) that is not an ordinary tech or calendar term.
"""

from __future__ import annotations

import re

from spacy.lang.en.stop_words import STOP_WORDS

from .spans import Span
from .terms import common_terms
from .words import is_given_name, zipf

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*")
# Words after which a name is near certain, and words after which one is likely.
_STRONG_CUE = re.compile(
    r"(?<![\w])(?:my name is|name is|call me|dear|regards,?|sincerely,?|cc:?|attendees:?|"
    r"approved by|signed by|assigned to|mr\.?|mrs\.?|ms\.?|mx\.?|miss|dr\.?|prof\.?|"
    # honorifics in other languages
    r"herr|frau|señor|señora|sr\.|sra\.|srta\.|don|doña|monsieur|madame|mme\.?|mlle\.?|"
    r"signor|signora|sig\.|sig\.ra|senhor|senhora|mevrouw|meneer|pan|pani)\s+",
    re.IGNORECASE)
_CUE = re.compile(
    r"(?<![\w])(?:i am|i'm|it's|this is|hi|hello|hey|thanks|thank you|best,?|cheers,?|"
    r"from:|to:|customer|patient|client|contact|employee|ask|loop in|tell|ping|with|by|"
    r"called|calling|call|spoke (?:to|with)|met(?: with)?|emailed|texted|visited|for)\s+",
    re.IGNORECASE)
_FIELD = re.compile(
    r"""(?ix)["']?(?:full_?name|first_?name|last_?name|given_?name|family_?name|surname|
    name|customer(?:_?name)?|patient(?:_?name)?|contact(?:_?name)?|author|owner|assignee|
    employee)["']?\s*[:=]\s*["']([^"'\n]{2,60})["']""")
_LINE_FIELD = re.compile(r"(?im)^[ \t]*(?:name|full name|customer|patient|attendees?|"
                         r"contact|from|to|cc)[ \t]*:[ \t]*([^\n]+)$")
_NAME_HEADER = re.compile(r"(?i)^(?:full[ _]?)?name$|^(?:first|last|given|family)[ _]?name$|"
                          r"^(?:customer|patient|contact|employee)$")
CUE_SCORE, PAIR_SCORE, GIVEN_SCORE, FIELD_SCORE, RUN_SCORE = 0.85, 0.8, 0.65, 0.85, 0.6


def _name_like(word: str, first: bool, strong: bool = False) -> bool:
    """First words must be rare (less so after a strong cue); a following word may be a
    commoner surname (Park, Young)."""
    lowered = word.casefold()
    if lowered in common_terms() or lowered in STOP_WORDS:
        return False
    if is_given_name(word):
        return True
    capitalised = word[:1].isupper()
    if first:
        return zipf(word) < (4.5 if strong else 4.0 if capitalised else 3.5)
    return zipf(word) < 5.6


def _words_after(text: str, position: int, strong: bool, limit: int = 3
                 ) -> tuple[int, int] | None:
    """The run of name-like words starting at position (same line), or None."""
    end = None
    cursor = position
    for count in range(limit):
        match = _WORD.match(text, cursor)
        if match is None or not _name_like(match.group(), count == 0, strong) \
                or text[match.end():match.end() + 1] in ("-", "_", "@") \
                or text[match.end():match.end() + 1].isdigit():
            break  # part of an identifier or address, not a name
        end = match.end()
        gap = re.match(r"[ \t]+", text[end:])
        if gap is None:
            break
        cursor = end + gap.end()
    return (position, end) if end is not None else None


def _cue_names(text: str) -> list[Span]:
    spans = []
    for pattern, strong in ((_STRONG_CUE, True), (_CUE, False)):
        for cue in pattern.finditer(text):
            run = _words_after(text, cue.end(), strong)
            if run:
                spans.append(Span(run[0], run[1], "PERSON", CUE_SCORE))
    return spans


def _sentence_start(text: str, position: int) -> bool:
    before = text[:position].rstrip(" \t\"'(")
    return not before or before[-1] in ".!?\n:"


def _given_names(text: str) -> list[Span]:
    spans = []
    words = list(_WORD.finditer(text))
    for i, word in enumerate(words):
        if not is_given_name(word.group()) or word.group().casefold() in common_terms():
            continue
        following = words[i + 1] if i + 1 < len(words) else None
        adjacent = following is not None and \
            re.fullmatch(r"[ \t]+", text[word.end():following.start()]) is not None
        if following is not None and adjacent and _name_like(following.group(), first=False):
            spans.append(Span(word.start(), following.end(), "PERSON", PAIR_SCORE))
        elif word.group()[0].isupper() and (not _sentence_start(text, word.start())
                                            or zipf(word.group()) < 4.0):
            spans.append(Span(word.start(), word.end(), "PERSON", GIVEN_SCORE))
    return spans


def _capitalised_runs(text: str) -> list[Span]:
    """Two or more capitalised uncommon words inside a sentence: most likely a name
    (`for Fabián Etxeberria`). Tech and product names are filtered out later (terms.py)."""
    spans = []
    words = list(_WORD.finditer(text))
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
            words = _WORD.findall(part.group())
            if 1 <= len(words) <= 4 and "@" not in part.group():
                lead = len(part.group()) - len(part.group().lstrip())
                start = value_start + part.start() + lead
                spans.append(Span(start, value_start + part.end() - (
                    len(part.group()) - len(part.group().rstrip())), "PERSON", FIELD_SCORE))
    return spans


def _csv_columns(text: str) -> list[Span]:
    spans: list[Span] = []
    columns: list[int] = []
    offset = 0
    for line in text.split("\n"):
        cells = line.split(",")
        if len(cells) < 2:
            columns = []
        elif columns:
            position = offset
            for index, cell in enumerate(cells):
                stripped = cell.strip()
                if index in columns and stripped and _WORD.search(stripped) and "@" not in cell:
                    start = position + cell.index(stripped)
                    spans.append(Span(start, start + len(stripped), "PERSON", FIELD_SCORE))
                position += len(cell) + 1
        else:
            columns = [i for i, c in enumerate(cells) if _NAME_HEADER.match(c.strip())]
        offset += len(line) + 1
    return spans


def find_names(text: str) -> list[Span]:
    return [*_cue_names(text), *_given_names(text), *_capitalised_runs(text),
            *_field_values(text), *_csv_columns(text)]
