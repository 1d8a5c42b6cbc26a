"""Every change the forms channel makes: forms and their fields (the builder), storing a
submission as it arrived, and processing it into a contact and a ticket.

A submission is stored and committed first (`store_submission`), then processed in a
transaction of its own (`process_submission`): a failure leaves it pending, and
`tasks.retry_pending_form_submissions` tries again. Processing is idempotent: the ticket's
message id (`form-<submission id>@<host>`) is unique on the form's channel, so a submission
makes one ticket however often it is processed.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import override

from svardesk.accounts.models import User
from svardesk.channels.forms import conf, queries
from svardesk.channels.forms.exceptions import FormValidationError
from svardesk.channels.forms.fields import (
    HONEYPOT,
    RESERVED,
    SubmissionForm,
    available_fields,
    default_label,
    specs_for,
)
from svardesk.channels.forms.models import (
    FieldKind,
    Form,
    FormField,
    FormLanguage,
    FormSubmission,
    SubmissionStatus,
)
from svardesk.conversations import services as conversation_services
from svardesk.conversations.inbound import (
    InboundItem,
    record_inbound_messages,
    start_follow_up_conversations,
)
from svardesk.conversations.models import Channel, ChannelKind, Message
from svardesk.conversations.services import help_desk_inbox
from svardesk.core import bursts
from svardesk.core import origins as core_origins
from svardesk.core.local_cache import forget
from svardesk.core.locks import lock_keys
from svardesk.core.on_commit import after_commit
from svardesk.crm import services as crm_services
from svardesk.crm.models import Contact
from svardesk.tickets.models import Ticket
from svardesk.tickets.services import update_ticket

logger = logging.getLogger(__name__)

MAX_FIELDS = 50
MAX_WEBSITES = 50
SUBJECT_FROM_TEXT_WORDS = 10


# --- Forms and their fields (the builder) -------------------------------------------------------


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise FormValidationError({"name": _("Give the form a name.")})
    if len(name) > 200:
        raise FormValidationError({"name": _("The name can be at most 200 characters.")})
    return name


DEFAULT_FIELDS = [
    (FieldKind.EMAIL, True),
    (FieldKind.NAME, False),
    (FieldKind.SUBJECT, True),
    (FieldKind.DESCRIPTION, True),
]


@transaction.atomic
def create_form(*, actor: User | None, name: str, language: str = FormLanguage.ENGLISH) -> Form:
    """A new form on its own channel, with the default fields: Email, Name, Subject and
    Description."""
    name = _clean_name(name)
    if language not in FormLanguage.values:
        raise FormValidationError({"language": _("Choose English or Swedish.")})
    channel = Channel.objects.create(
        inbox=help_desk_inbox(), kind=ChannelKind.FORM, name=name, is_active=True
    )
    form = Form.objects.create(channel=channel, language=language)
    FormField.objects.bulk_create(
        FormField(form=form, key=str(kind), kind=kind, is_required=required, position=index)
        for index, (kind, required) in enumerate(DEFAULT_FIELDS)
    )
    logger.info("Form %s (%s) created by %s", form.pk, name, actor.pk if actor else "a command")
    return form


@dataclass(frozen=True)
class FieldChange:
    """One field as the builder posts it, in the form's new order."""

    field_id: int
    is_required: bool
    label_en: str
    label_sv: str
    help_text_en: str = ""
    help_text_sv: str = ""


@dataclass(frozen=True)
class FormChange:
    name: str
    language: str
    confirmation_message_en: str
    confirmation_message_sv: str
    send_confirmation_email: bool
    allowed_websites: Sequence[str]
    fields: Sequence[FieldChange]


def normalise_origin(value: str) -> str:
    """ "https://Shop.example/contact" → "https://shop.example", "*" as it is; raises
    ValueError."""
    value = value.strip()
    if value == "*":
        return value
    return core_origins.normalise_origin(value, page_url_allowed=True)


