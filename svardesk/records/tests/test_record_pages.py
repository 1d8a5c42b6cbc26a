"""Record pages of contacts, companies and deals: rendering, access, in-place edits,
associations, create / edit / delete, merge, the back link and the timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from svardesk.crm import associations
from svardesk.crm import services as crm
from svardesk.crm.models import Association, Company, Contact, Deal, RecordEvent
from svardesk.tickets.models import Ticket
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(super_admin):
    return crm.create_company(actor=super_admin, name="Acme AB", domain="acme.se")


@pytest.fixture
def anna(super_admin, acme):
    return crm.create_contact(
        actor=super_admin,
        first_name="Anna",
        last_name="Svensson",
        emails=["anna@acme.se", "anna.s@gmail.com"],
        phones=["070-123 45 67"],
        company_id=acme.pk,
    )


def _page(client, object_type, pk, **params):
    return client.get(reverse(f"records:{object_type}", args=[pk]), params)


# --- Rendering ----------------------------------------------------------------------------------


def test_contact_page_without_associations_renders_header_and_properties(client, super_admin):
    contact = crm.create_contact(actor=super_admin, first_name="Solo", emails=["solo@example.org"])
    client.force_login(super_admin)
    response = _page(client, "contact", contact.pk)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Solo" in html
    assert "solo@example.org" in html
    assert "No tickets yet." in html
    assert "First name" in html


def test_contact_page_shows_phones_in_national_format_and_associations(
    client, super_admin, anna, acme
):
    ticket = TicketFactory(name="Printer on fire", contact=anna)
    deal = crm.create_deal(actor=super_admin, name="Big order")
    crm.associate_records(
        actor=super_admin, from_type="deal", from_id=deal.pk, to_type="contact", to_id=anna.pk
    )
    client.force_login(super_admin)
    html = _page(client, "contact", anna.pk).content.decode()
    assert "070-123 45 67" in html
    assert "Printer on fire" in html
    assert "Primary contact" in html
    assert "Acme AB" in html
    assert "Big order" in html
    assert reverse("tickets:detail", args=[ticket.pk]) in html


def test_company_and_deal_pages_render(client, super_admin, anna, acme):
    deal = crm.create_deal(actor=super_admin, name="Renewal", amount="1200", currency="EUR")
    crm.associate_records(
        actor=super_admin, from_type="deal", from_id=deal.pk, to_type="company", to_id=acme.pk
    )
    client.force_login(super_admin)
    company_html = _page(client, "company", acme.pk).content.decode()
    assert "acme.se" in company_html
    assert "Anna Svensson" in company_html
    assert "Renewal" in company_html
    deal_html = _page(client, "deal", deal.pk).content.decode()
    assert "Renewal" in deal_html
    assert "EUR" in deal_html


def test_tickets_are_paged_newest_first_with_a_keyset_more_link(client, super_admin, anna):
    tickets = [TicketFactory(name=f"Case {n}", contact=anna) for n in range(27)]
    client.force_login(super_admin)
    response = _page(client, "contact", anna.pk)
    page = response.context["tickets_page"]
    assert [t.pk for t in page.tickets] == [t.pk for t in reversed(tickets)][:25]
    assert page.next_cursor
    more = client.get(
        reverse("records:contact_tickets", args=[anna.pk]), {"after": page.next_cursor}
    )
    assert [t.pk for t in more.context["tickets_page"].tickets] == [tickets[1].pk, tickets[0].pk]
    assert not more.context["tickets_page"].next_cursor


def test_ticket_rows_link_show_status_owner_and_remove_with_the_pages_csrf_token(
    super_admin, agent, anna
):  # type: ignore[no-untyped-def]
    """The rows are drawn in Python (list_rendering.record_ticket_rows): what they carry is
    escaped, the Remove form posts with the page's CSRF token, and "More" fetches the rest."""
    import html
    import re

    from django.test import Client

    other = crm.create_contact(actor=super_admin, first_name="Bo", emails=["bo@acme.se"])
    mine = TicketFactory(name="<b>Printer</b> & co", contact=anna, owner=agent)
    theirs = TicketFactory(name="Shared", contact=other)
    associations.associate("ticket", theirs.pk, "contact", anna.pk)
    older = [TicketFactory(name=f"Old {n}", contact=anna) for n in range(25)]
    for n, ticket in enumerate([*older, mine, theirs]):  # newest last: mine, theirs on top
        Ticket.objects.filter(pk=ticket.pk).update(
            created_at=ticket.created_at.replace(year=2020) + dt.timedelta(minutes=n)
        )
    client = Client(enforce_csrf_checks=True)
    client.force_login(super_admin)
    body = _page(client, "contact", anna.pk).content.decode()
    rows = body[body.index('id="record-ticket-rows"') :]
    assert "&lt;b&gt;Printer&lt;/b&gt; &amp; co" in rows
    assert "<b>Printer" not in rows
    first, second = rows.split("<tr>")[1:3]
    assert f"#{theirs.pk}" in first
    assert "Primary contact" not in first
    assert f"#{mine.pk}" in second
    assert "Primary contact" in second
    assert agent.display_name in second
    assert "Unassigned" in first
    assert mine.stage.display_name in second
    more = re.search(r'hx-get="([^"]+)"', rows[rows.index("more-row") :])
    assert more is not None
    rest = client.get(html.unescape(more.group(1))).content.decode()
    assert rest.count("<tr>") == 2
    assert "more-row" not in rest
    action = re.search(r'action="([^"]+)"', second)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', second)
    assert action is not None
    assert token is not None
    response = client.post(
        html.unescape(action.group(1)),
        {"csrfmiddlewaretoken": token.group(1), "partner_type": "ticket", "partner_id": mine.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    mine.refresh_from_db()
    assert mine.contact_id is None


def test_timeline_shows_a_property_change_with_old_and_new_values(client, super_admin, anna):
    crm.update_contact(anna, actor=super_admin, first_name="Annika")
    client.force_login(super_admin)
    html = _page(client, "contact", anna.pk).content.decode()
    assert "First name: Anna → Annika" in html


def test_timeline_weaves_the_tickets_messages(client, super_admin, agent, anna):
    from svardesk.channels.email.services import connect_email_channel
    from svardesk.conversations.services import add_comment

    connect_email_channel(actor=None, address="support@acme.test", display_name="Support")
    ticket = TicketFactory(name="Late delivery", contact=anna)
    add_comment(ticket, actor=agent, html="<p>Called the customer back</p>")
    client.force_login(super_admin)
    html = _page(client, "contact", anna.pk).content.decode()
    assert "Called the customer back" in html
    assert "Late delivery" in html


def test_timeline_pages_without_gaps_or_repeats(client, super_admin, anna):
    for n in range(30):
        crm.update_contact(anna, actor=super_admin, last_name=f"Name {n}")
    client.force_login(super_admin)
    first = _page(client, "contact", anna.pk).context["timeline"]
    assert first["more"]
    rest = client.get(
        reverse("records:contact_timeline", args=[anna.pk]),
        {"ev": first["events_before"], "msg": first["messages_before"]},
    ).context["timeline"]
    texts = [i.text for i in first["items"]] + [i.text for i in rest["items"]]
    expected = RecordEvent.objects.filter(object_type="contact", object_id=anna.pk).count()
    assert len(texts) == expected
    assert not rest["more"]


def test_record_page_renders_in_swedish(client, super_admin, anna):
    super_admin.language = "sv"
    super_admin.save(update_fields=["language"])
    client.force_login(super_admin)
    html = _page(client, "contact", anna.pk).content.decode()
    with translation.override("sv"):
        assert translation.gettext("Tickets") in html
        assert translation.gettext("Timeline") in html


# --- Access ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("super_admin", True),
        ("agent", True),  # all tickets
        ("team_agent", True),  # the ticket is their team's
        ("own_agent", False),  # owns no ticket of this contact
        ("no_seat_user", None),  # 403: no seat
    ],
)
def test_access_matrix_for_view_edit_and_delete(client, request, anna, billing_team, who, sees):
    TicketFactory(contact=anna, team=billing_team)
    user = request.getfixturevalue(who)
    client.force_login(user)
    view = _page(client, "contact", anna.pk)
    edit = client.get(reverse("records:contact_edit", args=[anna.pk]))
    delete = client.get(reverse("records:contact_delete", args=[anna.pk]))
    if sees is None:
        assert (view.status_code, edit.status_code, delete.status_code) == (403, 403, 403)
    elif not sees:
        assert (view.status_code, edit.status_code, delete.status_code) == (404, 404, 404)
    else:
        assert view.status_code == 200
        assert edit.status_code == 200
        assert delete.status_code == (200 if who == "super_admin" else 403)


