"""`aliasgate audit find --value V PATH`: was this value sent, when, and where to?

The log holds keyed fingerprints of the values it replaced, never the values. The same
fingerprint is computed for the query, whole and for each word of it (a surname found on
its own), and every record holding one is reported.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .files import files_of
from .values import parts, value_fingerprint


def find(path: Path, key: bytes, value: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(how it matched: "whole" or "part", record) for every record holding the value."""
    whole = value_fingerprint(key, value)
    by_part = {value_fingerprint(key, p) for p in parts(value)} - {whole}
    for file in files_of(path):
        for line in file.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            held = set(record.get("values") or [])
            if whole in held:
                yield "whole", record
            elif by_part & held:
                yield "part", record
