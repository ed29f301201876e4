"""Arbitrary input to the filter parser, the sort and search parsers and the cursor decoder
ends in a result or a ``ValidationFailed`` (a 400), never in another exception (a 500)."""

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from stockroom.domain.errors import ValidationFailed
from stockroom.query import aggregate
from stockroom.query.compile import where
from stockroom.query.cursor import decode_cursor, encode_cursor
from stockroom.query.filter import parse_filter, parse_time_zone
from stockroom.query.search import parse_search
from stockroom.query.sorting import parse_sort

KEY = b"k" * 32

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["quantity", "$gt", "$in", "$and", "$not", "product.name", "2024-01-01"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "quantity",
                    "inStock",
                    "id",
                    "createdDate",
                    "product.directCategoryIds",
                    "$and",
                    "$or",
                    "$not",
                    "$eq",
                    "$gt",
                    "$le",
                    "$in",
                    "$hasAll",
                    "$startsWith",
                    "$exists",
                    "$isEmpty",
                    "availabilityStatus",
                    "nope",
                    "$nope",
                ]
            )
            | st.text(max_size=6),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


def refused_or_parsed(parse, value):
    try:
        return parse(value)
    except ValidationFailed:
        return None


@settings(max_examples=300)
@given(json_values)
def test_any_filter_is_parsed_and_compiles_or_is_refused(raw):
    node = refused_or_parsed(lambda v: parse_filter(v, where="filter"), raw)
    if node is not None:
        where(node, "sqlite")
        where(node, "postgresql")


@settings(max_examples=200)
@given(json_values, json_values, json_values)
def test_any_sort_search_or_aggregation_is_parsed_or_refused(sort, search, aggregations):
    refused_or_parsed(lambda v: parse_sort(v, where="sort"), sort)
    refused_or_parsed(lambda v: parse_search(v, where="search"), search)
    refused_or_parsed(lambda v: aggregate.parse_aggregations(v, where="aggregations"), aggregations)


@settings(max_examples=200)
@given(st.text(max_size=40))
def test_any_time_zone_is_understood_or_refused(name):
    refused_or_parsed(parse_time_zone, name)


@settings(max_examples=300)
@given(
    st.text(max_size=300)
    | st.binary(max_size=200).map(lambda b: base64.urlsafe_b64encode(b).decode())
)
def test_any_string_is_refused_as_a_cursor(text):
    refused_or_parsed(lambda c: decode_cursor(c, key=KEY, where="cursor"), text)


@settings(max_examples=300)
@given(json_values, st.integers(0, 40), st.binary(min_size=1, max_size=3))
def test_an_altered_cursor_is_refused(payload, position, noise):
    cursor = encode_cursor({"p": payload}, key=KEY)
    altered = (
        cursor[:position] + base64.urlsafe_b64encode(noise).decode().rstrip("=") + cursor[position:]
    )

    decoded = refused_or_parsed(lambda c: decode_cursor(c, key=KEY, where="cursor"), altered)

    assert decoded is None or json.dumps(decoded, sort_keys=True) == json.dumps(
        {"p": payload}, sort_keys=True
    )
