"""One PNG per scenario: throughput and latency, HTTP beside raw, per backend."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from .results import Comparison

__all__ = ["chart"]

_HTTP, _RAW = "#1f6feb", "#9a6700"


def chart(scenario: str, title: str, rows: Sequence[Comparison], path: Path) -> Path:
    """Draw ``rows`` (one scenario) to ``path``: a column per backend, throughput above
    and latency below (bars p50, ticks p99), both on log scales."""
    backends = list(dict.fromkeys(c.backend for c in rows))
    width = max(6.0, 0.55 * max(sum(1 for c in rows if c.backend == b) for b in backends) + 3)
    figure, axes = plt.subplots(2, len(backends), figsize=(width * len(backends), 8), squeeze=False)
    for column, backend in enumerate(backends):
        mine = [c for c in rows if c.backend == backend]
        labels = [f"{c.label} c={c.clients}" for c in mine]
        positions = range(len(mine))
        _bars(
            axes[0][column],
            positions,
            [c.http.units_per_s for c in mine],
            [c.raw.units_per_s if c.raw else 0 for c in mine],
            "per second",
        )
        _bars(
            axes[1][column],
            positions,
            [c.http.p50_ms for c in mine],
            [c.raw.p50_ms if c.raw else 0 for c in mine],
            "p50 ms (tick: p99)",
        )
        _ticks(
            axes[1][column],
            positions,
            [c.http.p99_ms for c in mine],
            [c.raw.p99_ms if c.raw else 0 for c in mine],
        )
        axes[0][column].set_title(backend)
        axes[0][column].legend(fontsize=8)
        axes[0][column].set_xticklabels([])
        axes[1][column].set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _bars(
    axis: Axes, positions: range, http: Sequence[float], raw: Sequence[float], name: str
) -> None:
    axis.bar([p - 0.2 for p in positions], http, 0.4, label="HTTP", color=_HTTP)
    axis.bar([p + 0.2 for p in positions], raw, 0.4, label="raw", color=_RAW)
    axis.set_yscale("log")
    axis.set_ylabel(name)
    axis.set_xticks(list(positions))
    axis.grid(axis="y", alpha=0.3)


def _ticks(axis: Axes, positions: range, http: Sequence[float], raw: Sequence[float]) -> None:
    axis.scatter([p - 0.2 for p in positions], http, marker="_", s=120, color="black")
    axis.scatter([p + 0.2 for p in positions], raw, marker="_", s=120, color="black")
