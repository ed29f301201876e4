"""Stockroom's own event endpoints, under ``/stockroom/v1``: webhook subscriptions, their
delivery log and redelivery, and the pull feed of a store's events. Each operation decodes
its request, calls one use case and shapes the answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType, field

from stockroom.domain.access import Access
from stockroom.domain.errors import ValidationFailed
from stockroom.domain.item import UNSET as DOMAIN_UNSET
from stockroom.domain.webhooks import URL_MAX, Delivery, DeliveryState, Webhook
from stockroom.service import webhooks

from .convert import iso_ms
from .routing import Call, Operation

__all__ = ["OPERATIONS"]

Url = Annotated[str, Meta(min_length=1, max_length=URL_MAX)]
EventTypes = Annotated[list[Annotated[str, Meta(max_length=100)]], Meta(max_length=5)]
Revision = Annotated[str, Meta(pattern=r"^[0-9]{1,19}$")] | Annotated[int, Meta(ge=0)]
State = Literal["PENDING", "DELIVERED", "PARKED"]


class WebhookIn(Struct):
    url: Url
    eventTypes: EventTypes | None = None
    active: bool = True


class CreateWebhookRequest(Struct):
    webhook: WebhookIn


class WebhookPatchIn(Struct):
    url: Url | UnsetType = UNSET
    eventTypes: EventTypes | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET
    revision: Revision | UnsetType = UNSET


class UpdateWebhookRequest(Struct):
    webhook: WebhookPatchIn = field(default_factory=WebhookPatchIn)
    rotateSecret: bool = False


class WebhookOut(Struct, omit_defaults=True):
    id: str
    url: str
    eventTypes: list[str]
    active: bool
    revision: str
    createdDate: str
    updatedDate: str
    secret: str | UnsetType = UNSET


class WebhookResponse(Struct):
    webhook: WebhookOut


class WebhooksResponse(Struct):
    webhooks: list[WebhookOut]


class DeliveriesRequest(Struct):
    state: State | None = None
    before: Annotated[int, Meta(ge=1)] | None = None
    limit: Annotated[int, Meta(ge=1, le=webhooks.DELIVERIES_LIMIT_MAX)] = 50


class DeliveryOut(Struct, omit_defaults=True):
    sequence: int
    entityId: str
    state: str
    attempts: int
    createdDate: str
    eventId: str | UnsetType = UNSET
    eventType: str | UnsetType = UNSET
    nextAttemptDate: str | UnsetType = UNSET
    lastAttemptDate: str | UnsetType = UNSET
    lastStatus: int | UnsetType = UNSET
    lastError: str | UnsetType = UNSET
    deliveredDate: str | UnsetType = UNSET


class DeliveriesResponse(Struct, omit_defaults=True):
    deliveries: list[DeliveryOut]
    nextBefore: int | UnsetType = UNSET
    """Pass as ``before`` for the next (older) page; absent on the last page."""


class RedeliveredResponse(Struct):
    redelivered: int


class FeedRequest(Struct):
    since: Annotated[int, Meta(ge=0)] = 0
    limit: Annotated[int, Meta(ge=1, le=webhooks.FEED_LIMIT_MAX)] = 100


class FeedEventOut(Struct):
    sequence: int
    eventType: str
    entityId: str
    event: msgspec.Raw
    """The event body of spec 5, byte for byte as webhooks deliver it."""


class FeedResponse(Struct):
    events: list[FeedEventOut]
    nextSince: int
    latestSequence: int
    hasMore: bool


def _webhook_out(webhook: Webhook, *, with_secret: bool) -> WebhookOut:
    return WebhookOut(
        id=webhook.id,
        url=webhook.url,
        eventTypes=[kind.value for kind in webhook.event_types],
        active=webhook.active,
        revision=str(webhook.revision),
        createdDate=iso_ms(webhook.created_ms),
        updatedDate=iso_ms(webhook.updated_ms),
        secret=webhook.secret if with_secret else UNSET,
    )


def _given(value: Any) -> Any:
    return UNSET if value is None else value


def _delivery_out(delivery: Delivery) -> DeliveryOut:
    waiting = delivery.state is DeliveryState.PENDING
    return DeliveryOut(
        sequence=delivery.sequence,
        entityId=delivery.entity_id,
        state=delivery.state.value,
        attempts=delivery.attempts,
        createdDate=iso_ms(delivery.created_ms),
        eventId=_given(delivery.event_id),
        eventType=delivery.event_type.value if delivery.event_type else UNSET,
        nextAttemptDate=iso_ms(delivery.next_attempt_ms) if waiting else UNSET,
        lastAttemptDate=(
            iso_ms(delivery.last_attempt_ms) if delivery.last_attempt_ms is not None else UNSET
        ),
        lastStatus=_given(delivery.last_status),
        lastError=_given(delivery.last_error),
        deliveredDate=(
            iso_ms(delivery.delivered_ms) if delivery.delivered_ms is not None else UNSET
        ),
    )


def create_webhook(call: Call) -> WebhookResponse:
    body: CreateWebhookRequest = call.body
    try:
        created = webhooks.create_webhook(
            call.inventory,
            store_id=call.store_id,
            url=body.webhook.url,
            event_types=body.webhook.eventTypes,
            active=body.webhook.active,
        )
    except ValidationFailed as error:
        raise error.prefixed("webhook") from None
    return WebhookResponse(webhook=_webhook_out(created, with_secret=True))


def list_webhooks(call: Call) -> WebhooksResponse:
    found = webhooks.list_webhooks(call.inventory, store_id=call.store_id)
    return WebhooksResponse(webhooks=[_webhook_out(w, with_secret=False) for w in found])


def get_webhook(call: Call) -> WebhookResponse:
    found = webhooks.get_webhook(
        call.inventory, store_id=call.store_id, webhook_id=call.path["webhookId"]
    )
    return WebhookResponse(webhook=_webhook_out(found, with_secret=True))


def update_webhook(call: Call) -> WebhookResponse:
    body: UpdateWebhookRequest = call.body
    sent = body.webhook
    try:
        updated = webhooks.update_webhook(
            call.inventory,
            store_id=call.store_id,
            webhook_id=call.path["webhookId"],
            url=DOMAIN_UNSET if sent.url is UNSET else sent.url,
            event_types=DOMAIN_UNSET if sent.eventTypes is UNSET else (sent.eventTypes or []),
            active=DOMAIN_UNSET if sent.active is UNSET else sent.active,
            rotate_secret=body.rotateSecret,
            expected_revision=None if sent.revision is UNSET else int(sent.revision),
        )
    except ValidationFailed as error:
        raise error.prefixed("webhook") from None
    return WebhookResponse(webhook=_webhook_out(updated, with_secret=True))


def delete_webhook(call: Call) -> dict[str, Any]:
    webhooks.delete_webhook(
        call.inventory, store_id=call.store_id, webhook_id=call.path["webhookId"]
    )
    return {}


def list_deliveries(call: Call) -> DeliveriesResponse:
    body: DeliveriesRequest = call.body
    found = webhooks.list_deliveries(
        call.inventory,
        store_id=call.store_id,
        webhook_id=call.path["webhookId"],
        states=(DeliveryState(body.state),) if body.state else (),
        before=body.before,
        limit=body.limit + 1,
    )
    page = found[: body.limit]
    return DeliveriesResponse(
        deliveries=[_delivery_out(delivery) for delivery in page],
        nextBefore=page[-1].sequence if len(found) > body.limit else UNSET,
    )


def redeliver_one(call: Call) -> RedeliveredResponse:
    raw = call.path["sequence"]
    if not raw.isdigit() or len(raw) > 19:
        raise ValidationFailed.of("sequence", "a sequence number is a whole number", "FORMAT")
    count = webhooks.redeliver(
        call.inventory,
        store_id=call.store_id,
        webhook_id=call.path["webhookId"],
        sequence=int(raw),
    )
    return RedeliveredResponse(redelivered=count)


def redeliver_all(call: Call) -> RedeliveredResponse:
    count = webhooks.redeliver(
        call.inventory, store_id=call.store_id, webhook_id=call.path["webhookId"]
    )
    return RedeliveredResponse(redelivered=count)


def list_events(call: Call) -> FeedResponse:
    body: FeedRequest = call.body
    page = webhooks.read_feed(
        call.inventory, store_id=call.store_id, since=body.since, limit=body.limit
    )
    return FeedResponse(
        events=[
            FeedEventOut(
                sequence=entry.sequence,
                eventType=entry.event_type,
                entityId=entry.entity_id,
                event=msgspec.Raw(entry.body.encode()),
            )
            for entry in page.entries
        ],
        nextSince=page.next_since,
        latestSequence=page.latest,
        hasMore=page.has_more,
    )


_HOOK = "/webhooks/{webhookId}"
_MANAGE, _READ = Access.WEBHOOKS_MANAGE, Access.EVENTS_READ

OPERATIONS: tuple[Operation, ...] = (
    Operation("CreateWebhook", "POST", "/webhooks", create_webhook,
              CreateWebhookRequest, WebhookResponse, _MANAGE),
    Operation("ListWebhooks", "GET", "/webhooks", list_webhooks,
              None, WebhooksResponse, _MANAGE),
    Operation("GetWebhook", "GET", _HOOK, get_webhook, None, WebhookResponse, _MANAGE),
    Operation("UpdateWebhook", "PATCH", _HOOK, update_webhook,
              UpdateWebhookRequest, WebhookResponse, _MANAGE),
    Operation("DeleteWebhook", "DELETE", _HOOK, delete_webhook, None, None, _MANAGE),
    Operation("ListWebhookDeliveries", "GET", f"{_HOOK}/deliveries", list_deliveries,
              DeliveriesRequest, DeliveriesResponse, _MANAGE),
    Operation("RedeliverWebhookDelivery", "POST", f"{_HOOK}/deliveries/{{sequence}}/redeliver",
              redeliver_one, None, RedeliveredResponse, _MANAGE),
    Operation("RedeliverWebhookDeliveries", "POST", f"{_HOOK}/redeliver", redeliver_all,
              None, RedeliveredResponse, _MANAGE),
    Operation("ListEvents", "GET", "/events", list_events, FeedRequest, FeedResponse, _READ),
)  # fmt: skip
"""Served under ``/stockroom/v1``."""
