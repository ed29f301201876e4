from typing import Any

import pytest

from stockroom.domain.changes import (
    ItemDraft,
    ItemPatch,
    PreorderPatch,
    ProductRules,
    apply_patch,
    new_item,
)
from stockroom.domain.errors import (
    PreorderValidation,
    QuantityDecreasedBelowZero,
    RevisionMismatch,
    ValidationFailed,
)
from stockroom.domain.item import Availability, Preorder
from tests.factories import a_flag_item, an_item, guid

NOW = 1_800_000_000_000


def a_draft(**changes: Any) -> ItemDraft:
    fields: dict[str, Any] = {"product_id": "p-1", "variant_id": guid(), "quantity": 4}
    return ItemDraft(**(fields | changes))


def create(draft, **kwargs):
    return new_item(draft, item_id=guid(), location_id=guid(), now_ms=NOW, **kwargs)


def violation_of(raised):
    first = raised.value.violations[0]
    return first.field, first.violated_rule, first.rule_name


def test_a_new_item_starts_at_revision_one_with_derived_fields():
    item = create(a_draft(quantity=4))

    assert (item.revision, item.created_ms, item.updated_ms) == (1, NOW, NOW)
    assert item.track_quantity
    assert item.availability is Availability.IN_STOCK


def test_create_needs_exactly_one_tracking_method():
    with pytest.raises(ValidationFailed) as neither:
        create(a_draft(quantity=None))
    with pytest.raises(ValidationFailed) as both:
        create(a_draft(quantity=1, in_stock=True))

    assert violation_of(neither) == ("trackingMethod", "REQUIRED_FIELD", None)
    assert violation_of(both) == ("trackingMethod", "ONE_OF", None)


def test_create_refuses_a_negative_quantity_with_the_named_rule():
    with pytest.raises(ValidationFailed) as raised:
        create(a_draft(quantity=-1))

    assert violation_of(raised) == ("quantity", "MIN", "REQUESTED_QUANTITY_MUST_BE_NON_NEGATIVE")


def test_create_refuses_a_preorder_limit_on_a_flag_item():
    draft = a_draft(quantity=None, in_stock=True, preorder=PreorderPatch(limit=5))

    with pytest.raises(ValidationFailed) as raised:
        create(draft)

    assert violation_of(raised)[2] == "PREORDER_LIMIT_NOT_SUPPORTED_FOR_UNTRACKED_INVENTORY"


def test_create_refuses_preorder_where_the_product_forbids_it():
    draft = a_draft(preorder=PreorderPatch(enabled=True))

    with pytest.raises(PreorderValidation):
        create(draft, product=ProductRules(preorder_allowed=False, why_not="digital product"))


def test_update_with_a_stale_revision_fails_with_revision_mismatch():
    with pytest.raises(RevisionMismatch):
        apply_patch(an_item(revision=3), ItemPatch(quantity=1), expected_revision=2, now_ms=NOW)


def test_update_advances_revision_and_changes_only_what_was_sent():
    item = an_item(quantity=5, preorder=Preorder(enabled=True, message="soon", limit=9))

    changed = apply_patch(
        item, ItemPatch(preorder=PreorderPatch(limit=20)), expected_revision=1, now_ms=NOW
    )

    assert changed.revision == 2
    assert changed.quantity == 5
    assert changed.preorder == Preorder(enabled=True, message="soon", limit=20, counter=0)


def test_update_may_raise_a_negative_quantity_but_not_lower_one():
    negative = an_item(quantity=-5)

    assert (
        apply_patch(negative, ItemPatch(quantity=-2), expected_revision=1, now_ms=NOW).quantity
        == -2
    )
    with pytest.raises(QuantityDecreasedBelowZero):
        apply_patch(negative, ItemPatch(quantity=-6), expected_revision=1, now_ms=NOW)
    with pytest.raises(QuantityDecreasedBelowZero):
        apply_patch(an_item(quantity=3), ItemPatch(quantity=-1), expected_revision=1, now_ms=NOW)


