"""Events in HubSpot's webhook payload format (one JSON object per event; a request carries an
array of them). `attemptNumber` is added when a delivery is sent; everything else is fixed
when the event happens, so a retry sends the same events."""

from __future__ import annotations

import secrets
import time
from typing import Any

# HubSpot's payload names the account (portal) and the app the subscription belongs to. A
# self-hosted help desk is one account and its webhooks one app: fixed numbers, so receivers
# written for HubSpot find the fields they read.
PORTAL_ID = 1
APP_ID = 1

Event = dict[str, Any]


def now_ms() -> int:
    return int(time.time() * 1000)


def source_of(actor_id: int | None, *, default: str = "AUTOMATION") -> tuple[str, str]:
    """HubSpot's `changeSource` and `sourceId`: a person's change comes from the CRM and names
    the user (`userId:42`); without one, `default` (the system: mail, automations)."""
    if actor_id is None:
        return default, ""
    return "CRM", f"userId:{actor_id}"


def event(
    subscription_type: str,
    object_id: int | str,
    *,
    actor_id: int | None = None,
    change_source: str = "AUTOMATION",
    occurred_at: int | None = None,
    **extra: Any,
) -> Event:
    """One event, without the subscription-specific fields (`subscriptionId`, `eventId`)
    that `for_subscription` adds."""
    source, source_id = source_of(actor_id, default=change_source)
    body: Event = {
        "occurredAt": occurred_at if occurred_at is not None else now_ms(),
        "subscriptionType": subscription_type,
        "objectId": int(object_id),
        "changeSource": source,
    }
    if source_id:
        body["sourceId"] = source_id
    body.update(extra)
    return body


def property_change(
    subscription_type: str,
    object_id: int,
    name: str,
    value: str | None,
    *,
    actor_id: int | None = None,
    occurred_at: int | None = None,
) -> Event:
    return event(
        subscription_type,
        object_id,
        actor_id=actor_id,
        occurred_at=occurred_at,
        propertyName=name,
        propertyValue="" if value is None else value,
    )


def for_subscription(events: list[Event], subscription_id: int) -> list[Event]:
    """The events as this subscription receives them: each with its own `eventId`."""
    return [
        {
            "eventId": secrets.randbelow(2**52) + 1,
            "subscriptionId": subscription_id,
            "portalId": PORTAL_ID,
            "appId": APP_ID,
            **item,
        }
        for item in events
    ]


def with_attempt(events: list[Event], attempt_number: int) -> list[Event]:
    """The payload of one attempt; HubSpot counts attempts from 0."""
    return [{**item, "attemptNumber": attempt_number} for item in events]


def wanted(item: Event, event_types: list[str], property_name: str) -> bool:
    """Whether a subscription to `event_types` (and, for property changes, only
    `property_name` if set) receives this event."""
    kind = item["subscriptionType"]
    if kind not in event_types:
        return False
    return not (kind.endswith(".propertyChange") and property_name) or (
        item.get("propertyName") == property_name
    )
