"""Recognizers aliasgate adds to Presidio's, for values it misses in chat text.

- Email addresses with any domain (Presidio drops those whose suffix tldextract does not
  know, such as internal `corp.local` domains).
- Phone numbers in any country's format, including numbers outside the numbering plan
  and test ranges: a leaked test number is harmless, a missed real one is not.
- US social security numbers written without dashes, when "SSN" is said nearby.
- IBANs of every country, checked by their mod-97 checksum.
"""

from __future__ import annotations

import re

from phonenumbers import Leniency, PhoneNumberMatcher

from .recognizers import PatternRule
from .spans import Span

EMAIL = PatternRule("EMAIL_ADDRESS", r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", 0.9)
SSN_WITHOUT_DASHES = PatternRule(
    "US_SSN", r"(?<!\d)(?!000|666|9\d\d)\d{3}[ ]?(?!00)\d{2}[ ]?(?!0000)\d{4}(?!\d)", 0.3,
    context=("ssn", "social security", "social-security", "ss#", "social security number"),
    context_boost=0.5)
IBAN = PatternRule("IBAN_CODE", r"(?<![A-Z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}"
                   r"(?:[ ]?[A-Z0-9]{1,4})?(?![A-Z0-9])", 0.9, validator="iban")
BUILTIN_RULES = (EMAIL, SSN_WITHOUT_DASHES, IBAN)

_PHONE_CONTEXT = re.compile(r"(?<!\w)(phone|tel|telephone|mobile|cell|call|number|contact|"
                            r"whatsapp|fax|reach|text)(?!\w)", re.IGNORECASE)
_NOT_A_PHONE = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d+(\.\d+)+$|^\d{1,3}(,\d{3})+(\.\d+)?$")
_GROUPED = re.compile(r"[()\s-]")
_INTERNATIONAL = 0.8


# Seven or more digits with phone punctuation between them: only such stretches can hold a
# phone number, so the (slow) matcher reads only those.
_DIGIT_RUN = re.compile(r"\+?\(?\d(?:[\d \t().\-/]*\d){6,}\)?")


def phone_numbers(text: str) -> list[Span]:
    spans: dict[tuple[int, int], Span] = {}
    for run in _DIGIT_RUN.finditer(text):
        for span in _phones_in(text, run.start(), run.end()):
            spans[(span.start, span.end)] = span
    return list(spans.values())


def _phones_in(text: str, run_start: int, run_end: int) -> list[Span]:
    """Phone numbers in and around a run of digits; context is looked for in the whole
    text. Each region's matcher reads national formats its own way. Once a number in
    international form with the top score covers the whole run, no region can add to it."""
    begin, end = max(0, run_start - 1), run_end + 1
    spans: list[Span] = []
    for region in ("US", "GB", "DE", "IN"):
        if any(s.start <= run_start and s.end >= run_end and s.score == _INTERNATIONAL
               for s in spans):
            break
        for found in PhoneNumberMatcher(text[begin:end], region, leniency=Leniency.POSSIBLE):
            start, stop, raw = found.start + begin, found.end + begin, found.raw_string
            digits = sum(c.isdigit() for c in raw)
            if _NOT_A_PHONE.match(raw) or digits < 7:
                continue
            if raw.startswith("+") and digits >= 8:
                score = _INTERNATIONAL
            elif digits >= 10 and _GROUPED.search(raw):
                score = 0.75
            elif _PHONE_CONTEXT.search(text, max(0, start - 40), start):
                score = 0.7
            else:
                continue
            spans.append(Span(start, stop, "PHONE_NUMBER", score))
    return spans
