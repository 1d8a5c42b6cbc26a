"""Every change the calls channel makes: connecting a number, storing a provider's callback
as it arrived, and merging callbacks into their call — which, once it is a missed call or a
voicemail, is recorded through the core's one way in (`record_inbound_message`).

Callbacks come twice and in any order (a transcription before its recording, a status after
the call ended). Processing is idempotent: the Call row is locked, fields only ever fill in
or move forward (a status rank), and the message's id is the CallSid, so a call is one
message however often it is processed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from twilio.request_validator import RequestValidator, get_signature_algorithm

from svardesk.accounts.models import User
from svardesk.channels.calls import numbers, queries
from svardesk.channels.calls.models import (
    Call,
    CallbackKind,
    CallCallback,
    CallChannel,
    CallStatus,
)
from svardesk.conversations.inbound import (
    InboundItem,
    link_contact,
    record_inbound_messages,
)
from svardesk.conversations.models import (
    Channel,
    ChannelKind,
    Conversation,
    Message,
)
from svardesk.conversations.services import check_may_manage_channels, help_desk_inbox
from svardesk.core import bursts
from svardesk.core.crypto import SecretDecryptionError, decrypt_secret, encrypt_secret
from svardesk.core.exceptions import SvardeskError
from svardesk.core.locks import lock_keys
from svardesk.core.on_commit import after_commit
from svardesk.crm import services as crm_services
from svardesk.crm.models import Contact, ContactPhone
from svardesk.tickets.models import Ticket
from svardesk.tickets.signals import ticket_changed

logger = logging.getLogger(__name__)

# A completed call's recording arrives after its final status; until this long after the
# call ended, a completed call without one is not yet a missed call (the sweep decides).
RECORDING_GRACE = dt.timedelta(minutes=2)
RETRY_AFTER = dt.timedelta(seconds=30)
UNTRIED_AFTER = dt.timedelta(minutes=2)
MAX_ATTEMPTS = 10

FINAL_STATUSES = {
    CallStatus.COMPLETED,
    CallStatus.BUSY,
    CallStatus.NO_ANSWER,
    CallStatus.FAILED,
    CallStatus.CANCELED,
}
# An older status never overwrites a newer one; the first final status stays.
STATUS_RANK = {
    CallStatus.QUEUED: 1,
    CallStatus.RINGING: 2,
    CallStatus.IN_PROGRESS: 3,
    **dict.fromkeys(FINAL_STATUSES, 4),
}
ABSENT_RECORDING = {"absent", "failed", "deleted"}


class CallChannelValidationError(SvardeskError):
    """A call channel cannot be saved; `errors` maps each field to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class MalformedCallbackError(SvardeskError):
    """A signed callback the channel cannot use (no CallSid); kept with this error."""


# --- Connecting ------------------------------------------------------------------------------


def _clean_token(auth_token: str, errors: dict[str, str]) -> str:
    token = (auth_token or "").strip()
    if not token:
        errors["auth_token"] = _("Enter the account's auth token.")
    elif len(token) > 200 or not token.isascii() or any(c.isspace() for c in token):
        errors["auth_token"] = _("This is not an auth token.")
    return token