def _clean_websites(values: Sequence[str]) -> list[str]:
    origins: list[str] = []
    bad: list[str] = []
    for value in values:
        if not value.strip():
            continue
        try:
            origin = normalise_origin(value)
        except ValueError:
            bad.append(value.strip()[:100])
            continue
        if origin not in origins:
            origins.append(origin)
    if bad:
        raise FormValidationError(
            {
                "allowed_websites": _(
                    "Write each website as its address, such as https://shop.example "
                    "(not: %(values)s)."
                )
                % {"values": ", ".join(bad)}
            }
        )
    if len(origins) > MAX_WEBSITES:
        raise FormValidationError(
            {"allowed_websites": _("At most %(count)s websites.") % {"count": MAX_WEBSITES}}
        )
    return [] if "*" in origins else origins


@transaction.atomic
def save_form(form: Form, *, actor: User | None, change: FormChange) -> Form:
    """Save the builder: the form's settings and its fields' labels, required flags and
    order (`change.fields` in the new order; every field of the form must be in it once)."""
    form = Form.objects.select_for_update().select_related("channel").get(pk=form.pk)
    name = _clean_name(change.name)
    if change.language not in FormLanguage.values:
        raise FormValidationError({"language": _("Choose English or Swedish.")})
    websites = _clean_websites(change.allowed_websites)
    existing = {f.pk: f for f in form.fields.all()}
    posted = [c.field_id for c in change.fields]
    if sorted(posted) != sorted(existing):
        raise FormValidationError(
            {"__all__": _("The form was changed meanwhile. Reload the page and try again.")}
        )
    for position, item in enumerate(change.fields):
        field = existing[item.field_id]
        field.position = position
        field.is_required = item.is_required or field.kind == FieldKind.EMAIL
        field.label_en = " ".join(item.label_en.split())[:200]
        field.label_sv = " ".join(item.label_sv.split())[:200]
        field.help_text_en = " ".join(item.help_text_en.split())[:500]
        field.help_text_sv = " ".join(item.help_text_sv.split())[:500]
    FormField.objects.bulk_update(
        existing.values(),
        ["position", "is_required", "label_en", "label_sv", "help_text_en", "help_text_sv"],
    )
    form.language = change.language
    form.confirmation_message_en = change.confirmation_message_en.strip()[:5000]
    form.confirmation_message_sv = change.confirmation_message_sv.strip()[:5000]
    form.send_confirmation_email = change.send_confirmation_email
    form.allowed_websites = websites
    form.save()
    _forget(form)
    if form.channel.name != name:
        form.channel.name = name
        form.channel.save(update_fields=["name", "updated_at"])
    return form


@transaction.atomic
def add_field(form: Form, *, actor: User | None, key: str) -> FormField:
    """Add one of `fields.available_fields()` at the end of the form."""
    choice = next((a for a in available_fields() if a.key == key), None)
    if choice is None:
        raise FormValidationError({"add": _("Choose a property to add.")})
    Form.objects.select_for_update().get(pk=form.pk)
    if form.fields.filter(key=key).exists():
        raise FormValidationError({"add": _("The form already asks for that.")})
    if form.fields.count() >= MAX_FIELDS:
        raise FormValidationError(
            {"add": _("A form can have at most %(count)s fields.") % {"count": MAX_FIELDS}}
        )
    last = form.fields.aggregate(last=Max("position"))["last"]
    return FormField.objects.create(
        form=form,
        key=choice.key,
        kind=choice.kind,
        property_name=choice.property_name,
        position=(last or 0) + 1,
        is_required=choice.kind == FieldKind.EMAIL,
    )


@transaction.atomic
def remove_field(form: Form, *, actor: User | None, field_id: int) -> None:
    field = form.fields.filter(pk=field_id).first()
    if field is None:
        return
    if field.kind == FieldKind.EMAIL:
        raise FormValidationError({"__all__": _("Every form asks for the email address.")})
    field.delete()


