"""The ticket actions that stand alone: the create panel, its statuses, and writes refused
without access. The ticket page itself is tested with the workspace (test_ticket_page.py)."""

import pytest
from django.urls import reverse

from svardesk.tickets.models import Ticket
from tests.factories import TicketFactory, default_pipeline, stage_named

pytestmark = pytest.mark.django_db


@pytest.fixture
def support_ticket(support_team):
    return TicketFactory(name="Cannot log in", team=support_team)


@pytest.mark.parametrize(
    ("url_name", "args"),
    [
        ("tickets:create", []),
        ("tickets:update_properties", ["ticket"]),
        ("tickets:edit_property", ["ticket", "priority"]),
    ],
)
@pytest.mark.parametrize(("who", "status"), [("no_seat_user", 403), ("own_agent", 404)])
def test_writes_are_refused_without_access(
    client, request, support_ticket, url_name, args, who, status
):
    client.force_login(request.getfixturevalue(who))
    resolved = [support_ticket.pk if a == "ticket" else a for a in args]
    response = client.post(
        reverse(url_name, args=resolved),
        {"priority": "URGENT", "name": "x", "version": 1, "value": "URGENT"},
    )
    expected = 403 if who == "no_seat_user" else (404 if args else 422)
    assert response.status_code == expected
    support_ticket.refresh_from_db()
    assert support_ticket.priority == "MEDIUM"
    assert Ticket.objects.count() == 1


def test_create_ticket_panel_and_submit(client, agent):
    client.force_login(agent)
    panel = client.get(reverse("tickets:create"))
    assert panel.status_code == 200
    assert 'name="name"' in panel.content.decode()
    response = client.post(
        reverse("tickets:create"),
        {
            "name": "New laptop",
            "pipeline": default_pipeline().pk,
            "stage": stage_named("New").pk,
            "priority": "HIGH",
        },
        HTTP_HX_REQUEST="true",
    )
    ticket = Ticket.objects.get()
    assert response.headers["HX-Redirect"] == reverse("tickets:detail", args=[ticket.pk])
    assert (ticket.name, ticket.priority, ticket.source) == ("New laptop", "HIGH", "MANUAL")


def test_create_ticket_with_missing_name_shows_errors_and_saves_nothing(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("tickets:create"),
        {"name": "", "pipeline": default_pipeline().pk, "stage": stage_named("New").pk},
    )
    assert response.status_code == 422
    assert "field-error" in response.content.decode()
    assert Ticket.objects.count() == 0


def test_create_ticket_rejects_stage_from_other_pipeline(client, agent):
    from svardesk.tickets.services import create_pipeline

    other = create_pipeline(actor=agent, name="Returns")
    client.force_login(agent)
    response = client.post(
        reverse("tickets:create"),
        {"name": "x", "pipeline": default_pipeline().pk, "stage": other.stages.first().pk},
    )
    assert response.status_code == 422
    assert Ticket.objects.count() == 0


def test_create_form_shows_configured_custom_property(client, agent):
    from svardesk.tickets.models import CreateFormField, PropertyType
    from svardesk.tickets.services import create_property_definition

    create_property_definition(
        actor=agent, name="order_number", label="Order number", type=PropertyType.TEXT
    )
    CreateFormField.objects.create(property_name="order_number", display_order=99, is_required=True)
    client.force_login(agent)
    assert "Order number" in client.get(reverse("tickets:create")).content.decode()
    response = client.post(
        reverse("tickets:create"),
        {"name": "x", "pipeline": default_pipeline().pk, "stage": stage_named("New").pk},
    )
    assert response.status_code == 422  # required custom field missing
    client.post(
        reverse("tickets:create"),
        {
            "name": "x",
            "pipeline": default_pipeline().pk,
            "stage": stage_named("New").pk,
            "order_number": "A-1",
        },
    )
    assert Ticket.objects.get().custom == {"order_number": "A-1"}


def test_stage_options_follow_pipeline(client, agent):
    from svardesk.tickets.services import create_pipeline

    other = create_pipeline(actor=agent, name="Returns", stages=[("Received", False)])
    client.force_login(agent)
    response = client.get(reverse("tickets:stage_options"), {"pipeline": other.pk})
    assert "Received" in response.content.decode()
    assert "Waiting on us" not in response.content.decode()
