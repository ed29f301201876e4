"""Requests with large or undeclared bodies are admitted a few at a time (memory)."""

from starlette.requests import Request

from stockroom.api.routing import is_large


def request(headers: dict[str, str]) -> Request:
    raw = [(name.encode(), value.encode()) for name, value in headers.items()]
    return Request({"type": "http", "method": "POST", "headers": raw})


def test_a_body_over_64_kib_or_of_undeclared_size_is_large():
    assert is_large(request({"content-length": str(64 * 1024 + 1)}).headers)
    assert is_large(request({"transfer-encoding": "chunked"}).headers)
    assert is_large(request({"content-length": "many"}).headers)


def test_a_small_declared_body_is_not():
    assert not is_large(request({"content-length": "2"}).headers)
    assert not is_large(request({"content-length": str(64 * 1024)}).headers)
