"""The ticket page's Log a call dialog (workspace/ticket_calls.py) and the call in the thread."""

import datetime as dt
import zoneinfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from svardesk.tickets.models import Ticket, TicketEvent, TicketEventKind
from svardesk.tickets.services import create_ticket
from svardesk.workspace.ticket_calls import parse_local_datetime
from tests.factories import default_pipeline

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _ticket(name="Printer", **kwargs):
    return create_ticket(actor=None, name=name, pipeline=default_pipeline(), **kwargs)


def _url(ticket):
    return reverse("tickets:log_call", args=[ticket.pk])


def _local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _form(**overrides):
    values = {
        "direction": "outbound",
        "outcome": "connected",
        "duration": "4:05",
        "called_at": _local(timezone.now() - dt.timedelta(minutes=20)),
        "notes": "Reset the router.\nCall back <Friday>.",
    }
    values.update(overrides)
    return values


def _calls():
    return TicketEvent.objects.filter(kind=TicketEventKind.CALL)


def test_the_ticket_menu_offers_log_a_call(client, agent):
    ticket = _ticket()
    client.force_login(agent)

    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    assert f'hx-get="{_url(ticket)}"' in page
    assert "Log a call" in page


def test_the_dialog_is_a_fragment_with_labelled_fields_and_now_as_the_default(client, agent):
    ticket = _ticket()
    client.force_login(agent)
    before = _local(timezone.now())

    response = client.get(_url(ticket), headers=HTMX)

    after = _local(timezone.now())
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'role="dialog"' in html
    assert f"Log a call on ticket #{ticket.pk}" in html
    for field_id in ("call-outcome", "call-duration", "call-called-at", "call-notes"):
        assert f'<label for="{field_id}">' in html
    assert 'name="direction" value="outbound" checked autofocus' in html
    for key in ("busy", "connected", "left_live_message", "left_voicemail", "no_answer"):
        assert f'<option value="{key}">' in html
    assert "Wrong number" in html
    assert (
        f'name="called_at" value="{before}"' in html or f'name="called_at" value="{after}"' in html
    )


def test_without_htmx_the_dialog_is_a_page(client, agent):
    ticket = _ticket()
    client.force_login(agent)

    response = client.get(_url(ticket))

    assert response.status_code == 200
    assert "<html" in response.content.decode()


