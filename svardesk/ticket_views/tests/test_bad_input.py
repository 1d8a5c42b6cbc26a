"""Input a list URL cannot use gets a clear answer (the list with the reason shown, or the
first page), never a server error. Digits are ASCII only: Python's int() and str.isdigit()
take "²" and "٣" too."""

from __future__ import annotations

import base64
import json

import pytest
from django.urls import reverse

from svardesk.ticket_views.models import CustomView
from svardesk.tickets.models import PropertyDefinition
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def _cursor(payload: list[object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.fixture
def tickets(agent, support_team):
    return [TicketFactory(name=f"Anna's printer {i}", team=support_team) for i in range(3)]


def _listed(response) -> list[int]:  # type: ignore[no-untyped-def]
    return [ticket.pk for ticket in response.context["page"].tickets]


@pytest.mark.parametrize(
    "query", ["²", "#²", "٣", "#١٢"], ids=["super", "hash-super", "arabic", "hash-arabic"]
)
def test_search_for_non_ascii_digits_finds_nothing(client, agent, tickets, query):
    client.force_login(agent)
    response = client.get(reverse("ticket_views:all"), {"q": query})
    assert response.status_code == 200
    assert _listed(response) == []


@pytest.mark.parametrize(
    ("encoded", "error"),
    [
        ("created_at:EQ:2024-02-30", "Enter a valid date for Create date."),
        ("created_at:BETWEEN:2024-02-01,2024-02-30", "Enter a valid date for Create date."),
        ("created_at:LT:2024-02-30T10:00:00", "Enter a valid date for Create date."),
        ("owner:EQ:²", "Choose one of the listed options."),
        ("owner:EQ:٣", "Choose one of the listed options."),
        ("team:IN:1,²", "Choose one of the listed options."),
        ("owner:EQ:99999999999999999999999", "Choose one of the listed options."),
        ("created_at:EQ:²²²²²²²²²²", "Enter a valid date for Create date."),
        ("created_at:EQ:٢٠٢٤-05-01", "Enter a valid date for Create date."),
        ("created_at:EQ:9999-12-31", "Enter a valid date for Create date."),
    ],
    ids=["feb-30", "between-feb-30", "datetime-feb-30", "owner-super", "owner-arabic",
         "team-super", "owner-huge", "epoch-super", "arabic-date", "year-9999"],
)  # fmt: skip
def test_unusable_filter_value_is_shown_as_an_error(client, agent, tickets, encoded, error):
    client.force_login(agent)
    response = client.get(reverse("ticket_views:all"), {"f": encoded})
    assert response.status_code == 200
    assert response.context["list_errors"] == [error]
    # As for any filter that cannot apply: the list shows without it, saying why.
    assert sorted(_listed(response)) == sorted(t.pk for t in tickets)


@pytest.mark.parametrize("days", ["²", "٣", "1²", "99999999999999999999999"])
def test_add_days_that_is_not_a_number_is_refused(client, agent, tickets, days):
    client.force_login(agent)
    response = client.get(
        reverse("ticket_views:all"),
        {"add_property": "created_at", "add_operator": "LAST_DAYS", "add_days": days},
    )
    assert response.status_code == 200
    assert response.context["list_errors"] == ["Give a number of days."]


def test_add_days_that_is_not_a_number_is_refused_in_the_view_editor(client, super_admin):
    client.force_login(super_admin)
    response = client.post(
        reverse("ticket_views:create"),
        {
            "name": "Recent",
            "action": "add",
            "add_property": "created_at",
            "add_operator": "LAST_DAYS",
            "add_days": "²",
        },
    )
    assert response.status_code == 200
    assert response.context["errors"] == {"filters": "Give a number of days."}
    assert response.context["conditions"] == []
    assert not CustomView.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        ["search", "x", "2024-05-01T10:00:00+00:00", 1],
        ["search", "²", "2024-05-01T10:00:00+00:00", 1],
        ["search", [1], "2024-05-01T10:00:00+00:00", 1],
        ["search", 3, "2024-02-30T10:00:00+00:00", 1],
        ["search", 3, "2024-05-01T10:00:00+00:00", "x"],
        ["search", 3, "2024-05-01T10:00:00+00:00", 10**30],
        ["search", 3, 17, 1],
        ["search", 3, "2024-05-01T10:00:00+00:00"],
    ],
    ids=["tier-text", "tier-super", "tier-list", "feb-30", "id-text", "id-huge", "date-number",
         "short"],
)  # fmt: skip
def test_malformed_search_cursor_gives_the_first_page(client, agent, tickets, payload):
    client.force_login(agent)
    url = reverse("ticket_views:all")
    first = _listed(client.get(url, {"q": "anna"}))
    response = client.get(url, {"q": "anna", "after": _cursor(payload)})
    assert response.status_code == 200
    assert _listed(response) == first
    assert len(first) == 3


