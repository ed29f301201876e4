"""The served OpenAPI document, checked against the server by Schemathesis: for a bounded
number of generated requests per operation, no 5xx, and every answer matches its schema."""

import uuid

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.slow


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 6


def test_every_operation_answers_within_its_schema_and_never_with_a_5xx(live_server):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")
    document = httpx.get(f"{live_server.url}/openapi.json").json()
    store = {"wix-site-id": f"schema-{uuid.uuid4()}"}
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema fails here

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy())
        def answers_within_its_schema(case):
            case.call_and_validate(headers=store, checks=CHECKS)

        answers_within_its_schema()
        checked += 1
    assert checked == sum(len(entry) for entry in document["paths"].values())


def test_the_document_describes_every_route_including_the_sdk_aliases(live_server):
    document = httpx.get(f"{live_server.url}/openapi.json").json()

    paths = document["paths"]
    assert "/stores/v3/inventory-items" in paths
    assert "/_api/inventory/v3/bulk/inventory-items/decrement" in paths
    assert "/_api/stores-catalog-orchestrator/v3/products-with-inventory" in paths
    assert "/_api/location/v3/locations/query" in paths
    assert "/async-jobs/v1/async-jobs/{jobId}" in paths
    operation_ids = [op["operationId"] for entry in paths.values() for op in entry.values()]
    assert len(operation_ids) == len(set(operation_ids))