@transaction.atomic
def move_field(form: Form, *, actor: User | None, field_id: int, step: int) -> None:
    """Move a field one place up (step -1) or down (+1)."""
    fields = list(form.fields.select_for_update().order_by("position", "id"))
    index = next((i for i, f in enumerate(fields) if f.pk == field_id), None)
    if index is None:
        return
    target = index + (1 if step > 0 else -1)
    if not 0 <= target < len(fields):
        return
    fields[index], fields[target] = fields[target], fields[index]
    for position, field in enumerate(fields):
        field.position = position
    FormField.objects.bulk_update(fields, ["position"])
    _forget(form)


@transaction.atomic
def set_form_active(form: Form, *, actor: User | None, is_active: bool) -> None:
    """Disconnect a form (its page says it is closed) or connect it again."""
    channel = Channel.objects.select_for_update().get(pk=form.channel_id)
    channel.is_active = is_active
    channel.save(update_fields=["is_active", "updated_at"])
    _forget(form)


def _forget(form: Form) -> None:
    """Drop this process's cached copy of the form now and again after commit (others
    follow within core.local_cache's few seconds)."""

    def forget_now() -> None:
        forget(f"forms:by-key:{form.public_key}")
        forget(f"forms:by-id:{form.pk}")

    forget_now()
    after_commit(forget_now)


# --- Submissions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    """Who sent a submission, from where (as the request said)."""

    ip_address: str | None = None
    user_agent: str = ""
    origin: str = ""
    referrer: str = ""


def raw_data(post: MultiValueDict[str, str]) -> dict[str, list[str]]:
    """The POST fields as they arrived, less the form's own machinery (token, CSRF)."""
    return {
        key: post.getlist(key)
        for key in post
        if key not in RESERVED or key == HONEYPOT  # the honeypot is the evidence of spam
    }


def store_submission(
    form: Form,
    *,
    data: Mapping[str, list[str]],
    language: str,
    arrival: Arrival,
    status: str = SubmissionStatus.PENDING,
    errors: Mapping[str, list[str]] | None = None,
    now: dt.datetime | None = None,
) -> FormSubmission:
    """Store a submission as it arrived, before anything is made of it: pending, or already
    known to be spam or rejected (with its field errors). A pending one is processed by a
    batch task scheduled after commit (`enqueue_processing`) unless `processing_deferred()`
    says no: then the caller processes it (`process_with_waiting`)."""
    now = now or timezone.now()
    # One INSERT (its own transaction unless the caller has one): durable before processing.
    submission = FormSubmission.objects.create(
        form=form,
        status=status,
        errors=dict(errors or {}),
        processed_at=None if status == SubmissionStatus.PENDING else now,
        data=dict(data),
        language=language if language in FormLanguage.values else form.language,
        ip_address=arrival.ip_address,
        user_agent=arrival.user_agent[:500],
        origin=arrival.origin[:500],
        referrer=arrival.referrer[:2000],
        received_at=now,
    )
    if status == SubmissionStatus.PENDING and processing_deferred():
        after_commit(enqueue_processing)
    return submission


def bind_form(form: Form, data: Mapping[str, list[str]] | None, language: str) -> SubmissionForm:
    """The visitor's form for `form` (bound to `data` when given)."""
    form_fields = list(form.fields.all())
    return SubmissionForm(
        MultiValueDict(dict(data)) if data is not None else None,
        form_fields=form_fields,
        specs=specs_for(form_fields),
        language=language,
    )


@dataclass
class Outcome:
    """What processing made of a submission. `bound` is the visitor's form, with its field
    errors when the submission was rejected."""

    submission: FormSubmission
    bound: SubmissionForm | None = None

    @property
    def is_rejected(self) -> bool:
        return self.submission.status == SubmissionStatus.REJECTED


def process_submission(submission_id: int, *, now: dt.datetime | None = None) -> Outcome:
    """Validate a stored submission against its form and make the contact and the ticket.

    In a transaction of its own. Invalid input rejects the submission (its field errors are
    kept) and creates nothing. A failure (a database error, …) rolls everything back and
    leaves the submission pending with the error, for the retrying task. A submission no
    longer pending is left as it is."""
    now = now or timezone.now()
    try:
        outcome = _process_many([submission_id], now=now).get(submission_id)
    except Exception as exc:
        logger.exception(
            "Form submission %s could not be processed; it will be retried", submission_id
        )
        FormSubmission.objects.filter(pk=submission_id, status=SubmissionStatus.PENDING).update(
            attempts=F("attempts") + 1, error=f"{type(exc).__name__}: {exc}"[:1000]
        )
        outcome = None
    return outcome or Outcome(FormSubmission.objects.get(pk=submission_id))


