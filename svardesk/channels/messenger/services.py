"""Every change the Messenger channel makes: connecting a Facebook Page, replacing its
secrets, disconnecting it, and bringing a webhook delivery in — stored raw first, then each
message recorded through the core's one way in (`record_inbound_message`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from svardesk.accounts.models import User
from svardesk.channels.messenger import graph, queries
from svardesk.channels.messenger.models import (
    MessengerConversation,
    MessengerEvent,
    MessengerPage,
    MessengerUser,
)
from svardesk.conversations.inbound import (
    InboundAttachment,
    InboundItem,
    delete_attachment_files,
    link_contact,
    record_inbound_message,
    record_inbound_messages,
    store_attachment_files,
)
from svardesk.conversations.models import (
    Channel,
    ChannelKind,
    HelpDeskSettings,
    Message,
    MessageDirection,
)
from svardesk.conversations.services import check_may_manage_channels, help_desk_inbox
from svardesk.core import bursts
from svardesk.core.crypto import decrypt_secret, encrypt_secret
from svardesk.core.exceptions import SvardeskError
from svardesk.core.local_cache import cached
from svardesk.core.locks import lock_keys
from svardesk.core.on_commit import after_commit
from svardesk.core.text import single_line
from svardesk.crm import services as crm_services

logger = logging.getLogger(__name__)

FILE_KINDS = {"image", "file", "audio", "video"}
MAX_EVENT_ATTEMPTS = 10


class MessengerValidationError(SvardeskError):
    """A Page's settings cannot be saved (the message says why)."""


# --- Connecting a Page ----------------------------------------------------------------------


def _clean_page_id(value: str) -> str:
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 64:
        raise MessengerValidationError(
            _("The page id is the number Facebook shows in the Page's About section.")
        )
    return value


def _clean_secret(value: str, label: str) -> str:
    value = value.strip()
    if not value or len(value) > 1000 or any(c.isspace() for c in value):
        raise MessengerValidationError(
            _("Paste the %(label)s exactly as Meta shows it.") % {"label": label}
        )
    return value


def _page_token_label() -> str:
    return _("page access token")


def _app_secret_label() -> str:
    return _("app secret")


def _verify_token_label() -> str:
    return _("verify token")


@transaction.atomic
def connect_page(
    *,
    actor: User | None,
    page_id: str,
    page_token: str,
    app_secret: str,
    verify_token: str,
    page_name: str = "",
) -> MessengerPage:
    """Connect a Facebook Page to the help desk inbox. A Page connected before and since
    disconnected is connected again with its conversations; one still connected is refused."""
    check_may_manage_channels(actor)
    page_id = _clean_page_id(page_id)
    secrets = {
        "page_token_encrypted": encrypt_secret(_clean_secret(page_token, _page_token_label())),
        "app_secret_encrypted": encrypt_secret(_clean_secret(app_secret, _app_secret_label())),
        "verify_token_encrypted": encrypt_secret(
            _clean_secret(verify_token, _verify_token_label())
        ),
    }
    name = single_line(page_name).strip()[:200]
    existing = MessengerPage.objects.select_for_update().filter(page_id=page_id).first()
    if existing is not None:
        if existing.channel.is_active:
            raise MessengerValidationError(_("This Facebook Page is connected already."))
        for key, value in secrets.items():
            setattr(existing, key, value)
        existing.page_name = name or existing.page_name
        existing.last_graph_error = ""
        existing.save()
        Channel.objects.filter(pk=existing.channel_id).update(
            is_active=True, name=existing.page_name or _channel_name(page_id)
        )
        _forget(existing)
        return queries.get_page(existing.channel_id) or existing
    channel = Channel.objects.create(
        inbox=help_desk_inbox(),
        kind=ChannelKind.MESSENGER,
        name=name or _channel_name(page_id),
        is_active=True,
    )
    return MessengerPage.objects.create(channel=channel, page_id=page_id, page_name=name, **secrets)


def _channel_name(page_id: str) -> str:
    return _("Facebook Page %(id)s") % {"id": page_id}


