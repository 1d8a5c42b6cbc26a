"""Merging duplicate contacts (and companies): emails, phones, associations and tickets move
to the chosen primary; the merged id resolves to the survivor."""

import pytest

from svardesk.crm import associations, queries, services
from svardesk.crm.exceptions import RecordValidationError
from svardesk.crm.models import Association, Contact, ContactEmail, RecordEvent
from svardesk.crm.signals import companies_merged, contacts_merged
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(agent):  # type: ignore[no-untyped-def]
    acme = services.create_company(actor=agent, name="Acme")
    other_co = services.create_company(actor=agent, name="Other Co")
    keep = services.create_contact(
        actor=agent,
        first_name="Anna",
        emails=["anna@acme.example"],
        phones=["070 123 45 67"],
        company_id=acme.pk,
        custom={"tier": "gold"},
    )
    gone = services.create_contact(
        actor=agent,
        first_name="A.",
        last_name="Svensson",
        emails=["anna.s@gmail.com", "anna@home.example"],
        phones=["070 123 45 67", "08-123 456 78"],
        mobile_phones=["+44 7911 123456"],
        company_id=other_co.pk,
        custom={"tier": "silver", "plan": "pro"},
        language="sv",
    )
    return {"keep": keep, "gone": gone, "acme": acme, "other_co": other_co}


def test_merge_moves_emails_phones_and_fills_blanks(agent, pair):
    keep, gone = pair["keep"], pair["gone"]
    services.merge_contacts(actor=agent, primary=keep, other=gone)
    keep.refresh_from_db()
    gone.refresh_from_db()
    assert list(
        ContactEmail.objects.filter(contact=keep)
        .order_by("-is_primary", "id")
        .values_list("email", "is_primary")
    ) == [
        ("anna@acme.example", True),
        ("anna.s@gmail.com", False),
        ("anna@home.example", False),
    ]
    assert keep.email == "anna@acme.example"
    assert sorted(keep.phones.values_list("number", "kind")) == [
        ("+447911123456", "mobile"),
        ("+46701234567", "phone"),
        ("+46812345678", "phone"),
    ]
    assert keep.phone == "+46701234567"
    assert keep.mobile_phone == "+447911123456"
    # primary's values win; blanks are filled from the other
    assert (keep.first_name, keep.last_name, keep.language) == ("Anna", "Svensson", "sv")
    assert keep.custom == {"tier": "gold", "plan": "pro"}
    assert gone.merged_into_id == keep.pk
    assert (gone.email, gone.phone) == ("", "")
    assert not gone.emails.exists()
    assert not gone.phones.exists()


def test_merge_moves_associations_and_tickets(agent, pair):
    keep, gone = pair["keep"], pair["gone"]
    deal = services.create_deal(actor=agent, name="Deal")
    services.associate_records(
        actor=agent, from_type="contact", from_id=gone.pk, to_type="deal", to_id=deal.pk
    )
    gone_ticket = TicketFactory(contact=gone)
    shared = TicketFactory(contact=keep)
    services.associate_records(
        actor=agent, from_type="ticket", from_id=shared.pk, to_type="contact", to_id=gone.pk
    )
    services.merge_contacts(actor=agent, primary=keep, other=gone)
    keep.refresh_from_db()
    gone_ticket.refresh_from_db()
    assert gone_ticket.contact_id == keep.pk
    assert set(associations.associated_ids("contact", keep.pk, "ticket")) == {
        gone_ticket.pk,
        shared.pk,
    }
    # each ticket has exactly one primary contact, the survivor
    for ticket in (gone_ticket, shared):
        assert list(
            associations.associated_ids("ticket", ticket.pk, "contact", label="primary")
        ) == [keep.pk]
    assert list(associations.associated_ids("contact", keep.pk, "deal")) == [deal.pk]
    # the survivor keeps its primary company; the other's stays associated, unlabelled
    assert keep.company_id == pair["acme"].pk
    assert associations.primary_id("contact", keep.pk, "company") == pair["acme"].pk
    assert set(associations.associated_ids("contact", keep.pk, "company")) == {
        pair["acme"].pk,
        pair["other_co"].pk,
    }
    assert not Association.objects.filter(to_type="contact", to_id=gone.pk).exists()
    assert not Association.objects.filter(from_type="contact", from_id=gone.pk).exists()


