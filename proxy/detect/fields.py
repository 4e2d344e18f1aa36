"""A JSON string under a key that names a person (`"last_name": "Featherstone"`) is a
PERSON finding: the detector reads each value on its own and never sees the key.

`name` alone is a person only outside tool and function definitions and calls, where
it names the tool.
"""

from __future__ import annotations

import re

from ..formats.extraction import KeySlot, TextSlot
from .spans import Span

_NAME_KEYS = frozenset({
    "name", "fullname", "firstname", "lastname", "givenname", "familyname", "surname",
    "middlename", "displayname", "customer", "customername", "patient", "patientname",
    "contact", "contactname", "author", "owner", "assignee", "employee", "employeename",
    "recipient", "recipientname", "sender", "sendername", "username", "user", "attendee",
})
_TOOL_KEYS = frozenset({"type", "parameters", "input_schema", "arguments", "input",
                        "description", "function"})
_NAME_VALUE = re.compile(r"[^\W\d_]+(?:[-' .][^\W\d_]+){0,4}\.?")
SCORE = 0.85


def name_field(slot: TextSlot | KeySlot, text: str) -> list[Span]:
    if not isinstance(slot, TextSlot) or not isinstance(slot.container, dict) \
            or not isinstance(slot.key, str):
        return []
    key = re.sub(r"[\W_]", "", slot.key).casefold()
    if key not in _NAME_KEYS or (key == "name" and _TOOL_KEYS & set(slot.container)):
        return []
    value = text.strip()
    if not value or len(value) > 80 or not _NAME_VALUE.fullmatch(value):
        return []
    start = text.index(value)
    return [Span(start, start + len(value), "PERSON", SCORE)]
