import pytest
from django.urls import reverse

from svardesk.tickets.models import Ticket
from tests.factories import ContactFactory, TicketFactory, default_pipeline, stage_named

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing_ticket(billing_team):
    return TicketFactory(name="Invoice twice", team=billing_team)


@pytest.fixture
def support_ticket(support_team):
    return TicketFactory(name="Cannot log in", team=support_team)


@pytest.mark.parametrize(
    ("who", "ticket", "status"),
    [
        pytest.param(None, "billing_ticket", 302, id="anonymous-to-login"),
        pytest.param("no_seat_user", "billing_ticket", 403, id="no-seat-403"),
        pytest.param("agent", "billing_ticket", 200, id="all-scope-200"),
        pytest.param("super_admin", "billing_ticket", 200, id="super-admin-200"),
        pytest.param("team_agent", "billing_ticket", 200, id="team-scope-own-team-200"),
        pytest.param("team_agent", "support_ticket", 404, id="team-scope-other-team-404"),
        pytest.param("own_agent", "billing_ticket", 404, id="own-scope-404"),
    ],
)
def test_ticket_detail_permissions(client, request, who, ticket, status):
    if who:
        client.force_login(request.getfixturevalue(who))
    target = request.getfixturevalue(ticket)
    response = client.get(reverse("tickets:detail", args=[target.pk]))
    assert response.status_code == status
    if status == 200:
        assert target.name in response.content.decode()
    if status == 403:
        assert "help desk seat" in response.content.decode()


def test_unknown_ticket_is_a_404_page(client, agent):
    client.force_login(agent)
    response = client.get("/tickets/987654/")
    assert response.status_code == 404
    assert "find that" in response.content.decode()


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


def test_header_edit_changes_priority_and_records_it(client, agent, support_ticket):
    client.force_login(agent)
    response = client.post(
        reverse("tickets:update_properties", args=[support_ticket.pk]),
        {"priority": "URGENT", "version": support_ticket.version},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    support_ticket.refresh_from_db()
    assert support_ticket.priority == "URGENT"
    assert "changed Priority from Medium to Urgent" in response.content.decode()


def test_stale_header_edit_is_shown_not_saved(client, agent, super_admin, support_ticket):
    from svardesk.tickets.services import update_ticket

    update_ticket(support_ticket.pk, actor=super_admin, changes={"priority": "HIGH"})
    client.force_login(agent)
    response = client.post(
        reverse("tickets:update_properties", args=[support_ticket.pk]),
        {"priority": "LOW", "version": 1},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    assert "data-conflict" in response.content.decode()
    support_ticket.refresh_from_db()
    assert support_ticket.priority == "HIGH"


def test_sidebar_property_edit_with_invalid_value_shows_error(client, agent, support_ticket):
    client.force_login(agent)
    response = client.post(
        reverse("tickets:edit_property", args=[support_ticket.pk, "priority"]),
        {"value": "NOT-A-PRIORITY", "version": support_ticket.version},
    )
    assert response.status_code == 422
    support_ticket.refresh_from_db()
    assert support_ticket.priority == "MEDIUM"


def test_sidebar_property_edit_saves(client, agent, support_ticket):
    client.force_login(agent)
    response = client.post(
        reverse("tickets:edit_property", args=[support_ticket.pk, "description"]),
        {"value": "Customer cannot log in since Monday", "version": support_ticket.version},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#ticket-detail"
    support_ticket.refresh_from_db()
    assert support_ticket.description == "Customer cannot log in since Monday"


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


def test_detail_shows_contact_card(client, agent):
    contact = ContactFactory(first_name="Åsa", last_name="Öberg", company_name="Acme AB")
    ticket = TicketFactory(contact=contact)
    client.force_login(agent)
    body = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "Åsa Öberg" in body
    assert "Acme AB" in body
