"""Word knowledge for the name heuristics: given names and surnames from public lists (see
tools/build_names.py), and how common a word is in English."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from wordfreq import zipf_frequency

# A word of a name: letters, joined by apostrophes or hyphens (O'Brien, El-Sayed).
NAME_WORD = re.compile(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*")
# A word of a place or a term, where dots join too (St. Louis, Node.js).
WORD = re.compile(r"[^\W\d_]+(?:['\u2019.\-][^\W\d_]+)*")
# How much more common in English than as a name a word may be and still read as a name
# on its own: Henrietta (name 2.2, English 3.1) is one, Nike (1.6, 3.9) is not.
NAME_MARGIN = 1.0
# Under this English frequency a listed name reads as a name whatever its score.
RARE_WORD = 3.0
# The score of a name written by hand that no public list has.
CHOSEN_SCORE = 2.0


@dataclass(frozen=True)
class Lexicon:
    """Names with their score (log10 of bearers per million people), the ones that are
    also ordinary English words (will, rose, smith) and the ones chosen by hand."""
    scores: dict[str, float]
    words: frozenset[str]
    chosen: frozenset[str]

    def score(self, word: str) -> float | None:
        return self.scores.get(word.casefold())

    def distinct(self, word: str) -> bool:
        """Listed, not an ordinary English word, and common enough as a name for how
        common it is as a word."""
        key = word.casefold()
        score = self.scores.get(key)
        if score is None:
            return False
        if key in self.chosen:
            return True
        return key not in self.words and zipf(key) < max(RARE_WORD, score + NAME_MARGIN)

    def distinct_in_lower_case(self, word: str) -> bool:
        """Listed, not an ordinary English word, and rarer as a word than as a name: a
        name even written in lower case (ana, petar; not grace, john, will)."""
        key = word.casefold()
        score = self.scores.get(key)
        return score is not None and key not in self.words and \
            zipf(key) < max(RARE_WORD, score)


def _load(name: str) -> Lexicon:
    text = (resources.files("proxy.detect") / "data" / name).read_text("utf-8")
    scores: dict[str, float] = {}
    words: set[str] = set()
    chosen: set[str] = set()
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        head, _, names = line.partition(":")
        score, *mark = head.split()
        group = names.split()
        scores.update(dict.fromkeys(group, float(score)))
        if mark and "w" in mark[0]:
            words.update(group)
        if mark and "s" in mark[0]:
            chosen.update(group)
    return Lexicon(scores, frozenset(words), frozenset(chosen))


@cache
def given_names() -> Lexicon:
    """The built lexicon (given_names_lexicon.txt), and the names written by hand
    (given_names.txt), which always count as chosen."""
    lexicon = _load("given_names_lexicon.txt")
    text = (resources.files("proxy.detect") / "data" / "given_names.txt").read_text("utf-8")
    chosen = {word.casefold() for line in text.splitlines() if not line.startswith("#")
              for word in line.split()}
    scores = {**dict.fromkeys(chosen, CHOSEN_SCORE), **lexicon.scores}
    return Lexicon(scores, lexicon.words, lexicon.chosen | chosen)


@cache
def surnames() -> Lexicon:
    return _load("surnames.txt")


def is_given_name(word: str) -> bool:
    """A listed given name that reads as a name on its own (Inna, Petar, Mark), not an
    ordinary word that is also a name somewhere (Will, Rose) nor a brand (Nike). In
    capitals only a name written by hand (JOHN, not the acronyms NINO, EEA)."""
    if len(word) > 1 and word.isupper() and word.casefold() not in given_names().chosen:
        return False
    return given_names().distinct(word)


def is_lower_case_name(word: str) -> bool:
    """A given name that reads as one even in lower case (ana, petar, venkatesh)."""
    return given_names().distinct_in_lower_case(word)


def is_word_name(word: str) -> bool:
    """A given name that is also an ordinary English word (Will, Rose, Guy): a name only
    where the context says person."""
    return word.casefold() in given_names().words and word.casefold() not in \
        given_names().chosen


def is_surname(word: str) -> bool:
    """A listed surname that reads as a name on its own (Kowalski, Nguyen), not an ordinary
    word (Smith, Brown, Public)."""
    return surnames().distinct(word)


def is_listed_surname(word: str) -> bool:
    """A listed surname that is no ordinary English word, however often English text
    mentions it (Tanaka): enough beside a given name."""
    key = word.casefold()
    return key in surnames().scores and key not in surnames().words


def warm_up_word_frequencies() -> None:
    """Load what propagation reads in the gateway process (the common terms and word
    frequencies), rather than inside the first request; not the name lexicons, which only
    the detection workers read (about 27 MB each)."""
    from .terms import common_terms

    common_terms()
    zipf("warm")


def warm_up() -> None:
    """Load the word lists and name lexicons now (a few hundred ms) rather than inside the
    first request."""
    warm_up_word_frequencies()
    given_names()
    surnames()


@cache
def zipf(word: str) -> float:
    """How common an English word is: 7 for "the", 4 for "grace", under 3 for rare words."""
    return float(zipf_frequency(word.casefold(), "en"))
