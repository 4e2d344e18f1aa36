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
from .words import NAME_WORD, is_given_name, zipf

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
_NAME_HEADER = re.compile(r"(?i)^(?:full[ _]?)?name$|^(?:first|last|given|family)[ _]?name$|"
                          r"^(?:customer|patient|contact|employee)$")
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
        run = _words_after(text, match.end(), cue)
        if run:
            spans.append(Span(run[0], run[1], "PERSON", score))
    return spans


def _sentence_start(text: str, position: int) -> bool:
    before = text[:position].rstrip(" \t\"'(")
    return not before or before[-1] in ".!?\n:"


def _given_names(text: str) -> list[Span]:
    spans = []
    words = list(NAME_WORD.finditer(text))
    for i, word in enumerate(words):
        if not is_given_name(word.group()) or word.group().casefold() in common_terms():
            continue
        following = words[i + 1] if i + 1 < len(words) else None
        adjacent = following is not None and \
            re.fullmatch(r"[ \t]+", text[word.end():following.start()]) is not None
        if following is not None and adjacent and _name_like(following.group(), False, ""):
            spans.append(Span(word.start(), following.end(), "PERSON", PAIR_SCORE))
        elif word.group()[0].isupper() and (not _sentence_start(text, word.start())
                                            or zipf(word.group()) < 4.0):
            spans.append(Span(word.start(), word.end(), "PERSON", GIVEN_SCORE))
    return spans


def _capitalised_runs(text: str) -> list[Span]:
    """Two or more capitalised uncommon words inside a sentence: most likely a name
    (`for Fabián Etxeberria`). Tech and product names are filtered out later (terms.py)."""
    spans = []
    words = list(NAME_WORD.finditer(text))
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


def _csv_cells(line: str) -> list[str]:
    """Cells of one CSV line, quotes kept, so their lengths still add up to the line."""
    cells, start, quoted = [], 0, False
    for i, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            cells.append(line[start:i])
            start = i + 1
    cells.append(line[start:])
    return cells


def _csv_columns(text: str) -> list[Span]:
    spans: list[Span] = []
    columns: list[int] = []
    offset = 0
    for line in text.split("\n"):
        cells = _csv_cells(line)
        if len(cells) < 2:
            columns = []
        elif columns:
            position = offset
            for index, cell in enumerate(cells):
                stripped = cell.strip()
                if index in columns and stripped and NAME_WORD.search(stripped) and "@" not in cell:
                    value = stripped.strip('"')
                    start = position + cell.index(value)
                    spans.append(Span(start, start + len(value), "PERSON", STRONG_SCORE))
                position += len(cell) + 1
        else:
            columns = [i for i, c in enumerate(cells) if _NAME_HEADER.match(c.strip())]
        offset += len(line) + 1
    return spans


def strong_names(text: str) -> list[Span]:
    """Names the context vouches for: after a strong cue, in a name field or column."""
    return [*_cue_names(text, _STRONG_CUE, "strong"), *_field_values(text),
            *_csv_columns(text)]


def likely_names(text: str) -> list[Span]:
    """Names inferred from the words themselves; the common-term filter applies to them."""
    return [*_cue_names(text, _ADDRESSING_CUE, "addressing"),
            *_cue_names(text, _CAPITALISED_CUE, "capitalised"), *_given_names(text),
            *_capitalised_runs(text)]
