"""Who may call what: API keys and the permission scopes of spec 3.0.1.

Each operation names the kind of access it needs (``Access``); a key carries scopes; a scope
grants the kinds listed for it here. The contract's two inventory scopes are joined by the
broader Wix scopes it lists as aliases, and by Stockroom's own for what Wix does not have.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = ["SCOPE_GRANTS", "Access", "ApiKey", "grants"]


class Access(StrEnum):
    INVENTORY_READ = "inventory.read"
    INVENTORY_WRITE = "inventory.write"
    CATALOG_READ = "catalog.read"
    CATALOG_WRITE = "catalog.write"
    JOBS_READ = "jobs.read"
    EVENTS_READ = "events.read"
    WEBHOOKS_MANAGE = "webhooks.manage"


_R, _W = Access.INVENTORY_READ, Access.INVENTORY_WRITE
_CR, _CW = Access.CATALOG_READ, Access.CATALOG_WRITE
_EVERYTHING = frozenset(Access)

SCOPE_GRANTS: Final[dict[str, frozenset[Access]]] = {
    # The contract's current scopes.
    "SCOPE.STORES.INVENTORY_ITEM_READ": frozenset({_R, Access.JOBS_READ, Access.EVENTS_READ}),
    "SCOPE.STORES.INVENTORY_ITEM_WRITE": frozenset({_W}),
    "SCOPE.STORES.INVENTORY_ITEM_READ_LIMITED": frozenset({_R}),
    # Broader scopes the contract accepts as aliases.
    "SCOPE.DC-STORES-MEGA.MANAGE-STORES": _EVERYTHING,
    "SCOPE.STORES.MANAGE-STORES": _EVERYTHING,
    "SCOPE.RESTAURANTS.MEGA-SCOPES": frozenset({_R, _W, _CR, _CW, Access.JOBS_READ}),
    "SCOPE.DC-STORES-MEGA.READ-STORES": frozenset({_R, _CR, Access.JOBS_READ, Access.EVENTS_READ}),
    "SCOPE.DC-STORES.MANAGE-PRODUCTS": frozenset({_R, _W, _CR, _CW, Access.JOBS_READ}),
    "SCOPE.DC-STORES.READ-PRODUCTS": frozenset({_R, _CR}),
    "SCOPE.DC-STORES.MANAGE-ORDERS": frozenset({_R}),
    "SCOPE.STORES.CATALOG_READ": frozenset({_R, _CR}),
    "SCOPE.STORES.CATALOG_READ_LIMITED": frozenset({_R, _CR}),
    "SCOPE.STORES.CATALOG_WRITE": frozenset({_R, _W, _CR, _CW, Access.JOBS_READ}),
    "SCOPE.ASYNC_JOB.READ": frozenset({Access.JOBS_READ}),
    # Stockroom's own.
    "SCOPE.STOCKROOM.EVENTS_READ": frozenset({Access.EVENTS_READ}),
    "SCOPE.STOCKROOM.WEBHOOKS_MANAGE": frozenset({Access.WEBHOOKS_MANAGE, Access.EVENTS_READ}),
}


def grants(scopes: frozenset[str] | tuple[str, ...], access: Access) -> bool:
    """Whether any of ``scopes`` grants ``access``."""
    return any(access in SCOPE_GRANTS.get(scope, frozenset()) for scope in scopes)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A store's API key, without its secret (which is never stored)."""

    id: str
    store_id: str
    name: str
    scopes: tuple[str, ...]
    rate_per_second: int | None
    created_ms: int
    revoked_ms: int | None = None

    @property
    def active(self) -> bool:
        return self.revoked_ms is None
