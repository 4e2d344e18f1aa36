"""`aliasgate eval`: measure detection on a labelled corpus, through the gateway's own path.

Each record's messages go through `inspection.inspect` exactly as a chat request would,
with the chosen policy. The report gives, per entity type, recall and precision; the
leak rate (a value counts as leaked if any recoverable form of it reaches the provider:
the value after folding Unicode and dropping separators, or for a person any part of the
name on its own, for an address any line or comma-separated part of it); the share of
ordinary phrases that arrive unchanged; and findings per 100 texts that hold no personal
data. Given several corpus files, each is reported on its own, the worst leak rate first,
and the total over all of them.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .audit import AuditRecord
from .detect.normalize import fold
from .detect.pool import Analyzer
from .formats.openai import OpenAIFormat
from .inspection import Inspector
from .policy import Policy
from .tokens import TokenMap

_CHAT = OpenAIFormat().endpoint("POST", "/v1/chat/completions")
_STRUCTURED = {"PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE"}


@dataclass
class Counts:
    labelled: int = 0
    caught: int = 0
    leaked: int = 0
    found: int = 0          # replacements typed so
    found_correct: int = 0  # ... that overlap a labelled value

    def recall(self) -> float:
        return self.caught / self.labelled if self.labelled else 1.0

    def precision(self) -> float:
        return self.found_correct / self.found if self.found else 1.0


@dataclass
class Report:
    records: int = 0
    by_type: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    by_group: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    phrases: int = 0
    phrases_kept: int = 0
    misses: list[str] = field(default_factory=list)  # "id TYPE 'as written' (leaked)"
    false_positives_on_negatives: int = 0
    negatives: int = 0  # records that hold no personal data

    def totals(self) -> Counts:
        total = Counts()
        for c in self.by_type.values():
            total.labelled += c.labelled
            total.caught += c.caught
            total.leaked += c.leaked
        return total

    def as_json(self) -> dict[str, Any]:
        total = self.totals()
        return {
            "records": self.records,
            "leak_rate": round(total.leaked / total.labelled, 4) if total.labelled else 0.0,
            "recall": round(total.recall(), 4),
            "phrases_kept_rate": round(self.phrases_kept / self.phrases, 4) if self.phrases
            else 1.0,
            "false_positives_in_texts_without_personal_data":
                self.false_positives_on_negatives,
            "texts_without_personal_data": self.negatives,
            "findings_per_100_clean_texts": round(
                100 * self.false_positives_on_negatives / self.negatives, 2)
            if self.negatives else 0.0,
            "by_type": {t: {"labelled": c.labelled, "recall": round(c.recall(), 4),
                            "precision": round(c.precision(), 4), "leaked": c.leaked}
                        for t, c in sorted(self.by_type.items())},
            "by_group": {g: {"labelled": c.labelled, "recall": round(c.recall(), 4),
                             "leaked": c.leaked} for g, c in sorted(self.by_group.items())},
        }


def _canonical(text: str) -> str:
    return re.sub(r"\s+", " ", fold(text).text).casefold()


def _alnum(text: str) -> str:
    return re.sub(r"[\W_]+", "", _canonical(text))


def leaked(entity: dict[str, Any], sent: str) -> bool:
    """Whether any recoverable form of a labelled value is in the sent text."""
    value, kind = str(entity["value"]), str(entity["type"])
    canonical_sent = _canonical(sent)
    if kind in _STRUCTURED:
        return _alnum(value) in _alnum(sent)
    forms = [_canonical(value)]
    if kind == "PERSON":  # any part of a name, on its own, gives the person away
        forms += [p for p in re.split(r"[\s\-']+", _canonical(value)) if len(p) >= 2]
    if kind == "STREET_ADDRESS":  # so does any line of an address (street, postcode+town)
        forms += [p.strip() for p in re.split(r"[,\n]", _canonical(value)) if len(p.strip()) >= 4]
    return any(re.search(rf"(?<![^\W_]){re.escape(f)}(?![^\W_])", canonical_sent)
               for f in forms)


def _covered(start: int, end: int, text: str, spans: list[tuple[int, int]]) -> bool:
    """Every letter or digit of text[start:end] lies inside a replaced span."""
    return all(any(s <= i < e for s, e in spans) for i in range(start, end)
               if text[i].isalnum())


def _groups(entity: dict[str, Any], message: str) -> list[str]:
    written = message[int(entity["start"]):int(entity["end"])]
    groups = ["unseen_name"] if entity.get("unseen_name") else []
    if written != entity["value"]:
        groups.append("obfuscated" if entity["type"] in _STRUCTURED | {"EMAIL_ADDRESS"}
                      else "lower_case" if written == str(entity["value"]).lower()
                      else "other_form")
    return groups


async def evaluate(records: list[dict[str, Any]], policy: Policy, analyzer: Analyzer,
                   key: bytes, concurrency: int = 8) -> Report:
    report = Report()
    gate = asyncio.Semaphore(concurrency)
    inspector = Inspector(analyzer)

    async def one(rec: dict[str, Any]) -> None:
        messages: list[str] = rec["messages"]
        body = {"model": "eval", "messages": [{"role": "user", "content": m} for m in messages]}
        async with gate:
            result = await inspector.inspect(
                OpenAIFormat(), _CHAT, policy, "application/json",  # type: ignore[arg-type]
                json.dumps(body).encode(), TokenMap(key), AuditRecord(ts="", request_id="eval"))
        sent = [m["content"] for m in json.loads(result.body)["messages"]]
        replaced: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
        contents = [r for slot, r in result.texts if slot.key == "content"]  # message order
        for index, replacements in enumerate(contents):
            replaced[index] = [(r.span.start, r.span.end, r.span.entity) for r in replacements]
        _score(report, rec, messages, sent, replaced)

    await asyncio.gather(*(one(r) for r in records))
    return report


def _score(report: Report, rec: dict[str, Any], messages: list[str], sent: list[str],
           replaced: dict[int, list[tuple[int, int, str]]]) -> None:
    report.records += 1
    report.negatives += not rec["entities"]
    all_sent = "\n".join(sent)
    labelled = [(int(e["message"]), int(e["start"]), int(e["end"])) for e in rec["entities"]]
    for entity in rec["entities"]:
        index = int(entity["message"])
        caught = _covered(int(entity["start"]), int(entity["end"]), messages[index],
                          [(s, e) for s, e, _ in replaced[index]])
        is_leaked = leaked(entity, all_sent)
        if not caught or is_leaked:
            written = messages[index][int(entity["start"]):int(entity["end"])]
            report.misses.append(f"{rec['id']} {entity['type']} {written!r}"
                                 + (" (leaked)" if is_leaked else " (partly covered)"))
        for counts in [report.by_type[str(entity["type"])],
                       *(report.by_group[g] for g in _groups(entity, messages[index]))]:
            counts.labelled += 1
            counts.caught += caught
            counts.leaked += is_leaked
    for index, found in replaced.items():
        for start, end, kind in found:
            counts = report.by_type[kind]
            counts.found += 1
            hit = any(i == index and start < e and s < end for i, s, e in labelled)
            counts.found_correct += hit
            report.false_positives_on_negatives += not rec["entities"] and not hit
    for phrase in rec["keep"]:
        index = int(phrase["message"])
        report.phrases += 1
        kept = not any(s < int(phrase["end"]) and int(phrase["start"]) < e
                       for s, e, _ in replaced[index])
        report.phrases_kept += kept
        if not kept:
            report.misses.append(f"{rec['id']} phrase {phrase['text']!r} (not kept)")


def load_corpus(path: Path) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: not a JSON record") from exc
    return records


def merged(reports: list[Report]) -> Report:
    """One report over several corpora: counts add up."""
    total = Report()
    for report in reports:
        total.records += report.records
        total.phrases += report.phrases
        total.phrases_kept += report.phrases_kept
        total.misses += report.misses
        total.false_positives_on_negatives += report.false_positives_on_negatives
        total.negatives += report.negatives
        for into, source in ((total.by_type, report.by_type), (total.by_group, report.by_group)):
            for name, counts in source.items():
                mine = into[name]
                for attribute in ("labelled", "caught", "leaked", "found", "found_correct"):
                    setattr(mine, attribute, getattr(mine, attribute) + getattr(counts, attribute))
    return total


def worst_first(reports: dict[str, Report]) -> list[tuple[str, Report]]:
    """Corpora by leak rate, the worst first: that is the figure to quote."""
    def leak(report: Report) -> float:
        total = report.totals()
        return total.leaked / total.labelled if total.labelled else 0.0
    return sorted(reports.items(), key=lambda item: -leak(item[1]))


def multi_report_json(reports: dict[str, Report]) -> dict[str, Any]:
    """The total over all corpora, and each corpus on its own, the worst first."""
    data = merged(list(reports.values())).as_json()
    if len(reports) > 1:
        data["corpora"] = [{"corpus": name, **report.as_json()}
                           for name, report in worst_first(reports)]
    return data


def format_reports(reports: dict[str, Report]) -> str:
    if len(reports) == 1:
        return format_report(next(iter(reports.values())))
    parts = [f"== {name} ==\n{format_report(report)}" for name, report in worst_first(reports)]
    return "\n\n".join([*parts, f"== all {len(reports)} corpora ==\n"
                                  f"{format_report(merged(list(reports.values())))}"])


def format_report(report: Report) -> str:
    data = report.as_json()
    lines = [f"records: {data['records']}",
             f"{'entity type':<16}{'labelled':>9}{'recall':>9}{'precision':>11}{'leaked':>8}"]
    for kind, row in data["by_type"].items():
        lines.append(f"{kind:<16}{row['labelled']:>9}{row['recall']:>9.3f}"
                     f"{row['precision']:>11.3f}{row['leaked']:>8}")
    for group, row in data["by_group"].items():
        lines.append(f"  {group:<14}{row['labelled']:>9}{row['recall']:>9.3f}{'':>11}"
                     f"{row['leaked']:>8}")
    lines.append(f"overall recall: {data['recall']:.3f}")
    lines.append(f"leak rate: {data['leak_rate']:.2%} of labelled values reached the provider "
                 "in a recoverable form")
    lines.append(f"ordinary phrases kept: {data['phrases_kept_rate']:.2%}")
    lines.append("findings in records without personal data: "
                 f"{data['false_positives_in_texts_without_personal_data']} in "
                 f"{data['texts_without_personal_data']} records "
                 f"({data['findings_per_100_clean_texts']} per 100)")
    return "\n".join(lines)

