"""Field masks: an update that names its fields changes only those."""

from __future__ import annotations

from typing import TypeVar

import msgspec
from msgspec import UNSET

from . import wire

__all__ = ["masked"]

_Body = TypeVar("_Body", wire.ItemUpdateIn, wire.UpsertItemIn)

# Fields a mask can never hide: they say which item is meant, not what changes.
_IDENTITY = frozenset({"id", "revision", "productId", "variantId", "locationId"})


def masked(body: _Body, mask: wire.FieldMaskIn | str | None) -> _Body:
    """``body`` with every changeable field outside ``mask`` treated as not sent.

    Paths are REST field names, optionally under ``inventoryItem.``; ``preorderInfo.limit``
    keeps only that sub-field. An absent or empty mask keeps every field that was sent.
    """
    paths = _paths(mask)
    if not paths:
        return body
    changes: dict[str, object] = {}
    for name in body.__struct_fields__:
        if name in _IDENTITY or name in paths:
            continue
        nested = {p.split(".", 1)[1] for p in paths if p.startswith(f"{name}.")}
        value = getattr(body, name)
        if nested and isinstance(value, wire.PreorderInfoIn):
            changes[name] = msgspec.structs.replace(
                value,
                **{f: UNSET for f in value.__struct_fields__ if f not in nested},
            )
        else:
            changes[name] = UNSET
    return msgspec.structs.replace(body, **changes)


def _paths(mask: wire.FieldMaskIn | str | None) -> set[str]:
    if mask is None:
        return set()
    raw = mask.split(",") if isinstance(mask, str) else mask.paths
    return {p.strip().removeprefix("inventoryItem.") for p in raw if p.strip()}
