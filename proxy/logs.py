"""Operator logs: plain text or one JSON object per line. The gateway logs request ids,
routes, statuses, decisions and error classes; never a header, a body or a value.

Two filters sit on the one handler, so they cover every logger in the process:
`Scrub` keeps a library's words but not the bytes it may quote (an HTTP parser error quotes
the request; a task's repr quotes its exception), and never prints a traceback; `RateLimit`
lets the same warning or error through at most once per interval, with a count of the
repeats it held back, so a flood of bad connections cannot flood the log.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

_OURS = ("aliasgate", "proxy")
# A library message is cut where it starts quoting something: a repr, a string, bytes.
_QUOTE = re.compile(r"""[<'"`({\[]|\bb'|\bb\"""")
_NUMBERS = re.compile(r"[0-9a-f]{8,}|\d+")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(
                     timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name,
                 "message": record.getMessage()}
        return json.dumps(entry, ensure_ascii=False)


def library_words(text: str, limit: int = 120) -> str:
    """The part of a library's message before it quotes anything, on one line."""
    first = text.strip().split("\n", 1)[0]
    cut = _QUOTE.search(first)
    words = (first[:cut.start()] if cut else first).rstrip(" :=,")
    return words[:limit] or "(message withheld)"


def exception_class(record: logging.LogRecord) -> str | None:
    info = record.exc_info
    if info and info[0] is not None:
        return info[0].__name__
    return None


class Scrub(logging.Filter):
    """No traceback, and no bytes a library quotes. Our own messages are written to hold
    no value already, so they pass as they are; the exception's class is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        cls = exception_class(record)
        if not record.name.startswith(_OURS):
            record.msg, record.args = f"{record.name}: {library_words(record.getMessage())}", ()
        if cls is not None:
            record.msg, record.args = f"{record.getMessage()} ({cls})", ()
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


class RateLimit(logging.Filter):
    """The same warning or error (the same words once numbers and ids are set aside) at
    most once per `interval` seconds. The next one let through says how many were held back."""

    def __init__(self, interval: float = 10.0, max_keys: int = 1000) -> None:
        super().__init__()
        self.interval = interval
        self._max_keys = max_keys
        self._lock = threading.Lock()   # handlers are called from any thread
        self._seen: OrderedDict[tuple[str, int, str], tuple[float, int]] = OrderedDict()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, _NUMBERS.sub("#", record.getMessage()))
        now = time.monotonic()
        with self._lock:
            last, held = self._seen.get(key, (float("-inf"), 0))
            if now - last < self.interval:
                self._seen[key] = (last, held + 1)
                return False
            self._seen[key] = (now, 0)
            self._seen.move_to_end(key)
            while len(self._seen) > self._max_keys:
                self._seen.popitem(last=False)
        if held:
            record.msg = (f"{record.getMessage()} ({held} more like this in the last "
                          f"{now - last:.0f} s were not logged)")
            record.args = ()
        return True


def setup(fmt: str = "text", level: str = "info") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handler.addFilter(Scrub())
    handler.addFilter(RateLimit())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def contain_uncaught() -> None:
    """Exceptions nobody could catch (in a thread, in a finalizer) are printed by Python
    with their message and a traceback, which may quote what was being handled; the
    gateway logs their class. (One that ends the main thread is a start-up or shutdown
    failure, whose message the operator needs: it is left to Python.)"""
    log = logging.getLogger("aliasgate")

    def in_thread(args: threading.ExceptHookArgs) -> None:
        log.error("an exception nobody caught in a thread (%s)", args.exc_type.__name__)

    def unraisable(args: Any) -> None:
        name = args.exc_type.__name__ if args.exc_type is not None else "no exception"
        log.error("an exception Python could not raise (%s)", name)

    threading.excepthook = in_thread
    sys.unraisablehook = unraisable
