"""A JSON string under a key that names a person, a place, an address or a contact detail
(`"last_name": "Featherstone"`, `"city": "Hope"`, `"phone": "98112848"`) is a finding of
that type: the detector reads each value on its own and never sees the key, and a short
value alone (a small town, a surname, eight digits) says too little.

`name` alone is a person only outside tool and function definitions and calls, where
it names the tool.
"""

from __future__ import annotations

from collections.abc import Collection

from ..formats.extraction import KeySlot, TextSlot
from .field_names import entity_for, fits
from .spans import Span

_TOOL_KEYS = frozenset({"type", "parameters", "input_schema", "arguments", "input",
                        "description", "function"})
SCORE = 0.85


def key_field(slot: TextSlot | KeySlot, text: str, wanted: Collection[str]) -> list[Span]:
    """The whole value of a field whose key names its entity type."""
    if not isinstance(slot, TextSlot) or not isinstance(slot.container, dict) \
            or not isinstance(slot.key, str):
        return []
    entity = entity_for(slot.key)
    if entity is None or entity not in wanted or \
            (slot.key == "name" and _TOOL_KEYS & set(slot.container)):
        return []
    value = text.strip()
    if not fits(entity, value):
        return []
    start = text.index(value)
    return [Span(start, start + len(value), entity, SCORE)]
