"""Every write of the webhooks app: subscriptions (Settings → Integrations → Webhooks),
turning events into deliveries, and sending a delivery (the task's work).

A delivery is one POST of a batch of events to one subscription. Sending never happens in a
transaction: a worker takes a short lease on the row (compare-and-set), POSTs, and records
the outcome only if it still holds the lease, so two workers never send the same delivery
and a succeeded delivery is never sent again.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import secrets
import ssl
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from svardesk.core.crypto import SecretDecryptionError, decrypt_secret, encrypt_secret
from svardesk.core.exceptions import SvardeskError
from svardesk.core.local_cache import cached, forget
from svardesk.core.on_commit import after_commit
from svardesk.webhooks import events as ev
from svardesk.webhooks import signing
from svardesk.webhooks.models import DeliveryStatus, EventType, WebhookDelivery, WebhookSubscription

if TYPE_CHECKING:
    from svardesk.accounts.models import User

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
LEASE_SECONDS = 60  # longer than a POST can take (connect and read each time out at 10 s)
MAX_ATTEMPTS = 10
# Seconds to wait after the n-th failed attempt: 1 min, 5 min, 30 min, 2 h, then longer —
# about three days in all before a delivery is given up (Retry now sends it again).
BACKOFF_SECONDS = (60, 300, 1800, 7200, 14400, 28800, 43200, 86400, 86400)
LOG_DAYS = 30  # delivered and failed deliveries are kept this long
MAX_EVENTS_PER_DELIVERY = 100  # HubSpot sends at most 100 events in one request
ACTIVE_TYPES_KEY = "webhooks:active-types"
USER_AGENT = "Svardesk-Webhooks/1.0"


class WebhookValidationError(SvardeskError):
    """The subscription cannot be saved as it is; `errors` maps fields to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# --- Subscriptions ---------------------------------------------------------------------------


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def clean_target_url(raw: str) -> str:
    """An absolute http(s) URL (no other scheme: `file:`, `javascript:` and the like can
    never be a target). Raises WebhookValidationError."""
    url = (raw or "").strip()
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise WebhookValidationError({"target_url": _("Enter an http:// or https:// URL.")})
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise WebhookValidationError({"target_url": _("Enter a valid URL.")}) from None
    if len(url) > 2000:
        raise WebhookValidationError({"target_url": _("Use a URL of at most 2,000 characters.")})
    return url


def _clean(
    *, name: str, target_url: str, event_types: Iterable[str], property_name: str
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"name": (name or "").strip()[:100]}
    if not values["name"]:
        errors["name"] = _("Give the webhook a name.")
    try:
        values["target_url"] = clean_target_url(target_url)
    except WebhookValidationError as exc:
        errors.update(exc.errors)
    chosen = list(dict.fromkeys(event_types))
    if not chosen:
        errors["event_types"] = _("Choose at least one event.")
    elif any(kind not in EventType.values for kind in chosen):
        errors["event_types"] = _("Unknown event.")
    values["event_types"] = [kind for kind in EventType.values if kind in chosen]
    values["property_name"] = (property_name or "").strip()[:100]
    if errors:
        raise WebhookValidationError(errors)
    return values


def _changed_subscriptions() -> None:
    forget(ACTIVE_TYPES_KEY)


@transaction.atomic
def create_subscription(
    *,
    actor: User | None,
    name: str,
    target_url: str,
    event_types: Iterable[str],
    property_name: str = "",
    is_active: bool = True,
) -> WebhookSubscription:
    """A new subscription with a fresh secret. Raises WebhookValidationError."""
    values = _clean(
        name=name, target_url=target_url, event_types=event_types, property_name=property_name
    )
    subscription = WebhookSubscription.objects.create(
        **values,
        is_active=is_active,
        secret_encrypted=encrypt_secret(new_secret()),
        created_by=actor,
    )
    after_commit(_changed_subscriptions)
    return subscription


@transaction.atomic
def update_subscription(
    subscription: WebhookSubscription,
    *,
    actor: User | None,
    name: str,
    target_url: str,
    event_types: Iterable[str],
    property_name: str = "",
) -> WebhookSubscription:
    """Change where and what a subscription receives. Raises WebhookValidationError."""
    values = _clean(
        name=name, target_url=target_url, event_types=event_types, property_name=property_name
    )
    for field, value in values.items():
        setattr(subscription, field, value)
    subscription.save(update_fields=[*values, "updated_at"])
    after_commit(_changed_subscriptions)
    return subscription


@transaction.atomic
def set_subscription_active(
    subscription: WebhookSubscription, *, actor: User | None, is_active: bool
) -> WebhookSubscription:
    """Turn a subscription on or off; an inactive one receives no events."""
    subscription.is_active = is_active
    subscription.save(update_fields=["is_active", "updated_at"])
    after_commit(_changed_subscriptions)
    return subscription


