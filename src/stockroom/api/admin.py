"""Key administration over HTTP, guarded by the admin key (``STOCKROOM_ADMIN_KEY``)."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET as WIRE_UNSET

from stockroom.domain.access import ApiKey
from stockroom.service import access

from . import wire
from .auth import ADMIN
from .convert import iso_ms
from .routing import Call, Operation

__all__ = ["OPERATIONS"]


def _key_to_wire(key: ApiKey) -> wire.KeyOut:
    return wire.KeyOut(
        id=key.id,
        storeId=key.store_id,
        name=key.name,
        scopes=list(key.scopes),
        createdDate=iso_ms(key.created_ms),
        ratePerSecond=key.rate_per_second,
        revokedDate=iso_ms(key.revoked_ms) if key.revoked_ms is not None else WIRE_UNSET,
    )


def create_key(call: Call) -> wire.KeyCreatedResponse:
    body: wire.KeyCreateRequest = call.body
    key, secret = access.create_key(
        call.inventory.storage,
        store_id=body.storeId,
        name=body.name,
        scopes=body.scopes,
        rate_per_second=body.ratePerSecond,
        now_ms=call.inventory.clock(),
    )
    return wire.KeyCreatedResponse(key=_key_to_wire(key), secret=secret)


def list_keys(call: Call) -> wire.KeysResponse:
    body: wire.KeyStoreRequest = call.body
    keys = access.list_keys(call.inventory.storage, store_id=body.storeId)
    return wire.KeysResponse(keys=[_key_to_wire(key) for key in keys])


def revoke_key(call: Call) -> dict[str, Any]:
    body: wire.KeyStoreRequest = call.body
    access.revoke_key(
        call.inventory.storage,
        store_id=body.storeId,
        key_id=call.path["keyId"],
        now_ms=call.inventory.clock(),
    )
    return {}


OPERATIONS: tuple[Operation, ...] = (
    Operation("CreateApiKey", "POST", "/keys", create_key,
              wire.KeyCreateRequest, wire.KeyCreatedResponse, ADMIN),
    Operation("ListApiKeys", "GET", "/keys", list_keys, wire.KeyStoreRequest,
              wire.KeysResponse, ADMIN),
    Operation("RevokeApiKey", "POST", "/keys/{keyId}/revoke", revoke_key,
              wire.KeyStoreRequest, None, ADMIN),
)  # fmt: skip
"""Served under ``/stockroom/v1``."""