def test_an_agent_cannot_delete_and_nothing_changes(client, agent, anna):
    client.force_login(agent)
    response = client.post(reverse("records:contact_delete", args=[anna.pk]))
    assert response.status_code == 403
    assert Contact.objects.filter(pk=anna.pk).exists()


def test_unknown_ids_are_404(client, super_admin):
    client.force_login(super_admin)
    for object_type in ("contact", "company", "deal"):
        assert _page(client, object_type, 999999).status_code == 404


def test_own_agent_does_not_see_another_teams_company(client, own_agent, acme, anna):
    TicketFactory(contact=anna)
    client.force_login(own_agent)
    assert _page(client, "company", acme.pk).status_code == 404


# --- Back link ----------------------------------------------------------------------------------


def test_back_link_to_a_local_path_is_shown(client, super_admin, anna):
    client.force_login(super_admin)
    html = _page(client, "contact", anna.pk, back="/tickets/12/").content.decode()
    assert 'href="/tickets/12/" data-back' in html


@pytest.mark.parametrize(
    "back",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example/x",
        "/\t/evil.example/x",
        "javascript:alert(1)",
        "tickets/1/",
    ],
)
def test_back_link_to_anything_else_is_ignored(client, super_admin, anna, back):
    client.force_login(super_admin)
    html = _page(client, "contact", anna.pk, back=back).content.decode()
    assert "data-back" not in html
    assert "evil.example" not in html