BATCH_LIMIT = 100
# Submissions younger than this are a burst's, processed together; older pending ones
# (processing failed) are left to the retrying task, so one that keeps failing is not tried
# with every batch.
BATCH_WINDOW = dt.timedelta(seconds=30)
_turn = threading.Lock()


def process_with_waiting(submission_id: int, *, now: dt.datetime | None = None) -> Outcome:
    """Process a just-stored submission together with those stored meanwhile.

    Each request takes its own submission and the others stored in the last moments that
    nobody is processing, in one transaction (one INSERT per table;
    `record_inbound_messages`): a burst's submissions are processed in batches. On SQLite
    the requests of a process take turns: while one batch is processed, the next requests
    store their submissions and wait, and the next turn takes all of them. A submission a turn
    before already processed is answered at once. If the batch fails, each is processed on
    its own, so one that cannot be processed does not hold the others back."""
    now = now or timezone.now()
    # SQLite has one writer: its requests queue here rather than in SQLite's busy loop. On
    # PostgreSQL requests process at the same time, each skipping the rows another has locked.
    with _turn if connection.vendor == "sqlite" else nullcontext():
        others = list(
            FormSubmission.objects.filter(
                status=SubmissionStatus.PENDING, received_at__gte=now - BATCH_WINDOW
            )
            .exclude(pk=submission_id)
            .order_by("received_at", "id")
            .values_list("pk", flat=True)[: BATCH_LIMIT - 1]
        )
        ids = [submission_id, *others]
        try:
            outcome = _process_many(ids, now=now).get(submission_id)
        except Exception:
            logger.warning("A batch of %s form submissions failed; one by one", len(ids))
            for one in ids:
                process_submission(one, now=now)
            outcome = None
    # None: a turn before already processed it (or the batch failed and it was retried).
    return outcome or Outcome(FormSubmission.objects.get(pk=submission_id))


@transaction.atomic
def _process_many(
    ids: Sequence[int] | None, *, now: dt.datetime, limit: int = BATCH_LIMIT
) -> dict[int, Outcome]:
    """Process the pending submissions among `ids` — without ids, the oldest `limit` never
    tried — in one transaction (all or nothing)."""
    # PostgreSQL: rows another process is processing are skipped (SQLite has one writer).
    if ids is None:
        claim = _never_tried()[:limit]
    else:
        claim = FormSubmission.objects.filter(pk__in=ids, status=SubmissionStatus.PENDING).order_by(
            "received_at", "id"
        )
    submissions = list(claim.select_for_update(skip_locked=True))
    outcomes: dict[int, Outcome] = {}
    ready: list[tuple[FormSubmission, SubmissionForm, dict[str, Any]]] = []
    for submission in submissions:
        form = queries.form_with_fields(submission.form_id)
        if form is None:  # deleted meanwhile (CASCADE deletes its submissions too)
            raise RuntimeError("The submission's form is gone")
        submission.form = form
        bound = bind_form(form, submission.data, submission.language)
        with override(submission.language):
            custom = bound.custom_values() if bound.is_valid() else {}
            if bound.errors:
                submission.status = SubmissionStatus.REJECTED
                submission.errors = error_dict(bound)
                submission.processed_at = now
                submission.attempts += 1
                submission.save(update_fields=["status", "errors", "processed_at", "attempts"])
                outcomes[submission.pk] = Outcome(submission, bound)
                continue
        ready.append((submission, bound, custom))
    if not ready:
        return outcomes
    if connection.vendor == "postgresql" and not any(
        s.form.send_confirmation_email for s, _b, _c in ready
    ):
        # Not worth a wait for the disk: if a crash loses this commit, the submissions (stored
        # durably before) are still pending and the retrying task processes them again. Not
        # with a confirmation email, which could leave before the commit was lost.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
    _lock_contact_addresses({b.cleaned_data[FieldKind.EMAIL] for _s, b, _c in ready})
    messages = record_inbound_messages([_inbound_item(s, b) for s, b, _c in ready])
    unconfirmed: list[Message] = []
    for (submission, bound, custom), message in zip(ready, messages, strict=True):
        with override(submission.language):
            ticket = _complete(submission, bound, custom, message, now=now)
            submission.status = SubmissionStatus.PROCESSED
            submission.ticket = ticket
            submission.processed_at = now
            submission.attempts += 1
            submission.error = ""
            if submission.form.send_confirmation_email:
                _confirm(submission, ticket, email=bound.cleaned_data[FieldKind.EMAIL], now=now)
            else:
                submission.confirmation_error = ""
                unconfirmed.append(message)
        outcomes[submission.pk] = Outcome(submission, bound)
    if unconfirmed:  # without a confirmation email: the email conversations, in one INSERT
        start_follow_up_conversations(unconfirmed, now=now)
    done = [s for s, _b, _c in ready]
    fields = ["status", "ticket", "processed_at", "attempts", "error", "confirmation_error"]
    if len(done) == 1:
        done[0].save(update_fields=fields)  # a plain UPDATE, cheaper than bulk_update's CASE
    else:
        FormSubmission.objects.bulk_update(done, fields)
    return outcomes


