"""``python -m bench.run``: run the scenarios against each backend and write the report.

    make bench                                  # every scenario, full profile
    make bench SCENARIOS=flash_sale,checkout    # a subset
    make bench QUICK=1                          # small data, short runs (development)
    make bench BACKENDS=sqlite                  # one backend

Each backend gets a fresh database (a new SQLite file; a new PostgreSQL database
``stockroom_bench_<random>``, dropped at the end) and its own ``stockroom serve``. PostgreSQL
is measured only when ``open_storage`` accepts ``postgresql://`` URLs; otherwise the report
says why it was skipped. Raw output (logs, wrk and pgbench files, the SQLite database)
stays in ``bench/out/<run>/``, which git ignores; its run.json holds every figure, and
``--merge`` writes one report from several runs (say, a scenario run again later).
"""

from __future__ import annotations

import argparse
import functools
import json
import shlex
import signal
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from .config import FULL, QUICK, Profile
from .context import Context
from .machine import describe
from .report import Run, write_report
from .scenarios import DEFAULT, SCENARIOS, Scenario
from .server import Server
from .targets import PostgresTarget, SqliteTarget, Target, probe

__all__ = ["main"]

BENCH_DIR = Path(__file__).parent


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--scenarios",
        default=",".join(DEFAULT),
        help=f"comma-separated, from: {', '.join(SCENARIOS)}",
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--quick", action="store_true", help="small data, short runs")
    parser.add_argument("--bulk-items", type=int, help="items bulk_create makes per concurrency")
    parser.add_argument("--report", type=Path, default=BENCH_DIR / "results.md")
    parser.add_argument("--command", default="", help="the command to record in the report")
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        metavar="OUT_DIR",
        help="run nothing: write the report from earlier runs' bench/out/<run>/"
        "run.json, a later run's rows replacing an earlier one's",
    )
    return parser.parse_args(argv)  # fmt: skip


def _target(backend: str, out_dir: Path) -> Target:
    if backend == "sqlite":
        return SqliteTarget(out_dir / "stockroom.db")
    if backend == "postgresql":
        return PostgresTarget.create()
    raise SystemExit(f"unknown backend {backend!r}: use sqlite or postgresql")


def _run_backend(
    run: Run, backend: str, scenarios: list[Scenario], profile: Profile, out_dir: Path
) -> None:
    target = _target(backend, out_dir)
    try:
        support = probe(target)
        if support.refused:
            run.notes.append(f"**{backend} skipped**: the service refused it ({support.refused}).")
            print(f"{backend}: skipped ({support.refused})", flush=True)
            return
        with Server(target.url, out_dir / f"server-{backend}.log") as server:
            ctx = Context(profile, target, server, out_dir, support.locks_rows)
            for scenario in scenarios:
                print(f"{backend}: {scenario.name}", flush=True)
                started = time.monotonic()
                try:
                    for row in scenario.run(ctx):
                        run.comparisons.append(row)
                except Exception as error:  # one failed scenario must not lose the others
                    traceback.print_exc()
                    run.notes.append(f"**{scenario.name} on {backend} failed**: {error!r}")
                print(f"{backend}: {scenario.name} took {time.monotonic() - started:.0f} s")
    finally:
        target.drop()


def _load_average() -> str:
    return " / ".join(Path("/proc/loadavg").read_text().split()[:3])


def _describe(profile: Profile) -> str:
    return (
        f"{profile.name}: clients {', '.join(map(str, profile.clients))};"
        f" {profile.duration_s:g} s per throughput run, {profile.latency_s:g} s per latency run;"
        f" {profile.catalog_items:,} items to query, {profile.checkout_items:,} to change stock"
        f" in, {profile.flash_sale_stock:,} units on sale, {profile.bulk_create_items:,} items"
        " bulk-created per concurrency"
    )


def main(argv: list[str] | None = None) -> None:
    args = _arguments(sys.argv[1:] if argv is None else argv)
    if args.merge:
        runs = [Run.from_json(json.loads((d / "run.json").read_text())) for d in args.merge]
        merged = functools.reduce(Run.updated_by, runs)
        # The scenarios' descriptions are documentation: take today's words.
        merged.scenarios = [
            (n, SCENARIOS[n].title, SCENARIOS[n].about) if n in SCENARIOS else (n, t, a)
            for n, t, a in merged.scenarios
        ]
        merged.command += "\n" + (args.command or shlex.join(["python", "-m", "bench.run",
                                                              *sys.argv[1:]]))  # fmt: skip
        write_report(merged, args.report, args.report.parent / "charts")
        print(f"wrote {args.report} from {len(runs)} runs")
        return
    # Stopped from outside, still stop the servers and drop the databases on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenarios {unknown}; choose from {', '.join(SCENARIOS)}")
    scenarios = [SCENARIOS[n] for n in names]
    out_dir = BENCH_DIR / "out" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir.mkdir(parents=True)
    profile = (QUICK if args.quick else FULL).with_bulk_items(args.bulk_items)
    run = Run(
        command=args.command or shlex.join(["python", "-m", "bench.run", *sys.argv[1:]]),
        profile=_describe(profile),
        started=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=describe(),
        scenarios=[(s.name, s.title, s.about) for s in scenarios],
    )
    began, load_before = time.monotonic(), _load_average()
    for backend in (b.strip() for b in args.backends.split(",") if b.strip()):
        _run_backend(run, backend, scenarios, profile, out_dir)
    run.notes.append(
        f"The whole run took {(time.monotonic() - began) / 60:.1f} minutes; the machine's load"
        f" average (1, 5, 15 min) was {load_before} at the start and {_load_average()} at the end."
    )
    (out_dir / "run.json").write_text(json.dumps(run.to_json(), indent=1))
    write_report(run, args.report, args.report.parent / "charts")
    print(f"wrote {args.report} (raw output in {out_dir})")


if __name__ == "__main__":
    main()
