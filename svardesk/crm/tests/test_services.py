"""crm.services: contacts, companies and deals — validation that saves nothing, the mirror
columns, the timeline, domain matching."""

import datetime
from decimal import Decimal

import pytest

from svardesk.crm import associations, queries, services
from svardesk.crm.exceptions import RecordNotFoundError, RecordValidationError
from svardesk.crm.models import (
    Association,
    Company,
    Contact,
    ContactEmail,
    ContactPhone,
    Deal,
    RecordEvent,
)
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return (
        Contact.objects.count(),
        ContactEmail.objects.count(),
        ContactPhone.objects.count(),
        Company.objects.count(),
        Deal.objects.count(),
        Association.objects.count(),
        RecordEvent.objects.count(),
    )


def _emails(contact: Contact) -> list[tuple[str, bool]]:
    return list(
        ContactEmail.objects.filter(contact=contact)
        .order_by("-is_primary", "id")
        .values_list("email", "is_primary")
    )


# --- create_contact ----------------------------------------------------------------------------


def test_create_contact_stores_emails_phones_and_a_created_event(agent):
    contact = services.create_contact(
        actor=agent,
        first_name="Anna",
        last_name="Svensson",
        emails=["Anna@Kund.example", "anna.s@kund.example", "ANNA@kund.example"],
        phones=["08-123 456 78"],
        mobile_phones=["070 123 45 67", "+44 7911 123456"],
        language="sv",
    )
    contact.refresh_from_db()
    assert contact.email == "Anna@Kund.example"
    assert _emails(contact) == [("Anna@Kund.example", True), ("anna.s@kund.example", False)]
    assert ContactEmail.objects.get(email="Anna@Kund.example").email_key == "anna@kund.example"
    assert contact.phone == "+46812345678"
    assert contact.mobile_phone == "+46701234567"
    assert list(contact.phones.order_by("id").values_list("number", "kind")) == [
        ("+46812345678", "phone"),
        ("+46701234567", "mobile"),
        ("+447911123456", "mobile"),
    ]
    assert contact.language == "sv"
    event = RecordEvent.objects.get(object_type="contact", object_id=contact.pk)
    assert (event.kind, event.actor) == ("created", agent)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"emails": ["not-an-address"]}, "emails", id="bad-email"),
        pytest.param({"emails": ["taken@kund.example"]}, "emails", id="taken-email"),
        pytest.param({"emails": ["TAKEN@KUND.example"]}, "emails", id="taken-email-case"),
        pytest.param({"phones": ["12"]}, "phones", id="bad-phone"),
        pytest.param({"mobile_phones": ["+46 70 12"]}, "mobile_phones", id="short-mobile"),
        pytest.param({"company_id": 999999}, "company_id", id="unknown-company"),
        pytest.param({"owner_id": 999999}, "owner_id", id="unknown-owner"),
        pytest.param({"first_name": "x" * 151}, "first_name", id="long-name"),
        pytest.param({"custom": ["a"]}, "custom", id="custom-not-a-mapping"),
    ],
)
def test_create_contact_with_a_bad_field_saves_nothing(agent, kwargs, field):
    services.create_contact(actor=agent, first_name="Taken", emails=["taken@kund.example"])
    before = _counts()
    with pytest.raises(RecordValidationError) as caught:
        services.create_contact(actor=agent, **{"first_name": "New", **kwargs})
    assert set(caught.value.errors) == {field}
    assert caught.value.errors[field]
    assert _counts() == before


def test_a_taken_email_names_the_address(agent):
    services.create_contact(actor=agent, emails=["taken@kund.example"])
    with pytest.raises(RecordValidationError) as caught:
        services.create_contact(actor=agent, emails=["free@kund.example", "Taken@kund.example"])
    assert "taken@kund.example" in caught.value.errors["emails"]
    assert "another contact" in caught.value.errors["emails"]


def test_every_bad_field_is_reported_at_once(agent):
    with pytest.raises(RecordValidationError) as caught:
        services.create_contact(actor=agent, emails=["nope"], phones=["abc12"], owner_id=0)
    assert set(caught.value.errors) == {"emails", "phones", "owner_id"}


# --- domain matching ---------------------------------------------------------------------------


def test_a_new_contact_joins_the_company_of_its_email_domain(agent):
    acme = services.create_company(actor=agent, name="Acme", domain="https://www.ACME.example/")
    assert acme.domain == "acme.example"
    contact = services.create_contact(actor=agent, emails=["eva@Acme.example"])
    contact.refresh_from_db()
    assert contact.company_id == acme.pk
    assert associations.primary_id("contact", contact.pk, "company") == acme.pk
    assert set(associations.associated_ids("company", acme.pk, "contact")) == {contact.pk}