# --- Processing in batches, in the worker ------------------------------------------------------


def processing_deferred() -> bool:
    """Whether stored submissions are processed by the worker's batch task (the default: the
    visitor's POST is one INSERT and the answer) rather than in the request (core.bursts)."""
    return bursts.processing_deferred()


# "A batch is scheduled" (core.bursts: in the task queue's storage, stale when its task was
# lost).
BATCH_MARKER = "svardesk:forms-batch-scheduled"


def enqueue_processing() -> None:
    """Have the pending submissions processed a moment from now
    (settings.INBOUND_PROCESSING_DELAY) by one task, in batches: while a batch is scheduled,
    further submissions schedule nothing — that batch takes every submission waiting when it
    starts."""
    from svardesk.channels.forms.tasks import process_form_submissions

    bursts.schedule_once(BATCH_MARKER, process_form_submissions)


def process_pending_batches(*, limit: int = BATCH_LIMIT, max_batches: int = 20) -> int:
    """The batch task: process the pending submissions never tried, oldest first, `limit`
    per transaction, until none is left (after `max_batches`, a new task takes the rest).
    While one batch is recorded another task may run the next (PostgreSQL: `SKIP LOCKED`; on
    SQLite they take turns). A batch that fails is retried one submission at a time, so one
    that cannot be processed waits for the retrying task without holding the others back.
    Returns how many were processed or rejected."""
    from svardesk.channels.forms.tasks import process_form_submissions

    bursts.batch_started(BATCH_MARKER)  # submissions stored from now schedule a new batch
    done = 0
    for _round in range(max_batches):
        now = timezone.now()
        try:
            outcomes = _process_many(None, now=now, limit=limit)
        except Exception:
            logger.warning("A batch of form submissions failed; one by one")
            waiting = list(_never_tried().values_list("pk", flat=True)[:limit])
            for one in waiting:
                process_submission(one, now=now)  # a failure counts an attempt: not again
            done += len(waiting)
            continue
        done += len(outcomes)
        if len(outcomes) < limit:
            return done
        if _round == 0:
            process_form_submissions()  # a burst: the other worker takes the next batch
    if _never_tried().exists():
        process_form_submissions()
    return done


def _never_tried() -> Any:
    return FormSubmission.objects.filter(status=SubmissionStatus.PENDING, attempts=0).order_by(
        "received_at", "id"
    )


def error_dict(bound: SubmissionForm) -> dict[str, list[str]]:
    return {name: [str(m) for m in messages] for name, messages in bound.errors.items()}


def message_id_for(submission: FormSubmission) -> str:
    return f"form-{submission.pk}@{conf.message_id_domain()}"