@transaction.atomic
def regenerate_secret(subscription: WebhookSubscription, *, actor: User | None) -> None:
    """A new signing secret; requests signed from now on use it (the receiver must too)."""
    subscription.secret_encrypted = encrypt_secret(new_secret())
    subscription.save(update_fields=["secret_encrypted", "updated_at"])


@transaction.atomic
def delete_subscription(subscription: WebhookSubscription, *, actor: User | None) -> None:
    """Delete a subscription with its delivery log; nothing more is sent to it."""
    subscription.delete()
    after_commit(_changed_subscriptions)


# --- Events into deliveries ------------------------------------------------------------------


def active_event_types() -> frozenset[str]:
    """Every event type some active subscription receives (to skip work nobody wants); kept
    a few seconds per process (core.local_cache), forgotten here when a subscription changes."""

    def load() -> frozenset[str]:
        kinds: set[str] = set()
        for chosen in WebhookSubscription.objects.filter(is_active=True).values_list(
            "event_types", flat=True
        ):
            kinds.update(chosen or ())
        return frozenset(kinds)

    return cached(ACTIVE_TYPES_KEY, load)


def dispatch_events(items: Sequence[ev.Event]) -> list[int]:
    """Queue `items` (the events of one change) for every active subscription that wants any
    of them: one delivery per subscription (per 100 events), each event once. Returns the new
    deliveries' ids. Call after the change committed."""
    if not items:
        return []
    kinds = {item["subscriptionType"] for item in items}
    subscriptions = [
        s
        for s in WebhookSubscription.objects.filter(is_active=True).only(
            "pk", "event_types", "property_name"
        )
        if kinds & set(s.event_types or ())
    ]
    rows: list[WebhookDelivery] = []
    now = timezone.now()
    for subscription in subscriptions:
        chosen = [
            item
            for item in items
            if ev.wanted(item, subscription.event_types, subscription.property_name)
        ]
        rows.extend(
            WebhookDelivery(
                subscription=subscription,
                events=ev.for_subscription(
                    chosen[start : start + MAX_EVENTS_PER_DELIVERY], subscription.pk
                ),
                next_attempt_at=now,
            )
            for start in range(0, len(chosen), MAX_EVENTS_PER_DELIVERY)
        )
    if not rows:
        return []
    with transaction.atomic():
        created = WebhookDelivery.objects.bulk_create(rows)
        ids = [row.pk for row in created]
        for pk in ids:
            after_commit(enqueue_delivery, pk)
    return ids


def enqueue_delivery(delivery_id: int, delay: float | None = None) -> None:
    from svardesk.webhooks import tasks

    if delay:
        tasks.deliver.schedule(args=(delivery_id,), delay=delay)
    else:
        tasks.deliver(delivery_id)


def _sample_event(subscription: WebhookSubscription, actor_id: int | None) -> ev.Event:
    kind = (subscription.event_types or [EventType.TICKET_CREATION])[0]
    if kind.endswith(".propertyChange"):
        name = subscription.property_name or "subject"
        return ev.property_change(kind, 0, name, "Test", actor_id=actor_id)
    if kind == EventType.CONVERSATION_NEW_MESSAGE:
        return ev.event(kind, 0, actor_id=actor_id, messageId="0", messageType="MESSAGE")
    return ev.event(kind, 0, actor_id=actor_id)


@transaction.atomic
def send_test_event(subscription: WebhookSubscription, *, actor: User | None) -> WebhookDelivery:
    """Queue one sample event (objectId 0, the subscription's first event type) to the
    subscription, active or not, so its receiver can be checked; logged like any delivery."""
    sample = _sample_event(subscription, actor.pk if actor else None)
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        events=ev.for_subscription([sample], subscription.pk),
        next_attempt_at=timezone.now(),
        is_test=True,
    )
    after_commit(enqueue_delivery, delivery.pk)
    return delivery


@transaction.atomic
def retry_delivery(delivery: WebhookDelivery, *, actor: User | None) -> bool:
    """Send a failed (or waiting) delivery again now; a delivered one, or one a worker is
    sending at this moment, is left alone. Returns whether it was queued."""
    now = timezone.now()
    queued = (
        WebhookDelivery.objects.filter(pk=delivery.pk)
        .exclude(status=DeliveryStatus.SUCCEEDED)
        # Not while a worker is sending it: that attempt's outcome decides.
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(status=DeliveryStatus.PENDING, next_attempt_at=now)
    )
    if queued:
        after_commit(enqueue_delivery, delivery.pk)
    return bool(queued)


# --- Sending ---------------------------------------------------------------------------------


