"""The raw database doing the scenario's statements, at the same concurrency, in the same
run: ``pgbench`` with a custom script on PostgreSQL, a driver loop (``bench.rawloop``) on
SQLite and for the bulk loads.

Both return ``Stats`` with the serving side's footprint: the driver process for SQLite
(the database lives in it), the ``postgres`` processes for PostgreSQL.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .procstat import postgres_pids, sample
from .results import Stats, percentile
from .targets import PG_HOST, PG_PORT, PG_USER, PostgresTarget

__all__ = ["driver_loop", "pgbench"]

_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.MULTILINE)
_SLACK_S = 120
_ATTEMPTS = 4
_RETRY_S = 15


def driver_loop(spec: Mapping[str, Any], *, database: str | None = None) -> Stats:
    """Run ``bench.rawloop`` with ``spec`` (see its docstring) and sample its process;
    ``database`` names the PostgreSQL database it works on, if it does."""
    postgres = database is not None
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.rawloop"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=Path(__file__).parent.parent,
    )
    db_pids = (lambda: postgres_pids(database)) if database else list
    try:
        with sample(lambda: [process.pid], db_pids) as found:
            out, _ = process.communicate(
                json.dumps(spec).encode(), timeout=spec["duration_s"] + _SLACK_S
            )
    finally:
        if process.poll() is None:  # interrupted: leave nothing running
            process.kill()
            process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"bench.rawloop failed ({process.returncode})")
    result = json.loads(out)
    footprint = found[0]
    return Stats(
        ops=result["ops"],
        seconds=result["seconds"],
        p50_ms=result["p50_ms"],
        p99_ms=result["p99_ms"],
        errors=result["errors"],
        units=result["units"],
        statuses={"refused": result["refused"]} if result["refused"] else {},
    ).with_footprint(
        # The driver's own account of its CPU, plus PostgreSQL's when that does the work.
        result["cpu_pct"] + (footprint.db_cpu_pct if postgres else 0.0),
        footprint.db_cpu_pct,
        result["rss_mb"],
        footprint.machine_pct,
    )


def pgbench(
    target: PostgresTarget,
    scripts: Sequence[tuple[str, int]],
    *,
    clients: int,
    work_dir: Path,
    duration_s: float | None = None,
    transactions: int | None = None,
    variables: Mapping[str, object] | None = None,
) -> Stats:
    """Run pgbench with custom ``scripts`` (text, weight) for a time or a number of
    transactions per client; latency percentiles come from its per-transaction log."""
    work_dir.mkdir(parents=True, exist_ok=True)
    for old in work_dir.glob("pgbench_log*"):
        old.unlink()
    command = ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", str(clients),
               "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER, "-l",
               "--log-prefix", str(work_dir / "pgbench_log")]  # fmt: skip
    if transactions is not None:
        command += ["-t", str(transactions)]
    else:
        assert duration_s is not None
        command += ["-T", str(max(1, round(duration_s)))]
    for name, value in (variables or {}).items():
        command += ["-D", f"{name}={value}"]
    for number, (text, weight) in enumerate(scripts):
        path = work_dir / f"script{number}.sql"
        path.write_text(text)
        command += ["-f", f"{path}@{weight}"]
    command.append(target.name)
    limit = (duration_s or 600) + _SLACK_S
    for attempt in range(_ATTEMPTS):
        with sample(list, lambda: postgres_pids(target.name)) as found:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=limit, check=False
            )
        # Other databases on the same server may hold most of max_connections for a while.
        if "too many clients" not in done.stderr or attempt == _ATTEMPTS - 1:
            break
        time.sleep(_RETRY_S)
    if done.returncode != 0:
        raise RuntimeError(f"pgbench failed:\n{done.stderr[-2000:]}")
    latencies, failed = _logged_latencies(work_dir)
    reported = _TPS.search(done.stdout)
    tps = float(reported.group(1)) if reported else math.nan
    ops = len(latencies)
    footprint = found[0]
    return Stats(
        ops=ops,
        seconds=ops / tps if tps else math.nan,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        errors=failed,
    ).with_footprint(footprint.cpu_pct, footprint.db_cpu_pct, math.nan, footprint.machine_pct)


def _logged_latencies(work_dir: Path) -> tuple[list[float], int]:
    """Latencies in ms from pgbench's log lines: ``client txno time script epoch usec``;
    ``time`` is ``failed`` or ``skipped`` for transactions that did not complete."""
    latencies: list[float] = []
    failed = 0
    for log in work_dir.glob("pgbench_log*"):
        for line in log.read_text().splitlines():
            fields = line.split()
            if len(fields) < 3:
                continue
            if fields[2].isdigit():
                latencies.append(int(fields[2]) / 1000)
            else:
                failed += 1
    latencies.sort()
    return latencies, failed
