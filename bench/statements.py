"""The raw baselines' statements: what the server sends the database for each request.

Stock changes are written out here as plain SQL, mirroring ``storage/sql.py`` (one
conditional UPDATE ... RETURNING per line; on PostgreSQL, whose backend locks rows, the
lines' rows locked first in key order; a refused line reads the item to name the reason).
Queries are compiled by the server's own query compiler (``stockroom.query``), so the raw
side runs exactly the SELECTs the API runs.

Each ``RawWork`` carries the same transaction in both forms the baselines need: a spec for
the SQLite driver loop (``bench/rawloop.py``) and a pgbench script.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from .seed import ITEM_COLUMNS

__all__ = ["RawWork", "flash_sale", "item_query", "stock_change"]

_RETURNING: Final = ", ".join(ITEM_COLUMNS)
_QUANTITY_MAX: Final = 99_999


@dataclass(frozen=True, slots=True)
class RawWork:
    """One kind of transaction, for the SQLite driver loop and for pgbench."""

    sqlite: dict[str, Any]
    pgbench: list[tuple[str, int]] = field(default_factory=list)
    """pgbench scripts and their weights."""


def _pg_id(var: str) -> str:
    return f"'00000000-0000-4000-8000-' || lpad(CAST(:{var} AS text), 12, '0')"


def _change_sql(kind: str, store: str, item: str, amount: str, now: str) -> str:
    if kind == "decrement":
        return (
            f"UPDATE inventory_items SET quantity = quantity - {amount}, revision = revision + 1,"
            f" updated_ms = {now} WHERE store_id = {store} AND id = {item}"
            f" AND quantity IS NOT NULL AND quantity - {amount} >= 0 RETURNING {_RETURNING}"
        )
    return (
        f"UPDATE inventory_items SET quantity = quantity + {amount}, revision = revision + 1,"
        f" updated_ms = {now} WHERE store_id = {store} AND id = {item}"
        f" AND quantity IS NOT NULL AND quantity + {amount} <= {_QUANTITY_MAX}"
        f" RETURNING {_RETURNING}"
    )


def _select_item(store: str, item: str, *, lock: bool) -> str:
    suffix = " FOR UPDATE" if lock else ""
    return (
        f"SELECT {_RETURNING} FROM inventory_items WHERE store_id = {store} AND id = {item}{suffix}"
    )


def _lock_items(store: str, items: list[str]) -> str:
    return (
        f"SELECT id FROM inventory_items WHERE store_id = {store} AND id IN ({', '.join(items)})"
        " ORDER BY id FOR UPDATE"
    )


def flash_sale(store: str, item: str, *, refused: bool, locks_rows: bool) -> RawWork:
    """One unit of one item, restricted: a sale (``refused=False``, stopping at the first
    refusal), or a refusal once sold out (the UPDATE changes nothing, the item is read)."""
    update = _change_sql("decrement", "?", "?", "1", "?")
    sqlite: dict[str, Any]
    if refused:
        sqlite = {"begin": "BEGIN IMMEDIATE", "end": "ROLLBACK",
                  "statements": [[update, ["$now", store, item]],
                                 [_select_item("?", "?", lock=False), [store, item]]]}  # fmt: skip
        pg_body = [
            _change_sql("decrement", ":store", ":item", "1", ":now") + ";",
            _select_item(":store", ":item", lock=locks_rows) + ";",
            "ROLLBACK;",
        ]
    else:
        sqlite = {"begin": "BEGIN IMMEDIATE", "end": "COMMIT", "stop_when_refused": True,
                  "count_rows": True,
                  "statements": [[update, ["$now", store, item]]]}  # fmt: skip
        pg_body = [
            *([_lock_items(":store", [":item"]) + ";"] if locks_rows else []),
            _change_sql("decrement", ":store", ":item", "1", ":now") + ";",
            "COMMIT;",
        ]
    script = "\n".join(["BEGIN;", *pg_body]) + "\n"
    return RawWork({"kind": "transaction", **sqlite}, [(script, 1)])


def stock_change(
    kind: str, store: str, *, items: int, lines: int, amount: int, locks_rows: bool
) -> RawWork:
    """``lines`` random items of the first ``items`` seeded, each changed by ``amount``."""
    sqlite = {
        "kind": "transaction",
        "begin": "BEGIN IMMEDIATE",
        "end": "COMMIT",
        "items": items,
        "repeat": lines,
        "count_rows": True,
        "statements": [[_change_sql(kind, "?", "?", str(amount), "?"), ["$now", store, "$item"]]],
    }
    variables = [f"i{n}" for n in range(lines)]
    script = [f"\\set {var} random(0, :items - 1)" for var in variables]
    script.append("BEGIN;")
    if locks_rows:
        script.append(_lock_items(":store", [_pg_id(var) for var in variables]) + ";")
    script += [
        _change_sql(kind, ":store", _pg_id(var), str(amount), ":now") + ";" for var in variables
    ]
    script.append("COMMIT;")
    text = "\n".join(script) + "\n"
    return RawWork(sqlite, [(text, 1)])


def item_query(choices: list[list[tuple[str, list[Any]]]], pg_scripts: list[str]) -> RawWork:
    """Read transactions, one picked at random each time: each a page SELECT and any
    aggregation SELECTs, as compiled by ``bench.sql``."""
    sqlite = {"kind": "transaction", "begin": "BEGIN", "end": "COMMIT",
              "choices": [[[sql, params] for sql, params in c] for c in choices]}  # fmt: skip
    return RawWork(sqlite, [(text, 1) for text in pg_scripts])
