"""bench/results.md and one PNG chart per scenario, from the comparisons of a run."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from .charts import chart
from .results import Comparison, Stats

__all__ = ["Run", "write_report"]

UNITS: Final = {
    "flash_sale": "sales or refusals",
    "checkout": "lines",
    "restock": "lines",
    "queries": "requests",
    "search": "requests",
    "bulk_create": "items",
}

METHOD: Final = """\
## How to read this

- **HTTP** is the API served by `stockroom serve` (uvicorn, one process) on a fresh
  database, driven by [wrk](https://github.com/wg/wrk) with the Lua scripts in `bench/lua/`:
  a C load generator, so the client costs little of the two cores the server shares with
  it. Closed loop: each client (connection) has one request in flight.
- **raw** is the database alone doing the statements the server sends for the same work,
  at the same concurrency, in the same run: `pgbench -M prepared -c N -j N` with a custom
  script on PostgreSQL; on SQLite, N threads of a Python driver loop (`bench/rawloop.py`),
  each with its own connection set up as the server's (WAL, `synchronous=FULL`,
  `busy_timeout`, `BEGIN IMMEDIATE` for writes). Each scenario below names its statements.
- **ratio** = HTTP / raw: for throughput, the share of the database's own speed the API
  delivers (1.0 = no overhead); for latency, how many times longer the API takes.
- **CPU** is the growth of user+system time over the measurement, in % of one core
  (ceiling: 100 x cores), sampled from /proc: the app's processes (the server and the
  webhook relay it runs beside it), plus every `postgres` process on PostgreSQL (the
  PostgreSQL part in brackets). For raw SQLite it is the driver process, in which the
  database runs. **RSS** is the peak resident memory of the largest app process, the
  server's worker (raw: of the SQLite driver process; PostgreSQL's own memory is shared
  buffers and is not counted).
- **machine CPU** is every process on the machine meanwhile (the server, the database, wrk
  or pgbench, and anything else running): when it is well above the CPU of the serving
  side plus the load generator's, something else competed for the cores, and that row's
  figures are less certain.
- On PostgreSQL every measured run, raw and HTTP, starts right after a `CHECKPOINT`, so
  that it does not inherit the dirty pages and checkpoint schedule of the runs before it.
  A query row's HTTP run follows a few unmeasured requests (at most 20, half a second),
  as its raw run follows the HTTP run and finds the same pages read. A store seeded with
  `COPY` is vacuumed and analysed before anything is measured on it, as autovacuum would
  do after such a load, but at a moment of its own choosing, during some run; so is the
  whole database before the query and search scenarios, after the write scenarios.
- Everything (server, database, load generator) shares one machine, so a figure here is
  a ratio to trust, not a capacity to plan by.
