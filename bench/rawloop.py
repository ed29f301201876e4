"""The raw baseline's driver loop, run as its own process (``python -m bench.rawloop``) so
that its CPU and memory can be sampled like the server's.

It reads one JSON spec on standard input and prints one JSON result, with its own CPU
time and peak memory (``getrusage``; they include the interpreter's start, a few tens of
milliseconds). ``clients`` threads
each hold their own connection and run transactions back to back until ``duration_s``
passes, ``per_client`` transactions are done, or (``stop_when_refused``) the first
statement of a transaction changes no row. Python's ``sqlite3`` and ``psycopg`` release the
GIL while the database works, so threads overlap as separate clients would.

Spec kinds:

- ``transaction``: ``begin``, ``statements`` ([sql, params] pairs) and ``end``. A
  parameter ``"$item"`` becomes a random seeded item id (the same within one repetition),
  ``"$now"`` the time in ms; the statements run ``repeat`` times in one transaction. With
  ``choices`` instead of ``statements``, each transaction runs one list picked at random.
  With ``count_rows``, the rows the statements return are the units of work (stock lines).
- ``insert``: ``batches`` transactions of ``batch`` new items each, split over the clients,
  inserted with ``executemany`` (SQLite) or ``COPY`` (PostgreSQL).
"""

from __future__ import annotations

import contextlib
import json
import random
import resource
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from .results import percentile
from .seed import ITEM_COLUMNS, item_id, location_id
from .targets import sqlite_pragmas

__all__ = ["main"]


@dataclass
class _Tally:
    latencies: list[float] = field(default_factory=list)
    refused: int = 0
    errors: int = 0
    units: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, latencies: list[float], refused: int, errors: int, units: int) -> None:
        with self.lock:
            self.latencies += latencies
            self.refused += refused
            self.errors += errors
            self.units += units


def _connect(spec: dict[str, Any]) -> Any:
    if spec["driver"] == "sqlite":
        conn = sqlite3.connect(spec["path"], isolation_level=None, check_same_thread=False)
        for pragma in sqlite_pragmas():
            conn.execute(pragma)
        conn.create_function("py_lower", 1, _lower, deterministic=True)
        return conn
    return psycopg.connect(spec["dsn"], autocommit=True)


def _lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _resolve(params: list[Any], item: str) -> list[Any]:
    return [item if p == "$item" else _now_ms() if p == "$now" else p for p in params]


def _transaction(spec: dict[str, Any], rng: random.Random) -> Callable[[Any], tuple[bool, int]]:
    """One transaction of a ``transaction`` spec: (refused, rows changed)."""
    items = spec.get("items", 1)

    def run(conn: Any) -> tuple[bool, int]:
        statements = spec.get("statements") or rng.choice(spec["choices"])
        conn.execute(spec["begin"])
        changed = 0
        try:
            for _ in range(spec.get("repeat", 1)):
                item = item_id(rng.randrange(items))
                for position, (sql, params) in enumerate(statements):
                    rows = conn.execute(sql, _resolve(params, item)).fetchall()
                    if position == 0 and not rows and spec.get("stop_when_refused"):
                        conn.execute("ROLLBACK")
                        return True, 0
                    if spec.get("count_rows"):
                        changed += len(rows)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute(spec["end"])
        return False, changed

    return run


def _insert_rows(spec: dict[str, Any], number: int) -> list[tuple[Any, ...]]:
    now = _now_ms()
    rows = []
    for n in range(spec["batch"]):
        index = number * spec["batch"] + n
        values = {
            "store_id": spec["store_id"], "id": str(uuid.uuid4()),
            "variant_id": f"10000000-0000-4000-8000-{index:012d}",
            "location_id": location_id(0), "product_id": f"product-{index // 20:06d}",
            "quantity": index % 1000, "in_stock": None, "preorder_enabled": False,
            "preorder_counter": 0, "revision": 1, "created_ms": now, "updated_ms": now,
        }  # fmt: skip
        rows.append(tuple(values.get(column) for column in ITEM_COLUMNS))
    return rows


def _insert_batch(spec: dict[str, Any], conn: Any, number: int) -> int:
    rows = _insert_rows(spec, number)
    columns = ", ".join(ITEM_COLUMNS)
    if spec["driver"] == "sqlite":
        marks = ", ".join("?" * len(ITEM_COLUMNS))
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(f"INSERT INTO inventory_items ({columns}) VALUES ({marks})", rows)
        conn.execute("COMMIT")
    else:
        with (
            conn.transaction(),
            conn.cursor().copy(f"COPY inventory_items ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
    return len(rows)


def _client(
    spec: dict[str, Any], index: int, deadline: float, tally: _Tally, opened: list[Any]
) -> None:
    conn = _connect(spec)
    opened.append(conn)
    rng = random.Random(index * 7919 + 1)
    latencies: list[float] = []
    refused = errors = units = 0
    run = _transaction(spec, rng) if spec["kind"] == "transaction" else None
    numbers = range(index, spec.get("batches", 0), spec["clients"])
    limit = spec.get("per_client") or (len(numbers) if run is None else None)
    done = 0
    while time.monotonic() < deadline and (limit is None or done < limit):
        started = time.perf_counter()
        try:
            if run is None:
                units += _insert_batch(spec, conn, numbers[done])
                stop = False
            else:
                stop, changed = run(conn)
                units += changed
        except (sqlite3.Error, psycopg.Error):
            if time.monotonic() >= deadline:  # interrupted at the end (``_interrupt``)
                break
            errors += 1
            continue
        finally:
            done += 1
        latencies.append(time.perf_counter() - started)
        if stop:
            refused += 1
            break
    conn.close()
    tally.add(latencies, refused, errors, units)


def _interrupt(spec: dict[str, Any], opened: list[Any]) -> None:
    """At the end of a timed run, stop the SQLite statements still running, as wrk drops
    the requests in flight when its time is up: a mix of searches that take seconds each
    would otherwise run on for minutes, 64 threads taking turns on the GIL in ``py_lower``.
    A transaction cut off this way counts for nothing."""
    if spec["driver"] == "sqlite" and not spec.get("per_client"):
        for conn in opened:
            with contextlib.suppress(sqlite3.ProgrammingError):  # closed meanwhile
                conn.interrupt()


def main() -> None:
    spec = json.load(sys.stdin)
    tally = _Tally()
    deadline = time.monotonic() + spec["duration_s"]
    opened: list[Any] = []
    threads = [
        threading.Thread(target=_client, args=(spec, i, deadline, tally, opened))
        for i in range(spec["clients"])
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    stopping = threading.Timer(spec["duration_s"], _interrupt, args=(spec, opened))
    stopping.start()
    for thread in threads:
        thread.join()
    stopping.cancel()
    seconds = time.perf_counter() - started
    latencies = sorted(tally.latencies)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    json.dump(
        {
            "ops": len(latencies),
            "seconds": seconds,
            "p50_ms": 1000 * percentile(latencies, 50),
            "p99_ms": 1000 * percentile(latencies, 99),
            "refused": tally.refused,
            "errors": tally.errors,
            "units": tally.units,
            "cpu_pct": 100 * (usage.ru_utime + usage.ru_stime) / seconds,
            "rss_mb": usage.ru_maxrss / 1024,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
