"""Payment card numbers by the rules cards follow, at every length from 12 to 19 digits.

Presidio's CreditCardRecognizer (run by the engine) reads mostly 16-digit numbers; this
one reads every brand at its real lengths (Visa 13/16/19, Amex 15 as 4-6-5, Diners 14,
Maestro 12-19...), written ungrouped or in the groups a card shows, separated by spaces,
dashes or dots. A number counts when its issuer range (IIN) and length fit a brand and its
Luhn checksum holds (17 to 19 digits written in one piece also need a word for a card
nearby: so long an ungrouped number is more often a snowflake id); a Luhn-valid number of
13-19 digits outside the known ranges counts only next to a word for a card. Never inside
an identifier (`id=`, a UUID, a hex string), after `+` (a phone number) or `#` (an order
number), nor after a word such as "order" or "invoice" when no card word is closer.
"""

from __future__ import annotations

import re

from .identifiers import glued_key, labelled_identifier
from .recognizers import luhn_valid
from .spans import Span

KNOWN_SCORE = 0.95
CUED_SCORE = 0.85

_ANY = range(12, 20)
_LONG = range(16, 20)
# (lowest prefix, highest prefix, lengths): the issuer ranges of the card schemes.
_RANGES: tuple[tuple[str, str, tuple[int, ...] | range], ...] = (
    ("4", "4", (13, 16, 19)),                  # Visa (Electron, Dankort co-brands inside)
    ("51", "55", (16,)),                       # Mastercard
    ("2221", "2720", (16,)),                   # Mastercard 2-series
    ("34", "34", (15,)), ("37", "37", (15,)),  # American Express
    ("300", "305", range(14, 20)),             # Diners Club
    ("3095", "3095", range(14, 20)),
    ("36", "36", range(14, 20)), ("38", "39", range(14, 20)),
    ("6011", "6011", _LONG), ("644", "649", _LONG), ("65", "65", _LONG),  # Discover, RuPay
    ("3528", "3589", _LONG),                   # JCB
    ("5018", "5018", _ANY), ("5020", "5020", _ANY), ("5038", "5038", _ANY),  # Maestro
    ("5893", "5893", _ANY), ("6304", "6304", _ANY), ("6759", "6759", _ANY),
    ("6761", "6763", _ANY),
    ("62", "62", _LONG), ("81", "81", _LONG),  # UnionPay
    ("2200", "2204", _LONG),                   # Mir
    ("2205", "2205", (16,)),                   # BORICA
    ("60", "60", (16,)), ("82", "82", (16,)), ("508", "508", (16,)),  # RuPay
    ("353", "353", (16,)), ("356", "356", (16,)),
    ("5019", "5019", (16,)),                   # Dankort
    ("636", "636", _LONG),                     # InterPayment
    ("9792", "9792", (16,)),                   # Troy
    ("5066", "5067", (16,)), ("509", "509", (16,)), ("6277", "6277", (16,)),  # Elo
    ("6362", "6363", (16,)), ("6504", "6509", (16,)), ("6516", "6516", (16,)),
    ("6550", "6550", (16,)),
    ("606282", "606282", (16, 19)), ("3841", "3841", (16, 19)),  # Hipercard
    ("31", "31", (19,)),                       # China T-Union
)

# Digits in groups, each group separated from the next by one space, dash or dot.
_RUN = re.compile(r"\d+(?:[ .\-]\d+)*")
_SEPARATOR = re.compile(r"[ .\-]")
_DIGITS = re.compile(r"\d+")
_NOT_DIGIT = re.compile(r"\D")
# The ways cards are printed: fours with a shorter last group, Amex and Diners 4-6-5 and
# 4-6-4, 4-4-5 and 4-3-3-3 for 13 digits, 6-13 for long Maestro, or no grouping at all.
_SHAPES = re.compile(r"4(?:,4){1,3},[1-4]|4(?:,4){2,4}|4,6,[45]|4,4,5|4,3,3,3|6,13|1[2-9]")

