"""Word knowledge for the name heuristics: given names, and how common a word is."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from wordfreq import zipf_frequency

# A word of a name: letters, joined by apostrophes or hyphens (O'Brien, El-Sayed).
NAME_WORD = re.compile(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*")
# A word of a place or a term, where dots join too (St. Louis, Node.js).
WORD = re.compile(r"[^\W\d_]+(?:['\u2019.\-][^\W\d_]+)*")


@cache
def given_names() -> frozenset[str]:
    text = (resources.files("proxy.detect") / "data" / "given_names.txt").read_text("utf-8")
    return frozenset(word.casefold() for line in text.splitlines()
                     if not line.startswith("#") for word in line.split())


def is_given_name(word: str) -> bool:
    return word.casefold() in given_names()


def warm_up() -> None:
    """Load the word lists now (a few hundred ms) rather than inside the first request."""
    from .terms import common_terms

    given_names()
    common_terms()
    zipf("warm")


@cache
def zipf(word: str) -> float:
    """How common an English word is: 7 for "the", 4 for "grace", under 3 for rare words."""
    return float(zipf_frequency(word.casefold(), "en"))
