"""What a scenario works with: the profile, one backend's database and server, and the
two ways of putting load on it (wrk over HTTP, the raw baseline)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import Profile
from .load import wrk
from .procstat import postgres_pids, process_tree
from .raw import driver_loop, pgbench
from .results import Stats
from .seed import Catalog, seed_store
from .server import Server
from .statements import RawWork
from .targets import PostgresTarget, SqliteTarget, Target

__all__ = ["Context"]

_UNBOUNDED_S = 1800.0
"""The time limit of loops bounded by a count instead (sell-outs, bulk loads)."""


@dataclass
class Context:
    """One backend under test, for the scenarios: its server, its database, and the
    stores seeded so far (a store is seeded once per run and shared by the scenarios)."""

    profile: Profile
    target: Target
    server: Server
    out_dir: Path
    locks_rows: bool
    """Whether the backend locks rows before changing stock (PostgreSQL does)."""
    seeded: dict[str, Catalog] = field(default_factory=dict)

    @property
    def backend(self) -> str:
        return self.target.backend

    def note(self, message: str) -> None:
        """Progress, on standard output."""
        print(f"  [{self.backend}] {message}", flush=True)

    def catalog(self, store_id: str, count: int, quantity: int | None = None) -> Catalog:
        """The store's items, seeded by the fast path the first time they are asked for."""
        if store_id not in self.seeded:
            catalog = Catalog(store_id, count, quantity)
            self.note(f"seeding {count:,} items into store {store_id!r}")
            seed_store(self.target, catalog)
            self.seeded[store_id] = catalog
        found = self.seeded[store_id]
        assert (found.count, found.quantity) == (count, quantity), "store seeded differently"
        return found

    def http(
        self,
        script: str,
        *,
        clients: int,
        duration_s: float,
        env: Mapping[str, object],
        threads: int | None = None,
    ) -> Stats:
        """wrk with ``lua/<script>`` against the server, sampling the server."""
        self._settle()
        database = self.target.name if isinstance(self.target, PostgresTarget) else None
        return wrk(
            script,
            self.server.url,
            clients=clients,
            duration_s=duration_s,
            result_file=self.out_dir / "wrk-result.json",
            env=env,
            threads=threads,
            app_pids=lambda: process_tree(self.server.pid),
            db_pids=(lambda: postgres_pids(database)) if database else list,
        )

    def raw(
        self,
        work: RawWork,
        *,
        clients: int,
        duration_s: float | None = None,
        per_client: int | None = None,
        variables: Mapping[str, object] | None = None,
    ) -> Stats:
        """The raw baseline of ``work``: for a time, or ``per_client`` transactions each."""
        self._settle()
        if isinstance(self.target, SqliteTarget):
            spec = {"driver": "sqlite", "path": str(self.target.path), "clients": clients,
                    "duration_s": duration_s or _UNBOUNDED_S, "per_client": per_client,
                    **work.sqlite}  # fmt: skip
            return driver_loop(spec)
        assert isinstance(self.target, PostgresTarget)
        return pgbench(
            self.target,
            work.pgbench,
            clients=clients,
            work_dir=self.out_dir / "pgbench",
            duration_s=duration_s,
            transactions=per_client,
            variables=variables,
        )

    def raw_insert(self, *, store_id: str, clients: int, batches: int, batch: int) -> Stats:
        """``batches`` transactions inserting ``batch`` items each: executemany / COPY."""
        self._settle()
        spec: dict[str, Any] = {
            "kind": "insert",
            "store_id": store_id,
            "clients": clients,
            "batches": batches,
            "batch": batch,
            "duration_s": _UNBOUNDED_S,
        }
        if isinstance(self.target, SqliteTarget):
            return driver_loop(spec | {"driver": "sqlite", "path": str(self.target.path)})
        assert isinstance(self.target, PostgresTarget)
        return driver_loop(
            spec | {"driver": "postgresql", "dsn": self.target.dsn}, database=self.target.name
        )

    def _settle(self) -> None:
        """Before a measured run on PostgreSQL: a checkpoint, so that every run starts from
        the same state, with no dirty buffers and no checkpoint under way, whatever ran
        before it. Raw and HTTP runs are treated alike.

        A sale writes about 4.5 KB of WAL (its two events, into the outbox and then into the
        stream) and as much again of table pages, which PostgreSQL's backends write out
        themselves once its 128 MB of shared buffers are dirty. Without the checkpoint,
        eight-second windows of one sustained 64-client sale had p99s of 17-19 ms for the
        first two and 18-103 ms after, varying from window to window, with or without a
        checkpoint running (``findings.md``, tenth round): a run's p99 depended on how much
        the runs before it had written.
        """
        if isinstance(self.target, PostgresTarget):
            with self.target.connect() as conn:
                conn.execute("CHECKPOINT")

    def vacuum(self) -> None:
        """On PostgreSQL, vacuum and analyse the whole database, so that no autovacuum
        worker is left with work to do when a read scenario is timed.

        The write scenarios before the reads (flash sale, checkout, restock) leave well over
        a million events in the outbox and the stream and many dead item versions, which
        autovacuum then cleans at a moment of its choosing. In a full run without this,
        one-client query runs found PostgreSQL's processes at 62-100% of a core, against
        11-48% with the query scenario alone, and p99s up to 21 ms against at most 10; in
        the first full run with it, every p99 was within 13.4 ms (``findings.md``,
        thirteenth and fourteenth rounds, which also show the machine's speed moving those
        tails). SQLite has no background upkeep. Each measured run still begins with its
        own checkpoint (``_settle``).
        """
        if isinstance(self.target, PostgresTarget):
            started = time.monotonic()
            with self.target.connect() as conn:
                conn.execute("VACUUM (ANALYZE)")
            self.note(f"vacuumed the database in {time.monotonic() - started:.0f} s")

    def bodies_file(self, name: str, requests: Sequence[tuple[str, Mapping[str, Any]]]) -> Path:
        """Write (path, body) pairs for ``lua/replay.lua``."""
        path = self.out_dir / f"bodies-{name}.tsv"
        lines = [f"{route}\t{json.dumps(body)}" for route, body in requests]
        path.write_text("\n".join(lines) + "\n")
        return path
