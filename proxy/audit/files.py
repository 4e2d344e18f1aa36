"""Where the log's files are, in chain order, and the last link they hold."""

from __future__ import annotations

import json
from pathlib import Path

from .chain import START, Link

CURRENT_NAME = "audit.jsonl"
HEAD_NAME = "audit.head.json"


def log_files(folder: Path) -> list[Path]:
    """Rotated files oldest first (their names sort by time), then the current file."""
    rotated = sorted(folder.glob("audit-*.jsonl"))
    current = folder / CURRENT_NAME
    return rotated + ([current] if current.exists() else [])


def files_of(path: Path) -> list[Path]:
    """What an auditor's command reads: the whole log for a directory, else that file."""
    return log_files(path) if path.is_dir() else [path]


def last_link(files: list[Path]) -> Link:
    for path in reversed(files):
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line]
        if lines:
            record = json.loads(lines[-1])
            return Link(int(record["seq"]), str(record["mac"]))
    return START