def _clean_language(language: str) -> str:
    codes = {code for code, _label in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def _forget(call_channel: CallChannel) -> None:
    """The webhooks' per-process lookup of this channel (queries.active_channel_by_key)
    forgets it now and again after commit, so no request re-reads the old state meanwhile."""
    key = call_channel.url_key
    queries.forget_key(key)
    after_commit(lambda: queries.forget_key(key))


@transaction.atomic
def connect_call_channel(
    *,
    actor: User | None,
    phone_number: str,
    account_sid: str,
    auth_token: str,
    language: str = "",
) -> CallChannel:
    """Connect a number to the help desk inbox (a channel named by the number). A number
    connected before and disconnected is connected again with the new credentials. Raises
    CallChannelValidationError (nothing saved)."""
    check_may_manage_channels(actor)
    errors: dict[str, str] = {}
    number = ""
    try:
        number = numbers.normalise_number(phone_number)
    except numbers.PhoneNumberError as exc:
        errors["phone_number"] = str(exc)
    sid = (account_sid or "").strip()
    if not numbers.is_account_sid(sid):
        errors["account_sid"] = _(
            "An account SID is AC followed by 32 hexadecimal characters (0-9, a-f)."
        )
    token = _clean_token(auth_token, errors)
    existing = None
    if number:
        existing = CallChannel.objects.select_related("channel").filter(phone_number=number).first()
        if existing is not None and existing.channel.is_active:
            errors["phone_number"] = _("This number is connected already.")
    if errors:
        raise CallChannelValidationError(errors)
    lang = _clean_language(language or settings.LANGUAGE_CODE)
    if existing is not None:
        existing.account_sid = sid
        existing.auth_token_encrypted = encrypt_secret(token)
        existing.language = lang
        existing.save(
            update_fields=["account_sid", "auth_token_encrypted", "language", "updated_at"]
        )
        Channel.objects.filter(pk=existing.channel_id).update(
            is_active=True, updated_at=timezone.now()
        )
        existing.channel.is_active = True
        _forget(existing)
        return existing
    channel = Channel.objects.create(
        inbox=help_desk_inbox(),
        kind=ChannelKind.CALL,
        name=numbers.display_number(number),
        is_active=True,
    )
    return CallChannel.objects.create(
        channel=channel,
        phone_number=number,
        account_sid=sid,
        auth_token_encrypted=encrypt_secret(token),
        language=lang,
    )


@transaction.atomic
def replace_auth_token(call_channel: CallChannel, *, actor: User | None, auth_token: str) -> None:
    check_may_manage_channels(actor)
    errors: dict[str, str] = {}
    token = _clean_token(auth_token, errors)
    if errors:
        raise CallChannelValidationError(errors)
    call_channel.auth_token_encrypted = encrypt_secret(token)
    call_channel.save(update_fields=["auth_token_encrypted", "updated_at"])
    _forget(call_channel)


@transaction.atomic
def disconnect_call_channel(call_channel: CallChannel, *, actor: User | None) -> None:
    """Stop taking calls: the channel goes inactive and its auth token is erased, so every
    webhook is refused (403). Its calls, tickets and conversations stay."""
    check_may_manage_channels(actor)
    call_channel.auth_token_encrypted = ""
    call_channel.save(update_fields=["auth_token_encrypted", "updated_at"])
    _forget(call_channel)
    Channel.objects.filter(pk=call_channel.channel_id).update(
        is_active=False, updated_at=timezone.now()
    )
    call_channel.channel.is_active = False


def base_url() -> str:
    """Where the provider reaches this Svardesk: the public URL (SVARDESK_BASE_URL)."""
    return str(getattr(settings, "BASE_URL", "") or "http://127.0.0.1:8000").rstrip("/")


WEBHOOK_KINDS = (
    CallbackKind.VOICE,
    CallbackKind.STATUS,
    CallbackKind.RECORDING,
    CallbackKind.TRANSCRIPTION,
)


def webhook_path(call_channel: CallChannel, kind: str) -> str:
    return reverse(f"calls_channel:{kind}", args=[call_channel.url_key])


def webhook_urls(call_channel: CallChannel) -> dict[str, str]:
    """The four absolute webhook URLs, by callback kind (voice first)."""
    return {kind: f"{base_url()}{webhook_path(call_channel, kind)}" for kind in WEBHOOK_KINDS}


# --- Receiving -------------------------------------------------------------------------------


def signature_is_valid(
    call_channel: CallChannel,
    *,
    url: str,
    params: Any,
    signature: str,
    signature_settings: str = "",
) -> bool:
    """Twilio's own check of X-Twilio-Signature against the URL the provider called. False
    without a signature, or for a channel whose token is erased or unreadable."""
    if not signature or not call_channel.auth_token_encrypted:
        return False
    try:
        token = decrypt_secret(call_channel.auth_token_encrypted)
    except SecretDecryptionError:
        logger.warning("Call channel %s: its auth token cannot be decrypted", call_channel.pk)
        return False
    validator = RequestValidator(token)
    return bool(
        validator.validate(
            url, params, signature, algorithm=get_signature_algorithm(signature_settings)
        )
    )


@transaction.atomic
def store_callback(
    call_channel: CallChannel, *, kind: str, params: Mapping[str, str], now: dt.datetime
) -> CallCallback:
    """Keep a verified callback as it arrived (committed before it is processed). Without a
    CallSid it is kept with the error and never processed."""
    call_sid = (params.get("CallSid") or "").strip()[:64]
    error = "" if call_sid else _("The callback has no CallSid.")
    return CallCallback.objects.create(
        call_channel=call_channel,
        kind=kind,
        call_sid=call_sid,
        params=dict(params),
        received_at=now,
        error=error,
    )


def process_callback_safely(callback_id: int, *, now: dt.datetime | None = None) -> bool:
    """Process a stored callback; a failure is kept on the row for the sweep (never raised).
    Returns whether it is processed."""
    try:
        process_callback(callback_id, now=now)
    except Exception as exc:
        logger.exception("Call callback %s could not be processed", callback_id)
        # The processing transaction rolled back: count the try here, for the sweep's limit.
        CallCallback.objects.filter(pk=callback_id).update(
            error=f"{type(exc).__name__}: {exc}"[:2000], attempts=F("attempts") + 1
        )
        return False
    return True


@transaction.atomic
def process_callback(callback_id: int, *, now: dt.datetime | None = None) -> Call | None:
    """Merge a stored callback into its call and record the call's message when it becomes
    a missed call or a voicemail (or update it). Idempotent; None for a callback processed
    already or one without a CallSid."""
    now = now or timezone.now()
    # Only the callback row is locked (`of`): its channel and inbox stay free for the others.
    callback = (
        CallCallback.objects.select_for_update(of=("self",))
        .select_related("call_channel__channel__inbox")
        .filter(pk=callback_id)
        .first()
    )
    if callback is None or callback.processed_at is not None or not callback.call_sid:
        return None
    call = _call_for_update(callback)
    _merge(call, callback.params, received_at=callback.received_at)
    call.save()
    _record_or_update_message(call, now=now)
    CallCallback.objects.filter(pk=callback.pk).update(
        processed_at=now, error="", attempts=F("attempts") + 1
    )
    return call


def _call_for_update(callback: CallCallback) -> Call:
    """The callback's call, locked (created by the first of its callbacks to arrive: a row
    this transaction inserted is its own until commit, and a racing insert waits, fails on
    the unique key and reads it locked)."""
    lookup = {"call_channel": callback.call_channel, "call_sid": callback.call_sid}
    call = Call.objects.select_for_update().filter(**lookup).first()
    if call is None:
        try:
            with transaction.atomic():
                call = Call.objects.create(**lookup, started_at=callback.received_at)
        except IntegrityError:
            call = Call.objects.select_for_update().get(**lookup)
    call.call_channel = callback.call_channel
    return call


def _seconds(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 9 else None


def _http_url(value: Any) -> str:
    text = str(value or "").strip()
    return text[:1000] if text.startswith(("https://", "http://")) and " " not in text else ""


def _merge(call: Call, params: Mapping[str, Any], *, received_at: dt.datetime) -> None:
    """Fill in what this callback knows; nothing moves backwards."""
    call.started_at = min(call.started_at, received_at)
    if not call.from_number and params.get("From"):
        call.from_number = numbers.normalise_or_keep(str(params["From"]))[:64]
    if not call.to_number and params.get("To"):
        call.to_number = numbers.normalise_or_keep(str(params["To"]))[:64]
    if not call.direction and params.get("Direction"):
        call.direction = str(params["Direction"])[:32]
    status = str(params.get("CallStatus") or "").strip().lower()
    rank = STATUS_RANK.get(status, 0)  # type: ignore[call-overload]
    if rank > call.status_rank:
        call.status, call.status_rank = status, rank
        if status in FINAL_STATUSES:
            call.ended_at = received_at
    duration = _seconds(params.get("CallDuration"))
    if duration is not None:
        call.duration = max(call.duration or 0, duration)
    recording_status = str(params.get("RecordingStatus") or "").strip().lower()
    recording_url = _http_url(params.get("RecordingUrl"))
    if recording_status in ABSENT_RECORDING:
        if not call.recording_url:
            call.recording_status = recording_status[:16]
    elif recording_url:
        call.recording_url = recording_url
        call.recording_status = recording_status[:16] or "completed"
        call.recording_sid = call.recording_sid or str(params.get("RecordingSid") or "")[:64]
        recording_duration = _seconds(params.get("RecordingDuration"))
        if recording_duration is not None:
            call.recording_duration = recording_duration
    transcript_status = str(params.get("TranscriptionStatus") or "").strip().lower()
    if transcript_status and call.transcript_status != "completed":
        call.transcript_status = transcript_status[:16]
        if transcript_status == "completed":
            call.transcript = str(params.get("TranscriptionText") or "")[:20000]


def _is_missed(call: Call, now: dt.datetime) -> bool:
    if call.status not in FINAL_STATUSES or call.recording_url:
        return False
    if call.status != CallStatus.COMPLETED:
        return True
    # Answered by the greeting: a recording may still come, unless the provider said none.
    return call.recording_status in ABSENT_RECORDING or (
        call.ended_at is not None and now - call.ended_at >= RECORDING_GRACE
    )


def _record_or_update_message(call: Call, *, now: dt.datetime) -> None:
    if call.message_id is None:
        if call.recording_url or _is_missed(call, now):
            _record_message(call)
        return
    subject, body = describe_call(call)
    updated = Message.objects.filter(pk=call.message_id).exclude(body_text=body, subject=subject)
    if updated.update(body_text=body, subject=subject):
        ticket_id = (
            Conversation.objects.filter(messages__pk=call.message_id)
            .values_list("ticket_id", flat=True)
            .first()
        )
        if ticket_id is not None:
            after_commit(_announce, ticket_id)


def _announce(ticket_id: int) -> None:
    ticket_changed.send(sender=Ticket, ticket_id=ticket_id, actor_id=None)


def _record_message(call: Call) -> None:
    channel = call.call_channel.channel
    contact = _contacts_for_numbers({call.from_number}).get(call.from_number)
    conversation = None
    if contact is not None:
        conversation = (
            Conversation.objects.filter(channel=channel, contact=contact)
            .order_by("-last_message_at", "-id")
            .first()
        )
    message = record_inbound_messages([_call_item(call, contact, conversation)])[0]
    if contact is not None and message.conversation.contact_id != contact.pk:
        link_contact(message.conversation, message, contact)  # a conversation without one
    call.message = message
    call.contact = contact
    call.save(update_fields=["message", "contact", "updated_at"])


# --- What a call says ------------------------------------------------------------------------


def caller_label(number: str) -> str:
    if numbers.is_withheld(number):
        return _("a withheld number")
    return numbers.display_number(number)


def _minutes(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def describe_call(call: Call) -> tuple[str, str]:
    """The message's subject and text, in the help desk's language."""
    with translation.override(settings.LANGUAGE_CODE):
        caller = caller_label(call.from_number)
        if call.recording_url:
            subject = _("Voicemail from %(caller)s") % {"caller": caller}
        else:
            subject = _("Missed call from %(caller)s") % {"caller": caller}
        started = timezone.localtime(call.started_at)
        lines = [
            subject,
            _("Time: %(time)s") % {"time": formats.date_format(started, "DATETIME_FORMAT")},
            _("To: %(number)s") % {"number": numbers.display_number(call.to_number)},
        ]
        if call.status:
            label = (
                CallStatus(call.status).label if call.status in CallStatus.values else call.status
            )
            lines.append(_("Status: %(status)s") % {"status": label})
        if call.duration is not None:
            lines.append(_("Call duration: %(duration)s") % {"duration": _minutes(call.duration)})
        if call.recording_url:
            lines.append(_("Recording: %(url)s") % {"url": call.recording_url})
            if call.recording_duration is not None:
                lines.append(
                    _("Recording length: %(duration)s")
                    % {"duration": _minutes(call.recording_duration)}
                )
            if call.transcript_status == "completed" and call.transcript.strip():
                lines += ["", _("Transcript:"), call.transcript.strip()]
            elif call.transcript_status == "failed":
                lines.append(_("Transcript: the provider could not transcribe the recording."))
            else:
                lines.append(_("Transcript: not received yet."))
        return subject[:998], "\n".join(lines)


# --- The sweep -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    retried: int
    missed_calls: int


def sweep(*, now: dt.datetime | None = None, limit: int = 500) -> SweepResult:
    """Process callbacks whose processing failed (or never ran: a process died) and turn
    completed calls whose recording never came into missed calls. Idempotent."""
    now = now or timezone.now()
    pending = list(
        CallCallback.objects.filter(
            processed_at__isnull=True,
            received_at__lte=now - RETRY_AFTER,
            attempts__lt=MAX_ATTEMPTS,
        )
        # One never tried is a batch's to take (a backlog may wait longer than RETRY_AFTER);
        # the sweep takes it only when no batch did (a lost task).
        .filter(Q(attempts__gt=0) | Q(received_at__lte=now - UNTRIED_AFTER))
        .exclude(call_sid="")
        .order_by("received_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    retried = sum(process_callback_safely(pk, now=now) for pk in pending)
    waiting = list(
        Call.objects.filter(
            message__isnull=True,
            ended_at__isnull=False,
            ended_at__lte=now - RECORDING_GRACE,
            status=CallStatus.COMPLETED,
            recording_url="",
        ).values_list("pk", flat=True)[:limit]
    )
    missed = 0
    for pk in waiting:
        try:
            missed += _record_missed(pk, now=now)
        except Exception:
            logger.exception("Call %s could not be recorded as a missed call", pk)
    return SweepResult(retried=retried, missed_calls=missed)


@transaction.atomic
def _record_missed(call_id: int, *, now: dt.datetime) -> int:
    call = (
        Call.objects.select_for_update(of=("self",))
        .select_related("call_channel__channel__inbox")
        .get(pk=call_id)
    )
    if call.message_id is not None:
        return 0
    _record_or_update_message(call, now=now)
    return int(call.message_id is not None)


# --- Processing in batches, in the worker ----------------------------------------------------

# "A batch is scheduled" (core.bursts: in the task queue's storage, stale when its task was
# lost).
BATCH_MARKER = "svardesk:calls-batch-scheduled"
BATCH_LIMIT = 200


def enqueue_processing() -> None:
    """Have the stored callbacks processed a moment from now
    (settings.INBOUND_PROCESSING_DELAY) by one task per burst: the webhook's request is then
    one INSERT and the answer (the voice webhook's TwiML needs nothing processed)."""
    from svardesk.channels.calls.tasks import process_call_batches

    bursts.schedule_once(BATCH_MARKER, process_call_batches)


def process_pending_batches(*, limit: int = BATCH_LIMIT, max_batches: int = 20) -> int:
    """The batch task: the callbacks never tried, oldest first, `limit` per batch, until none
    is left (after `max_batches` a new task takes the rest). A batch that fails is processed
    again callback by callback (`process_callback_safely`: a failure stays on its row for the
    sweep). Returns how many callbacks were taken."""
    from svardesk.channels.calls.tasks import process_call_batches

    bursts.batch_started(BATCH_MARKER)  # callbacks stored from now schedule a new batch
    done = 0
    for _round in range(max_batches):
        claimed = _claim_batch(limit)
        done += len(claimed)
        if not claimed:
            return done
        if len(claimed) == limit and _round == 0:
            process_call_batches()  # a burst: another worker takes the next batch
        try:
            process_batch(claimed)
        except Exception:
            logger.warning("A batch of %s call callbacks failed; one by one", len(claimed))
            for callback_id in claimed:
                process_callback_safely(callback_id)
        if len(claimed) < limit:
            return done
    if _never_tried().exists():
        process_call_batches()
    return done


def _never_tried() -> Any:
    return CallCallback.objects.filter(processed_at__isnull=True, attempts=0).exclude(call_sid="")


def _claim_batch(limit: int) -> list[int]:
    """The oldest callbacks never tried, their try counted in a short transaction of its
    own: other workers take the next ones (PostgreSQL: SKIP LOCKED), and a callback whose
    batch died is left to the sweep."""
    with transaction.atomic():
        bursts.relax_commit()  # lost in a crash: the callbacks are simply claimed again
        ids = list(
            _never_tried()
            .select_for_update(skip_locked=True)
            .order_by("id")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            CallCallback.objects.filter(pk__in=ids).update(attempts=1)
    return ids


@transaction.atomic
def process_batch(callback_ids: list[int], *, now: dt.datetime | None = None) -> list[Call]:
    """`process_callback` for several callbacks in one transaction: each call's callbacks
    are merged in the order they arrived, and the call is saved and its message recorded or
    updated once. The callback and call rows are locked as for one callback (calls in
    primary-key order). Raises on failure: nothing of the batch is then stored."""
    now = now or timezone.now()
    bursts.relax_commit()  # lost in a crash: the callbacks, still pending, come again
    callbacks = list(
        CallCallback.objects.select_for_update(of=("self",))
        .select_related("call_channel__channel__inbox")
        .filter(pk__in=callback_ids, processed_at__isnull=True)
        .exclude(call_sid="")
        .order_by("received_at", "id")
    )
    by_call: dict[tuple[int, str], list[CallCallback]] = {}
    for callback in callbacks:
        by_call.setdefault((callback.call_channel_id, callback.call_sid), []).append(callback)
    calls = _calls_for_update(by_call)
    new_messages: list[Call] = []
    for key, its_callbacks in by_call.items():
        call = calls[key]
        call.call_channel = its_callbacks[0].call_channel
        for callback in its_callbacks:
            _merge(call, callback.params, received_at=callback.received_at)
        if call.message_id is None:
            if call.recording_url or _is_missed(call, now):
                new_messages.append(call)
        else:
            _record_or_update_message(call, now=now)
    _record_messages(new_messages)
    for call in calls.values():
        call.save()
    CallCallback.objects.filter(pk__in=[c.pk for c in callbacks]).update(processed_at=now, error="")
    return list(calls.values())


def _calls_for_update(
    by_call: Mapping[tuple[int, str], list[CallCallback]],
) -> dict[tuple[int, str], Call]:
    """The calls of these callbacks, locked in primary-key order; the missing ones created
    first (started when their first callback arrived; a racing insert of the same call is
    skipped by the unique key and the row read locked)."""
    keys = set(by_call)

    def locked() -> dict[tuple[int, str], Call]:
        found: dict[tuple[int, str], Call] = {}
        for channel_id in {channel_id for channel_id, _sid in keys}:
            sids = [sid for cid, sid in keys if cid == channel_id]
            for call in (
                Call.objects.select_for_update(of=("self",))
                .filter(call_channel_id=channel_id, call_sid__in=sids)
                .order_by("pk")
            ):
                found[(call.call_channel_id, call.call_sid)] = call
        return found

    calls = locked()
    # Sorted: two batches inserting the same new calls take their keys in the same order.
    missing = sorted(key for key in by_call if key not in calls)
    if missing:
        Call.objects.bulk_create(
            [
                Call(
                    call_channel_id=cid, call_sid=sid, started_at=by_call[(cid, sid)][0].received_at
                )
                for cid, sid in missing
            ],
            ignore_conflicts=True,
        )
        calls = locked()
    return calls


def _record_messages(calls: list[Call]) -> None:
    """`_record_message` for several calls: the callers' contacts found in one query (a new
    caller's made as for one call), their latest conversations in one query per channel, and
    the messages recorded with one INSERT per table per wave (`record_inbound_messages`: a
    caller's second call while they have no conversation waits for the next wave, to
    continue the conversation the first starts). The calls are saved by the caller."""
    if not calls:
        return
    contacts = _contacts_for_numbers({call.from_number for call in calls})
    latest: dict[tuple[int, int], Conversation] = {}
    for channel_id in {call.call_channel.channel_id for call in calls}:
        contact_ids = [c.pk for c in contacts.values()]
        for found in Conversation.objects.filter(
            channel_id=channel_id, contact_id__in=contact_ids
        ).order_by("contact_id", "-last_message_at", "-id"):
            latest.setdefault((channel_id, found.contact_id or 0), found)
    rest = calls
    while rest:
        wave: list[tuple[Call, Contact | None, Conversation | None]] = []
        later: list[Call] = []
        starting: set[tuple[int, int]] = set()
        for call in rest:
            contact = contacts.get(call.from_number)
            key = (call.call_channel.channel_id, contact.pk) if contact else None
            if key is not None and key in starting:
                later.append(call)
                continue
            conversation = latest.get(key) if key is not None else None
            if key is not None and conversation is None:
                starting.add(key)
            wave.append((call, contact, conversation))
        messages = record_inbound_messages(
            [_call_item(call, contact, conversation) for call, contact, conversation in wave]
        )
        for (call, contact, _conversation), message in zip(wave, messages, strict=True):
            if contact is not None:
                # The core linked the contact (the item names it) unless the conversation
                # went on from a time without one.
                if message.conversation.contact_id != contact.pk:
                    link_contact(message.conversation, message, contact)
                latest[(call.call_channel.channel_id, contact.pk)] = message.conversation
            call.message = message
            call.contact = contact
        rest = later


def _contacts_for_numbers(callers: set[str]) -> dict[str, Contact]:
    """The callers' contacts: one owning the number (any of a contact's numbers), else a new
    contact named by it, made together under a lock per number; a withheld or unparsable
    number has none. The known ones in two queries — the numbers, then
    their contacts — each a plain index lookup (joined, a planner with stale statistics
    walked every contact for each number)."""
    valid = sorted(n for n in callers if not numbers.is_withheld(n) and numbers.is_e164(n))
    _lock_numbers(valid)
    owners = list(
        ContactPhone.objects.filter(number__in=valid)
        .order_by("contact_id")
        .values_list("number", "contact_id")
    )
    alive = Contact.objects.in_bulk({contact_id for _number, contact_id in owners})
    found: dict[str, Contact] = {}
    for number, contact_id in owners:
        contact = alive.get(contact_id)
        if contact is not None and contact.merged_into_id is None:
            found.setdefault(number, contact)
    new = [number for number in valid if number not in found]
    made = crm_services.create_named_contacts(
        [(numbers.display_number(number), "") for number in new], phones=new
    )
    found.update(zip(new, made, strict=True))
    return found


CALLER_LOCK_CLASS = 0x43616C6C  # "Call": the advisory locks of this module


def _lock_numbers(callers: list[str]) -> None:
    """One transaction at a time finds or creates the contact of a number (until commit), so
    two batches with a new caller's calls make one contact."""
    lock_keys(CALLER_LOCK_CLASS, callers)


def _call_item(
    call: Call, contact: Contact | None, conversation: Conversation | None
) -> InboundItem:
    subject, body = describe_call(call)
    return InboundItem(
        channel=call.call_channel.channel,
        conversation=conversation,
        sender_name=contact.display_name if contact else caller_label(call.from_number),
        sender_address="",
        to=[],
        cc=[],
        subject=subject,
        body_text=body,
        body_html="",
        message_id=f"call:{call.call_sid}",
        in_reply_to="",
        references=[],
        attachments=[],
        is_auto_generated=False,
        received_at=call.started_at,
        contact=contact,
    )
