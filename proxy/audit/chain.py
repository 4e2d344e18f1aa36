"""Tamper evidence: every record carries an HMAC over itself and the previous record's
MAC, and a sequence number. A head file beside the log holds the last sequence number and
MAC, itself under an HMAC, so a cut-off tail shows too.

    seq  = previous seq + 1                     (across rotated files)
    prev = previous record's mac                ("0" * 64 for the first record)
    mac  = HMAC-SHA256(chain key, prev + "\\n" + canonical JSON of the record without mac)
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from .record import canonical

GENESIS = "0" * 64


@dataclass(frozen=True)
class Link:
    seq: int
    mac: str


START = Link(0, GENESIS)


def seal(key: bytes, data: dict[str, Any], previous: Link) -> dict[str, Any]:
    """The record as written: with seq, prev and mac."""
    sealed = {**data, "seq": previous.seq + 1, "prev": previous.mac}
    sealed["mac"] = _mac(key, previous.mac, sealed)
    return sealed


def _mac(key: bytes, prev: str, record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "mac"}
    return hmac.new(key, f"{prev}\n{canonical(body)}".encode(), hashlib.sha256).hexdigest()


def check(key: bytes, record: dict[str, Any], previous: Link) -> str | None:
    """Why this record does not follow `previous`, or None when it does."""
    if record.get("seq") != previous.seq + 1:
        return f"sequence {record.get('seq')} where {previous.seq + 1} was expected " \
               "(a record was deleted or moved)"
    if record.get("prev") != previous.mac:
        return "it does not chain to the record before it (deleted or reordered records)"
    if not hmac.compare_digest(str(record.get("mac")), _mac(key, previous.mac, record)):
        return "its MAC does not match its content (the record was edited)"
    return None


def head_json(key: bytes, link: Link) -> str:
    head = {"seq": link.seq, "mac": link.mac}
    head["head_mac"] = hmac.new(key, canonical(head).encode(), hashlib.sha256).hexdigest()
    return json.dumps(head)


def read_head(key: bytes, text: str) -> Link:
    head = json.loads(text)
    expected = hmac.new(key, canonical({"seq": head["seq"], "mac": head["mac"]}).encode(),
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(str(head.get("head_mac")), expected):
        raise ValueError("the head file's MAC does not match (it was edited)")
    return Link(int(head["seq"]), str(head["mac"]))