# --- In-place edit -----------------------------------------------------------------------------


def test_in_place_edit_saves_one_property(client, super_admin, anna):
    client.force_login(super_admin)
    url = reverse("records:contact_property", args=[anna.pk, "lastname"])
    assert client.get(url).status_code == 200
    response = client.post(url, {"lastname": "Berg"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    anna.refresh_from_db()
    assert anna.last_name == "Berg"
    assert anna.first_name == "Anna"


def test_in_place_edit_with_an_invalid_value_saves_nothing(client, super_admin):
    deal = crm.create_deal(actor=super_admin, name="Deal", amount="10")
    client.force_login(super_admin)
    url = reverse("records:deal_property", args=[deal.pk, "amount"])
    response = client.post(url, {"amount": "-5"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    deal.refresh_from_db()
    assert deal.amount == 10


# --- Create / edit -----------------------------------------------------------------------------


def test_create_contact_with_several_emails_and_phones(client, super_admin, acme):
    client.force_login(super_admin)
    response = client.post(
        reverse("records:contact_create"),
        {
            "firstname": "Lars",
            "lastname": "Ek",
            "emails": ["lars@private.se", "lars@acme.se"],
            "primary_email": "1",
            "phones": ["+1 (415) 555-2671", "08-123 456 78"],
            "mobilephone": "0701234567",
            "company": str(acme.pk),
            "hs_language": "sv",
        },
    )
    contact = Contact.objects.get(first_name="Lars")
    assert response.status_code == 302
    assert response["Location"] == reverse("records:contact", args=[contact.pk])
    assert contact.email == "lars@acme.se"
    assert sorted(contact.emails.values_list("email", flat=True)) == [
        "lars@acme.se",
        "lars@private.se",
    ]
    assert set(contact.phones.values_list("number", flat=True)) == {
        "+14155552671",
        "+46812345678",
        "+46701234567",
    }
    assert contact.company_id == acme.pk
    assert contact.language == "sv"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"emails": ["not-an-email"]}, "emails"),
        ({"phones": ["12"]}, "phones"),
        ({"mobilephone": "abc"}, "mobilephone"),
    ],
    ids=["email", "phone", "mobile"],
)
def test_invalid_contact_fields_show_errors_and_save_nothing(client, super_admin, data, field):
    client.force_login(super_admin)
    before = Contact.objects.count()
    response = client.post(reverse("records:contact_create"), {"firstname": "X", **data})
    assert response.status_code == 422
    assert response.context["form"].errors[field]
    assert Contact.objects.count() == before