def test_free_mail_domains_never_match_a_company(agent):
    services.create_company(actor=agent, name="Google", domain="gmail.com")
    contact = services.create_contact(actor=agent, emails=["someone@gmail.com"])
    assert contact.company_id is None
    assert not Association.objects.filter(from_type="contact", from_id=contact.pk).exists()
    assert queries.is_free_email_domain("hotmail.se")
    assert queries.is_free_email_domain("telia.com")
    assert len(queries.free_email_domains()) > 200


def test_domain_matching_can_be_switched_off(agent):
    services.create_company(actor=agent, name="Acme", domain="acme.example")
    services.update_crm_settings(actor=agent, associate_by_domain=False)
    contact = services.create_contact(actor=agent, emails=["eva@acme.example"])
    assert contact.company_id is None


def test_an_explicit_company_wins_over_the_domain(agent):
    services.create_company(actor=agent, name="Acme", domain="acme.example")
    other = services.create_company(actor=agent, name="Other")
    contact = services.create_contact(actor=agent, emails=["eva@acme.example"], company_id=other.pk)
    contact.refresh_from_db()
    assert contact.company_id == other.pk
    assert list(associations.associated_ids("contact", contact.pk, "company")) == [other.pk]


# --- update_contact ----------------------------------------------------------------------------


def test_update_contact_writes_one_event_per_changed_property(agent):
    contact = services.create_contact(
        actor=agent, first_name="Anna", last_name="S", custom={"tier": "gold"}
    )
    services.update_contact(
        contact,
        actor=agent,
        first_name="Anna",
        last_name="Svensson",
        language="en",
        custom={"tier": "silver", "plan": "pro"},
    )
    contact.refresh_from_db()
    assert (contact.last_name, contact.language) == ("Svensson", "en")
    assert contact.custom == {"tier": "silver", "plan": "pro"}
    changed = {
        (e.property_name, e.old_value, e.new_value)
        for e in RecordEvent.objects.filter(object_id=contact.pk, kind="changed")
    }
    assert changed == {
        ("last_name", "S", "Svensson"),
        ("language", None, "en"),
        ("tier", "gold", "silver"),
        ("plan", None, "pro"),
    }


def test_update_contact_custom_none_removes_a_value(agent):
    contact = services.create_contact(actor=agent, custom={"tier": "gold", "plan": "pro"})
    services.update_contact(contact, actor=agent, custom={"tier": None})
    contact.refresh_from_db()
    assert contact.custom == {"plan": "pro"}


def test_update_contact_with_a_bad_field_saves_nothing(agent):
    contact = services.create_contact(actor=agent, first_name="Anna", emails=["a@kund.example"])
    services.create_contact(actor=agent, emails=["b@kund.example"])
    before = _counts()
    with pytest.raises(RecordValidationError) as caught:
        services.update_contact(
            contact, actor=agent, first_name="Changed", emails=["b@kund.example"]
        )
    assert set(caught.value.errors) == {"emails"}
    contact.refresh_from_db()
    assert contact.first_name == "Anna"
    assert _counts() == before


def test_update_contact_replaces_emails_and_phones(agent):
    contact = services.create_contact(
        actor=agent, emails=["a@kund.example", "b@kund.example"], phones=["08-123 456 78"]
    )
    services.update_contact(
        contact,
        actor=agent,
        emails=["c@kund.example", "b@kund.example"],
        phones=[],
        mobile_phones=["0701234567"],
    )
    contact.refresh_from_db()
    assert _emails(contact) == [("c@kund.example", True), ("b@kund.example", False)]
    assert contact.email == "c@kund.example"
    assert (contact.phone, contact.mobile_phone) == ("", "+46701234567")
    assert queries.contact_by_address("a@kund.example") is None


def test_update_contact_company_keeps_the_mirror_column_and_primary_row(agent):
    first = services.create_company(actor=agent, name="First")
    second = services.create_company(actor=agent, name="Second")
    contact = services.create_contact(actor=agent, company_id=first.pk)
    services.update_contact(contact, actor=agent, company_id=second.pk)
    assert contact.company_id == second.pk
    assert associations.primary_id("contact", contact.pk, "company") == second.pk
    # the old company stays associated, without the label
    assert set(associations.associated_ids("contact", contact.pk, "company")) == {
        first.pk,
        second.pk,
    }
    services.update_contact(contact, actor=agent, company_id=None)
    contact.refresh_from_db()
    assert contact.company_id is None
    assert associations.primary_id("contact", contact.pk, "company") is None


