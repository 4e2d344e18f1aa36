"""Golden cases for a policy (`aliasgate policy test POLICY CASES.yaml`).

A cases file is a YAML list; each case gives a text, the findings the policy must make
in it (value, entity, action; order-free, each distinct finding once), the strings that
must reach the provider unchanged, and whether nothing else may be found (`exact`).
Detection is not done here: the caller passes the function `aliasgate scan` runs.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import yamlsource
from .errors import ConfigError
from .policy import Phrase
from .tokens import Pseudonymized, Replacement


@dataclass(frozen=True, order=True)
class Finding:
    entity: str
    value: str
    action: str

    def __str__(self) -> str:
        return f"{self.entity} {self.value!r} {self.action}"


class Expected(BaseModel):
    """One finding a case expects."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: Phrase
    entity: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    action: Literal["tokenize", "redact", "block"]

    @field_validator("action", mode="before")
    @classmethod
    def _not_allow(cls, action: Any) -> Any:
        if action == "allow":  # an allowed value is no finding: it reaches the provider
            raise ValueError("an allowed value is not a finding: list it under expect_kept")
        return action

    def finding(self) -> Finding:
        return Finding(self.entity, self.value, self.action)


class Case(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Phrase
    text: Phrase
    expect: tuple[Expected, ...] = ()
    expect_kept: tuple[Phrase, ...] = ()
    exact: bool = False

    @model_validator(mode="after")
    def _checks_something_in_its_text(self) -> Case:
        # A value absent from the text would make an expectation that can never hold (or,
        # for expect_kept, one that always holds): a typo must not pass silently.
        absent = [v for v in (*(e.value for e in self.expect), *self.expect_kept)
                  if v not in self.text]
        if absent:
            raise ValueError(f"{', '.join(map(repr, absent))} does not occur in text")
        if not (self.expect or self.expect_kept or self.exact):
            raise ValueError("the case checks nothing: give expect, expect_kept or exact: true")
        return self


class CasesFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    cases: tuple[Case, ...]

    @field_validator("cases", mode="before")
    @classmethod
    def _a_list(cls, value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise ValueError("expected a list of cases, each with name, text and expect")
        return value

    @field_validator("cases")
    @classmethod
    def _unique_names(cls, cases: tuple[Case, ...]) -> tuple[Case, ...]:
        names = [c.name for c in cases]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"case names must be unique: {', '.join(map(repr, twice))}")
        return cases


# yamlsource validates a mapping; a cases file is a list, so it is read as the value of a
# `cases` key one line down, and each problem is told back in the file's own lines and keys.
# A leading `---` (document start) would end that mapping: it becomes an empty line.
_WRAPPER = "cases:\n"
_DOCUMENT_START = re.compile(r"\A((?:[ \t]*(?:#.*)?\n)*)---[ \t]*$", re.MULTILINE)


def _unwrap(problem: str, source: str) -> str:
    found = re.match(rf"{re.escape(source)}:(\d+): (.*?): (.*)", problem, re.DOTALL)
    if found is None:
        return problem
    line, key, why = found.groups()
    if key.startswith("cases"):
        key = key.removeprefix("cases") or "(top level)"
    return f"{source}:{max(1, int(line) - 1)}: {key}: {why}"


def load_cases(path: Path) -> CasesFile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}:1: (file): cannot read: {exc.__class__.__name__}"]) from exc
    try:
        wrapped = _WRAPPER + textwrap.indent(_DOCUMENT_START.sub(r"\1", text), "  ")
        return yamlsource.parse(wrapped, str(path), CasesFile)
    except ConfigError as exc:
        raise ConfigError([_unwrap(p, str(path)) for p in exc.problems]) from exc


@dataclass(frozen=True)
class Outcome:
    """One case's result; `diff` is empty when it passed."""

    name: str
    diff: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.diff


def _finding(text: str, r: Replacement) -> Finding:
    return Finding(r.span.entity, text[r.span.start:r.span.end], r.action)


def _touching(text: str, phrase: str, replacements: Iterable[Replacement]) -> list[Replacement]:
    """Findings that change any occurrence of phrase, so it does not reach the provider."""
    spots = [(m.start(), m.end()) for m in re.finditer(re.escape(phrase), text)]
    return [r for r in replacements
            if any(r.span.start < end and start < r.span.end for start, end in spots)]


def check(case: Case, result: Pseudonymized) -> Outcome:
    """Diff lines: `- ...` expected but absent, `+ ...` present but not expected."""
    found = {_finding(case.text, r) for r in result.replacements}
    expected = {e.finding() for e in case.expect}
    missing = expected - found
    extra = found - expected if case.exact else set()
    not_kept = []
    for phrase in case.expect_kept:
        culprits = _touching(case.text, phrase, result.replacements)
        if culprits:
            not_kept.append(phrase)
            extra |= {_finding(case.text, r) for r in culprits}
    diff = (*(f"- {f}" for f in sorted(missing)),
            *(f"- kept {phrase!r}" for phrase in not_kept),
            *(f"+ {f}" for f in sorted(extra)))
    return Outcome(case.name, diff)


def run(cases: CasesFile, scan: Callable[[str], Pseudonymized]) -> list[Outcome]:
    return [check(case, scan(case.text)) for case in cases.cases]


def report(outcomes: list[Outcome]) -> str:
    lines: list[str] = []
    for outcome in outcomes:
        lines.append(f"{'ok' if outcome.passed else 'FAIL'} {outcome.name}")
        lines += [f"    {line}" for line in outcome.diff]
    failed = sum(not o.passed for o in outcomes)
    lines.append(f"{len(outcomes)} cases, {failed} failed")
    return "\n".join(lines)