def _forget(page: MessengerPage) -> None:
    key = page.url_key
    after_commit(lambda: queries.forget_page(key))


@transaction.atomic
def replace_secrets(
    page: MessengerPage,
    *,
    actor: User | None,
    page_token: str = "",
    app_secret: str = "",
    verify_token: str = "",
    page_name: str | None = None,
) -> list[str]:
    """Replace the secrets given (blank ones are kept); the names of those replaced."""
    check_may_manage_channels(actor)
    changed: list[str] = []
    fields: dict[str, Any] = {}
    for value, column, label in (
        (page_token, "page_token_encrypted", _page_token_label()),
        (app_secret, "app_secret_encrypted", _app_secret_label()),
        (verify_token, "verify_token_encrypted", _verify_token_label()),
    ):
        if value.strip():
            fields[column] = encrypt_secret(_clean_secret(value, label))
            changed.append(label)
    if page_name is not None and single_line(page_name).strip()[:200] != page.page_name:
        fields["page_name"] = single_line(page_name).strip()[:200]
        Channel.objects.filter(pk=page.channel_id).update(
            name=fields["page_name"] or _channel_name(page.page_id)
        )
    if fields:
        if "page_token_encrypted" in fields:
            fields["last_graph_error"] = ""
        MessengerPage.objects.filter(pk=page.pk).update(**fields, updated_at=timezone.now())
        _forget(page)
    return changed


@transaction.atomic
def disconnect_page(page: MessengerPage, *, actor: User | None) -> None:
    """Stop taking the Page's messages and replying on it, and erase its stored secrets;
    its tickets and conversations stay. Connecting the Page again restores the channel."""
    check_may_manage_channels(actor)
    MessengerPage.objects.filter(pk=page.pk).update(
        page_token_encrypted="",
        app_secret_encrypted="",
        verify_token_encrypted="",
        updated_at=timezone.now(),
    )
    Channel.objects.filter(pk=page.channel_id).update(is_active=False)
    _forget(page)


# --- The webhook ----------------------------------------------------------------------------


def verify_token_matches(page: MessengerPage, token: str) -> bool:
    expected = decrypt_secret(page.verify_token_encrypted)
    return bool(expected) and hmac.compare_digest(token.encode(), expected.encode())


def signature_valid(page: MessengerPage, body: bytes, header: str) -> bool:
    """`X-Hub-Signature-256: sha256=<hex>` is the HMAC-SHA256 of the raw body with the app
    secret (constant-time compare)."""
    secret = decrypt_secret(page.app_secret_encrypted)
    if not secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len("sha256=") :].strip().lower().encode(), expected.encode())


@transaction.atomic
def store_event(
    page: MessengerPage, body: bytes, *, now: dt.datetime | None = None
) -> MessengerEvent:
    """Keep a signed delivery exactly as received (committed before it is processed)."""
    return MessengerEvent.objects.create(page=page, body=body, received_at=now or timezone.now())


class EventBodyError(SvardeskError):
    """A signed delivery is not the JSON the Messenger Platform sends (kept, not retried)."""


@dataclass
class Outcome:
    recorded: int = 0
    duplicates: int = 0
    ignored: int = 0
    message_ids: list[int] = field(default_factory=list)