def test_update_contact_refuses_unknown_fields(agent):
    contact = services.create_contact(actor=agent)
    with pytest.raises(TypeError):
        services.update_contact(contact, actor=agent, email="x@y.example")


# --- emails ------------------------------------------------------------------------------------


def test_add_remove_and_set_primary_email(agent):
    contact = services.create_contact(actor=agent, emails=["a@kund.example"])
    services.add_contact_email(contact, "b@kund.example", actor=agent)
    assert _emails(contact) == [("a@kund.example", True), ("b@kund.example", False)]
    services.set_primary_email(contact, "B@kund.example", actor=agent)
    contact.refresh_from_db()
    assert contact.email == "b@kund.example"
    assert _emails(contact) == [("b@kund.example", True), ("a@kund.example", False)]
    services.remove_contact_email(contact, "b@kund.example", actor=agent)
    contact.refresh_from_db()
    assert contact.email == "a@kund.example"
    assert _emails(contact) == [("a@kund.example", True)]
    services.remove_contact_email(contact, "a@kund.example", actor=agent)
    contact.refresh_from_db()
    assert contact.email == ""
    kinds = list(
        RecordEvent.objects.filter(object_id=contact.pk, property_name__in=["emails", "email"])
        .order_by("id")
        .values_list("property_name", flat=True)
    )
    assert kinds == ["emails", "email", "emails", "emails"]


def test_add_an_email_another_contact_has_is_refused(agent):
    services.create_contact(actor=agent, emails=["taken@kund.example"])
    contact = services.create_contact(actor=agent, emails=["mine@kund.example"])
    with pytest.raises(RecordValidationError) as caught:
        services.add_contact_email(contact, "Taken@Kund.example", actor=agent)
    assert set(caught.value.errors) == {"email"}
    assert _emails(contact) == [("mine@kund.example", True)]


def test_set_primary_email_of_another_address_is_refused(agent):
    contact = services.create_contact(actor=agent, emails=["mine@kund.example"])
    with pytest.raises(RecordValidationError):
        services.set_primary_email(contact, "other@kund.example", actor=agent)


def test_a_contact_with_only_the_email_column_gets_its_address_row_on_change(agent):
    legacy = Contact.objects.create(first_name="Old", email="old@kund.example")
    services.add_contact_email(legacy, "new@kund.example", actor=agent)
    assert _emails(legacy) == [("old@kund.example", True), ("new@kund.example", False)]


# --- delete ------------------------------------------------------------------------------------


def test_delete_contact_keeps_its_tickets(agent):
    contact = services.create_contact(actor=agent, emails=["a@kund.example"])
    tickets = [TicketFactory(contact=contact) for _ in range(2)]
    result = services.delete_contact(contact, actor=agent)
    assert result.tickets_kept == 2
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not ContactEmail.objects.filter(email_key="a@kund.example").exists()
    assert not Association.objects.filter(to_type="contact", to_id=contact.pk).exists()
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.contact_id is None


def test_delete_company_keeps_contacts_and_clears_their_company(agent):
    company = services.create_company(actor=agent, name="Acme", domain="acme.example")
    contact = services.create_contact(actor=agent, emails=["a@acme.example"])
    result = services.delete_company(company, actor=agent)
    assert result.contacts_kept == 1
    contact.refresh_from_db()
    assert contact.company_id is None
    assert not Association.objects.filter(to_type="company", to_id=company.pk).exists()


# --- companies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("Example.COM", "example.com", id="case"),
        pytest.param("https://www.example.com/about?x=1", "example.com", id="url"),
        pytest.param("www.example.se", "example.se", id="www"),
        pytest.param("http://shop.example.co.uk:8080", "shop.example.co.uk", id="port"),
        pytest.param("info@example.com", "example.com", id="address"),
        pytest.param("example.com.", "example.com", id="trailing-dot"),
    ],
)
def test_company_domains_are_normalised(raw, expected):
    assert services.normalise_domain(raw) == expected


@pytest.mark.parametrize("raw", ["not a domain", "localhost", "exa mple.com", "http://"])
def test_bad_domains_are_field_errors(agent, raw):
    with pytest.raises(RecordValidationError) as caught:
        services.create_company(actor=agent, name="X", domain=raw)
    assert set(caught.value.errors) == {"domain"}
    assert not Company.objects.exists()


