"""Quantity is sorted and filtered on its sort key, a generated column with an index.

What the conditions select is checked against the pure evaluator on both databases by the
query property tests; these check the SQL's shape, which decides whether the index serves.
"""

from sqlalchemy.dialects import postgresql, sqlite

from stockroom.query.compile import order_by, sort_key_of, where
from stockroom.query.fields import FIELDS
from stockroom.query.filter import parse_filter
from stockroom.query.sorting import parse_sort
from stockroom.storage.schema import inventory_items

STAND_IN = "-100000"


def sql(raw_filter: dict[str, object]) -> str:
    condition = where(parse_filter(raw_filter, where="filter"), "sqlite")
    compiled = condition.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    return str(compiled)


def test_the_sort_key_leads_an_index_after_the_store_and_before_the_id():
    key = sort_key_of(FIELDS["quantity"])
    indexed = [[c.name for c in index.columns] for index in inventory_items.indexes]
    assert ["store_id", key.name, "id"] in indexed
    assert STAND_IN in str(inventory_items.c[key.name].computed.sqltext)


def test_a_quantity_sort_has_no_nulls_clause_to_keep_it_from_the_index():
    for direction in ("ASC", "DESC"):
        order = parse_sort([{"fieldName": "quantity", "order": direction}], where="sort")
        clauses = " ".join(str(c.compile(dialect=postgresql.dialect())) for c in order_by(order))
        assert "NULLS" not in clauses


def test_an_upper_bound_alone_is_given_the_lower_bound_that_leaves_out_missing_quantities():
    assert f"> {STAND_IN}" in sql({"quantity": {"$lt": 5}})


def test_a_range_has_one_lower_bound_whichever_way_it_is_written():
    for raw in ({"$gte": 10, "$lt": 20}, {"$lt": 20, "$gte": 10}):
        assert f"> {STAND_IN}" not in sql({"quantity": raw})


def test_a_lower_bound_under_a_not_does_not_stand_in_for_the_siblings_of_the_not():
    compiled = sql({"quantity": {"$lt": 20}, "$not": {"quantity": {"$gte": 10}}})
    assert f"> {STAND_IN}" in compiled