def process_event(
    event_id: int, *, now: dt.datetime | None = None, stored: MessengerEvent | None = None
) -> Outcome:
    """Record the messages of a stored delivery, once: a message id seen before is skipped,
    so processing the same event (or Meta's redelivery of it) again stores nothing twice.
    Raises EventBodyError for a body that is not Messenger JSON (the event keeps the error
    and is not retried); any other failure leaves the event pending with its error."""
    # `stored`: the event the webhook has just stored (its page and body in hand, so the
    # request reads nothing back).
    event = stored or MessengerEvent.objects.select_related("page__channel").get(pk=event_id)
    outcome = Outcome()
    if event.processed_at is not None:
        return outcome
    now = now or timezone.now()
    try:
        entries = _entries(bytes(event.body))
    except EventBodyError as exc:
        MessengerEvent.objects.filter(pk=event.pk).update(
            processed_at=now, error=str(exc), attempts=F("attempts") + 1
        )
        raise
    items: list[dict[str, Any]] = []
    for entry in entries:
        if str(entry.get("id", event.page.page_id)) != event.page.page_id:
            outcome.ignored += 1  # another Page's event on this Page's URL
            continue
        items.extend(_list(entry.get("messaging")))
    finished = False
    try:
        for index, item in enumerate(items):
            # The last message marks the event processed in its own transaction: one commit
            # less per delivery (most carry one message).
            last = event.pk if index == len(items) - 1 else None
            finished = _process_item(event.page, item, outcome, now=now, finish_event=last)
    except Exception as exc:
        MessengerEvent.objects.filter(pk=event.pk).update(
            error=f"{type(exc).__name__}: {exc}"[:2000], attempts=F("attempts") + 1
        )
        raise
    if not finished:
        _finish(event.pk)
    return outcome