def test_logging_a_call_redraws_the_thread_with_it_closes_the_panel_and_toasts(client, agent):
    ticket = _ticket()
    client.force_login(agent)

    response = client.post(_url(ticket), _form(), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#thread-{ticket.pk}"
    assert response["HX-Reswap"] == "outerHTML"
    assert f'id="thread-{ticket.pk}"' in html
    assert "Anna Agent logged an outbound call · Connected · " in html
    assert "4:05" in html
    # The notes are escaped and keep their line break.
    assert "Reset the router.<br>Call back &lt;Friday&gt;." in html
    assert '<div id="panel" class="panel-host" hx-swap-oob="true"></div>' in html
    assert "Call logged." in html
    event = _calls().get()
    assert event.ticket_id == ticket.pk
    assert event.actor == agent
    assert event.data["duration_seconds"] == 245
    assert event.data["outcome"] == "connected"


def test_the_time_is_read_in_the_users_time_zone(client, agent):
    agent.time_zone = "Europe/Stockholm"
    agent.save(update_fields=["time_zone"])
    ticket = _ticket()
    client.force_login(agent)
    stockholm = zoneinfo.ZoneInfo("Europe/Stockholm")
    when = (
        (timezone.now() - dt.timedelta(hours=3))
        .astimezone(stockholm)
        .replace(second=0, microsecond=0)
    )

    client.post(_url(ticket), _form(called_at=when.strftime("%Y-%m-%dT%H:%M")), headers=HTMX)

    assert _calls().get().created_at == when


def test_a_call_logged_at_the_current_minute_keeps_the_seconds_of_now(client, agent):
    ticket = _ticket()
    client.force_login(agent)
    for _attempt in range(3):  # the minute may turn between reading it and posting
        minute = _local(timezone.now())
        client.post(_url(ticket), _form(called_at=minute), headers=HTMX)
        if _local(timezone.now()) == minute:
            break
        _calls().delete()

    event = _calls().get()
    # After the ticket's creation earlier in the same minute, as it happened.
    assert event.created_at >= ticket.created_at
    assert _local(event.created_at) == minute


def test_the_ticket_page_shows_the_call_in_the_thread(client, agent):
    ticket = _ticket()
    client.force_login(agent)
    client.post(_url(ticket), _form(direction="inbound", outcome="no_answer", duration="0"))

    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    assert "Anna Agent logged an inbound call · No answer" in page
    assert "No answer · 0:00" not in page  # no duration shown for a zero-length call


@pytest.mark.parametrize(
    ("overrides", "error_id", "message"),
    [
        pytest.param(
            {"outcome": ""}, "call-outcome-error", "Choose how the call went.", id="outcome"
        ),
        pytest.param(
            {"direction": "up"},
            "call-direction-error",
            "Choose whether the call was inbound or outbound.",
            id="direction",
        ),
        pytest.param(
            {"duration": "4:75"}, "call-duration-error", "up to 59", id="duration-seconds"
        ),
        pytest.param(
            {"duration": "abc"}, "call-duration-error", "minutes and seconds", id="duration"
        ),
        pytest.param({"duration": "1441"}, "call-duration-error", "24 hours", id="duration-long"),
        pytest.param({"called_at": "tomorrow"}, "call-called-at-error", "date and time", id="time"),
        pytest.param(
            {"called_at": _local(timezone.now() + dt.timedelta(hours=2))},
            "call-called-at-error",
            "cannot be in the future",
            id="future",
        ),
        pytest.param({"notes": "n" * 5001}, "call-notes-error", "at most 5,000", id="notes"),
    ],
)
def test_errors_show_next_to_their_field_and_nothing_is_logged(
    client, agent, overrides, error_id, message
):
    ticket = _ticket()
    client.force_login(agent)

    response = client.post(_url(ticket), _form(**overrides), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 422
    assert f'id="{error_id}"' in html
    assert message in html
    assert 'aria-invalid="true"' in html or error_id == "call-direction-error"
    assert 'role="alert"' in html
    assert "HX-Retarget" not in response
    assert not _calls().exists()
    # What the agent typed is kept.
    assert overrides.get("notes", "Reset the router.")[:40] in html


def test_several_errors_show_together_and_the_first_gets_the_focus(client, agent):
    ticket = _ticket()
    client.force_login(agent)

    response = client.post(
        _url(ticket), _form(outcome="", duration="x", called_at=""), headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 422
    for error_id in ("call-outcome-error", "call-duration-error", "call-called-at-error"):
        assert f'id="{error_id}"' in html
    assert html.count(" autofocus") == 1
    assert 'id="call-outcome" name="outcome" required aria-invalid="true"' in html


def test_an_own_tickets_agent_gets_404_on_someone_elses_ticket(client, own_agent, agent):
    ticket = _ticket(owner=agent)
    client.force_login(own_agent)

    assert client.get(_url(ticket), headers=HTMX).status_code == 404
    assert client.post(_url(ticket), _form(), headers=HTMX).status_code == 404
    assert not _calls().exists()


def test_users_without_a_seat_cannot_log_calls(client, no_seat_user):
    ticket = _ticket()
    client.force_login(no_seat_user)

    response = client.post(_url(ticket), _form())

    assert response.status_code in (302, 403)
    assert not _calls().exists()


def test_the_post_needs_the_csrf_token(agent):
    ticket = _ticket()
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)

    response = client.post(_url(ticket), _form(), headers=HTMX)

    assert response.status_code == 403
    assert not _calls().exists()


def test_without_htmx_logging_redirects_to_the_ticket(client, agent):
    ticket = _ticket()
    client.force_login(agent)

    response = client.post(_url(ticket), _form())

    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:detail", args=[ticket.pk])
    assert _calls().count() == 1
    assert Ticket.objects.get(pk=ticket.pk).last_activity_at >= ticket.last_activity_at


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("2026-02-30T10:00", id="impossible-date"),
        pytest.param("2026-03-10 10:00", id="space"),
        pytest.param("2026-03-10T25:00", id="hour"),
        pytest.param("\uff12\uff10\uff12\uff16-03-10T10:00", id="wide-digits"),
        pytest.param("", id="empty"),
    ],
)
def test_only_datetime_local_values_are_read(text):
    assert parse_local_datetime(text) is None


def test_a_datetime_local_value_with_seconds_is_read():
    with timezone.override("Europe/Stockholm"):
        moment = parse_local_datetime("2026-03-10T10:05:30")

    assert moment == dt.datetime(2026, 3, 10, 9, 5, 30, tzinfo=dt.UTC)
