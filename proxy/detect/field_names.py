"""Field and column names that say what their value is: `last_name`, `City`, `phone_number`,
`Credit Card Number`. Shared by JSON fields (fields.py) and labelled values in text (labelled.py).

A name is compared without case, spaces, dashes and underscores, with a common prefix
dropped (`billing_city`, `customer_phone`, `home_address`).
"""

from __future__ import annotations

import re

KEYS = {
    "PERSON": frozenset({
        "name", "fullname", "firstname", "lastname", "givenname", "familyname", "surname",
        "middlename", "displayname", "customer", "customername", "patient", "patientname",
        "contact", "contactname", "author", "owner", "assignee", "employee", "employeename",
        "recipient", "recipientname", "sender", "sendername", "username", "user", "attendee",
        "cardholder", "cardholdername", "nameoncard",
    }),
    "LOCATION": frozenset({
        # not "state" or "region": {"state": "open"}, {"region": "eu-west"}
        "city", "town", "village", "locality", "municipality", "hometown", "birthplace",
        "placeofbirth", "county", "province", "country", "cityname", "townname",
    }),
    "STREET_ADDRESS": frozenset({
        "address", "streetaddress", "street", "address1", "address2", "addressline1",
        "addressline2", "postaladdress", "mailingaddress", "postcode", "postalcode", "zip",
        "zipcode", "plz", "cep", "eircode",
    }),
    "PHONE_NUMBER": frozenset({
        "phone", "phonenumber", "phoneno", "telephone", "tel", "mobile", "mobilenumber",
        "mobilephone", "cell", "cellphone", "fax", "faxnumber", "msisdn", "telefon", "handy",
    }),
    "CREDIT_CARD": frozenset({
        "creditcard", "creditcardnumber", "cardnumber", "cardno", "cc", "ccnumber", "ccnum",
        "pan",
    }),
    "US_SSN": frozenset({"ssn", "socialsecuritynumber"}),
    "IBAN_CODE": frozenset({"iban", "ibancode"}),
    "EMAIL_ADDRESS": frozenset({"email", "emailaddress", "mail", "mailaddress"}),
    "IP_ADDRESS": frozenset({"ip", "ipaddress", "ipv4", "ipv6", "clientip", "remoteaddr"}),
}
_NOT_LETTER = re.compile(r"[\W_]")
_BY_NAME = {name: entity for entity, names in KEYS.items() for name in names}
_PREFIX = re.compile(r"^(?:billing|shipping|home|work|office|mailing|primary|customer|"
                     r"contact|patient|user|client|holder|private|personal)(?=.)")


def entity_for(field: str) -> str | None:
    """The entity type a field or column of this name holds, if it names one."""
    folded = _NOT_LETTER.sub("", field).casefold()
    entity = _BY_NAME.get(folded)
    if entity is None:
        entity = _BY_NAME.get(_PREFIX.sub("", folded))
    return entity


_LETTERS = r"[^\W\d_]+"
_SHAPES = {
    "PERSON": re.compile(rf"{_LETTERS}(?:[-' .,]+{_LETTERS}){{0,4}}\.?"),
    "LOCATION": re.compile(rf"{_LETTERS}(?:[-' .,()]+{_LETTERS}){{0,5}}\.?"),
    "STREET_ADDRESS": re.compile(r"(?=[^\n]*\w)[\w .,'/#()\n-]+"),
    "PHONE_NUMBER": re.compile(r"\+?[\d ()./-]+(?:(?:x|ext\.?) ?\d{1,6})?"),
    "CREDIT_CARD": re.compile(r"\d[\d .-]{10,24}\d"),
    "US_SSN": re.compile(r"\d{3}[- ]?\d{2}[- ]?\d{4}"),
    "IBAN_CODE": re.compile(r"[A-Za-z]{2}\d{2}[A-Za-z0-9 ]{10,40}"),
    "EMAIL_ADDRESS": re.compile(r"\S+@\S+"),
    "IP_ADDRESS": re.compile(r"(?=.*\d)(?=.*[.:])[0-9A-Fa-f.:]{3,45}"),
}
_DIGITS = {"PHONE_NUMBER": (6, 17), "CREDIT_CARD": (12, 19)}


def fits(entity: str, value: str) -> bool:
    """Whether a field's value has the shape of its entity type (a `city` field holding
    `n/a` or a `phone` field holding `yes` is no finding)."""
    if not value or len(value) > 120 or not _SHAPES[entity].fullmatch(value):
        return False
    if entity in _DIGITS:
        low, high = _DIGITS[entity]
        count = sum(c.isdigit() for c in value)
        if not low <= count <= high:
            return False
    return value.casefold() not in _PLACEHOLDERS


_PLACEHOLDERS = frozenset({"n/a", "na", "none", "null", "unknown", "tbd", "-", "redacted",
                           "test", "example", "anonymous", "true", "false", "yes", "no"})
