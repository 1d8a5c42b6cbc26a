"""The demo's CRM records: companies with domains, every address a ContactEmail row, every
number a ContactPhone row in E.164 (the same as phonenumbers reads the typed number), the
domain rule, deals, and the associations the product's services would have written."""

import datetime as dt
from collections import Counter
from io import StringIO

import phonenumbers
import pytest
from django.core.management import call_command

from svardesk.crm import associations
from svardesk.crm.models import Association, Company, Contact, ContactEmail, ContactPhone, Deal
from svardesk.demo import vocabulary as words
from svardesk.demo.crm import e164
from svardesk.demo.generator import DemoOptions, _digits, load_demo
from svardesk.search.records import pick
from svardesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


def _load(**overrides: object) -> None:
    values: dict[str, object] = {
        "tickets": 400, "contacts": 150, "agents": 4, "teams": 4, "seed": 3, "reset": True,
        "now": NOW, "connect_channels": False,
    }  # fmt: skip
    values.update(overrides)
    load_demo(DemoOptions(**values))  # type: ignore[arg-type]


def _pairs(from_type: str, to_type: str, label: str = "") -> set[tuple[int, int]]:
    return set(
        Association.objects.filter(from_type=from_type, to_type=to_type, label=label).values_list(
            "from_id", "to_id"
        )
    )


@pytest.mark.parametrize("pattern", words.MOBILE_FORMATS + words.LANDLINE_FORMATS)
def test_typed_numbers_become_what_phonenumbers_reads(pattern):
    import random

    rng = random.Random(pattern)
    region = "US" if pattern.startswith("(") else "SE"  # "(555) …" is what Americans type
    for _ in range(20):
        typed = _digits(rng, pattern)
        assert e164(typed) == phonenumbers.format_number(
            phonenumbers.parse(typed, region), phonenumbers.PhoneNumberFormat.E164
        )


def test_companies_contacts_emails_and_phones():
    _load(companies=12)
    assert Company.objects.count() == 12
    domains = list(Company.objects.values_list("domain", flat=True))
    assert len(set(domains)) == 12
    assert all(domains)
    contacts = list(Contact.objects.prefetch_related("emails", "phones"))
    assert len(contacts) == 150
    keys = list(ContactEmail.objects.values_list("email_key", flat=True))
    assert len(keys) == len(set(keys))
    assert sum(len(c.emails.all()) > 1 for c in contacts) > 10  # several addresses for some
    by_domain = {c.domain: c.pk for c in Company.objects.all()}
    contact_company = _pairs("contact", "company")
    for contact in contacts:
        emails = list(contact.emails.all())
        if contact.email:
            primary = [e for e in emails if e.is_primary]
            assert [e.email for e in primary] == [contact.email]
            assert all(e.email_key == e.email.lower() for e in emails)
            company_id = by_domain.get(contact.email.split("@")[1])
            if company_id:  # the domain rule: an address at a company's domain joins it
                assert contact.company_id == company_id
        if contact.company_id:
            assert (contact.pk, contact.company_id) in contact_company
            assert associations.primary_id("contact", contact.pk, "company") == contact.company_id
        typed = [n for n in (contact.mobile_phone, contact.phone) if n]
        assert sorted({e164(n) for n in typed}) == sorted(p.number for p in contact.phones.all())
        for number in contact.phones.all():
            assert phonenumbers.is_possible_number(phonenumbers.parse(number.number))
    assert ContactPhone.objects.filter(number__startswith="+46").count() > (
        ContactPhone.objects.count() / 2
    )


def test_default_company_count_and_deals():
    _load(contacts=200)
    assert Company.objects.count() == 40
    deals = list(Deal.objects.all())
    assert len(deals) == 4
    assert {d.currency for d in deals} <= {"SEK", "EUR"}
    assert all(d.amount and d.amount > 0 for d in deals)
    deal_company = _pairs("deal", "company")
    assert {d.pk for d in deals} == {deal for deal, _company in deal_company}


def test_tickets_are_associated_like_the_services_would():
    _load(contacts=300, tickets=1500)
    tickets = list(Ticket.objects.filter(contact__isnull=False).select_related("contact"))
    contact_links = _pairs("ticket", "contact")
    primary = _pairs("ticket", "contact", "primary")
    company_links = _pairs("ticket", "company")
    company_primary = _pairs("ticket", "company", "primary")
    for ticket in tickets:
        assert (ticket.pk, ticket.contact_id) in contact_links
        assert (ticket.pk, ticket.contact_id) in primary
        if ticket.contact.company_id:
            assert (ticket.pk, ticket.contact.company_id) in company_links
            assert (ticket.pk, ticket.contact.company_id) in company_primary
    assert len(primary) == len(tickets)
    assert Counter(t for t, _c in primary).most_common(1)[0][1] == 1
    ticket_deals = _pairs("ticket", "deal")
    assert ticket_deals  # some tickets carry a deal
    deal_contacts = dict(_pairs("deal", "contact"))
    contact_of = {t.pk: t.contact_id for t in tickets}
    assert all(contact_of[t] == deal_contacts[d] for t, d in ticket_deals)


def test_reset_empties_the_crm_and_the_picker_finds_demo_records():
    _load(companies=10)
    _load(companies=5, contacts=30, tickets=50)
    assert Company.objects.count() == 5
    assert Contact.objects.count() == 30
    assert not Association.objects.filter(from_type="ticket", from_id__gt=50).exists()
    from svardesk.accounts.models import User

    admin = User.objects.get(email="admin@svardesk.example")
    company = Company.objects.first()
    assert pick("company", company.domain, user=admin)[0].id == company.pk
    email = ContactEmail.objects.first()
    assert pick("contact", email.email.upper(), user=admin)[0].id == email.contact_id
    number = ContactPhone.objects.first()
    national = phonenumbers.format_number(
        phonenumbers.parse(number.number), phonenumbers.PhoneNumberFormat.NATIONAL
    )
    assert number.contact_id in [p.id for p in pick("contact", national, user=admin)]


def test_command_takes_companies():
    out = StringIO()
    call_command(
        "demo", "--tickets", "20", "--contacts", "10", "--companies", "3", "--no-channels",
        "--reset", stdout=out,
    )  # fmt: skip
    assert Company.objects.count() == 3
    assert "3 companies" in out.getvalue()