def test_the_merged_id_resolves_to_the_survivor(agent, pair):
    keep, gone = pair["keep"], pair["gone"]
    services.merge_contacts(actor=agent, primary=keep, other=gone)
    assert queries.resolve_contact(gone.pk) == keep
    assert queries.resolve_contact(str(keep.pk)) == keep
    assert queries.contact_by_address("anna@home.example") == keep
    # merged twice: the chain is followed
    third = services.create_contact(actor=agent, emails=["third@kund.example"])
    services.merge_contacts(actor=agent, primary=third, other=keep)
    assert queries.resolve_contact(gone.pk) == third


def test_merge_announces_after_commit_and_keeps_the_timeline(
    agent, pair, django_capture_on_commit_callbacks
):
    keep, gone = pair["keep"], pair["gone"]
    heard: list[tuple[int, int]] = []

    def listen(sender, primary_id, merged_id, **kwargs):  # type: ignore[no-untyped-def]
        heard.append((primary_id, merged_id))

    contacts_merged.connect(listen)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.merge_contacts(actor=agent, primary=keep, other=gone)
    finally:
        contacts_merged.disconnect(listen)
    assert heard == [(keep.pk, gone.pk)]
    kinds = set(
        RecordEvent.objects.filter(object_type="contact", object_id=keep.pk).values_list(
            "kind", flat=True
        )
    )
    assert {"created", "merged"} <= kinds
    # the merged contact's own history joined the survivor's timeline
    assert (
        RecordEvent.objects.filter(object_type="contact", object_id=keep.pk, kind="created").count()
        == 2
    )


@pytest.mark.parametrize("case", ["self", "already-merged"])
def test_bad_merges_change_nothing(agent, pair, case):
    keep, gone = pair["keep"], pair["gone"]
    if case == "already-merged":
        third = services.create_contact(actor=agent)
        services.merge_contacts(actor=agent, primary=third, other=gone)
        gone.refresh_from_db()
    before = list(ContactEmail.objects.order_by("id").values_list("contact_id", "email"))
    with pytest.raises(RecordValidationError):
        services.merge_contacts(actor=agent, primary=keep, other=keep if case == "self" else gone)
    assert list(ContactEmail.objects.order_by("id").values_list("contact_id", "email")) == before


def test_merged_contacts_are_never_listed(agent, pair, super_admin):
    from svardesk.tickets.queries import visible_contacts

    services.merge_contacts(actor=agent, primary=pair["keep"], other=pair["gone"])
    assert set(visible_contacts(super_admin).values_list("pk", flat=True)) == {pair["keep"].pk}
    assert Contact.objects.count() == 2


def test_merge_companies_moves_contacts_and_associations(agent, django_capture_on_commit_callbacks):
    keep = services.create_company(actor=agent, name="Acme")
    gone = services.create_company(
        actor=agent, name="Acme AB", domain="acme.example", custom={"size": "10"}
    )
    contact = services.create_contact(actor=agent, emails=["eva@acme.example"])
    assert contact.company_id == gone.pk
    ticket = TicketFactory(contact=contact)
    heard: list[int] = []

    def listen(sender, primary_id, merged_id, **kwargs):  # type: ignore[no-untyped-def]
        heard.append(merged_id)

    companies_merged.connect(listen)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.merge_companies(actor=agent, primary=keep, other=gone)
    finally:
        companies_merged.disconnect(listen)
    contact.refresh_from_db()
    keep.refresh_from_db()
    assert heard == [gone.pk]
    assert contact.company_id == keep.pk
    assert associations.primary_id("contact", contact.pk, "company") == keep.pk
    assert list(associations.associated_ids("ticket", ticket.pk, "company")) == [keep.pk]
    assert (keep.domain, keep.custom) == ("acme.example", {"size": "10"})
    assert queries.resolve_company(gone.pk) == keep
    # a new contact of the domain finds the survivor, not the merged company
    assert services.create_contact(actor=agent, emails=["bo@acme.example"]).company_id == keep.pk


def test_merged_contacts_tickets_are_announced_as_changed(
    agent, pair, django_capture_on_commit_callbacks
):
    from svardesk.tickets.signals import ticket_changed

    keep, gone = pair["keep"], pair["gone"]
    moved = TicketFactory(contact=gone)
    TicketFactory(contact=keep)  # already the survivor's: not announced
    announced: list[tuple[int, int | None]] = []

    def listen(sender, ticket_id, actor_id, **kwargs):  # type: ignore[no-untyped-def]
        announced.append((ticket_id, actor_id))

    ticket_changed.connect(listen)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.merge_contacts(actor=agent, primary=keep, other=gone)
    finally:
        ticket_changed.disconnect(listen)
    assert announced == [(moved.pk, agent.pk)]