def test_an_email_of_another_contact_is_a_field_error(client, super_admin, anna):
    client.force_login(super_admin)
    response = client.post(
        reverse("records:contact_create"), {"firstname": "Y", "emails": ["ANNA@acme.se"]}
    )
    assert response.status_code == 422
    assert "belongs to another contact" in str(response.context["form"].errors["emails"])


def test_edit_contact_keeps_rows_and_replaces_emails(client, super_admin, anna):
    client.force_login(super_admin)
    form = client.get(reverse("records:contact_edit", args=[anna.pk])).content.decode()
    assert 'value="anna.s@gmail.com"' in form
    response = client.post(
        reverse("records:contact_edit", args=[anna.pk]),
        {"firstname": "Anna", "lastname": "S", "emails": ["anna@acme.se"], "primary_email": "0"},
    )
    assert response.status_code == 302
    anna.refresh_from_db()
    assert list(anna.emails.values_list("email", flat=True)) == ["anna@acme.se"]
    assert anna.last_name == "S"


def test_edit_with_errors_saves_nothing_and_keeps_what_was_typed(client, super_admin, anna):
    client.force_login(super_admin)
    response = client.post(
        reverse("records:contact_edit", args=[anna.pk]),
        {"firstname": "Changed", "emails": ["anna@acme.se", "bad@"], "phones": ["070-123 45 67"]},
    )
    assert response.status_code == 422
    assert 'value="bad@"' in response.content.decode()
    anna.refresh_from_db()
    assert anna.first_name == "Anna"


def test_create_company_and_deal_with_associations(client, super_admin, anna):
    client.force_login(super_admin)
    response = client.post(
        reverse("records:company_create"),
        {"name": "Beta Oy", "domain": "https://www.Beta.fi/about", "phone": "+358 9 1234567"},
    )
    company = Company.objects.get(name="Beta Oy")
    assert response.status_code == 302
    assert company.domain == "beta.fi"
    ticket = TicketFactory(contact=anna)
    response = client.post(
        reverse("records:deal_create"),
        {
            "dealname": "Pilot",
            "amount": "1500.50",
            "deal_currency_code": "eur",
            "dealstage": "qualifiedtobuy",
            "contact": str(anna.pk),
            "company": str(company.pk),
            "ticket": str(ticket.pk),
        },
    )
    deal = Deal.objects.get(name="Pilot")
    assert response.status_code == 302
    assert deal.currency == "EUR"
    assert set(associations.associated_ids("deal", deal.pk, "contact")) == {anna.pk}
    assert set(associations.associated_ids("deal", deal.pk, "company")) == {company.pk}
    assert set(associations.associated_ids("deal", deal.pk, "ticket")) == {ticket.pk}


