"""Authentication and authorisation of every request, before anything else runs.

With no API key in the database and no admin key configured, Stockroom runs open (local
development): requests go to the store named by ``wix-site-id``. Once a key exists, every
request must bring one (``Authorization: <key>``, or ``Bearer <key>``), as the SDK's
``ApiKeyStrategy`` sends it; the key decides the store, and its scopes decide the methods.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import anyio.to_thread

from stockroom.domain.access import Access, grants
from stockroom.domain.errors import StockroomError, ValidationFailed
from stockroom.service.access import Gatekeeper

__all__ = [
    "ADMIN",
    "Guard",
    "PermissionDenied",
    "RateLimited",
    "Required",
    "Unauthenticated",
]

ADMIN: Literal["admin"] = "admin"
Required = Access | Literal["admin"]
SITE_HEADER = "wix-site-id"
_STORE_ID_MAX = 64
_T = TypeVar("_T")


class Unauthenticated(StockroomError):
    code = "UNAUTHENTICATED"


class PermissionDenied(StockroomError):
    code = "PERMISSION_DENIED"


class RateLimited(StockroomError):
    code = "RESOURCE_EXHAUSTED"

    def __init__(self, retry_after: float) -> None:
        super().__init__("too many requests for this key; retry later", retryAfter=retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Guard:
    gatekeeper: Gatekeeper
    default_store_id: str
    admin_key: str | None = None
    _lookups: dict[str, asyncio.Future[Any]] = field(default_factory=dict)
    """The database reads in flight, by what they look up (see ``_once``)."""

    async def store_for(self, headers: Mapping[str, str], required: Required) -> str:
        """The store a request with these headers (lower-case names) may act on. Raises
        ``Unauthenticated``, ``PermissionDenied``, ``RateLimited`` and ``ValidationFailed`` (a
        malformed store header)."""
        named = _named_store(headers)
        secret = _secret(headers)
        if required == ADMIN:
            if self.admin_key is None:
                raise PermissionDenied("administration needs STOCKROOM_ADMIN_KEY to be set")
            if secret is None or not hmac.compare_digest(secret, self.admin_key):
                raise Unauthenticated("an admin key is required")
            return named or self.default_store_id
        # The database is asked (on a worker thread) only when the gatekeeper's cache
        # cannot answer: most requests go through without leaving the event loop.
        if self.admin_key is None:
            keys_exist = self.gatekeeper.known_keys_exist()
            if keys_exist is None:
                keys_exist = await self._once("keys exist", self.gatekeeper.keys_exist)
            if not keys_exist:
                return named or self.default_store_id  # open: no key has been issued yet
        if secret is None:
            raise Unauthenticated("an API key is required: send it in the Authorization header")
        known, key = self.gatekeeper.known_key(secret)
        if not known:
            key = await self._once(f"key {secret}", lambda: self.gatekeeper.key_for(secret))
        if key is None:
            raise Unauthenticated("the API key is not valid or has been revoked")
        if named is not None and named != key.store_id:
            raise PermissionDenied("this key belongs to another store", storeId=named)
        if not grants(key.scopes, required):
            raise PermissionDenied(
                f"this key's scopes do not allow {required.value}", required=required.value
            )
        retry_after = (
            None
            if key.rate_per_second is None
            else await anyio.to_thread.run_sync(self.gatekeeper.admit, key)
        )
        if retry_after is not None:
            raise RateLimited(retry_after)
        return key.store_id

    async def _once(self, what: str, lookup: Callable[[], _T]) -> _T:
        """``lookup()`` on a worker thread, run once for every request that asks for ``what``
        while it runs. When a cached answer expires under load, every request in flight
        misses it together; one database read then refreshes it, rather than one each."""
        pending = self._lookups.get(what)
        if pending is None:
            pending = asyncio.ensure_future(anyio.to_thread.run_sync(lookup))
            self._lookups[what] = pending
            pending.add_done_callback(lambda done: self._forget(what, done))
        # A caller that goes away must not cancel the read the others wait for.
        result: _T = await asyncio.shield(pending)
        return result

    def _forget(self, what: str, done: asyncio.Future[Any]) -> None:
        del self._lookups[what]
        if not done.cancelled():
            done.exception()  # retrieved, so a failure nobody awaited is not logged as lost


def _secret(headers: Mapping[str, str]) -> str | None:
    header = headers.get("authorization", "").strip()
    if header[:7].lower() == "bearer ":
        header = header[7:].strip()
    return header or None


def _named_store(headers: Mapping[str, str]) -> str | None:
    store = headers.get(SITE_HEADER, "").strip()
    if not store:
        return None
    if len(store) > _STORE_ID_MAX or not store.isprintable():
        raise ValidationFailed.of(
            SITE_HEADER, f"must be printable and at most {_STORE_ID_MAX} characters", "FORMAT"
        )
    return store