"""


@dataclass
class Run:
    """Everything the report needs about one invocation."""

    command: str
    profile: str
    started: str
    machine: Mapping[str, str]
    scenarios: Sequence[tuple[str, str, str]]
    """(name, title, about) of each scenario run, in order."""
    comparisons: list[Comparison] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "profile": self.profile,
            "started": self.started,
            "machine": dict(self.machine),
            "scenarios": [list(s) for s in self.scenarios],
            "notes": self.notes,
            "comparisons": [c.to_json() for c in self.comparisons],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Run:
        return cls(
            command=data["command"],
            profile=data["profile"],
            started=data["started"],
            machine=data["machine"],
            scenarios=[(n, t, a) for n, t, a in data["scenarios"]],
            comparisons=[Comparison.from_json(c) for c in data["comparisons"]],
            notes=data["notes"],
        )

    def updated_by(self, later: Run) -> Run:
        """This run with ``later``'s rows replacing the same measurements (scenario,
        backend, what, clients) and added to the rest, as one report of both commands."""

        def key(c: Comparison) -> tuple[str, str, str, int]:
            return (c.scenario, c.backend, c.label, c.clients)

        replaced = {key(c) for c in later.comparisons}
        names = [s[0] for s in self.scenarios]
        return Run(
            command=f"{self.command}\n{later.command}",
            profile=self.profile
            if self.profile == later.profile
            else f"{self.profile}; then {later.profile}",
            started=f"{self.started}, then {later.started}",
            machine=self.machine,
            scenarios=[*self.scenarios, *(s for s in later.scenarios if s[0] not in names)],
            comparisons=[c for c in self.comparisons if key(c) not in replaced] + later.comparisons,
            notes=[*self.notes, *later.notes],
        )


def _num(value: float, digits: int = 0) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:,.{digits}f}"


def _ms(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.2f}" if value < 10 else f"{value:,.0f}"


def _ratio(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


def _cpu(stats: Stats | None) -> str:
    if stats is None:
        return "-"
    if math.isnan(stats.db_cpu_pct):
        return _num(stats.cpu_pct)
    return f"{_num(stats.cpu_pct)} ({_num(stats.db_cpu_pct)})"


def _row(c: Comparison) -> str:
    raw = c.raw
    cells = [
        c.label,
        str(c.clients),
        _num(c.http.units_per_s),
        _num(raw.units_per_s) if raw else "-",
        f"**{_ratio(c.throughput_ratio)}**",
        f"{_ms(c.http.p50_ms)} / {_ms(raw.p50_ms) if raw else '-'}",
        _ratio(c.latency_ratio("p50_ms")),
        f"{_ms(c.http.p99_ms)} / {_ms(raw.p99_ms) if raw else '-'}",
        _ratio(c.latency_ratio("p99_ms")),
        f"{_cpu(c.http)} / {_cpu(raw)}",
        f"{_num(c.http.rss_mb)} / {_num(raw.rss_mb) if raw else '-'}",
        f"{_num(c.http.machine_pct)} / {_num(raw.machine_pct) if raw else '-'}",
        c.note,
    ]
    return "| " + " | ".join(cells) + " |"


def _table(scenario: str, rows: Sequence[Comparison]) -> list[str]:
    unit = UNITS.get(scenario, "ops")
    return [
        f"| what | clients | HTTP {unit}/s | raw {unit}/s | ratio | p50 ms HTTP / raw | ratio"
        " | p99 ms HTTP / raw | ratio | CPU % HTTP / raw | RSS MB HTTP / raw"
        " | machine CPU % HTTP / raw | note |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
        *(_row(c) for c in rows),
    ]


def _headlines(comparisons: Sequence[Comparison]) -> list[str]:
    """Throughput ratios of the write workloads at each concurrency, one line each."""
    lines = ["| scenario | what | backend | " + " | ".join(["ratio at c=1, 16, 64"]) + " |",
             "|---|---|---|---|"]  # fmt: skip
    seen: dict[tuple[str, str, str], list[str]] = {}
    for c in comparisons:
        key = (c.scenario, c.label, c.backend)
        seen.setdefault(key, []).append(f"{_ratio(c.throughput_ratio)} (c={c.clients})")
    for (scenario, label, backend), ratios in seen.items():
        if len(ratios) > 1 and label != "mix":
            lines.append(f"| {scenario} | {label} | {backend} | {', '.join(ratios)} |")
    lines += ["", "Queries and searches are compared request by request, by latency, in their"
              " sections; their mixed-load rows are too noisy for a headline."]  # fmt: skip
    return lines


def write_report(run: Run, path: Path, charts_dir: Path) -> None:
    """Write the markdown report and its charts."""
    charts_dir.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Stockroom benchmarks",
        "",
        "Produced by:",
        "",
        "```sh",
        run.command,
        "```",
        "",
        f"Started {run.started}. Profile {run.profile}.",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in run.machine.items()),
        "",
        *(f"> {note}\n" for note in run.notes),
        "",
        "## Headlines: API throughput as a share of the raw database's",
        "",
        *_headlines(run.comparisons),
        "",
        METHOD,
    ]
    for name, title, about in run.scenarios:
        rows = [c for c in run.comparisons if c.scenario == name]
        lines += [f"## {title}", "", about, ""]
        if not rows:
            lines += ["No measurements (see the notes at the top).", ""]
            continue
        image = chart(name, title, rows, charts_dir / f"{name}.png")
        lines += [f"![{title}]({image.relative_to(path.parent)})", ""]
        for backend in dict.fromkeys(c.backend for c in rows):
            lines += [
                f"### {backend}",
                "",
                *_table(name, [c for c in rows if c.backend == backend]),
                "",
            ]
    path.write_text("\n".join(lines) + _kept_sections(path))


EVENTS_START, EVENTS_END = "<!-- events:start -->", "<!-- events:end -->"
"""The markers of the section ``bench.scenarios.events`` writes into the report, which is
kept as it is when the report is written again."""


def _kept_sections(path: Path) -> str:
    if not path.exists():
        return ""
    text = path.read_text()
    start, end = text.find(EVENTS_START), text.find(EVENTS_END)
    if start < 0 or end < start:
        return ""
    return "\n" + text[start : end + len(EVENTS_END)] + "\n"
