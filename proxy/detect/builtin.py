"""Recognizers aliasgate adds to Presidio's, for values it misses in chat text.

- Email addresses with any domain (Presidio drops those whose suffix tldextract does not
  know, such as internal `corp.local` domains).
- Phone numbers in any country's format, including numbers outside the numbering plan
  and test ranges: a leaked test number is harmless, a missed real one is not
  (phones.py).
- US social security numbers written without dashes, when "SSN" is said nearby.
- IBANs of every country, checked by their mod-97 checksum.

Phone numbers are found by phones.py (not a pattern: they need the numbering plans).
"""

from __future__ import annotations

from .phones import phone_numbers
from .recognizers import PatternRule

__all__ = ["BUILTIN_RULES", "phone_numbers"]

EMAIL = PatternRule("EMAIL_ADDRESS", r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", 0.9)
SSN_WITHOUT_DASHES = PatternRule(
    "US_SSN", r"(?<!\d)(?!000|666|9\d\d)\d{3}[ ]?(?!00)\d{2}[ ]?(?!0000)\d{4}(?!\d)", 0.3,
    context=("ssn", "social security", "social-security", "ss#", "social security number"),
    context_boost=0.5)
IBAN = PatternRule("IBAN_CODE", r"(?<![A-Z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}"
                   r"(?:[ ]?[A-Z0-9]{1,4})?(?![A-Z0-9])", 0.9, validator="iban")
BUILTIN_RULES = (EMAIL, SSN_WITHOUT_DASHES, IBAN)
