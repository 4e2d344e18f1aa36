"""Ordinary words and shapes that must never be taken for a person or a place.

The small NER model reads many capitalised tech and product names as people (Jira,
Django, Grafana), and identifiers or versions as anything. A finding of a "soft" entity
type (PERSON, LOCATION, ORGANIZATION, NRP) is dropped when it is ordinary:
- every word of it is a known common term (calendar words, tech and product names);
- it looks like an identifier or a version (`test_signup`, `v2.3.1`, `Node.js`);
- it runs over a line break (a name does not);
- every word is a frequent English word and none is a known given name (`Agenda`).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from .spans import Span
from .words import is_given_name, zipf

SOFT_ENTITIES = frozenset({"PERSON", "LOCATION", "ORGANIZATION", "NRP"})
_IDENTIFIER = re.compile(r"[_@/\\=<>{}\[\]]|\w\.\w|\d|[a-z][A-Z]{2,}")
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019.\-][^\W\d_]+)*")


@cache
def common_terms() -> frozenset[str]:
    text = (resources.files("proxy.detect") / "data" / "common_terms.txt").read_text("utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def is_ordinary(text: str) -> bool:
    stripped = text.strip()
    if not stripped or "\n" in stripped or _IDENTIFIER.search(stripped):
        return True
    if stripped.casefold() in common_terms():
        return True
    words = _WORD.findall(stripped)
    if not words:
        return True
    if all(w.casefold() in common_terms() for w in words):
        return True
    return all(zipf(w) >= 4.5 and not is_given_name(w) for w in words)


def drop_ordinary(text: str, spans: list[Span]) -> list[Span]:
    return [s for s in spans
            if s.entity not in SOFT_ENTITIES or not is_ordinary(text[s.start:s.end])]