def _answers(bound: SubmissionForm, language: str) -> list[tuple[str, str]]:
    """The answers other than the subject and the description, as (label, text)."""
    skip = {FieldKind.SUBJECT, FieldKind.DESCRIPTION, FieldKind.EMAIL}
    result: list[tuple[str, str]] = []
    for field in bound.form_fields:
        if field.kind in skip or field.key not in bound.fields:
            continue
        value = bound.cleaned_data.get(field.key)
        if value in (None, "", [], False) and not isinstance(value, bool):
            continue
        django_field = bound.fields[field.key]
        choices = dict(getattr(django_field, "choices", []) or [])
        if isinstance(value, list):
            text = ", ".join(str(choices.get(v, v)) for v in value)
        elif isinstance(value, bool):
            text = _("Yes") if value else _("No")
        elif choices:
            text = str(choices.get(value, value))
        else:
            text = str(value)
        label = default_label(field, language, bound.specs.get(field.property_name))
        result.append((label, text))
    return result


def _text_of(bound: SubmissionForm, language: str) -> str:
    description = str(bound.cleaned_data.get(FieldKind.DESCRIPTION) or "").strip()
    answers = "\n".join(f"{label}: {text}" for label, text in _answers(bound, language))
    return "\n\n".join(part for part in (description, answers) if part)


def _subject_of(bound: SubmissionForm, form: Form) -> str:
    subject = " ".join(str(bound.cleaned_data.get(FieldKind.SUBJECT) or "").split())
    if subject:
        return subject
    words = str(bound.cleaned_data.get(FieldKind.DESCRIPTION) or "").split()
    if words:
        text = " ".join(words[:SUBJECT_FROM_TEXT_WORDS])
        return text + ("…" if len(words) > SUBJECT_FROM_TEXT_WORDS else "")
    return form.name


def _sender_name(data: Mapping[str, Any]) -> str:
    name = " ".join(str(data.get(FieldKind.NAME) or "").split())
    if name:
        return name
    first = " ".join(str(data.get(FieldKind.FIRST_NAME) or "").split())
    last = " ".join(str(data.get(FieldKind.LAST_NAME) or "").split())
    return f"{first} {last}".strip()


CONTACT_LOCK_CLASS = 0x466F726D  # "Form": the advisory locks of this module


def _lock_contact_addresses(addresses: set[str]) -> None:
    """One transaction at a time matches or creates the contact for an address (until
    commit), so two submissions from one new person at once make one contact."""
    lock_keys(CONTACT_LOCK_CLASS, (a.strip().lower() for a in addresses))


def _inbound_item(submission: FormSubmission, bound: SubmissionForm) -> InboundItem:
    form, data = submission.form, bound.cleaned_data
    return InboundItem(
        channel=form.channel,
        sender_name=_sender_name(data),
        sender_address=data[FieldKind.EMAIL],
        to=[],
        cc=[],
        subject=_subject_of(bound, form),
        body_text=_text_of(bound, submission.language),
        body_html="",
        message_id=message_id_for(submission),
        in_reply_to="",
        references=[],
        attachments=[],
        is_auto_generated=False,
        received_at=submission.received_at,
    )


def _complete(
    submission: FormSubmission,
    bound: SubmissionForm,
    custom: dict[str, Any],
    message: Message,
    *,
    now: dt.datetime,
) -> Ticket:
    """What the message's recording leaves to do: the contact's phone and company, and the
    ticket's properties."""
    data = bound.cleaned_data
    ticket = message.conversation.ticket
    if ticket is None:  # a form feeds the help desk inbox: a new conversation has its ticket
        raise RuntimeError("The form's message made no ticket")
    if message.contact is not None:
        _fill_contact(message.contact, data)
    changes: dict[str, Any] = dict(custom)
    for kind in (FieldKind.CATEGORY, FieldKind.PRIORITY):
        if data.get(kind):
            changes[str(kind)] = data[kind]
    if changes:
        ticket = update_ticket(ticket.pk, actor=None, changes=changes, now=now)
    return ticket


