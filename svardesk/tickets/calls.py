"""Calls an agent logs on a ticket: who called whom, how it went, how long, notes, when. A
logged call is one `TicketEvent` of kind CALL (no table of its own): the thread shows it among
the messages and the timeline keeps it, at the time the call took place."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from svardesk.accounts.models import User
from svardesk.core.exceptions import NotFoundError
from svardesk.core.on_commit import after_commit
from svardesk.tickets import queries
from svardesk.tickets.exceptions import TicketValidationError
from svardesk.tickets.models import Ticket, TicketEvent, TicketEventKind
from svardesk.tickets.signals import ticket_changed

MAX_DURATION_SECONDS = 24 * 60 * 60
MAX_NOTES_LENGTH = 5_000
# How far back a call may be logged: a typo in the year ("2062", "1926") is refused, while a
# call from last month that nobody logged still fits.
MAX_AGE = dt.timedelta(days=366)
# The browser's clock and the server's may differ a little; a minute-precision "now" from a
# datetime-local field must not read as the future.
CLOCK_SKEW = dt.timedelta(minutes=2)


class CallDirection(models.TextChoices):
    INBOUND = "inbound", gettext_lazy("Inbound")
    OUTBOUND = "outbound", gettext_lazy("Outbound")


class CallOutcome(models.TextChoices):
    """HubSpot's default call outcomes, with stable keys (the labels are translated)."""

    BUSY = "busy", gettext_lazy("Busy")
    CONNECTED = "connected", gettext_lazy("Connected")
    LEFT_LIVE_MESSAGE = "left_live_message", gettext_lazy("Left live message")
    LEFT_VOICEMAIL = "left_voicemail", gettext_lazy("Left voicemail")
    NO_ANSWER = "no_answer", gettext_lazy("No answer")
    WRONG_NUMBER = "wrong_number", gettext_lazy("Wrong number")


_DURATION = re.compile(
    r"(?:(?:(?P<h>[0-9]{1,2}):)?(?P<m>[0-9]{1,4}):(?P<s>[0-9]{2}))|(?P<min>[0-9]{1,4})"
)
# Control characters other than tab and line breaks: plain-text notes keep neither (NUL is
# also refused by PostgreSQL inside JSON).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parse_duration(text: str) -> int:
    """Seconds from what an agent types: whole minutes ("12"), minutes and seconds ("4:05")
    or hours, minutes and seconds ("1:02:03"); empty is 0. ValueError with a message the
    form shows otherwise."""
    text = text.strip()
    if not text:
        return 0
    match = _DURATION.fullmatch(text) if text.isascii() else None
    if match is None:
        raise ValueError(_("Enter the duration as minutes (12) or minutes and seconds (4:05)."))
    if match["min"] is not None:
        return int(match["min"]) * 60
    seconds = int(match["s"])
    minutes = int(match["m"])
    if seconds >= 60 or (match["h"] is not None and minutes >= 60):
        raise ValueError(_("Seconds and minutes after a colon go up to 59."))
    return int(match["h"] or 0) * 3600 + minutes * 60 + seconds


