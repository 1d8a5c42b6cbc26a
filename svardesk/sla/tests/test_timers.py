"""The SLA timers driven by real inbound email (raw MIME through the email channel's ingest)
and real replies (conversations.services.send_reply, delivered by the email adapter)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from svardesk.channels.email.tests.corpus import (
    CORPUS_SECRET,
    build_raw,
    connect,
    ingest,
    stage,
)
from svardesk.conversations import services
from svardesk.conversations.models import HelpDeskSettings, Message, MessageDirection
from svardesk.sla.models import Applies, GoalMode, PropertyGoal, SlaSettings, TicketSla
from svardesk.sla.sweep import sweep
from svardesk.tickets.models import SlaStatus, Ticket, TicketEvent, TicketEventKind
from svardesk.tickets.services import create_ticket, ensure_default_pipeline, update_ticket

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


@pytest.fixture
def sla(db):
    """SLAs on, 24/7: first response 1 h, next response 30 min, close 1 day."""
    return SlaSettings.objects.create(
        pk=1,
        is_enabled=True,
        applies=Applies.ALWAYS,
        first_response_seconds=HOUR,
        next_response_seconds=HOUR // 2,
        close_seconds=24 * HOUR,
    )


def _mail(channel, message_id="<m1@kund.example>", **kwargs):
    inbound = ingest(channel, build_raw(message_id=message_id, **kwargs))
    return inbound.recorded_message.conversation.ticket


def _sla_events(ticket):
    return [
        (e.data["goal"], e.data["event"])
        for e in TicketEvent.objects.filter(ticket=ticket, kind=TicketEventKind.SLA).order_by(
            "created_at", "id"
        )
    ]


def _reply(ticket, agent, text="Vi tittar på det."):
    return services.send_reply(
        ticket, actor=agent, html=f"<p>{text}</p>", to="Kund <kund@example.com>"
    )


def test_a_new_email_ticket_starts_first_response_and_close(channel, sla):
    before = timezone.now()

    ticket = _mail(channel)

    ticket.refresh_from_db()
    created = ticket.created_at
    assert before <= created
    assert ticket.sla_first_response_status == SlaStatus.ON_TRACK
    assert ticket.sla_first_response_due == created + dt.timedelta(hours=1)
    assert ticket.sla_close_status == SlaStatus.ON_TRACK
    assert ticket.sla_close_due == created + dt.timedelta(days=1)
    assert ticket.sla_next_response_status is None
    assert ticket.sla_next_response_due is None
    assert _sla_events(ticket) == [("first_response", "started"), ("close", "started")]


def test_the_first_reply_meets_first_response_and_a_customer_answer_starts_next(
    channel, sla, super_admin
):
    ticket = _mail(channel)

    reply = _reply(ticket, super_admin)
    ticket.refresh_from_db()
    assert ticket.sla_first_response_status == SlaStatus.MET
    assert TicketSla.objects.get(ticket=ticket).first_response_completed_at == reply.created_at
    assert ticket.sla_next_response_status is None

    # The customer answers our reply (threaded by In-Reply-To): next response starts.
    reply.refresh_from_db()
    answer = _mail(
        channel,
        message_id="<m2@kund.example>",
        subject="Re: Hej",
        in_reply_to=reply.message_id,
        references=reply.message_id,
    )
    assert answer.pk == ticket.pk
    ticket.refresh_from_db()
    timers = TicketSla.objects.get(ticket=ticket)
    arrived = Message.objects.filter(conversation__ticket=ticket, direction="inbound").latest(
        "created_at"
    )
    assert timers.next_response_started_at == arrived.created_at
    assert ticket.sla_next_response_status == SlaStatus.ON_TRACK
    assert ticket.sla_next_response_due == arrived.created_at + dt.timedelta(minutes=30)

    _reply(ticket, super_admin, "Nu är det löst.")
    ticket.refresh_from_db()
    assert ticket.sla_next_response_status == SlaStatus.MET
    assert _sla_events(ticket) == [
        ("first_response", "started"),
        ("close", "started"),
        ("first_response", "met"),
        ("next_response", "started"),
        ("next_response", "met"),
    ]


def test_a_second_customer_mail_before_any_reply_starts_nothing(channel, sla):
    ticket = _mail(channel)
    first = Message.objects.get(conversation__ticket=ticket)

    _mail(
        channel,
        message_id="<m2@kund.example>",
        subject="Re: Hej",
        in_reply_to=first.message_id,
        references=first.message_id,
    )

    ticket.refresh_from_db()
    assert TicketSla.objects.get(ticket=ticket).next_response_started_at is None
    assert ticket.sla_first_response_status == SlaStatus.ON_TRACK


def test_an_internal_comment_and_an_automatic_message_meet_nothing(channel, sla, super_admin):
    ticket = _mail(channel)

    services.add_comment(ticket, actor=super_admin, html="<p>Kollar med lagret</p>")
    services.send_automatic_message(
        ticket,
        to="kund@example.com",
        subject="Vi har tagit emot ditt ärende",
        text="Tack!",
        dedupe_key="ack-1",
    )

    ticket.refresh_from_db()
    assert ticket.sla_first_response_status == SlaStatus.ON_TRACK
    assert TicketSla.objects.get(ticket=ticket).first_response_completed_at is None


def test_closing_meets_time_to_close_and_reopening_keeps_the_first_close(channel, sla):
    ticket = _mail(channel)

    update_ticket(ticket.pk, actor=None, changes={"stage": stage("Closed").pk})
    ticket.refresh_from_db()
    closed_at = TicketSla.objects.get(ticket=ticket).close_completed_at
    assert closed_at is not None
    assert ticket.sla_close_status == SlaStatus.MET

    update_ticket(ticket.pk, actor=None, changes={"stage": stage("New").pk})
    ticket.refresh_from_db()
    assert TicketSla.objects.get(ticket=ticket).close_completed_at == closed_at
    assert ticket.sla_close_status == SlaStatus.MET


def test_a_pausing_status_pauses_and_adds_the_paused_time(channel, sla, super_admin):
    sla.pausing_stages.add(stage("Waiting on contact"))
    HelpDeskSettings.objects.update(move_to_waiting_on_contact_on_reply=True)
    ticket = _mail(channel)

    reply = _reply(ticket, super_admin)  # moves the ticket to Waiting on contact
    ticket.refresh_from_db()
    assert ticket.stage.name == "Waiting on contact"
    timers = TicketSla.objects.get(ticket=ticket)
    assert timers.close_paused_at is not None
    assert ticket.sla_close_due is None  # moves while paused
    assert ticket.sla_close_status == SlaStatus.ON_TRACK

    reply.refresh_from_db()
    _mail(
        channel,
        message_id="<m2@kund.example>",
        subject="Re: Hej",
        in_reply_to=reply.message_id,
        references=reply.message_id,
    )
    ticket.refresh_from_db()
    timers.refresh_from_db()
    assert ticket.stage.name != "Waiting on contact"
    assert timers.close_paused_at is None
    paused = dt.timedelta(seconds=timers.close_paused_seconds)
    assert ticket.sla_close_due == ticket.created_at + dt.timedelta(days=1) + paused
    events = _sla_events(ticket)
    assert ("close", "paused") in events
    assert ("close", "resumed") in events


def test_raising_the_priority_retargets_from_the_original_start(channel, sla):
    sla.mode = GoalMode.PROPERTY
    sla.property_name = "priority"
    sla.save()
    PropertyGoal.objects.create(
        property_name="priority", value="LOW", first_response_seconds=8 * HOUR
    )
    PropertyGoal.objects.create(property_name="priority", value="HIGH", first_response_seconds=HOUR)
    ticket = _mail(channel)
    ticket.refresh_from_db()
    assert ticket.sla_first_response_status is None  # no priority: no goal

    update_ticket(ticket.pk, actor=None, changes={"priority": "LOW"})
    ticket.refresh_from_db()
    assert ticket.sla_first_response_due == ticket.created_at + dt.timedelta(hours=8)

    update_ticket(ticket.pk, actor=None, changes={"priority": "HIGH"})
    ticket.refresh_from_db()
    assert ticket.sla_first_response_due == ticket.created_at + dt.timedelta(hours=1)
    assert TicketSla.objects.get(ticket=ticket).policy == "property:priority=HIGH"


def test_a_value_switched_off_carries_no_goal(channel, sla):
    sla.mode = GoalMode.PROPERTY
    sla.property_name = "source"
    sla.save()
    PropertyGoal.objects.create(
        property_name="source", value="EMAIL", first_response_seconds=HOUR, is_enabled=False
    )

    ticket = _mail(channel)

    ticket.refresh_from_db()
    assert ticket.sla_first_response_status is None
    assert ticket.sla_first_response_due is None


def test_manual_tickets_get_no_timers_unless_the_setting_says_so(sla):
    pipeline = ensure_default_pipeline()
    manual = create_ticket(actor=None, name="Telefonsamtal", pipeline=pipeline)
    assert not TicketSla.objects.filter(ticket=manual).exists()
    assert Ticket.objects.get(pk=manual.pk).sla_first_response_status is None

    SlaSettings.objects.filter(pk=1).update(applies_to_manual=True)
    from svardesk.core.local_cache import clear_local_cache

    clear_local_cache()
    counted = create_ticket(actor=None, name="Import", pipeline=pipeline, source="IMPORT")
    assert Ticket.objects.get(pk=counted.pk).sla_first_response_status == SlaStatus.ON_TRACK


def test_sla_off_starts_no_timers(channel):
    SlaSettings.objects.create(pk=1, is_enabled=False, first_response_seconds=HOUR)

    ticket = _mail(channel)

    assert not TicketSla.objects.filter(ticket=ticket).exists()


def test_a_late_reply_is_completed_late_after_the_sweep_marked_it_overdue(
    channel, sla, super_admin
):
    ticket = _mail(channel)
    ticket.refresh_from_db()

    result = sweep(now=ticket.created_at + dt.timedelta(minutes=50))  # 15 min before: due soon
    assert result.due_soon == 1
    sweep(now=ticket.created_at + dt.timedelta(hours=1))
    ticket.refresh_from_db()
    assert ticket.sla_first_response_status == SlaStatus.OVERDUE

    reply = _reply(ticket, super_admin)
    later = reply.created_at + dt.timedelta(hours=2)
    Message.objects.filter(pk=reply.pk).update(created_at=later)
    # The reply is what completes the goal, at its own time.
    TicketSla.objects.filter(ticket=ticket).update(first_response_completed_at=later)
    from svardesk.sla.recompute import recompute_tickets

    recompute_tickets([ticket.pk])
    ticket.refresh_from_db()
    assert ticket.sla_first_response_status == SlaStatus.MISSED
    assert ("first_response", "missed") in _sla_events(ticket)
    assert Message.objects.filter(direction=MessageDirection.OUTBOUND).count() == 1


def test_the_ticket_page_shows_the_sla_rows_of_the_timeline(channel, sla, super_admin, client):
    ticket = _mail(channel)
    client.force_login(super_admin)

    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    assert "Time to first response: SLA started" in page
    assert "Time to close: SLA started" in page


def test_the_ticket_header_shows_each_goals_status(channel, sla, super_admin, client):
    ticket = _mail(channel)
    _reply(ticket, super_admin)
    client.force_login(super_admin)

    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    assert '<span class="badge sla-met"' in page
    assert "First response: Completed on time" in page
    assert "Close: On track" in page
    assert "Next response:" not in page


def test_saving_for_existing_open_tickets_recomputes_them_in_a_background_job(
    channel, super_admin, django_capture_on_commit_callbacks
):
    from svardesk.core.local_cache import clear_local_cache
    from svardesk.sla import recompute
    from svardesk.sla.models import Recomputation

    SlaSettings.objects.create(pk=1, is_enabled=False)
    open_ticket = _mail(channel)
    closed = _mail(channel, message_id="<m9@kund.example>", sender="B <b@kund.example>")
    update_ticket(closed.pk, actor=None, changes={"stage": stage("Closed").pk})
    assert not TicketSla.objects.exists()
    SlaSettings.objects.filter(pk=1).update(
        is_enabled=True, applies=Applies.ALWAYS, first_response_seconds=HOUR
    )
    clear_local_cache()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = recompute.apply_settings(actor=super_admin, existing_open=True)
    assert job is not None
    assert len(callbacks) == 1  # the job is enqueued after commit
    assert (job.total, job.done, job.state) == (1, 0, Recomputation.State.QUEUED)

    done = recompute.run(job.pk)

    assert (done.done, done.state) == (1, Recomputation.State.DONE)
    open_ticket.refresh_from_db()
    assert open_ticket.sla_first_response_status == SlaStatus.ON_TRACK
    assert open_ticket.sla_first_response_due == open_ticket.created_at + dt.timedelta(hours=1)
    assert TicketSla.objects.get(ticket=open_ticket).settings_version == 2
    assert not TicketSla.objects.filter(ticket=closed).exists()
