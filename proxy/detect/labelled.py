"""Values typed by the label beside them, in pasted text:
- `key: value` lines (YAML, forms, logs), `"key": "value"` (JSON in a message) and
  `key=value` (logfmt, query strings), where the key names what the value is
  (`postcode: 10993`, `"phone_number": "98112848"`, `billing_city=Hope`);
- lines of "label value" pairs typed without colons ("name ana horvat, phone number
  091 234 5678, city zadar"), when two or more labels on the line name personal data;
- the cells of a pasted table (CSV, TSV, `;` or `|` separated) under a header that names
  what they hold (`name,phone_number,city`). Rows count while they have the header's
  number of cells; quoted cells may hold the separator.

A value alone says too little (`98112848`, `Hope`, `Larsenjordet 3`); its label says what
it is. Each value must still have its type's shape (field_names.fits). Keys are those of
field_names.py, as for JSON fields (fields.py).
"""

from __future__ import annotations

import re

from .field_names import entity_for, fits
from .spans import Span

SCORE = 0.85
_SEPARATORS = (",", "\t", ";", "|")
_LABEL = re.compile(r"[ \t]*[\"']?[\w#/()-]+(?: [\w#/()-]+){0,3}[\"']?[ \t]*")


def _cells(line: str, separator: str) -> list[tuple[int, int]]:
    """(start, end) of each cell of a line, quotes respected."""
    cells, start, quoted = [], 0, False
    for i, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            cells.append((start, i))
            start = i + 1
    cells.append((start, len(line)))
    return cells


def _header(line: str) -> tuple[str, dict[int, str], int] | None:
    """(separator, entity type by column, cell count) when the line heads a table with at
    least one column that names personal data. Header cells are short labels, not prose."""
    for separator in _SEPARATORS:
        if separator not in line:
            continue
        cells = _cells(line, separator)
        if any(not _LABEL.fullmatch(line[a:b]) for a, b in cells):
            continue
        typed = {i: entity for i, (a, b) in enumerate(cells)
                 if (entity := entity_for(line[a:b].strip().strip("\"'"))) is not None}
        if typed:
            return separator, typed, len(cells)
    return None


# `key: value` on a line of its own (a list dash allowed), `"key": "value"` anywhere, and
# `key=value` up to a separator. Keys are words joined by spaces, `_` or `-`. `_` is a
# word character already; as a separator too it made `a_b_c_...=` backtrack cubically.
_KEY = r"[^\W\d_][\w-]*+(?: [\w-]++){0,3}"
_KEYED = re.compile(
    rf"(?m)^[ \t]*(?:[-*][ \t]+)?(?P<line_key>{_KEY})[ \t]*:[ \t]*(?P<line_value>[^\n]+?)[ \t]*$"
    rf"|[\"'](?P<quoted_key>{_KEY})[\"'][ \t]*:[ \t]*[\"'](?P<quoted_value>[^\"'\n]+)[\"']"
    rf"|(?<![\w-])(?P<eq_key>{_KEY})=(?P<eq_value>[^\s&,;\"']+)")


# A line of comma-separated "label value" pairs, as typed in chat without colons:
# "name ana horvat, phone number 091 234 5678, city zadar".
_PAIR = re.compile(r"[^,\n]+")
_PAIR_KEY = re.compile(r"[ \t]*([^\W\d_]+(?:[ _][^\W\d_]+){0,2})[ \t]+(?=\S)")


def _spoken_pairs(text: str) -> list[Span]:
    """Values of a line made of two or more "label value" pairs split by commas."""
    spans: list[Span] = []
    for line in re.finditer(r"[^\n]*,[^\n]*", text):
        found = []
        pairs = list(_PAIR.finditer(line.group()))
        for pair in pairs:
            key = _PAIR_KEY.match(pair.group())
            if key is None:
                continue
            words = key.group(1).split()
            # the longest label first: "credit card number", then "credit card"...
            for size in range(len(words), 0, -1):
                entity = entity_for(" ".join(words[:size]))
                if entity is None:
                    continue
                label_end = pair.group().index(words[size - 1], key.start(1)) + len(
                    words[size - 1])
                value = pair.group()[label_end:].strip()
                if fits(entity, value):
                    start = line.start() + pair.start() + pair.group().index(value, label_end)
                    found.append(Span(start, start + len(value), entity, SCORE))
                break
        if len(found) >= 2 and 2 * len(found) >= len(pairs):   # a record, not prose
            spans += found
    return spans


def labelled_values(text: str) -> list[Span]:
    """Values of `key: value`, `"key": "value"` and `key=value` pairs, of lines of
    "label value" pairs, and table cells."""
    spans = table_columns(text) + (_spoken_pairs(text) if "," in text else [])
    if ":" not in text and "=" not in text:
        return spans
    for match in _KEYED.finditer(text):
        kind = match.lastgroup.rsplit("_", 1)[0] if match.lastgroup else ""
        entity = entity_for(match.group(f"{kind}_key"))
        value = match.group(f"{kind}_value").strip().strip("\"'").strip()
        if entity is None or not fits(entity, value):
            continue
        start = match.start(f"{kind}_value") + match.group(f"{kind}_value").index(value)
        spans.append(Span(start, start + len(value), entity, SCORE))
    return spans


def table_columns(text: str) -> list[Span]:
    if "\n" not in text:
        return []
    spans: list[Span] = []
    table: tuple[str, dict[int, str], int] | None = None
    offset = 0
    for line in text.split("\n"):
        row = _cells(line, table[0]) if table is not None else []
        if table is not None and len(row) == table[2]:
            for index, entity in table[1].items():
                start, end = row[index]
                cell = line[start:end]
                value = cell.strip().strip('"').strip()
                if value and fits(entity, value):
                    begin = offset + start + cell.index(value)
                    spans.append(Span(begin, begin + len(value), entity, SCORE))
        else:
            table = _header(line)
        offset += len(line) + 1
    return spans