def test_invalid_deal_saves_nothing(client, super_admin):
    client.force_login(super_admin)
    response = client.post(
        reverse("records:deal_create"),
        {"dealname": "Bad", "amount": "-1", "deal_currency_code": "EURO", "dealstage": "nope"},
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert {"amount", "deal_currency_code", "dealstage"} <= set(errors)
    assert not Deal.objects.exists()


# --- Associations ------------------------------------------------------------------------------


def test_removing_a_tickets_primary_contact_empties_the_tickets_contact(client, super_admin, anna):
    ticket = TicketFactory(contact=anna)
    client.force_login(super_admin)
    response = client.post(
        reverse("records:contact_dissociate", args=[anna.pk]),
        {"partner_type": "ticket", "partner_id": ticket.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.contact_id is None
    assert not Association.objects.filter(from_type="ticket", from_id=ticket.pk, to_type="contact")


def test_adding_a_ticket_without_contact_makes_the_contact_primary(client, super_admin, anna):
    ticket = TicketFactory()
    client.force_login(super_admin)
    client.post(
        reverse("records:contact_associate", args=[anna.pk]),
        {"partner_type": "ticket", "partner_id": ticket.pk},
        HTTP_HX_REQUEST="true",
    )
    ticket.refresh_from_db()
    assert ticket.contact_id == anna.pk


def test_add_and_remove_a_company(client, super_admin, anna):
    other = crm.create_company(actor=super_admin, name="Other AB")
    client.force_login(super_admin)
    client.post(
        reverse("records:contact_associate", args=[anna.pk]),
        {"partner_type": "company", "partner_id": other.pk},
        HTTP_HX_REQUEST="true",
    )
    assert other.pk in set(associations.associated_ids("contact", anna.pk, "company"))
    client.post(
        reverse("records:contact_dissociate", args=[anna.pk]),
        {"partner_type": "company", "partner_id": other.pk},
        HTTP_HX_REQUEST="true",
    )
    assert other.pk not in set(associations.associated_ids("contact", anna.pk, "company"))


def test_a_scoped_agent_cannot_add_a_ticket_they_cannot_see(
    client, team_agent, billing_team, support_team, anna
):
    TicketFactory(contact=anna, team=billing_team)
    hidden = TicketFactory(team=support_team)
    client.force_login(team_agent)
    response = client.post(
        reverse("records:contact_associate", args=[anna.pk]),
        {"partner_type": "ticket", "partner_id": hidden.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert not Ticket.objects.filter(pk=hidden.pk, contact=anna).exists()
    assert hidden.pk not in set(associations.associated_ids("contact", anna.pk, "ticket"))


# --- Delete ------------------------------------------------------------------------------------


def test_delete_confirmation_says_what_stays_and_keeps_tickets(client, super_admin, anna):
    tickets = [TicketFactory(contact=anna) for _ in range(3)]
    client.force_login(super_admin)
    confirm = client.get(reverse("records:contact_delete", args=[anna.pk])).content.decode()
    assert "The 3 tickets of this contact stay; they will have no contact." in confirm
    response = client.post(reverse("records:contact_delete", args=[anna.pk]))
    assert response.status_code == 302
    assert not Contact.objects.filter(pk=anna.pk).exists()
    assert Ticket.objects.filter(pk__in=[t.pk for t in tickets], contact=None).count() == 3


def test_deleting_a_company_keeps_its_contacts(client, super_admin, anna, acme):
    client.force_login(super_admin)
    confirm = client.get(reverse("records:company_delete", args=[acme.pk])).content.decode()
    assert "Its 1 contact stays, without a company." in confirm
    client.post(reverse("records:company_delete", args=[acme.pk]))
    anna.refresh_from_db()
    assert anna.company_id is None


# --- Merge -------------------------------------------------------------------------------------


def test_merge_then_the_merged_id_redirects_to_the_survivor(client, super_admin, anna):
    other = crm.create_contact(actor=super_admin, first_name="A.", emails=["a@example.net"])
    ticket = TicketFactory(contact=other)
    client.force_login(super_admin)
    step = client.get(reverse("records:contact_merge", args=[anna.pk]), {"other": other.pk})
    assert step.status_code == 200
    assert "Which contact stays?" in step.content.decode()
    response = client.post(
        reverse("records:contact_merge", args=[anna.pk]),
        {"other": other.pk, "primary": "this", "confirm": "1"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("records:contact", args=[anna.pk])
    assert Contact.objects.get(pk=other.pk).merged_into_id == anna.pk
    assert ticket.pk in set(associations.associated_ids("contact", anna.pk, "ticket"))
    ticket.refresh_from_db()
    assert ticket.contact_id == anna.pk
    moved = _page(client, "contact", other.pk)
    assert moved.status_code == 302
    assert moved["Location"] == reverse("records:contact", args=[anna.pk])


def test_merge_with_itself_is_refused(client, super_admin, anna):
    client.force_login(super_admin)
    response = client.post(
        reverse("records:contact_merge", args=[anna.pk]),
        {"other": anna.pk, "primary": "this", "confirm": "1"},
    )
    assert response.status_code == 422
    assert Contact.objects.get(pk=anna.pk).merged_into_id is None


def test_record_page_statements_do_not_grow_with_associations(client, super_admin, anna):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    TicketFactory(contact=anna)
    client.force_login(super_admin)

    def count() -> int:
        _page(client, "contact", anna.pk)
        with CaptureQueriesContext(connection) as captured:
            assert _page(client, "contact", anna.pk).status_code == 200
        return len(captured.captured_queries)

    before = count()
    for n in range(30):
        TicketFactory(contact=anna, owner=super_admin)
        crm.update_contact(anna, actor=super_admin, last_name=f"Name {n}")
        deal = crm.create_deal(actor=super_admin, name=f"Deal {n}")
        crm.associate_records(
            actor=super_admin, from_type="deal", from_id=deal.pk, to_type="contact", to_id=anna.pk
        )
    assert count() == before


def test_timeline_names_the_owners_and_the_merge(client, super_admin, agent, anna):
    crm.update_contact(anna, actor=super_admin, owner_id=agent.pk)
    other = crm.create_contact(actor=super_admin, first_name="Dupe", emails=["dupe@example.net"])
    crm.merge_contacts(actor=super_admin, primary=anna, other=other)
    client.force_login(super_admin)
    html = _page(client, "contact", anna.pk).content.decode()
    assert f"Contact owner: — → {agent.display_name}" in html
    assert f"Merged with Contact #{other.pk} Dupe" in html
    assert f"Associated with Company #{anna.company_id} Acme AB" in html


def test_in_place_edit_of_the_primary_company_uses_the_picker(client, super_admin, anna):
    other = crm.create_company(actor=super_admin, name="Other AB")
    client.force_login(super_admin)
    url = reverse("records:contact_property", args=[anna.pk, "company"])
    form = client.get(url).content.decode()
    assert "data-picker" in form
    assert 'value="Acme AB"' in form
    response = client.post(url, {"company": str(other.pk)}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    anna.refresh_from_db()
    assert anna.company_id == other.pk


def test_a_scoped_agent_cannot_pick_a_company_they_cannot_see(
    client, team_agent, billing_team, super_admin, anna
):
    TicketFactory(contact=anna, team=billing_team)
    hidden = crm.create_company(actor=super_admin, name="Hidden AB")
    client.force_login(team_agent)
    response = client.post(
        reverse("records:contact_property", args=[anna.pk, "company"]),
        {"company": str(hidden.pk)},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    anna.refresh_from_db()
    assert anna.company_id != hidden.pk


def test_timeline_reads_email_and_phone_list_changes(client, super_admin, anna):
    crm.update_contact(anna, actor=super_admin, phones=["+46 8 123 456 78"])
    client.force_login(super_admin)
    html = _page(client, "contact", anna.pk).content.decode()
    assert "Phone numbers: 070-123 45 67 → 08-123 456 78" in html


# --- Custom properties -------------------------------------------------------------------------


@pytest.fixture
def size_property(db):
    from svardesk.tickets.services import create_property_definition

    return create_property_definition(
        actor=None,
        name="customer_size",
        label="Customer size",
        type="select",
        options=[{"value": "small", "label": "Small"}, {"value": "large", "label": "Large"}],
        object_type="contact",
    )


def test_custom_properties_are_shown_edited_in_place_and_checked(
    client, super_admin, anna, size_property
):
    client.force_login(super_admin)
    assert "Customer size" in _page(client, "contact", anna.pk).content.decode()
    url = reverse("records:contact_property", args=[anna.pk, "customer_size"])
    bad = client.post(url, {"customer_size": "huge"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 422
    anna.refresh_from_db()
    assert not (anna.custom or {}).get("customer_size")
    good = client.post(url, {"customer_size": "large"}, HTTP_HX_REQUEST="true")
    assert good.status_code == 200
    anna.refresh_from_db()
    assert anna.custom["customer_size"] == "large"
    html = _page(client, "contact", anna.pk).content.decode()
    assert "Customer size: — → Large" in html


def test_the_create_form_has_the_custom_fields(client, super_admin, size_property):
    client.force_login(super_admin)
    form = client.get(reverse("records:contact_create")).content.decode()
    assert 'name="customer_size"' in form
    client.post(
        reverse("records:contact_create"),
        {"firstname": "Custom", "emails": ["custom@example.org"], "customer_size": "small"},
    )
    assert Contact.objects.get(first_name="Custom").custom == {"customer_size": "small"}


# --- More record types -------------------------------------------------------------------------


def test_deleting_a_deal_keeps_its_tickets(client, super_admin):
    deal = crm.create_deal(actor=super_admin, name="Gone")
    ticket = TicketFactory()
    crm.associate_records(
        actor=super_admin, from_type="ticket", from_id=ticket.pk, to_type="deal", to_id=deal.pk
    )
    client.force_login(super_admin)
    confirm = client.get(reverse("records:deal_delete", args=[deal.pk])).content.decode()
    assert "The 1 ticket of this deal stays." in confirm
    assert client.post(reverse("records:deal_delete", args=[deal.pk])).status_code == 302
    assert not Deal.objects.filter(pk=deal.pk).exists()
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_a_merged_company_redirects_to_the_survivor(client, super_admin, acme):
    other = crm.create_company(actor=super_admin, name="Acme Sweden")
    crm.merge_companies(actor=super_admin, primary=acme, other=other)
    client.force_login(super_admin)
    response = _page(client, "company", other.pk, back="/tickets/1/")
    assert response.status_code == 302
    assert (
        response["Location"]
        == reverse("records:company", args=[acme.pk]) + "?back=%2Ftickets%2F1%2F"
    )


def test_a_merged_contact_out_of_scope_is_404_not_a_redirect(client, own_agent, super_admin, anna):
    other = crm.create_contact(actor=super_admin, first_name="Dup", emails=["dup@example.org"])
    crm.merge_contacts(actor=super_admin, primary=anna, other=other)
    client.force_login(own_agent)
    assert _page(client, "contact", other.pk).status_code == 404


def test_the_record_page_marks_its_list_as_current_in_the_navigation(client, super_admin, acme):
    client.force_login(super_admin)
    response = _page(client, "company", acme.pk)
    assert response.context["current_view"] == "companies"


def test_a_scoped_agent_creating_a_contact_is_told_where_it_went(client, team_agent):
    client.force_login(team_agent)
    response = client.post(
        reverse("records:contact_create"), {"firstname": "Nils", "emails": ["nils@example.org"]}
    )
    assert response.status_code == 200
    assert "Contact created." in response.content.decode()
    assert Contact.objects.filter(first_name="Nils").exists()


def test_editing_a_contact_keeps_mobile_numbers_the_form_does_not_show(client, super_admin):
    contact = crm.create_contact(
        actor=super_admin, first_name="Two", mobile_phones=["0701234567", "0731234567"]
    )
    client.force_login(super_admin)
    form = client.get(reverse("records:contact_edit", args=[contact.pk])).context["form"]
    client.post(
        reverse("records:contact_edit", args=[contact.pk]),
        {"firstname": "Twice", "mobilephone": form.initial["mobilephone"]},
    )
    contact.refresh_from_db()
    assert contact.first_name == "Twice"
    assert set(contact.phones.filter(kind="mobile").values_list("number", flat=True)) == {
        "+46701234567",
        "+46731234567",
    }
