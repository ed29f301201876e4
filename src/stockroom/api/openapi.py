"""The OpenAPI document, generated from the routes the application actually serves.

Every route comes from an ``Operation`` declared once with its wire types, so the document
cannot drift from the code: request and response schemas are msgspec's own view of the
structs that decode and encode the bodies.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import msgspec
from starlette.routing import BaseRoute, Route

from stockroom import __version__

from .auth import ADMIN
from .routing import IDEMPOTENCY_HEADER, Operation
from .wire import GUID_PATTERN

__all__ = ["openapi_document"]

_ERRORS = {
    "400": "The request broke a constraint (details.validationError.fieldViolations).",
    "401": "No valid API key.",
    "403": "The key lacks the scope, or belongs to another store.",
    "404": "Not found.",
    "409": "A conflict: the item exists, a stale revision, a reused idempotency key.",
    "413": "The body is too large.",
    "428": "A business rule refused the change (details.applicationError.code).",
    "429": "Over the key's rate limit; see Retry-After.",
    "503": "The database was busy too long (SERVICE_BUSY); nothing was written. See Retry-After.",
}

_ERROR_BODY = {
    "type": "object",
    "required": ["message", "details"],
    "properties": {
        "message": {"type": "string"},
        "details": {
            "type": "object",
            "properties": {
                "applicationError": {
                    "type": "object",
                    "required": ["code", "description", "data"],
                    "properties": {
                        "code": {"type": "string"},
                        "description": {"type": "string"},
                        "data": {"type": "object"},
                    },
                },
                "validationError": {
                    "type": "object",
                    "required": ["fieldViolations"],
                    "properties": {
                        "fieldViolations": {"type": "array", "items": {"type": "object"}}
                    },
                },
            },
        },
    },
}


def openapi_document(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """OpenAPI 3.1 for every operation in ``routes`` (each alias path included)."""
    served = [
        (route.path, route.endpoint.operation)
        for route in routes
        if isinstance(route, Route) and hasattr(route.endpoint, "operation")
    ]
    types = {t for _, op in served for t in (op.request, op.response) if t is not None}
    schemas, components = msgspec.json.schema_components(
        sorted(types, key=lambda t: t.__name__), ref_template="#/components/schemas/{name}"
    )
    by_type = dict(zip(sorted(types, key=lambda t: t.__name__), schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for path, op in served:
        paths.setdefault(path, {})[op.method.lower()] = _operation(path, op, by_type)
    paths["/health"] = {"get": _health()}
    components["ErrorBody"] = _ERROR_BODY
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Stockroom",
            "version": __version__,
            "description": "The Wix Stores Catalog V3 Inventory Items API, self-hosted.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "Authorization"}
            },
        },
        "security": [{"apiKey": []}],
    }


def _operation(path: str, op: Operation, schemas: dict[type, Any]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": GUID_PATTERN}
            if name.endswith("Id")
            else {"type": "string"},
        }
        for name in re.findall(r"\{([^}]+)\}", path)
    ]
    parameters.append(
        {
            "name": "wix-site-id",
            "in": "header",
            "required": False,
            "description": "The store; without it, the key's store or the default store.",
            "schema": {"type": "string", "maxLength": 64},
        }
    )
    entry: dict[str, Any] = {
        "operationId": f"{op.name}{_suffix(path, op)}",
        "summary": op.name,
        "tags": [_tag(op)],
        "parameters": parameters,
        "responses": {
            "200": {
                "description": "Success.",
                "content": {"application/json": {"schema": _schema(op.response, schemas)}},
            },
            **{
                status: {
                    "description": text,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
                    },
                }
                for status, text in _ERRORS.items()
            },
        },
    }
    if op.method == "GET" and op.request is not None:
        parameters.append(
            {
                "name": ".r",
                "in": "query",
                "required": False,
                "description": "The whole request as base64url JSON, as the JS SDK sends it.",
                "schema": {"type": "string"},
            }
        )
    elif op.method != "GET":
        parameters.append(
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "description": "Retries with the same key and body get the first answer.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            }
        )
        if op.request is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": schemas[op.request]}},
            }
    return entry


def _schema(kind: type | None, schemas: dict[type, Any]) -> dict[str, Any]:
    return schemas[kind] if kind is not None else {"type": "object"}


def _tag(op: Operation) -> str:
    return "administration" if op.access == ADMIN else op.access.value.split(".")[0]


def _suffix(path: str, op: Operation) -> str:
    """Aliases serve one operation under several prefixes; ids must stay unique."""
    first = path.split("/")[1] if path.count("/") > 1 else ""
    if first in ("stores", "stockroom", "async-jobs"):
        return ""
    return "_" + re.sub(r"\W", "", "".join(path.split("/")[1:3]))


def _health() -> dict[str, Any]:
    return {
        "operationId": "Health",
        "summary": "Whether the server is up.",
        "security": [],
        "responses": {
            "200": {
                "description": "Up.",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    }