def test_company_name_is_required_and_phone_normalised(agent):
    with pytest.raises(RecordValidationError) as caught:
        services.create_company(actor=agent, name=" ", phone="12")
    assert set(caught.value.errors) == {"name", "phone"}
    company = services.create_company(actor=agent, name="Acme", phone="+1 (650) 253-0000")
    assert company.phone == "+16502530000"


def test_update_company_records_changes(agent):
    company = services.create_company(actor=agent, name="Acme")
    services.update_company(company, actor=agent, name="Acme AB", domain="acme.se", custom={"x": 1})
    company.refresh_from_db()
    assert (company.name, company.domain, company.custom) == ("Acme AB", "acme.se", {"x": 1})
    changed = set(
        RecordEvent.objects.filter(object_type="company", kind="changed").values_list(
            "property_name", flat=True
        )
    )
    assert changed == {"name", "domain", "x"}


# --- deals -------------------------------------------------------------------------------------


def test_create_deal(agent):
    deal = services.create_deal(
        actor=agent,
        name="Big one",
        amount="1 250,5",
        currency="eur",
        stage="qualifiedtobuy",
        close_date="2027-01-31",
        owner_id=agent.pk,
    )
    deal.refresh_from_db()
    assert deal.amount == Decimal("1250.50")
    assert deal.currency == "EUR"
    assert deal.close_date == datetime.date(2027, 1, 31)
    assert deal.owner_id == agent.pk


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"amount": "-1"}, "amount", id="negative"),
        pytest.param({"amount": "ten"}, "amount", id="not-a-number"),
        pytest.param({"amount": "1e20"}, "amount", id="too-large"),
        pytest.param({"currency": "kronor"}, "currency", id="currency"),
        pytest.param({"stage": "won"}, "stage", id="stage"),
        pytest.param({"close_date": "31/01/2027"}, "close_date", id="date"),
        pytest.param({"name": ""}, "name", id="name"),
    ],
)
def test_bad_deal_fields_save_nothing(agent, kwargs, field):
    values = {"name": "Deal", **kwargs}
    with pytest.raises(RecordValidationError) as caught:
        services.create_deal(actor=agent, **values)
    assert set(caught.value.errors) == {field}
    assert not Deal.objects.exists()


def test_update_and_delete_deal(agent):
    deal = services.create_deal(actor=agent, name="Deal", amount=100)
    services.update_deal(deal, actor=agent, amount="200", stage="closedwon")
    event = RecordEvent.objects.get(object_type="deal", property_name="amount")
    assert (event.old_value, event.new_value) == ("100.00", "200.00")
    ticket = TicketFactory()
    services.associate_records(
        actor=agent, from_type="ticket", from_id=ticket.pk, to_type="deal", to_id=deal.pk
    )
    assert services.delete_deal(deal, actor=agent).tickets_kept == 1
    assert not Association.objects.filter(to_type="deal").exists()


# --- associations ------------------------------------------------------------------------------


def test_associate_records_both_directions_and_events(agent):
    contact = services.create_contact(actor=agent)
    deal = services.create_deal(actor=agent, name="Deal")
    assert services.associate_records(
        actor=agent, from_type="contact", from_id=contact.pk, to_type="deal", to_id=deal.pk
    )
    # stored once, in the deal → contact direction
    row = Association.objects.get()
    assert (row.from_type, row.from_id, row.to_type, row.to_id) == (
        "deal",
        deal.pk,
        "contact",
        contact.pk,
    )
    assert not services.associate_records(
        actor=agent, from_type="deal", from_id=deal.pk, to_type="contact", to_id=contact.pk
    )
    assert list(associations.associated_ids("contact", contact.pk, "deal")) == [deal.pk]
    events = RecordEvent.objects.filter(kind="associated")
    assert {(e.object_type, e.object_id) for e in events} == {
        ("contact", contact.pk),
        ("deal", deal.pk),
    }
    assert services.dissociate_records(
        actor=agent, from_type="contact", from_id=contact.pk, to_type="deal", to_id=deal.pk
    )
    assert not Association.objects.exists()
    assert RecordEvent.objects.filter(kind="dissociated").count() == 2