def _finish(event_id: int) -> None:
    MessengerEvent.objects.filter(pk=event_id).update(
        processed_at=timezone.now(), error="", attempts=F("attempts") + 1
    )


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _entries(body: bytes) -> list[dict[str, Any]]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EventBodyError(f"The body is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("entry"), list):
        raise EventBodyError('The body is JSON but has no "entry" list.')
    if data.get("object") not in (None, "page"):
        raise EventBodyError('The body is not a Page event ("object" is not "page").')
    return _list(data["entry"])


@dataclass(frozen=True)
class Incoming:
    """One person's message or postback, as the core will record it."""

    psid: str
    mid: str
    text: str
    files: list[tuple[str, str]]  # (kind, url) to fetch
    received_at: dt.datetime


def _received_at(item: dict[str, Any], now: dt.datetime) -> dt.datetime:
    stamp = item.get("timestamp")
    if isinstance(stamp, int | float) and stamp > 0:
        moment = dt.datetime.fromtimestamp(stamp / 1000, tz=dt.UTC)
        # Never in the future (a skewed clock would keep the reply window open).
        return min(moment, now)
    return now


def _location_text(payload: dict[str, Any]) -> str:
    coordinates = payload.get("coordinates")
    if isinstance(coordinates, dict) and "lat" in coordinates and "long" in coordinates:
        return _("Location: %(lat)s, %(long)s") % {
            "lat": coordinates["lat"],
            "long": coordinates["long"],
        }
    return _("Location: %(url)s") % {"url": payload.get("url", "")}


def incoming(item: dict[str, Any], *, now: dt.datetime) -> Incoming | None:
    """What a `messaging` item brings in; None for what is no message of the person's (an
    echo of the Page's own message, a delivery or read receipt, a reaction)."""
    sender = item.get("sender")
    psid = str(sender.get("id") or "") if isinstance(sender, dict) else ""
    if not psid:
        return None
    received_at = _received_at(item, now)
    message = item.get("message")
    if isinstance(message, dict):
        if message.get("is_echo"):
            return None
        mid = str(message.get("mid") or "")
        if not mid:
            return None
        lines = [str(message["text"])] if message.get("text") else []
        files: list[tuple[str, str]] = []
        for attachment in _list(message.get("attachments")):
            kind = str(attachment.get("type") or "")
            payload = attachment.get("payload")
            payload = payload if isinstance(payload, dict) else {}
            url = str(payload.get("url") or "")
            if kind in FILE_KINDS and url:
                files.append((kind, url))
            elif kind == "location":
                lines.append(_location_text(payload))
            elif kind == "fallback" or url:
                title = str(attachment.get("title") or payload.get("title") or "")
                lines.append(" ".join(part for part in (title, url) if part))
        return Incoming(psid, mid, "\n".join(lines), files, received_at)
    postback = item.get("postback")
    if isinstance(postback, dict):
        stamp = item.get("timestamp", "")
        mid = str(postback.get("mid") or f"postback-{psid}-{stamp}")
        text = str(postback.get("title") or postback.get("payload") or "")
        return Incoming(psid, mid, text, [], received_at)
    return None


def _process_item(
    page: MessengerPage,
    item: dict[str, Any],
    outcome: Outcome,
    *,
    now: dt.datetime,
    finish_event: int | None = None,
) -> bool:
    """Record one `messaging` item; True when it also marked `finish_event` processed."""
    arrival = incoming(item, now=now)
    if arrival is None:
        outcome.ignored += 1
        return False
    # Meta delivers again when our 200 came late. Before downloading files, look; a text is
    # refused by the unique message id below (one statement less on the common path).
    if arrival.files and queries.message_stored(page.channel_id, arrival.mid):
        outcome.duplicates += 1
        return False
    user, thread = queries.person(page, arrival.psid)
    if user is None:
        user = _new_user(page, arrival.psid, now=now)
    text, attachments = _fetch_files(page, arrival)
    try:
        message_pk = _record(
            page, user, thread, arrival, text, attachments, finish_event=finish_event
        )
    except IntegrityError:
        delete_attachment_files(attachments)
        if not queries.message_stored(page.channel_id, arrival.mid):
            raise
        outcome.duplicates += 1  # a parallel delivery of the same message stored it first
        return False
    outcome.recorded += 1
    outcome.message_ids.append(message_pk)
    return finish_event is not None


def _fallback_name(psid: str) -> str:
    return _("Messenger user …%(digits)s") % {"digits": psid[-4:]}


def _fetch_profile(psid: str, token: str) -> graph.Profile | graph.GraphError:
    try:
        return graph.fetch_profile(psid, token=token)
    except graph.GraphError as exc:
        return exc


def _fetch_profiles(
    page: MessengerPage, psids: list[str]
) -> list[graph.Profile | graph.GraphError]:
    """Several people's profiles asked for side by side (each is a round trip to Graph),
    outside any transaction; a refusal is noted on the Page once."""
    token = decrypt_secret(page.page_token_encrypted)
    with ThreadPoolExecutor(max_workers=min(PROFILE_FETCHERS, len(psids))) as pool:
        profiles = list(pool.map(_fetch_profile, psids, [token] * len(psids)))
    errors = [p for p in profiles if isinstance(p, graph.GraphError)]
    if errors:
        note_graph_error(page, str(errors[-1]))
    return profiles


def _new_user(
    page: MessengerPage,
    psid: str,
    *,
    now: dt.datetime,
    profile: graph.Profile | graph.GraphError | None = None,
) -> MessengerUser:
    """A person's first message: their profile from Graph once (outside any transaction;
    `profile` when the caller fetched it), then their contact, as a batch makes them. Two
    deliveries racing for the same new person make one."""
    if profile is None:
        profile = _fetch_profile(psid, decrypt_secret(page.page_token_encrypted))
        if isinstance(profile, graph.GraphError):
            note_graph_error(page, str(profile))  # no name from Graph
    with transaction.atomic():
        _lock_people(page, [psid])
        user = queries.messenger_user(page, psid)  # made meanwhile by another delivery
        return user if user is not None else _new_users(page, [(psid, profile)], now=now)[0]


def _fetch_files(page: MessengerPage, arrival: Incoming) -> tuple[str, list[InboundAttachment]]:
    """Download the person's files (outside any transaction) and store them; a file that
    cannot be fetched stays a link in the text."""
    if not arrival.files:
        return arrival.text, []
    # The core's per-process copy of the settings row (core/local_cache.py).
    limit = cached("conversations:helpdesk-settings", HelpDeskSettings.load).max_attachment_bytes
    lines = [arrival.text] if arrival.text else []
    fetched: list[InboundAttachment] = []
    for kind, url in arrival.files:
        try:
            file = graph.fetch_file(url, max_bytes=limit, kind=kind)
        except graph.GraphError as exc:
            logger.info("Messenger attachment not fetched for page %s: %s", page.pk, exc)
            lines.append(
                _("Attachment (%(kind)s) not stored: %(url)s") % {"kind": kind, "url": url}
            )
            continue
        fetched.append(
            InboundAttachment(
                filename=file.filename,
                content_type=file.content_type,
                size=len(file.payload),
                payload=file.payload,
            )
        )
    return "\n".join(lines), store_attachment_files(fetched, max_bytes=limit)


@transaction.atomic
def _record(
    page: MessengerPage,
    user: MessengerUser,
    thread: MessengerConversation | None,
    arrival: Incoming,
    text: str,
    attachments: list[InboundAttachment],
    *,
    finish_event: int | None = None,
) -> int:
    message = record_inbound_message(
        channel=page.channel,
        conversation=thread.conversation if thread is not None else None,
        sender_name=user.name,
        sender_address="",
        to=[],
        cc=[],
        subject="",
        body_text=text,
        body_html="",
        message_id=arrival.mid,
        in_reply_to="",
        references=[],
        attachments=attachments,
        is_auto_generated=False,
        received_at=arrival.received_at,
    )
    conversation = message.conversation
    if thread is None or thread.conversation_id != conversation.pk:
        # A first message, or the core started a new conversation (a follow-up ticket).
        MessengerConversation.objects.get_or_create(
            conversation=conversation, defaults={"user": user}
        )
    if user.contact is not None:
        link_contact(conversation, message, user.contact)
    if finish_event is not None:
        _finish(finish_event)
    return message.pk


def note_graph_error(page: MessengerPage, error: str) -> None:
    """Remember the latest Graph failure for the channel's state (the token never in it)."""
    MessengerPage.objects.filter(pk=page.pk).update(
        last_graph_error=error[:2000], last_graph_error_at=timezone.now()
    )


def clear_graph_error(page: MessengerPage) -> None:
    MessengerPage.objects.filter(pk=page.pk).exclude(last_graph_error="").update(
        last_graph_error="", last_graph_error_at=None
    )


def pending_event_ids(*, older_than: dt.timedelta, limit: int = 500) -> list[int]:
    """Events whose processing failed or whose request died, for the retry sweep."""
    return queries.pending_event_ids(
        before=timezone.now() - older_than, max_attempts=MAX_EVENT_ATTEMPTS, limit=limit
    )


# --- Processing in batches, in the worker ----------------------------------------------------

# "A batch is scheduled" (core.bursts: in the task queue's storage, stale when its task was
# lost).
BATCH_MARKER = "svardesk:messenger-batch-scheduled"
BATCH_LIMIT = 200
# Graph profile requests at once per batch (two batches stay within graph.POOL_CONNECTIONS).
# Each is a round trip to Meta (tens of milliseconds): a burst of new people waits on them.
PROFILE_FETCHERS = 16


def enqueue_processing() -> None:
    """Have the stored events processed a moment from now (settings.INBOUND_PROCESSING_DELAY)
    by one task per burst: the webhook's request is then one INSERT and the answer."""
    from svardesk.channels.messenger.tasks import process_messenger_batches

    bursts.schedule_once(BATCH_MARKER, process_messenger_batches)


def process_pending_batches(*, limit: int = BATCH_LIMIT, max_batches: int = 20) -> int:
    """The batch task: the events never tried, oldest first, `limit` per batch, until none
    is left (after `max_batches` a new task takes the rest). A batch that fails is processed
    again event by event, so one bad event keeps its error without holding the others back.
    Returns how many events were taken."""
    from svardesk.channels.messenger.tasks import process_messenger_batches

    bursts.batch_started(BATCH_MARKER)  # events stored from now schedule a new batch
    done = 0
    for _round in range(max_batches):
        claimed = _claim_batch(limit)
        done += len(claimed)
        if not claimed:
            return done
        if len(claimed) == limit and _round == 0:
            process_messenger_batches()  # a burst: another worker takes the next batch
        try:
            process_batch(claimed)
        except Exception:
            logger.warning("A batch of %s Messenger events failed; one by one", len(claimed))
            for event_id in claimed:
                try:
                    process_event(event_id)
                except Exception:
                    logger.exception("Messenger event %s failed; it is kept", event_id)
        if len(claimed) < limit:
            return done
    if MessengerEvent.objects.filter(processed_at__isnull=True, attempts=0).exists():
        process_messenger_batches()
    return done


def _claim_batch(limit: int) -> list[int]:
    """The oldest events never tried, their try counted in a short transaction of its own:
    other workers take the next ones (PostgreSQL: SKIP LOCKED), and an event whose batch
    died is left to the sweep (it is no longer "never tried")."""
    with transaction.atomic():
        bursts.relax_commit()  # lost in a crash: the events are simply claimed again
        ids = list(
            MessengerEvent.objects.select_for_update(skip_locked=True)
            .filter(processed_at__isnull=True, attempts=0)
            .order_by("id")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            MessengerEvent.objects.filter(pk__in=ids).update(attempts=1)
    return ids


@dataclass
class _Pending:
    event: MessengerEvent
    arrival: Incoming
    text: str = ""
    attachments: list[InboundAttachment] = field(default_factory=list)


def process_batch(event_ids: list[int], *, now: dt.datetime | None = None) -> Outcome:
    """Record the messages of several stored events — `process_event`'s rules — with one
    INSERT per table per wave (`record_inbound_messages`). Profiles of new people and files
    are fetched first, outside the transaction; then one transaction records every message
    and marks the events processed. A message id already recorded (or twice in the batch)
    is skipped. An event whose body is not Messenger JSON keeps its error. Raises on any other
    failure (nothing of the batch is then recorded; the caller retries one by one)."""
    now = now or timezone.now()
    outcome = Outcome()
    events = list(
        MessengerEvent.objects.select_related("page__channel")
        .filter(pk__in=event_ids, processed_at__isnull=True)
        .order_by("id")
    )
    pending: list[_Pending] = []
    finished: list[int] = []
    for event in events:
        try:
            entries = _entries(bytes(event.body))
        except EventBodyError as exc:
            MessengerEvent.objects.filter(pk=event.pk).update(processed_at=now, error=str(exc))
            continue
        finished.append(event.pk)
        for entry in entries:
            if str(entry.get("id", event.page.page_id)) != event.page.page_id:
                outcome.ignored += 1
                continue
            for item in _list(entry.get("messaging")):
                arrival = incoming(item, now=now)
                if arrival is None:
                    outcome.ignored += 1
                else:
                    pending.append(_Pending(event, arrival))
    pending = _drop_known(pending, outcome)
    users = _people(pending, now=now)
    stored: list[InboundAttachment] = []
    for one in pending:
        one.text, one.attachments = _fetch_files(one.event.page, one.arrival)
        stored.extend(one.attachments)
    try:
        with transaction.atomic():
            bursts.relax_commit()  # lost in a crash: the events, still pending, come again
            _record_batch(pending, users, outcome)
            MessengerEvent.objects.filter(pk__in=finished).update(processed_at=now, error="")
    except BaseException:
        delete_attachment_files(stored)
        raise
    return outcome


def _drop_known(pending: list[_Pending], outcome: Outcome) -> list[_Pending]:
    """Without the messages recorded before (Meta's redeliveries) and the second copy of a
    message id within the batch: one query per Page's channel."""
    by_channel: dict[int, set[str]] = {}
    for one in pending:
        by_channel.setdefault(one.event.page.channel_id, set()).add(one.arrival.mid)
    known = {
        (channel_id, mid)
        for channel_id, mids in by_channel.items()
        for mid in queries.stored_message_ids(channel_id, mids)
    }
    kept: list[_Pending] = []
    for one in pending:
        key = (one.event.page.channel_id, one.arrival.mid)
        if key in known:
            outcome.duplicates += 1
            continue
        known.add(key)
        kept.append(one)
    return kept


def _people(pending: list[_Pending], *, now: dt.datetime) -> dict[tuple[int, str], MessengerUser]:
    """The senders, known ones in one query per Page; a new person's profile is fetched from
    Graph (outside any transaction) and their contact made, as for one event."""
    by_page: dict[int, tuple[MessengerPage, set[str]]] = {}
    for one in pending:
        by_page.setdefault(one.event.page.pk, (one.event.page, set()))[1].add(one.arrival.psid)
    users: dict[tuple[int, str], MessengerUser] = {}
    for page, psids in by_page.values():
        for user in queries.messenger_users(page, psids):
            users[(page.pk, user.psid)] = user
        new = sorted(psid for psid in psids if (page.pk, psid) not in users)
        if not new:
            continue
        profiles = _fetch_profiles(page, new)
        # One transaction for the batch's new people: their contacts and users in one INSERT
        # each, under a lock per person so that a batch racing this one for the same new
        # person waits and then finds them.
        with transaction.atomic():
            bursts.relax_commit()  # lost in a crash: the events are processed again
            _lock_people(page, new)
            for user in queries.messenger_users(page, new):  # made meanwhile by another batch
                users[(page.pk, user.psid)] = user
            still_new = [
                (psid, profile)
                for psid, profile in zip(new, profiles, strict=True)
                if (page.pk, psid) not in users
            ]
            for user in _new_users(page, still_new, now=now):
                users[(page.pk, user.psid)] = user
    return users


PERSON_LOCK_CLASS = 0x4D736772  # "Msgr": the advisory locks of this module


def _lock_people(page: MessengerPage, psids: list[str]) -> None:
    """One transaction at a time creates a given person of a Page (until commit)."""
    lock_keys(PERSON_LOCK_CLASS, (f"{page.pk}:{psid}" for psid in psids))


def _person_name(psid: str, profile: graph.Profile | graph.GraphError | None) -> tuple[str, str]:
    """First and last name from Graph, or "Messenger user …1234" without a profile."""
    first, last = "", ""
    if isinstance(profile, graph.Profile):
        first, last = profile.first_name, profile.last_name
    if not first and not last:
        first = _fallback_name(psid)
    return first, last


def _new_users(
    page: MessengerPage,
    people: list[tuple[str, graph.Profile | graph.GraphError]],
    *,
    now: dt.datetime,
) -> list[MessengerUser]:
    """New people of a Page, with their contacts, in one INSERT per table (the caller holds
    their locks and has checked that none exists)."""
    if not people:
        return []
    names = [_person_name(psid, profile) for psid, profile in people]
    contacts = crm_services.create_named_contacts(names)
    return MessengerUser.objects.bulk_create(
        MessengerUser(
            page=page,
            psid=psid,
            contact=contact,
            name=f"{first} {last}".strip(),
            profile_fetched=isinstance(profile, graph.Profile),
            profile_attempts=1,
            # Graph refused the name: asked for again later (name_people_later).
            profile_retry_at=None if isinstance(profile, graph.Profile) else _next_try(1, now),
            created_at=now,
        )
        for (psid, profile), (first, last), contact in zip(people, names, contacts, strict=True)
    )


# --- Names Graph refused at first, asked for again --------------------------------------------

# After a refused profile lookup (a token without the permission yet, Meta's rate limit, an
# outage) the lookup is repeated after these delays, then given up: the contact keeps its
# "Messenger user …1234" until someone names it.
PROFILE_RETRY_DELAYS = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=10),
    dt.timedelta(hours=1),
    dt.timedelta(hours=6),
    dt.timedelta(days=1),
)


