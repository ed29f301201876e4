"""Opaque, tamper-checked cursors.

A cursor carries everything needed for the next page: the request's filter, sort, search and
page size, the store it belongs to, and the sort values of the row to continue after (or
before, for a previous page). It is compressed JSON, base64url, signed with HMAC-SHA256 under
a key kept in the database, so any server process can read a cursor another one issued and
nobody can forge or alter one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import zlib
from typing import Any, Final

from stockroom.domain.errors import ValidationFailed

__all__ = ["MAX_CURSOR", "decode_cursor", "encode_cursor"]

MAX_CURSOR: Final = 16_000
_SIGNATURE_BYTES: Final = 16


def encode_cursor(payload: dict[str, Any], *, key: bytes) -> str:
    """A signed cursor for ``payload`` (JSON-serialisable)."""
    body = zlib.compress(json.dumps(payload, separators=(",", ":")).encode())
    signature = hmac.new(key, body, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    return _b64(body) + "." + _b64(signature)


def decode_cursor(cursor: str, *, key: bytes, where: str) -> dict[str, Any]:
    """The payload of a cursor this service issued. Raises ``ValidationFailed`` otherwise."""
    if len(cursor) > MAX_CURSOR:
        raise ValidationFailed.of(
            where, f"a cursor is at most {MAX_CURSOR} characters", "MAX_LENGTH"
        )
    body_text, _, signature_text = cursor.partition(".")
    try:
        body, signature = _unb64(body_text), _unb64(signature_text)
    except (binascii.Error, ValueError):
        raise _invalid(where) from None
    expected = hmac.new(key, body, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    if not hmac.compare_digest(signature, expected):
        raise _invalid(where)
    try:
        payload = json.loads(zlib.decompress(body))
    except (zlib.error, ValueError):
        raise _invalid(where) from None
    if not isinstance(payload, dict):
        raise _invalid(where)
    return payload


def _invalid(where: str) -> ValidationFailed:
    return ValidationFailed.of(where, "the cursor is not one this service issued", "FORMAT")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text:
        raise ValueError("empty")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
