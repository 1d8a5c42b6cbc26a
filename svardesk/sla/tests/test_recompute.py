"""A recomputation ("new tickets and existing open tickets") leaves each open ticket's next
response as the live timers would have it: running from the first customer message after the
last reply sent to the customer, and not running when the reply came last."""

import datetime as dt

import pytest

from svardesk.channels.email.tests.corpus import CORPUS_SECRET, build_raw, connect, ingest
from svardesk.conversations import services
from svardesk.conversations.models import Message
from svardesk.core.local_cache import clear_local_cache
from svardesk.sla.models import Applies, SlaSettings, TicketSla
from svardesk.sla.recompute import recompute_tickets
from svardesk.tickets.models import SlaStatus

pytestmark = pytest.mark.django_db

HOUR = 3600


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path):
    settings.SECRET_KEY = CORPUS_SECRET
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def channel(db):
    return connect()


def _settings(*, enabled):
    SlaSettings.objects.update_or_create(
        pk=1,
        defaults={
            "is_enabled": enabled,
            "applies": Applies.ALWAYS,
            "first_response_seconds": HOUR,
            "next_response_seconds": HOUR // 2,
            "close_seconds": 24 * HOUR,
        },
    )
    clear_local_cache()


def _mail(channel, message_id, **kwargs):
    inbound = ingest(channel, build_raw(message_id=message_id, **kwargs))
    return inbound.recorded_message.conversation.ticket


def _reply(ticket, agent):
    reply = services.send_reply(
        ticket, actor=agent, html="<p>Vi tittar på det.</p>", to="Kund <kund@example.com>"
    )
    reply.refresh_from_db()
    return reply


def _answer(channel, reply, message_id):
    return _mail(
        channel,
        message_id=message_id,
        subject="Re: Hej",
        in_reply_to=reply.message_id,
        references=reply.message_id,
    )


def _latest_inbound(ticket):
    return Message.objects.filter(conversation__ticket=ticket, direction="inbound").latest(
        "created_at"
    )


def test_tickets_without_timers_get_next_response_from_their_messages(channel, super_admin):
    _settings(enabled=False)
    waiting = _mail(channel, "<m1@kund.example>")
    reply = _reply(waiting, super_admin)
    assert _answer(channel, reply, "<m2@kund.example>").pk == waiting.pk
    answered = _mail(channel, "<m3@kund.example>", sender="B <b@kund.example>")
    _reply(answered, super_admin)
    assert not TicketSla.objects.exists()
    _settings(enabled=True)

    assert recompute_tickets([waiting.pk, answered.pk]) == 2

    arrived = _latest_inbound(waiting).created_at
    waiting.refresh_from_db()
    assert TicketSla.objects.get(ticket=waiting).next_response_started_at == arrived
    assert waiting.sla_first_response_status == SlaStatus.MET
    assert waiting.sla_next_response_status == SlaStatus.ON_TRACK
    assert waiting.sla_next_response_due == arrived + dt.timedelta(minutes=30)
    answered.refresh_from_db()
    assert answered.sla_first_response_status == SlaStatus.MET
    assert answered.sla_next_response_status is None
    assert TicketSla.objects.get(ticket=answered).next_response_started_at is None


def test_existing_timers_get_the_next_response_missed_while_slas_were_off(channel, super_admin):
    _settings(enabled=True)
    ticket = _mail(channel, "<m1@kund.example>")
    reply = _reply(ticket, super_admin)
    _settings(enabled=False)
    _answer(channel, reply, "<m2@kund.example>")  # SLAs off: starts no new timer
    assert TicketSla.objects.get(ticket=ticket).next_response_started_at is None
    _settings(enabled=True)

    recompute_tickets([ticket.pk], now=reply.created_at + dt.timedelta(hours=2))

    arrived = _latest_inbound(ticket).created_at
    timers = TicketSla.objects.get(ticket=ticket)
    assert timers.next_response_started_at == arrived
    assert timers.next_response_completed_at is None
    ticket.refresh_from_db()
    assert ticket.sla_next_response_due == arrived + dt.timedelta(minutes=30)
    assert ticket.sla_next_response_status == SlaStatus.OVERDUE  # as it stands two hours on

    # A second recomputation keeps the running timer as it is.
    recompute_tickets([ticket.pk], now=arrived + dt.timedelta(minutes=1))
    assert TicketSla.objects.get(ticket=ticket).next_response_started_at == arrived