def _next_try(attempts: int, now: dt.datetime) -> dt.datetime | None:
    if attempts > len(PROFILE_RETRY_DELAYS):
        return None
    return now + PROFILE_RETRY_DELAYS[attempts - 1]


def name_people_later(*, now: dt.datetime | None = None, limit: int = 100) -> int:
    """The retry sweep: people whose profile lookup is due again, asked for side by side
    per Page. A person Graph now names gets that name on their contact (unless someone
    renamed it meanwhile) and on the messages recorded under the stand-in; the others wait
    for their next try. Returns how many were named."""
    now = now or timezone.now()
    due = list(
        MessengerUser.objects.select_related("page__channel", "contact")
        .filter(profile_retry_at__lte=now, profile_fetched=False)
        .order_by("profile_retry_at")[:limit]
    )
    by_page: dict[int, list[MessengerUser]] = {}
    for user in due:
        by_page.setdefault(user.page_id, []).append(user)
    named = 0
    for users in by_page.values():
        page = users[0].page
        if not page.channel.is_active or not page.page_token_encrypted:  # disconnected
            MessengerUser.objects.filter(pk__in=[u.pk for u in users]).update(profile_retry_at=None)
            continue
        profiles = _fetch_profiles(page, [u.psid for u in users])
        for user, profile in zip(users, profiles, strict=True):
            attempts = user.profile_attempts + 1
            if isinstance(profile, graph.Profile) and (profile.first_name or profile.last_name):
                _name_person(user, profile, attempts)
                named += 1
            else:
                MessengerUser.objects.filter(pk=user.pk).update(
                    profile_attempts=attempts, profile_retry_at=_next_try(attempts, now)
                )
    return named