def _claim(delivery_id: int, now: dt.datetime) -> dt.datetime | None:
    """Take the lease on a due, pending delivery; its end, or None if another worker holds
    it, it is not due, or it is already delivered or given up."""
    lease = now + dt.timedelta(seconds=LEASE_SECONDS)
    taken = (
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=lease, attempts=F("attempts") + 1, last_attempt_at=now)
    )
    return lease if taken else None


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST `body` to `url` and return the HTTP status. Never follows a redirect (a 3xx is
    just a status, hence a failure); times out after TIMEOUT_SECONDS per step."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            host, parts.port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(host, parts.port, timeout=TIMEOUT_SECONDS)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers={**headers, "User-Agent": USER_AGENT})
        # The status is the answer; the body is never read (a slow one cannot hold the worker).
        return connection.getresponse().status
    finally:
        connection.close()


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}"[:300]


def attempt_delivery(delivery_id: int, *, now: dt.datetime | None = None) -> str:
    """Send a due delivery once: 2xx marks it delivered; anything else (or no answer) is
    retried after the back-off, and after MAX_ATTEMPTS it is given up. Returns what happened
    ("delivered", "retry", "failed" or "skipped" when nothing was due for this worker)."""
    now = now or timezone.now()
    lease = _claim(delivery_id, now)
    if lease is None:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None:  # its webhook was deleted meanwhile
        return "skipped"
    subscription = delivery.subscription
    status_code: int | None = None
    error = ""
    try:
        secret = decrypt_secret(subscription.secret_encrypted)
    except SecretDecryptionError:
        secret = ""
    if not subscription.is_active and not delivery.is_test:
        error = _("The webhook is turned off.")
    elif not secret:
        error = _("The signing secret cannot be read (was SECRET_KEY changed?): make a new one.")
    else:
        body = json.dumps(
            ev.with_attempt(delivery.events, delivery.attempts - 1),
            separators=(",", ":"),
            ensure_ascii=False,
        )
        headers = signing.signed_headers(
            secret, uri=subscription.target_url, body=body, timestamp_ms=ev.now_ms()
        )
        try:
            status_code = post(subscription.target_url, body.encode(), headers)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            error = _describe(exc)
        except Exception as exc:
            # Whatever went wrong, the attempt is recorded and retried on schedule (a crash
            # here would leave the lease to expire and the sweep to try again every minute).
            logger.exception("Webhook delivery %s failed unexpectedly", delivery.pk)
            error = _describe(exc)
        else:
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
    return _record_outcome(delivery, lease, status_code=status_code, error=error, now=now)


def _record_outcome(
    delivery: WebhookDelivery,
    lease: dt.datetime,
    *,
    status_code: int | None,
    error: str,
    now: dt.datetime,
) -> str:
    held = WebhookDelivery.objects.filter(pk=delivery.pk, locked_until=lease)
    done = timezone.now()
    if not error:
        held.update(
            status=DeliveryStatus.SUCCEEDED,
            last_status_code=status_code,
            last_error="",
            delivered_at=done,
            next_attempt_at=None,
            locked_until=None,
        )
        logger.info("Webhook delivery %s delivered (HTTP %s)", delivery.pk, status_code)
        return "delivered"
    given_up = delivery.attempts >= MAX_ATTEMPTS or not delivery.subscription.is_active
    if given_up:
        held.update(
            status=DeliveryStatus.FAILED,
            last_status_code=status_code,
            last_error=error[:300],
            next_attempt_at=None,
            locked_until=None,
        )
        logger.warning("Webhook delivery %s failed for good: %s", delivery.pk, error)
        return "failed"
    wait = BACKOFF_SECONDS[min(delivery.attempts, len(BACKOFF_SECONDS)) - 1]
    updated = held.update(
        last_status_code=status_code,
        last_error=error[:300],
        next_attempt_at=done + dt.timedelta(seconds=wait),
        locked_until=None,
    )
    if updated:
        enqueue_delivery(delivery.pk, delay=wait)
    logger.info("Webhook delivery %s failed (%s); retrying in %s s", delivery.pk, error, wait)
    return "retry"


def send_due_deliveries(*, now: dt.datetime | None = None, late_by: float = 0) -> list[str]:
    """Safety net for lost tasks (a worker restarted, the queue flushed): send the pending
    deliveries due more than `late_by` seconds ago. Returns each one's outcome."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING,
            next_attempt_at__lte=now - dt.timedelta(seconds=late_by),
        )
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:100]
    )
    return [attempt_delivery(pk, now=now) for pk in due]


def prune_delivery_log(*, now: dt.datetime | None = None) -> int:
    """Forget deliveries older than LOG_DAYS that are done (delivered or given up); pending
    ones stay whatever their age. Returns how many were deleted."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=LOG_DAYS)
    deleted, _ = (
        WebhookDelivery.objects.filter(created_at__lt=cutoff)
        .exclude(status=DeliveryStatus.PENDING)
        .delete()
    )
    return deleted
