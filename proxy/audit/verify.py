"""`aliasgate audit verify PATH`: is the log intact and complete?

Walks every record in chain order and checks each against the one before it, then the
last one against the head file. Names the first bad record. Detects edited, deleted and
reordered records, and a cut-off tail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .chain import START, Link, check, read_head
from .files import CURRENT_NAME, HEAD_NAME, files_of


@dataclass
class Verdict:
    records: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(path: Path, key: bytes) -> Verdict:
    verdict = Verdict()
    files = files_of(path)
    head_path = (path if path.is_dir() else path.parent) / HEAD_NAME
    if not files:
        verdict.problems.append(f"{path}: no audit log here")
        return verdict
    whole = path.is_dir()
    link: Link | None = START if whole else None
    for file in files:
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{file}:{number}"
            try:
                record = json.loads(line)
            except ValueError:
                verdict.problems.append(f"{where}: not a JSON record")
                return verdict
            if link is None:  # one file on its own: it may start mid-chain
                link = Link(int(record.get("seq", 1)) - 1, str(record.get("prev")))
            problem = check(key, record, link)
            if problem:
                verdict.problems.append(f"{where} (record {record.get('seq')}): {problem}")
                return verdict
            link = Link(int(record["seq"]), str(record["mac"]))
            verdict.records += 1
    if whole or files[-1].name == CURRENT_NAME:
        _check_tail(head_path, key, link or START, verdict)
    return verdict


def _check_tail(head_path: Path, key: bytes, last: Link, verdict: Verdict) -> None:
    if not head_path.exists():
        verdict.problems.append(f"{head_path}: the head file is missing, so a cut-off tail "
                                "cannot be ruled out")
        return
    try:
        head = read_head(key, head_path.read_text(encoding="utf-8"))
    except (ValueError, KeyError) as exc:
        verdict.problems.append(f"{head_path}: {exc}")
        return
    if head.seq > last.seq:
        verdict.problems.append(f"the log ends at record {last.seq} but the head says "
                                f"{head.seq}: records {last.seq + 1} to {head.seq} were cut off")
    elif head != last:
        verdict.problems.append(f"the head says record {head.seq} but the log ends at record "
                                f"{last.seq} with another MAC")