@transaction.atomic
def _name_person(user: MessengerUser, profile: graph.Profile, attempts: int) -> None:
    stand_in = user.name
    name = f"{profile.first_name} {profile.last_name}".strip()
    MessengerUser.objects.filter(pk=user.pk).update(
        name=name, profile_fetched=True, profile_attempts=attempts, profile_retry_at=None
    )
    contact = user.contact
    if contact is not None and contact.first_name == stand_in and not contact.last_name:
        crm_services.update_contact(
            contact, actor=None, first_name=profile.first_name, last_name=profile.last_name
        )
    Message.objects.filter(
        conversation__messenger__user=user,
        direction=MessageDirection.INBOUND,
        sender_name=stand_in,
    ).update(sender_name=name[:255])


def _record_batch(
    pending: list[_Pending], users: dict[tuple[int, str], MessengerUser], outcome: Outcome
) -> None:
    """Record in waves: a message cannot continue a conversation another message of the
    same `record_inbound_messages` call starts, so a person's second message while they
    have no conversation waits for the next wave."""
    threads = queries.latest_threads([u.pk for u in users.values()])
    rest = pending
    while rest:
        wave: list[_Pending] = []
        later: list[_Pending] = []
        starting: set[int] = set()
        for one in rest:
            user = users[(one.event.page.pk, one.arrival.psid)]
            if user.pk in starting:
                later.append(one)
                continue
            if user.pk not in threads:
                starting.add(user.pk)
            wave.append(one)
        messages = record_inbound_messages([_item(one, users, threads) for one in wave])
        new_threads: list[MessengerConversation] = []
        for one, message in zip(wave, messages, strict=True):
            user = users[(one.event.page.pk, one.arrival.psid)]
            conversation = message.conversation
            thread = threads.get(user.pk)
            if thread is None or thread.conversation_id != conversation.pk:
                thread = MessengerConversation(conversation=conversation, user=user)
                new_threads.append(thread)
                threads[user.pk] = thread
            # The core linked the contact (the item names it) unless the conversation went on
            # from a time without one.
            if user.contact is not None and conversation.contact_id != user.contact_id:
                link_contact(conversation, message, user.contact)
            outcome.recorded += 1
            outcome.message_ids.append(message.pk)
        MessengerConversation.objects.bulk_create(new_threads, ignore_conflicts=True)
        rest = later


def _item(
    one: _Pending,
    users: dict[tuple[int, str], MessengerUser],
    threads: dict[int, MessengerConversation],
) -> InboundItem:
    user = users[(one.event.page.pk, one.arrival.psid)]
    thread = threads.get(user.pk)
    return InboundItem(
        channel=one.event.page.channel,
        conversation=thread.conversation if thread is not None else None,
        sender_name=user.name,
        sender_address="",
        to=[],
        cc=[],
        subject="",
        body_text=one.text,
        body_html="",
        message_id=one.arrival.mid,
        in_reply_to="",
        references=[],
        attachments=one.attachments,
        is_auto_generated=False,
        received_at=one.arrival.received_at,
        contact=user.contact,
    )
