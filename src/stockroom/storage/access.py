"""Stored API keys, idempotency records and rate-limit windows."""

from __future__ import annotations

from sqlalchemy import Connection, RowMapping, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from stockroom.domain.access import ApiKey

from .schema import api_keys, idempotency_keys, rate_windows

__all__ = ["SqlAccess"]


class SqlAccess:
    """Access records, inside the caller's transaction. Key lookups span stores: a key
    says which store it belongs to."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # ---- keys ------------------------------------------------------------------------------

    def insert_key(self, key: ApiKey, key_hash: str) -> None:
        self._conn.execute(
            insert(api_keys).values(
                store_id=key.store_id,
                id=key.id,
                name=key.name,
                key_hash=key_hash,
                scopes=list(key.scopes),
                rate_per_second=key.rate_per_second,
                created_ms=key.created_ms,
            )
        )

    def key_by_hash(self, key_hash: str) -> ApiKey | None:
        row = (
            self._conn.execute(select(api_keys).where(api_keys.c.key_hash == key_hash))
            .mappings()
            .first()
        )
        return None if row is None else _key(row)

    def keys_of(self, store_id: str) -> list[ApiKey]:
        rows = self._conn.execute(
            select(api_keys).where(api_keys.c.store_id == store_id).order_by(api_keys.c.created_ms)
        ).mappings()
        return [_key(row) for row in rows]

    def revoke_key(self, store_id: str, key_id: str, now_ms: int) -> bool:
        result = self._conn.execute(
            update(api_keys)
            .where(
                api_keys.c.store_id == store_id,
                api_keys.c.id == key_id,
                api_keys.c.revoked_ms.is_(None),
            )
            .values(revoked_ms=now_ms)
        )
        return bool(result.rowcount)

    def any_active_key(self) -> bool:
        found = self._conn.execute(
            select(api_keys.c.id).where(api_keys.c.revoked_ms.is_(None)).limit(1)
        ).first()
        return found is not None

    # ---- idempotency -----------------------------------------------------------------------

    def claim_idempotency(
        self, store_id: str, key: str, *, request_hash: str, now_ms: int, expires_ms: int
    ) -> tuple[str, int, bytes] | None:
        """Claim a key for this request, or return the (request hash, status, body) it
        already answered with. A concurrent claim of the same key waits for this
        transaction to end, then sees its answer."""
        self._conn.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.store_id == store_id,
                idempotency_keys.c.key == key,
                idempotency_keys.c.expires_ms <= now_ms,
            )
        )
        insert_ignoring = (
            postgres_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        )
        claimed = self._conn.execute(
            insert_ignoring(idempotency_keys)
            .values(
                store_id=store_id,
                key=key,
                request_hash=request_hash,
                created_ms=now_ms,
                expires_ms=expires_ms,
            )
            .on_conflict_do_nothing()
            .returning(idempotency_keys.c.key)
        ).first()
        if claimed is not None:
            return None
        row = self._conn.execute(
            select(
                idempotency_keys.c.request_hash,
                idempotency_keys.c.status,
                idempotency_keys.c.response,
            ).where(idempotency_keys.c.store_id == store_id, idempotency_keys.c.key == key)
        ).one()
        return str(row[0]), int(row[1]), bytes(row[2])

    def complete_idempotency(self, store_id: str, key: str, *, status: int, body: bytes) -> None:
        """Keep the answer to a claimed key, for its retries."""
        self._conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.store_id == store_id, idempotency_keys.c.key == key)
            .values(status=status, response=body)
        )

    def prune_idempotency(self, now_ms: int) -> int:
        result = self._conn.execute(
            delete(idempotency_keys).where(idempotency_keys.c.expires_ms <= now_ms)
        )
        return int(result.rowcount)

    # ---- rate windows ----------------------------------------------------------------------

    def count_request(self, bucket: str, window_ms: int) -> int:
        """Count one request in a window; return how many the window has now."""
        upsert = postgres_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        statement = (
            upsert(rate_windows)
            .values(bucket=bucket, window_ms=window_ms, used=1)
            .on_conflict_do_update(
                index_elements=["bucket", "window_ms"],
                set_={"used": rate_windows.c.used + 1},
            )
            .returning(rate_windows.c.used)
        )
        return int(self._conn.execute(statement).scalar_one())

    def prune_windows(self, before_ms: int) -> None:
        self._conn.execute(delete(rate_windows).where(rate_windows.c.window_ms < before_ms))


def _key(row: RowMapping) -> ApiKey:
    return ApiKey(
        id=row["id"],
        store_id=row["store_id"],
        name=row["name"],
        scopes=tuple(row["scopes"]),
        rate_per_second=row["rate_per_second"],
        created_ms=row["created_ms"],
        revoked_ms=row["revoked_ms"],
    )