def _fill_contact(contact: Contact, data: Mapping[str, Any]) -> None:
    """Phone and company from the form, where the contact has none: a form is not signed,
    so its answers never overwrite what is known about a contact. The phone is stored in
    E.164 (crm); one that does not parse stays only in the message."""
    phone = " ".join(str(data.get(FieldKind.PHONE) or "").split())
    company = " ".join(str(data.get(FieldKind.COMPANY) or "").split())
    if (phone and not contact.phone) or (company and not contact.company_name):
        crm_services.fill_contact_details(contact, actor=None, phone=phone, company_name=company)


def confirmation_message(form: Form, language: str) -> str:
    typed = form.confirmation_message_sv if language == "sv" else form.confirmation_message_en
    if typed:
        return typed
    with override(language):
        return _("Thank you! We have received your message and will get back to you soon.")


def _confirm(submission: FormSubmission, ticket: Ticket, *, email: str, now: dt.datetime) -> None:
    """The confirmation email (when the form sends one), exactly once: its dedupe key is the
    submission's. It starts the ticket's email conversation, so the visitor's reply threads
    into the ticket and the agents' replies go out by email. Without it, the ticket gets an
    (empty) email conversation for the agents' replies. Neither stops the ticket: a failure
    is noted on the submission."""
    submission.confirmation_error = ""
    form = submission.form
    if form.send_confirmation_email:
        with override(submission.language):
            subject = _("We have received your message: %(subject)s") % {"subject": ticket.name}
            text = _confirmation_text(form, submission.language, ticket)
        try:
            with transaction.atomic():
                conversation_services.send_automatic_message(
                    ticket,
                    to=email,
                    subject=subject[:998],
                    text=text,
                    dedupe_key=f"form-confirmation-{submission.pk}",
                    now=now,
                )
        except Exception as exc:
            logger.warning("No confirmation email for form submission %s: %s", submission.pk, exc)
            submission.confirmation_error = f"{type(exc).__name__}: {exc}"[:1000]
        else:
            return
    start = getattr(conversation_services, "start_follow_up_conversation", None)
    if start is None:
        return
    try:
        with transaction.atomic():
            start(ticket, now=now)
    except Exception as exc:
        logger.warning("No email conversation for form ticket %s: %s", ticket.pk, exc)


def _confirmation_text(form: Form, language: str, ticket: Ticket) -> str:
    intro = confirmation_message(form, language)
    return "\n\n".join(
        [
            intro,
            _("Your message:"),
            ticket.description.strip(),
            _("Reply to this email to add to it."),
        ]
    )


def retry_pending_submissions(
    *, older_than: dt.timedelta, untried_after: dt.timedelta | None = None, limit: int = 500
) -> int:
    """Process submissions still pending `older_than` after they arrived whose processing
    failed before — and those never tried once they wait `untried_after` (default
    `older_than`: a lost batch task, a process that died); returns how many are now
    processed or rejected. A burst's backlog is the batch task's, not this sweep's."""
    now = timezone.now()
    untried_cutoff = now - (untried_after if untried_after is not None else older_than)
    ids = list(
        FormSubmission.objects.filter(status=SubmissionStatus.PENDING)
        .filter(
            Q(received_at__lte=now - older_than, attempts__gt=0)
            | Q(received_at__lte=untried_cutoff)
        )
        .order_by("received_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for submission_id in ids:
        outcome = process_submission(submission_id)
        if outcome.submission.status != SubmissionStatus.PENDING:
            done += 1
    return done


KEEP_UNPROCESSED = dt.timedelta(days=30)


def prune_submissions(
    *, now: dt.datetime | None = None, keep: dt.timedelta = KEEP_UNPROCESSED
) -> int:
    """Delete spam and rejected submissions older than `keep` (they made nothing; kept a
    while for the settings page). Processed ones stay: each is its ticket's record."""
    cutoff = (now or timezone.now()) - keep
    deleted, _per_model = FormSubmission.objects.filter(
        status__in=[SubmissionStatus.SPAM, SubmissionStatus.REJECTED], received_at__lt=cutoff
    ).delete()
    return deleted