def test_switching_to_flag_tracking_drops_the_limit_and_counter():
    item = an_item(quantity=0, preorder=Preorder(enabled=True, limit=9, counter=4))

    changed = apply_patch(item, ItemPatch(in_stock=False), expected_revision=1, now_ms=NOW)

    assert (changed.quantity, changed.in_stock) == (None, False)
    assert changed.preorder == Preorder(enabled=True, limit=None, counter=0)
    assert changed.availability is Availability.PREORDER


def test_switching_to_flag_tracking_while_setting_a_limit_is_a_preorder_violation():
    patch = ItemPatch(in_stock=True, preorder=PreorderPatch(limit=3))

    with pytest.raises(PreorderValidation):
        apply_patch(an_item(), patch, expected_revision=1, now_ms=NOW)


def test_setting_a_limit_on_a_flag_item_is_a_preorder_violation():
    patch = ItemPatch(preorder=PreorderPatch(limit=3))

    with pytest.raises(PreorderValidation):
        apply_patch(a_flag_item(), patch, expected_revision=1, now_ms=NOW)


def test_switching_to_quantity_tracking_clears_the_flag():
    changed = apply_patch(a_flag_item(), ItemPatch(quantity=12), expected_revision=1, now_ms=NOW)

    assert (changed.quantity, changed.in_stock, changed.track_quantity) == (12, None, True)


def test_update_sending_both_tracking_fields_is_a_one_of_violation():
    with pytest.raises(ValidationFailed) as raised:
        apply_patch(
            an_item(), ItemPatch(quantity=1, in_stock=True), expected_revision=1, now_ms=NOW
        )

    assert violation_of(raised)[1] == "ONE_OF"


def patch_of(name: str, value: str) -> ItemPatch:
    fields: dict[str, Any] = {name: value}
    return ItemPatch(**fields)


@pytest.mark.parametrize("name", ["product_id", "variant_id", "location_id"])
def test_changing_an_immutable_field_is_refused_but_resending_it_is_fine(name):
    item = an_item()

    with pytest.raises(ValidationFailed) as raised:
        apply_patch(item, patch_of(name, guid()), expected_revision=1, now_ms=NOW)
    same = apply_patch(item, patch_of(name, getattr(item, name)), expected_revision=1, now_ms=NOW)

    assert violation_of(raised)[1] == "IMMUTABLE"
    assert same.revision == 2


def test_the_preorder_counter_restarts_when_preorder_is_switched_on_or_relimited():
    item = an_item(quantity=0, preorder=Preorder(enabled=False, limit=10, counter=6))

    enabled = apply_patch(
        item, ItemPatch(preorder=PreorderPatch(enabled=True)), expected_revision=1, now_ms=NOW
    )
    kept = apply_patch(
        item, ItemPatch(preorder=PreorderPatch(message="x")), expected_revision=1, now_ms=NOW
    )

    assert enabled.preorder.counter == 0
    assert kept.preorder.counter == 6


def test_a_null_limit_restores_the_default_capacity():
    item = an_item(quantity=0, preorder=Preorder(enabled=True, limit=3, counter=1))

    changed = apply_patch(
        item, ItemPatch(preorder=PreorderPatch(limit=None)), expected_revision=1, now_ms=NOW
    )

    assert changed.preorder.limit is None
    assert changed.preorder.counter == 1


def test_extended_fields_replace_the_namespaces_sent_and_keep_the_rest():
    item = an_item(extended_fields={"a": {"x": 1}, "b": {"y": 2}})

    changed = apply_patch(
        item, ItemPatch(extended_fields={"b": {"z": 3}}), expected_revision=1, now_ms=NOW
    )

    assert changed.extended_fields == {"a": {"x": 1}, "b": {"z": 3}}
