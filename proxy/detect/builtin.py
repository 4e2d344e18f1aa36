"""Recognizers aliasgate adds to Presidio's, for values it misses in chat text.

- Email addresses with any domain (Presidio drops those whose suffix tldextract does not
  know, such as internal `corp.local` domains).
- US social security numbers written without dashes, when "SSN" is said nearby.
- IBANs of every country, checked by their mod-97 checksum.

Phone numbers (phones.py) and card numbers (cards.py) are not patterns: they need the
numbering plans and the issuers' ranges.
"""

from __future__ import annotations

from .recognizers import PatternRule

EMAIL = PatternRule("EMAIL_ADDRESS", r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", 0.9)
SSN_WITHOUT_DASHES = PatternRule(
    "US_SSN", r"(?<!\d)(?!000|666|9\d\d)\d{3}[ ]?(?!00)\d{2}[ ]?(?!0000)\d{4}(?!\d)", 0.3,
    context=("ssn", "social security", "social-security", "ss#", "social security number"),
    context_boost=0.5)
IBAN = PatternRule("IBAN_CODE", r"(?<![A-Z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}"
                   r"(?:[ ]?[A-Z0-9]{1,4})?(?![A-Z0-9])", 0.9, validator="iban")
BUILTIN_RULES = (EMAIL, SSN_WITHOUT_DASHES, IBAN)
