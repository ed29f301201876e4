"""What a measurement yields, and how HTTP and raw figures pair up in the report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Comparison", "Stats", "percentile"]


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) of already sorted values, nearest-rank."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(frozen=True, slots=True)
class Stats:
    """One timed measurement: operations per second, latency, and the server's footprint.

    ``ops`` counts requests (HTTP) or transactions (raw); ``units`` counts what the work
    moved (items created, lines decremented) when that differs from ``ops``.
    """

    ops: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int = 0
    units: int = 0
    cpu_pct: float = math.nan
    """CPU of the serving side, percent of one core (the app process, plus PostgreSQL)."""
    db_cpu_pct: float = math.nan
    """The PostgreSQL processes' part of ``cpu_pct`` (NaN on SQLite)."""
    rss_mb: float = math.nan
    """Peak resident memory of the app process (HTTP) or the driver process (raw SQLite)."""
    machine_pct: float = math.nan
    """CPU of every process on the machine meanwhile, percent of one core."""
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.seconds if self.seconds > 0 else math.nan

    @property
    def units_per_s(self) -> float:
        return (self.units or self.ops) / self.seconds if self.seconds > 0 else math.nan

    def with_units(self, units: int) -> Stats:
        return Stats(**(asdict(self) | {"units": units}))

    def ok(self, status: str = "200") -> int:
        """How many responses had ``status``."""
        return self.statuses.get(status, 0)

    def with_footprint(
        self, cpu_pct: float, db_cpu_pct: float, rss_mb: float, machine_pct: float
    ) -> Stats:
        values = asdict(self) | {
            "cpu_pct": cpu_pct,
            "db_cpu_pct": db_cpu_pct,
            "rss_mb": rss_mb,
            "machine_pct": machine_pct,
        }
        return Stats(**values)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Stats:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class Comparison:
    """One row of a results table: the API and the raw database doing the same work."""

    scenario: str
    backend: str
    label: str
    clients: int
    http: Stats
    raw: Stats | None
    note: str = ""

    @property
    def throughput_ratio(self) -> float:
        if self.raw is None:
            return math.nan
        return self.http.units_per_s / self.raw.units_per_s

    def latency_ratio(self, which: str) -> float:
        if self.raw is None:
            return math.nan
        mine, theirs = getattr(self.http, which), getattr(self.raw, which)
        return mine / theirs if theirs else math.nan

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "backend": self.backend,
            "label": self.label,
            "clients": self.clients,
            "http": self.http.to_json(),
            "raw": self.raw.to_json() if self.raw else None,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Comparison:
        raw = data.get("raw")
        return cls(
            scenario=data["scenario"],
            backend=data["backend"],
            label=data["label"],
            clients=data["clients"],
            http=Stats.from_json(data["http"]),
            raw=Stats.from_json(raw) if raw else None,
            note=data.get("note", ""),
        )
