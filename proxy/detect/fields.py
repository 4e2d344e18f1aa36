"""A JSON string under a key that names a person, a place or an address
(`"last_name": "Featherstone"`, `"city": "Hope"`, `"street": "Kirkegade 5"`) is a finding
of that type: the detector reads each value on its own and never sees the key, and a
short value alone (a small town, a surname) says too little.

`name` alone is a person only outside tool and function definitions and calls, where
it names the tool.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from ..formats.extraction import KeySlot, TextSlot
from .spans import Span

_KEYS = {
    "PERSON": frozenset({
        "name", "fullname", "firstname", "lastname", "givenname", "familyname", "surname",
        "middlename", "displayname", "customer", "customername", "patient", "patientname",
        "contact", "contactname", "author", "owner", "assignee", "employee", "employeename",
        "recipient", "recipientname", "sender", "sendername", "username", "user", "attendee",
    }),
    "LOCATION": frozenset({
        # not "state" or "region": {"state": "open"}, {"region": "eu-west"}
        "city", "town", "village", "locality", "municipality", "hometown", "birthplace",
        "placeofbirth", "county", "province", "country",
    }),
    "STREET_ADDRESS": frozenset({
        "address", "streetaddress", "street", "address1", "address2", "addressline1",
        "addressline2", "homeaddress", "mailingaddress", "postaladdress",
        "billingaddress", "shippingaddress", "postcode", "postalcode", "zip", "zipcode",
    }),
}
_TOOL_KEYS = frozenset({"type", "parameters", "input_schema", "arguments", "input",
                        "description", "function"})
# A name or a place: words, no digits. An address may hold digits and punctuation.
_VALUE = {"PERSON": re.compile(r"[^\W\d_]+(?:[-' .][^\W\d_]+){0,4}\.?"),
          "LOCATION": re.compile(r"[^\W\d_]+(?:[-' .,]+[^\W\d_]+){0,5}\.?"),
          "STREET_ADDRESS": re.compile(r"(?=.*\w)[\w .,'/#\n-]+")}
SCORE = 0.85


def _entity(key: str) -> str | None:
    folded = re.sub(r"[\W_]", "", key).casefold()
    return next((entity for entity, keys in _KEYS.items() if folded in keys), None)


def key_field(slot: TextSlot | KeySlot, text: str, wanted: Collection[str]) -> list[Span]:
    """The whole value of a person, place or address field, typed by its key."""
    if not isinstance(slot, TextSlot) or not isinstance(slot.container, dict) \
            or not isinstance(slot.key, str):
        return []
    entity = _entity(slot.key)
    if entity is None or entity not in wanted or \
            (slot.key == "name" and _TOOL_KEYS & set(slot.container)):
        return []
    value = text.strip()
    if not value or len(value) > 120 or not _VALUE[entity].fullmatch(value):
        return []
    start = text.index(value)
    return [Span(start, start + len(value), entity, SCORE)]
