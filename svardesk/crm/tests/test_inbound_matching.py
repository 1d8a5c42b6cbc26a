"""Inbound senders find their contact by any of its addresses: through the real email ingest
path, and crm's find-or-create directly (merged-away owners, domain companies, a lost
race for a new address)."""

import pytest

from svardesk.channels.email.tests.corpus import CORPUS_SECRET, connect, corpus
from svardesk.channels.email.tests.corpus import ingest as ingest_raw
from svardesk.crm import associations, queries, services
from svardesk.crm.models import Contact, ContactEmail, RecordEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _corpus_settings(settings, tmp_path):
    settings.SECRET_KEY = CORPUS_SECRET
    settings.MEDIA_ROOT = tmp_path / "media"


def test_mail_from_a_secondary_address_lands_on_the_contact(agent):
    channel = connect()
    anna = services.create_contact(
        actor=agent,
        first_name="Anna",
        last_name="S",
        emails=["anna@work.example", "Anna.Svensson@Example.se"],
    )
    inbound = ingest_raw(channel, corpus("plain.eml"))  # From: anna.svensson@example.se
    ticket = inbound.recorded_message.conversation.ticket
    assert ticket.contact_id == anna.pk
    assert Contact.objects.count() == 1
    assert list(associations.associated_ids("ticket", ticket.pk, "contact")) == [anna.pk]
    anna.refresh_from_db()
    assert anna.email == "anna@work.example"  # the primary address stays primary


def test_mail_from_a_new_sender_makes_a_contact_in_the_domains_company(agent):
    channel = connect()
    company = services.create_company(actor=agent, name="Example AB", domain="example.se")
    inbound = ingest_raw(channel, corpus("plain.eml"))
    ticket = inbound.recorded_message.conversation.ticket
    contact = ticket.contact
    assert (contact.first_name, contact.last_name) == ("Anna", "Svensson")
    assert contact.company_id == company.pk
    assert list(
        ContactEmail.objects.filter(contact=contact).values_list("email_key", "is_primary")
    ) == [("anna.svensson@example.se", True)]
    assert associations.primary_id("contact", contact.pk, "company") == company.pk
    # the ticket takes its contact's company, as HubSpot does
    assert associations.primary_id("ticket", ticket.pk, "company") == company.pk
    assert RecordEvent.objects.filter(
        object_type="contact", object_id=contact.pk, kind="created"
    ).exists()


def test_a_free_mail_sender_gets_no_company(agent):
    services.create_company(actor=agent, name="Google", domain="gmail.com")
    contact = services.find_or_create_contact_for_address("kund@gmail.com", name="Kim Kund")
    assert contact.company_id is None
    assert (contact.first_name, contact.last_name) == ("Kim", "Kund")


def test_the_address_of_a_merged_contact_finds_the_survivor(agent):
    keep = services.create_contact(actor=agent, emails=["keep@kund.example"])
    gone = services.create_contact(actor=agent, emails=["gone@kund.example"])
    services.merge_contacts(actor=agent, primary=keep, other=gone)
    assert services.find_or_create_contact_for_address("GONE@kund.example") == keep
    assert queries.contact_by_address("gone@kund.example") == keep
    assert Contact.objects.count() == 2


def test_a_contact_with_only_the_email_column_is_still_matched(db):
    legacy = Contact.objects.create(first_name="", email="Old@Kund.example")
    found = services.find_or_create_contact_for_address("old@kund.example", name="Olle Old")
    assert found == legacy
    legacy.refresh_from_db()
    assert (legacy.first_name, legacy.last_name) == ("Olle", "Old")  # a nameless one is named
    assert set(
        RecordEvent.objects.filter(object_id=legacy.pk, kind="changed").values_list(
            "property_name", "new_value"
        )
    ) == {("first_name", "Olle"), ("last_name", "Old")}


def test_a_known_name_is_kept(agent):
    anna = services.create_contact(actor=agent, first_name="Anna", emails=["a@kund.example"])
    assert (
        services.find_or_create_contact_for_address("a@kund.example", name="Someone Else") == anna
    )
    anna.refresh_from_db()
    assert anna.first_name == "Anna"


def test_a_batch_matches_and_creates_once_per_address(agent):
    anna = services.create_contact(actor=agent, emails=["anna@kund.example"])
    found = services.find_or_create_contacts_for_addresses(
        [
            ("Anna@Kund.example", "Anna"),
            ("new@kund.example", "New Person"),
            ("NEW@kund.example", "Again"),
            ("", "Nobody"),
        ]
    )
    assert set(found) == {"anna@kund.example", "new@kund.example"}
    assert found["anna@kund.example"] == anna
    assert Contact.objects.count() == 2
    assert found["new@kund.example"].first_name == "New"


def test_losing_a_race_for_a_new_address_uses_the_winner(agent):
    # Another process created the contact after this one's lookup found nothing: the
    # insert of the address row skips the conflict and the winner is used.
    winner = services.create_contact(actor=agent, emails=["race@kund.example"])
    found = services._create_for_addresses(
        {"race@kund.example": ("race@kund.example", "R", "")}, ""
    )
    assert found["race@kund.example"] == winner
    assert Contact.objects.count() == 1
    assert not RecordEvent.objects.filter(kind="created").exclude(object_id=winner.pk).exists()