@pytest.mark.parametrize(
    ("sort", "payload"),
    [
        ("", ["-last_activity_at", "2024-02-30T10:00:00+00:00", 1]),
        ("", ["-last_activity_at", "2024-05-01T10:00:00+00:00", 10**30]),
        ("id", ["id", 10**30, 1]),
        ("-created_at", ["-created_at", "2024-05-01T25:00:00", 1]),
    ],
    ids=["feb-30", "id-huge", "value-huge", "hour-25"],
)
def test_malformed_list_cursor_gives_the_first_page(client, agent, tickets, sort, payload):
    client.force_login(agent)
    url = reverse("ticket_views:all")
    params = {"sort": sort} if sort else {}
    first = _listed(client.get(url, params))
    response = client.get(url, {**params, "after": _cursor(payload)})
    assert response.status_code == 200
    assert _listed(response) == first
    assert len(first) == 3


def test_view_name_loses_control_characters(client, super_admin):
    """PostgreSQL refuses NUL in text: it was a server error there."""
    client.force_login(super_admin)
    response = client.post(
        reverse("ticket_views:create"), {"name": "Gold\x00 tier\n", "action": "save"}
    )
    view = CustomView.objects.get()
    assert response.status_code == 302
    assert view.name == "Gold tier"


@pytest.mark.parametrize("stage", ["٣", "²", "99999999999999999999999"])
def test_bulk_status_that_is_not_an_ascii_id_is_refused(client, agent, stage):
    ticket = TicketFactory()
    before = (ticket.stage_id, ticket.version)
    client.force_login(agent)
    response = client.post(
        reverse("ticket_views:bulk"),
        {"ticket": f"{ticket.pk}:{ticket.version}", "stage": stage, "action": "update"},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.stage_id, ticket.version) == before
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Choose an existing status."]


# --- Other views that read a query string (found by test_no_server_errors' sweep) ------------


def test_back_to_list_link_ignores_a_view_key_that_is_no_slug(client, agent):
    ticket = TicketFactory()
    client.force_login(agent)
    for key, back in [("a b", "/tickets/"), ("\x00", "/tickets/"), ("sent", "/views/sent/")]:
        response = client.get(reverse("tickets:detail", args=[ticket.pk]), {"view": key})
        assert response.status_code == 200
        assert f'<a href="{back}" data-back-to-list>' in response.content.decode()


@pytest.mark.parametrize("pipeline", ["²", "٣", "abc", "99999999999999999999999", ""])
def test_stage_options_for_a_pipeline_that_is_no_id_is_not_found(client, agent, pipeline):
    client.force_login(agent)
    response = client.get(reverse("tickets:stage_options"), {"pipeline": pipeline})
    assert response.status_code == 404


def test_mention_search_ignores_nul(client, agent):
    client.force_login(agent)
    response = client.get(reverse("conversations:mentions"), {"q": "An\x00na"})
    assert response.status_code == 200
    assert [user["id"] for user in response.json()["results"]] == [agent.pk]


def test_ticket_page_shows_custom_values_of_the_wrong_type_as_stored(client, agent):
    """A custom value is JSON: a property's type can change after values were stored."""
    for name, kind in [("reviewer", "user"), ("renewal", "date"), ("called_at", "datetime")]:
        PropertyDefinition.objects.create(name=name, label=name.title(), type=kind)
    custom = {"reviewer": "someone", "renewal": "2024-02-30", "called_at": "2024-05-01T10:00:00"}
    ticket = TicketFactory(custom=custom)
    client.force_login(agent)
    response = client.get(reverse("tickets:detail", args=[ticket.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Unknown user" in body
    assert "2024-02-30" in body
    assert "2024-05-01T10:00:00" in body
