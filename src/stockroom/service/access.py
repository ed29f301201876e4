"""API keys: issuing, listing and revoking them, and recognising them on requests.

A key is 32 random bytes shown to its owner once; only its SHA-256 is stored (a key is
random, not a password, so a fast hash is enough). Looked-up keys are cached for a couple
of seconds, so a revocation takes effect everywhere within that time.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from stockroom.domain.access import SCOPE_GRANTS, ApiKey
from stockroom.domain.errors import NotFound, ValidationFailed
from stockroom.storage import Storage

__all__ = ["KEY_PREFIX", "Gatekeeper", "create_key", "hash_key", "list_keys", "revoke_key"]

KEY_PREFIX = "srk_"
DEFAULT_RATE_PER_SECOND = 1000


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    storage: Storage,
    *,
    store_id: str,
    name: str,
    scopes: Sequence[str],
    rate_per_second: int | None = DEFAULT_RATE_PER_SECOND,
    now_ms: int,
) -> tuple[ApiKey, str]:
    """Issue a key for a store; returns it and its secret, which is not kept anywhere.

    Raises ``ValidationFailed`` for unknown scopes, an empty scope list or a bad name.
    """
    unknown = sorted(set(scopes) - set(SCOPE_GRANTS))
    if unknown or not scopes:
        raise ValidationFailed.of(
            "scopes",
            f"unknown scopes {unknown}" if unknown else "a key needs at least one scope",
            known=sorted(SCOPE_GRANTS),
        )
    if not 1 <= len(name) <= 100:
        raise ValidationFailed.of("name", "a name is 1 to 100 characters long")
    if rate_per_second is not None and rate_per_second < 1:
        raise ValidationFailed.of("ratePerSecond", "a rate limit is at least 1 per second")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        id=str(uuid.uuid4()),
        store_id=store_id,
        name=name,
        scopes=tuple(dict.fromkeys(scopes)),
        rate_per_second=rate_per_second,
        created_ms=now_ms,
    )
    with storage.access(write=True) as access:
        access.insert_key(key, hash_key(secret))
    return key, secret


def list_keys(storage: Storage, *, store_id: str) -> list[ApiKey]:
    with storage.access() as access:
        return access.keys_of(store_id)


def revoke_key(storage: Storage, *, store_id: str, key_id: str, now_ms: int) -> None:
    """Revoke a key. Raises ``NotFound`` for an unknown or already revoked key."""
    with storage.access(write=True) as access:
        if not access.revoke_key(store_id, key_id, now_ms):
            raise NotFound(f"no active key {key_id} in this store", keyId=key_id)


@dataclass
class Gatekeeper:
    """Recognises keys on requests and counts them against their rate limits."""

    storage: Storage
    now_ms: Callable[[], int]
    cache_seconds: float = 2.0
    _keys: dict[str, tuple[float, ApiKey | None]] = field(default_factory=dict)
    _any_key: tuple[float, bool] = (0.0, False)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def known_key(self, secret: str) -> tuple[bool, ApiKey | None]:
        """(whether the answer is known without the database, the active key with this
        secret if so): what ``key_for`` would answer from its cache alone."""
        return self._cached(hash_key(secret))

    def _cached(self, digest: str) -> tuple[bool, ApiKey | None]:
        with self._lock:
            cached = self._keys.get(digest)
        if cached is not None and time.monotonic() - cached[0] < self.cache_seconds:
            return True, cached[1]
        return False, None

    def known_keys_exist(self) -> bool | None:
        """What ``keys_exist`` would answer without the database, or ``None``."""
        checked_at, exists = self._any_key
        if exists or time.monotonic() - checked_at < self.cache_seconds:
            return exists
        return None

    def key_for(self, secret: str) -> ApiKey | None:
        """The active key with this secret, if any."""
        digest = hash_key(secret)
        known, key = self._cached(digest)
        if known:
            return key
        now = time.monotonic()
        with self.storage.access() as access:
            key = access.key_by_hash(digest)
        found = key if key is not None and key.active else None
        with self._lock:
            if len(self._keys) > 10_000:
                self._keys.clear()
            self._keys[digest] = (now, found)
        return found

    def keys_exist(self) -> bool:
        """Whether any store has an active key (then every request must bring one)."""
        known = self.known_keys_exist()
        if known is not None:
            return known
        now = time.monotonic()
        with self.storage.access() as access:
            exists = access.any_active_key()
        self._any_key = (now, exists)
        return exists

    def admit(self, key: ApiKey) -> float | None:
        """Count a request; ``None`` when allowed, else the seconds until the next window."""
        if key.rate_per_second is None:
            return None
        now = self.now_ms()
        window = now - now % 1000
        with self.storage.access(write=True) as access:
            used = access.count_request(f"key:{key.id}", window)
            if used == 1:
                access.prune_windows(window - 60_000)
        if used <= key.rate_per_second:
            return None
        return (window + 1000 - now) / 1000