def format_duration(seconds: int) -> str:
    """4:05, or 1:02:03 from an hour on."""
    hours, rest = divmod(max(int(seconds), 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def clean_notes(notes: str) -> str:
    """Plain text as the agent wrote it, line breaks kept (\\n), control characters dropped."""
    return _CONTROL.sub("", notes.replace("\r\n", "\n").replace("\r", "\n")).strip()


def call_errors(
    *,
    direction: str,
    outcome: str,
    duration_seconds: Any,
    notes: str,
    called_at: dt.datetime | None,
    now: dt.datetime,
) -> dict[str, str]:
    """What is wrong with a call, by field (direction, outcome, duration, notes, called_at);
    empty when it may be logged. `notes` as `clean_notes` leaves them."""
    errors: dict[str, str] = {}
    if direction not in CallDirection.values:
        errors["direction"] = _("Choose whether the call was inbound or outbound.")
    if outcome not in CallOutcome.values:
        errors["outcome"] = _("Choose how the call went.")
    if (
        not isinstance(duration_seconds, int)
        or isinstance(duration_seconds, bool)
        or not 0 <= duration_seconds <= MAX_DURATION_SECONDS
    ):
        errors["duration"] = _("A call lasts between 0 seconds and 24 hours.")
    if len(notes) > MAX_NOTES_LENGTH:
        errors["notes"] = _("Notes can be at most %(max)s characters (these have %(count)s).") % {
            "max": f"{MAX_NOTES_LENGTH:,}",
            "count": f"{len(notes):,}",
        }
    if called_at is None or timezone.is_naive(called_at):
        errors["called_at"] = _("Enter the date and time of the call.")
    elif called_at > now + CLOCK_SKEW:
        errors["called_at"] = _("The call cannot be in the future.")
    elif called_at < now - MAX_AGE:
        errors["called_at"] = _("A call can be logged up to a year after it took place.")
    return errors


def _announce(ticket_id: int, actor_id: int | None) -> None:
    ticket_changed.send(sender=Ticket, ticket_id=ticket_id, actor_id=actor_id)


@transaction.atomic
def log_call(
    ticket: Ticket,
    *,
    actor: User,
    direction: str,
    outcome: str,
    duration_seconds: int,
    notes: str,
    called_at: dt.datetime | None,
    now: dt.datetime | None = None,
) -> TicketEvent:
    """Record a call on the ticket's timeline, at the time it took place.

    The actor must be able to see the ticket (NotFoundError otherwise, nothing written).
    Invalid input raises TicketValidationError with errors keyed direction, outcome,
    duration, notes and called_at. The ticket's last activity moves to the call's time if that
    is later; its version does not change (no property changed, so nobody's open edit is
    refused because of a call)."""
    now = now or timezone.now()
    notes = clean_notes(notes)
    errors = call_errors(
        direction=direction,
        outcome=outcome,
        duration_seconds=duration_seconds,
        notes=notes,
        called_at=called_at,
        now=now,
    )
    if errors:
        raise TicketValidationError(errors)
    assert called_at is not None  # checked above  # noqa: S101
    # The row lock orders this with other changes to the ticket (merging, deleting): a ticket
    # gone meanwhile is not found. Locked alone, then scope-checked.
    locked = Ticket.objects.select_for_update().only("pk").filter(pk=ticket.pk).first()
    if locked is None or not queries.visible_tickets(actor).filter(pk=locked.pk).exists():
        raise NotFoundError("No such ticket")
    event = TicketEvent.objects.create(
        ticket=locked,
        actor=actor,
        kind=TicketEventKind.CALL,
        data={
            "direction": direction,
            "outcome": outcome,
            "duration_seconds": duration_seconds,
            "notes": notes,
            "called_at": called_at.astimezone(dt.UTC).isoformat(),
        },
        created_at=called_at,
    )
    Ticket.objects.filter(pk=locked.pk).update(
        last_activity_at=Greatest(F("last_activity_at"), Value(called_at)),
        updated_at=now,
    )
    after_commit(_announce, locked.pk, actor.pk)
    return event


@dataclass(frozen=True)
class CallReading:
    """A logged call as the thread shows it, in the reader's language."""

    direction: str
    outcome: str
    duration: str
    notes: str


def read_call(data: dict[str, Any]) -> CallReading:
    """What a CALL event's data reads as; unknown keys read as they are stored."""
    direction = str(data.get("direction", ""))
    outcome = str(data.get("outcome", ""))
    outcome_label = str(CallOutcome(outcome).label) if outcome in CallOutcome.values else outcome
    seconds = data.get("duration_seconds")
    duration = format_duration(seconds) if isinstance(seconds, int) and seconds > 0 else ""
    return CallReading(
        direction=direction,
        outcome=outcome_label,
        duration=duration,
        notes=str(data.get("notes", "")),
    )
