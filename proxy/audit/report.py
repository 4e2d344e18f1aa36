"""`aliasgate audit report`: counts per route, entity type, decision and region, by day.

Formats: a text table, JSON, CSV, or one self-contained HTML file (inline CSS and SVG, no
script, no network) that an auditor can open offline.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .files import files_of

DIMENSIONS = ("route", "decision", "region", "entity")


@dataclass
class Report:
    since: str | None
    until: str | None
    route: str | None
    requests: int = 0
    totals: dict[str, Counter[str]] = field(
        default_factory=lambda: {d: Counter() for d in DIMENSIONS})
    by_day: dict[str, dict[str, Counter[str]]] = field(
        default_factory=lambda: defaultdict(lambda: {d: Counter() for d in DIMENSIONS}))

    def add(self, record: dict[str, Any]) -> None:
        day = str(record.get("ts", ""))[:10]
        self.requests += 1
        keys = {"route": [record.get("route") or "-"], "decision": [record.get("decision")],
                "region": [record.get("upstream_region") or "-"]}
        for dimension, values in keys.items():
            for value in values:
                self.totals[dimension][str(value)] += 1
                self.by_day[day][dimension][str(value)] += 1
        for entity, info in (record.get("entities") or {}).items():
            self.totals["entity"][entity] += int(info.get("count", 0))
            self.by_day[day]["entity"][entity] += int(info.get("count", 0))

    def as_json(self) -> dict[str, Any]:
        return {"since": self.since, "until": self.until, "route": self.route,
                "requests": self.requests,
                "totals": {d: dict(sorted(c.items())) for d, c in self.totals.items()},
                "by_day": {day: {d: dict(sorted(c.items())) for d, c in dims.items()}
                           for day, dims in sorted(self.by_day.items())}}


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.now().astimezone().tzinfo)


def build(path: Path, since: str | None, until: str | None, route: str | None) -> Report:
    report = Report(since, until, route)
    start, end = _when(since), _when(until)
    for file in files_of(path):
        for line in file.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            moment = datetime.fromisoformat(record["ts"])
            if (start and moment < start) or (end and moment >= end):
                continue
            if route and record.get("route") != route:
                continue
            report.add(record)
    return report


def as_table(report: Report) -> str:
    lines = [f"requests: {report.requests}"]
    for dimension in DIMENSIONS:
        lines.append(f"\nby {dimension}:")
        for key, count in sorted(report.totals[dimension].items()):
            lines.append(f"  {key:<28}{count:>10}")
    lines.append("\nby day:")
    for day, dims in sorted(report.by_day.items()):
        decisions = ", ".join(f"{k} {v}" for k, v in sorted(dims["decision"].items()))
        lines.append(f"  {day}  {sum(dims['decision'].values()):>8} requests ({decisions})")
    return "\n".join(lines)


def as_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", "dimension", "key", "count"])
    for day, dims in sorted(report.by_day.items()):
        for dimension in DIMENSIONS:
            for key, count in sorted(dims[dimension].items()):
                writer.writerow([day, dimension, key, count])
    return out.getvalue()


_COLOURS = {"forwarded": "#2e7d32", "passthrough": "#1565c0", "refused": "#ef6c00",
            "blocked": "#c62828", "failed": "#6a1b9a", "client_closed": "#757575"}


def _chart(report: Report) -> str:
    """Requests per day, stacked by decision, as inline SVG."""
    days = sorted(report.by_day)
    if not days:
        return "<p>No requests in this period.</p>"
    top = max(sum(report.by_day[d]["decision"].values()) for d in days)
    width, height, bar = max(320, 60 * len(days)), 220, 36
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}"'
             f' role="img" aria-label="Requests per day by decision">']
    for i, day in enumerate(days):
        x, y = 30 + i * 60, height
        for decision, count in sorted(report.by_day[day]["decision"].items()):
            h = max(1, round(count / top * (height - 20)))
            y -= h
            colour = _COLOURS.get(decision, "#9e9e9e")
            parts.append(f'<rect x="{x}" y="{y}" width="{bar}" height="{h}" fill="{colour}">'
                         f"<title>{html.escape(day)}: {count} {html.escape(decision)}</title>"
                         "</rect>")
        parts.append(f'<text x="{x}" y="{height + 15}" font-size="10">'
                     f"{html.escape(day[5:])}</text>")
    parts.append("</svg>")
    legend = " ".join(f'<span style="color:{c}">&#9632; {html.escape(d)}</span>'
                      for d, c in _COLOURS.items())
    return "".join(parts) + f"<p>{legend}</p>"


def as_html(report: Report) -> str:
    tables = []
    for dimension in DIMENSIONS:
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>"
                       for k, v in sorted(report.totals[dimension].items()))
        tables.append(f"<h2>By {dimension}</h2><table><tr><th>{dimension}</th><th>count</th>"
                      f"</tr>{rows}</table>")
    period = html.escape(f"{report.since or 'the start'} to {report.until or 'now'}"
                         + (f", route {report.route}" if report.route else ""))
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>aliasgate audit "
            "report</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:"
            "collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style>"
            f"</head><body><h1>aliasgate audit report</h1><p>{period}: {report.requests} "
            f"requests.</p><h2>Requests per day</h2>{_chart(report)}{''.join(tables)}"
            "</body></html>")


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.as_json(), indent=2)
    if fmt == "csv":
        return as_csv(report)
    if fmt == "html":
        return as_html(report)
    return as_table(report)
