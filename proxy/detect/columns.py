"""Values typed by their column: the cells of a pasted table (CSV, TSV, `;` or `|`
separated) under a header that names what they hold (`name,phone_number,city`).

A cell alone says too little (`98112848`, `Hope`, `Larsenjordet 3`); its header says what
it is. Rows count while they have the header's number of cells; quoted cells may hold the
separator. Each cell must still have its type's shape (field_names.fits).
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
