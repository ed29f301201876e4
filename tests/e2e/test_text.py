"""Text behaves the same on every backend: U+0000, which PostgreSQL cannot store, is refused
everywhere with a 400, and a backslash followed by ``u0000`` is just text."""

import base64
import json

from .helpers import ITEMS, create, get, violations

NUL_BODY = '{"inventoryItem": {"productId": "p", "quantity": 1, "variantId": "%s", %s}}'


def test_text_holding_u0000_is_refused_and_nothing_is_created(client):
    body = NUL_BODY % (
        "f27ee649-ba6b-493d-b758-75816208cf2e",
        '"preorderInfo": {"message": "a\\u0000"}',
    )

    response = client.post(ITEMS, content=body, headers={"content-type": "application/json"})

    assert [v["violatedRule"] for v in violations(response)] == ["FORMAT"]
    assert client.post(f"{ITEMS}/count", json={}).json() == {"count": 0}


def test_a_filter_holding_u0000_is_refused_by_post_and_by_get(client):
    body = {"filter": {"productId": "p\u0000"}}
    encoded = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")

    by_post = client.post(f"{ITEMS}/count", json=body)
    by_r = client.get(f"{ITEMS}/count", params={".r": encoded})
    by_parameters = client.get(f"{ITEMS}/query", params={"query.cursorPaging.cursor": "\u0000"})

    for response in (by_post, by_r, by_parameters):
        assert [v["violatedRule"] for v in violations(response)] == ["FORMAT"]


def test_an_escaped_backslash_before_u0000_is_ordinary_text(client):
    item = create(client, preorderInfo={"message": "C:\\u0000"})

    assert get(client, item["id"])["preorderInfo"]["message"] == "C:\\u0000"