def test_associate_records_refuses_unknown_ids(agent):
    contact = services.create_contact(actor=agent)
    with pytest.raises(RecordNotFoundError):
        services.associate_records(
            actor=agent, from_type="ticket", from_id=987654, to_type="contact", to_id=contact.pk
        )
    with pytest.raises(RecordNotFoundError):
        services.associate_records(
            actor=agent, from_type="contact", from_id=contact.pk, to_type="company", to_id=5555
        )
    with pytest.raises(associations.AssociationError):
        services.associate_records(
            actor=agent, from_type="contact", from_id=contact.pk, to_type="contact", to_id=1
        )
    assert not Association.objects.exists()


def test_one_primary_company_per_contact_and_the_mirror_column(agent):
    first = services.create_company(actor=agent, name="First")
    second = services.create_company(actor=agent, name="Second")
    contact = services.create_contact(actor=agent)
    services.associate_records(
        actor=agent,
        from_type="contact",
        from_id=contact.pk,
        to_type="company",
        to_id=first.pk,
        primary=True,
    )
    services.associate_records(
        actor=agent,
        from_type="contact",
        from_id=contact.pk,
        to_type="company",
        to_id=second.pk,
        primary=True,
    )
    contact.refresh_from_db()
    assert contact.company_id == second.pk
    assert (
        Association.objects.filter(
            from_type="contact", from_id=contact.pk, to_type="company", label="primary"
        ).count()
        == 1
    )
    # removal drops every label; the mirror column follows
    services.dissociate_records(
        actor=agent, from_type="company", from_id=second.pk, to_type="contact", to_id=contact.pk
    )
    contact.refresh_from_db()
    assert contact.company_id is None
    assert list(associations.associated_ids("contact", contact.pk, "company")) == [first.pk]
    assert not Association.objects.filter(to_id=second.pk, to_type="company").exists()


def test_one_primary_contact_per_ticket_from_either_end(agent):
    anna = services.create_contact(actor=agent)
    bo = services.create_contact(actor=agent)
    ticket = TicketFactory(contact=anna)
    services.associate_records(
        actor=agent,
        from_type="ticket",
        from_id=ticket.pk,
        to_type="contact",
        to_id=bo.pk,
        primary=True,
    )
    primaries = Association.objects.filter(
        from_type="ticket", from_id=ticket.pk, to_type="contact", label="primary"
    )
    assert list(primaries.values_list("to_id", flat=True)) == [bo.pk]
    assert set(associations.associated_ids("ticket", ticket.pk, "contact")) == {anna.pk, bo.pk}
    assert set(associations.associated_ids("contact", anna.pk, "ticket")) == {ticket.pk}


def test_update_crm_settings_rejects_unknown_regions(agent):
    with pytest.raises(RecordValidationError):
        services.update_crm_settings(actor=agent, default_phone_region="XX")
    services.update_crm_settings(actor=agent, default_phone_region="us")
    assert queries.crm_settings().default_phone_region == "US"
    contact = services.create_contact(actor=agent, phones=["(650) 253-0000"])
    assert contact.phone == "+16502530000"


def test_record_events_read_with_actor_names(agent):
    contact = services.create_contact(actor=agent, first_name="A")
    services.update_contact(contact, actor=agent, first_name="B")
    events = queries.record_events("contact", contact.pk)
    assert [e.kind for e in events] == ["changed", "created"]
    assert events[0].actor.first_name == agent.first_name


def test_contacts_known_by_name_only_are_made_together_with_their_timelines():
    contacts = services.create_named_contacts([("Åsa", "Berg"), ("Messenger user …1234", "")])

    assert [(c.first_name, c.last_name) for c in contacts] == [
        ("Åsa", "Berg"),
        ("Messenger user …1234", ""),
    ]
    assert all(c.pk for c in contacts)
    created = RecordEvent.objects.filter(object_type="contact", kind="created")
    assert sorted(created.values_list("object_id", flat=True)) == sorted(c.pk for c in contacts)


def test_a_name_too_long_makes_none_of_the_contacts():
    before = Contact.objects.count()

    with pytest.raises(RecordValidationError) as error:
        services.create_named_contacts([("Kim", ""), ("x" * 151, "")])

    assert "first_name" in error.value.errors
    assert Contact.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_a_contact_is_updated_in_a_transaction_of_its_own():
    """As a page's request calls it: no transaction around it (its row lock needs one)."""
    contact = services.create_contact(actor=None, first_name="Åsa", last_name="Berg")

    services.update_contact(contact, actor=None, last_name="Lind")

    assert Contact.objects.get(pk=contact.pk).last_name == "Lind"