_CUE = re.compile(
    r"(?i)(?<![a-z])(?:cards?|cc|ccn|pan|credit|debit|visa|master ?card|amex|american express|"
    r"discover|jcb|diners|maestro|union ?pay|mir|rupay|elo|hipercard|dankort|"
    r"kort\w*|\w*kart[ea]\w*|carte|tarjeta|cart[aã]o|carta|kaart\w*|karty?|kartu|"
    r"payment|paid with|pay with|charge)(?![a-z])")
_CUE_WINDOW = 40
# The country and check digits of an IBAN written in groups: "DE44 5001 0517 5407 3249 31".
_IBAN_START = re.compile(r"(?<![A-Za-z])[A-Z]{2}\d{2} $")


def card_numbers(text: str) -> list[Span]:
    spans = []
    for run in _RUN.finditer(text):
        if run.end() - run.start() < 12 or not _standalone(text, run.start(), run.end()):
            continue
        found = _card_in(text, run)
        if found is not None:
            spans.append(found)
    return spans


def _standalone(text: str, start: int, end: int) -> bool:
    """Not glued to letters or to a word by a dash or dot (ids, UUIDs, hex, file names),
    and not a phone number."""
    before = text[max(0, start - 2):start]
    after = text[end:end + 2]
    if before[-1:].isalnum() or before[-1:] in ("+", "_") or \
            (len(before) == 2 and before[1] in ".-_" and before[0].isalnum()):
        return False
    if after[:1].isalnum() or after[:1] == "_" or \
            (len(after) == 2 and after[0] in ".-_" and after[1].isalnum()):
        return False
    if _IBAN_START.search(text, max(0, start - 5), start):
        return False
    key = glued_key(text, start)   # a number glued to a key is that key's, unless a card's
    return key is None or _CUE.search(key) is not None


def _card_in(text: str, run: re.Match[str]) -> Span | None:
    """The card number the run is, or the longest one a stretch of its groups is (a card
    followed by its expiry date, a label's number before it)."""
    groups = [(m.start(), m.end()) for m in _DIGITS.finditer(run.group())]
    separators = _SEPARATOR.findall(run.group())
    sizes = [b - a for a, b in groups]
    best: Span | None = None
    for i in range(len(groups)):
        for j in range(min(len(groups), i + 5), i, -1):   # a card has at most 5 groups
            # A stretch must keep one separator, and be cut from the rest at a space.
            inner = separators[i:j - 1]
            if len(set(inner)) > 1 or (i > 0 and separators[i - 1] != " ") or \
                    (j < len(groups) and separators[j - 1] != " "):
                continue
            if not 12 <= sum(sizes[i:j]) <= 19:
                continue
            if not _SHAPES.fullmatch(",".join(map(str, sizes[i:j]))):
                continue
            start, end = run.start() + groups[i][0], run.start() + groups[j - 1][1]
            digits = _NOT_DIGIT.sub("", text[start:end])
            score = _score(text, start, end, digits)
            if score and (best is None or end - start > best.end - best.start):
                best = Span(start, end, "CREDIT_CARD", score)
    return best


def _score(text: str, start: int, end: int, digits: str) -> float:
    if not luhn_valid(digits) or len(set(digits)) == 1:
        return 0.0
    if labelled_identifier(text, start):   # "order 4111...", "Ref no. 4111..."
        return 0.0
    cued = _CUE.search(text, max(0, start - _CUE_WINDOW), start) is not None or \
        _CUE.search(text, end, end + _CUE_WINDOW) is not None
    if _known_iin(digits) and (cued or len(digits) <= 16 or len(digits) < end - start):
        return KNOWN_SCORE
    if len(digits) >= 13 and cued:
        return CUED_SCORE
    return 0.0


def _known_iin(digits: str) -> bool:
    for low, high, lengths in _RANGES:
        prefix = digits[:len(low)]
        if low <= prefix <= high and len(digits) in lengths:
            return True
    return False
