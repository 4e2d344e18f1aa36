"""Numbers that name a thing, not a person: an order, an invoice, a ticket, a build.

Card and phone recognizers ask two questions here before they take a run of digits:
- is it labelled as an identifier right before it ("order 4111...", "Invoice no. 0612...",
  "Ticket #0171...")? The label must sit right before the number: "Customer Jane Doe
  +1 415 555 2671" or "Booking for Ana, +385 91 234 5678" are phone numbers;
- is it glued to a key (`id=`, `ref:`, `/orders/`), where it is part of that key's value?
"""

from __future__ import annotations

import re

# Words that label the number right after them as an identifier (in the languages the
# phone and card recognizers know). Person nouns (customer, member) are not among them.
_LABEL = re.compile(
    r"(?i)(?<![^\W\d_])(?:order|invoice|inv|ticket|case|ref|reference|tracking|shipment|"
    r"parcel|account|acct|sku|serial|transaction|txn|id|build|request|session|trace|"
    r"policy|claim|isbn|receipt|booking|confirmation|reservation|pnr|po|imei|iban|uuid|"
    r"version|bestellung|rechnung|auftrag|kundennummer|commande|facture|pedido|factura|"
    r"ordine|fattura|bestelling|factuur|zam[oó]wienie|faktura|ordre)s?"
    r"(?:[ \t]*(?:no|nr|num|number|nummer|id|code)\.?)?[ \t]*[:#.\-]?[ \t]*#?$")
_LABEL_REACH = 40
# A key glued to the number (`id=`, `ref:`, `#`, `/orders/`, `@`).
_GLUED_KEY = re.compile(r"([^\W\d_]\w*|)[=:#/@]$")


def labelled_identifier(text: str, start: int) -> bool:
    """An identifier label ends right before `start` (on the same line)."""
    window = max(0, start - _LABEL_REACH, text.rfind("\n", 0, start) + 1)
    return _LABEL.search(text, window, start) is not None


def glued_key(text: str, start: int) -> str | None:
    """The key the number at `start` is glued to (`id` in `id=123`, "" after `#` or `/`),
    or None when it stands free."""
    match = _GLUED_KEY.search(text, max(0, start - 30), start)
    return None if match is None else match.group(1)
