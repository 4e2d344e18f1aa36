"""One regular expression for many literal strings, factored by common prefixes.

Python's `re` tries the branches of `a|b|c` one by one at every position, so a plain
alternation of thousands of values costs thousands of tries per character. Factored as a
trie (`ab(?:c|d)`), each position costs about one walk down the trie.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any


def trie_pattern(strings: Iterable[str], space: str | None = None) -> str:
    """A pattern matching any of the strings, the longest when several match. `space`,
    when given, is what a space in a string matches (`[ \t]?`: `p.o. box` or `p.o.box`)."""
    root: dict[str, Any] = {}
    for text in strings:
        node = root
        for char in text:
            node = node.setdefault(char, {})
        node[""] = {}
    return _render(root, space)


def _render(node: dict[str, Any], space: str | None) -> str:
    branches = [(space if char == " " and space is not None else re.escape(char))
                + _render(child, space) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body
