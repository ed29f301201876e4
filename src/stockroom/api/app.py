"""``create_app(settings)``: the one place that wires storage, service and HTTP together."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from anyio import CapacityLimiter
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from stockroom.service.access import Gatekeeper
from stockroom.service.coalesce import Coalescer
from stockroom.service.context import Inventory, now_ms
from stockroom.service.jobs import JobRunner
from stockroom.service.relay import Relay, RelaySettings
from stockroom.settings import Settings
from stockroom.storage import SqlStorage, open_storage

from . import admin as admin_routes
from . import catalog as catalog_routes
from . import inventory as item_routes
from . import jobs as job_routes
from . import queries as query_routes
from . import webhooks as webhook_routes
from .auth import Guard
from .openapi import openapi_document
from .routing import LeanRequest, Served, json_response, routes_for

__all__ = ["INVENTORY_PREFIXES", "create_app"]

INVENTORY_PREFIXES = ("/stores/v3", "/_api/inventory/v3")
"""The documented REST prefix, and the one the JS SDK uses against a custom host."""

JOB_PREFIXES = ("/async-jobs/v1/async-jobs", "/v1/async-jobs")
"""The Async Jobs API, at its REST path and the shorter one some of its pages print."""

ADMIN_PREFIX = "/stockroom/v1"
"""Stockroom's own endpoints (key administration), beside the contract's."""

PRODUCT_PREFIXES = ("/stores/v3", "/_api/stores-catalog-orchestrator/v3")
LOCATION_PREFIXES = ("/stores/v3", "/_api/location/v3")


def create_app(
    settings: Settings,
    *,
    storage: SqlStorage | None = None,
    after_search: Callable[[], None] = lambda: None,
) -> Starlette:
    """Build the HTTP application; ``storage`` overrides the one named by the settings.
    ``after_search`` runs on a search's thread once it has answered."""
    if storage is None:
        storage = open_storage(
            settings.database_url,
            now_ms=now_ms,
            migrate=settings.migrate_on_start,
            pool_size=settings.database_pool_size,
            busy_timeout_ms=settings.database_busy_timeout_ms,
            pool_timeout_ms=settings.database_pool_timeout_ms,
            trust_idle_ms=settings.database_trust_idle_ms,
        )
    limiter = CapacityLimiter(settings.worker_threads)
    coalescer = Coalescer(limiter) if settings.coalesce else None
    inventory = Inventory(storage=storage, coalescer=coalescer)
    runner = (
        JobRunner(inventory, lease_ms=settings.job_lease_ms, batch=settings.job_batch)
        if settings.run_jobs
        else None
    )
    relay = (
        Relay(storage, settings=RelaySettings.from_settings(settings))
        if settings.run_relay
        else None
    )
    guard = Guard(
        Gatekeeper(storage, now_ms),
        default_store_id=settings.default_store_id,
        admin_key=settings.admin_key,
    )
    served = Served(
        inventory,
        guard,
        limiter,
        large_requests=asyncio.Semaphore(settings.large_requests),
        searches=CapacityLimiter(settings.searches),
        after_search=after_search,
        wake_jobs=runner.wake if runner else lambda: None,
        idempotency_ttl_ms=settings.idempotency_ttl_ms,
    )
    with storage.writing(settings.default_store_id):
        pass  # creates the default store and its default location on first start

    routes: list[BaseRoute] = [Route("/health", _health, methods=["GET"])]
    for prefix in INVENTORY_PREFIXES:
        # Reads by path come first, so that /inventory-items/query is not taken for an id.
        operations = (
            query_routes.OPERATIONS
            + job_routes.OPERATIONS
            + catalog_routes.VARIANT_FILTER_OPERATIONS
            + item_routes.OPERATIONS
        )
        routes += routes_for(prefix, operations, served)
    for prefix in PRODUCT_PREFIXES:
        routes += routes_for(prefix, catalog_routes.PRODUCT_OPERATIONS, served)
    for prefix in LOCATION_PREFIXES:
        routes += routes_for(prefix, catalog_routes.LOCATION_OPERATIONS, served)
    routes += routes_for(ADMIN_PREFIX, admin_routes.OPERATIONS, served)
    routes += routes_for(ADMIN_PREFIX, webhook_routes.OPERATIONS, served)
    for prefix in JOB_PREFIXES:
        routes += routes_for(prefix, job_routes.JOB_OPERATIONS, served)
    routes.append(_openapi_route(routes))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if runner is not None:
            runner.start()
        if relay is not None:
            relay.start()
        yield
        if relay is not None:
            relay.stop()
        if runner is not None:
            runner.stop()
        storage.close()

    return _Application(
        routes=routes,
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )


class _Application(Starlette):
    """Starlette, except that a request for a path without parameters (every POST of the
    contract but a few) goes straight to its endpoint. The router would try well over a
    hundred patterns in turn and wrap the call in two layers of exception handling that
    these endpoints never need: each answers every error itself."""

    def __init__(self, *, routes: list[BaseRoute], **options: Any) -> None:
        super().__init__(routes=routes, **options)
        self._exact: dict[tuple[str, str], Callable[[Request], Awaitable[Response]]] = {
            (method, route.path): route.endpoint
            for route in routes
            if isinstance(route, Route)
            and "{" not in route.path
            and hasattr(route.endpoint, "operation")
            for method in route.methods or ()
            if method != "HEAD"
        }
        self.lean_endpoints: dict[str, Callable[[LeanRequest], Awaitable[Response]]] = {
            path: endpoint.lean  # type: ignore[attr-defined]
            for (method, path), endpoint in self._exact.items()
            if method == "POST" and not endpoint.operation.search  # type: ignore[attr-defined]
        }
        """The POST endpoints ``cli.http`` may call itself with a body read whole (all but
        the searches, which watch their connection while they wait for a turn)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            endpoint = self._exact.get((scope["method"], scope["path"]))
            if endpoint is not None:
                response = await endpoint(Request(scope, receive, send))
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def _openapi_route(routes: list[BaseRoute]) -> Route:
    """``GET /openapi.json``: the document of every route above, built once."""
    document = json_response(openapi_document(routes))

    async def openapi(_: Request) -> Response:
        return document

    return Route("/openapi.json", openapi, methods=["GET"])


async def _health(_: Request) -> Response:
    return json_response({"status": "ok"})


async def _http_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(error.status_code, "BAD_REQUEST")
    body = {
        "message": error.detail,
        "details": {"applicationError": {"code": code, "description": error.detail, "data": {}}},
    }
    return json_response(body, error.status_code)
