"""The pickers' endpoint (`records:pick`) against a brute-force oracle: random contacts and
companies with accented names, several emails and phone numbers; for each query, every
record the oracle expects (when fewer than a picker shows) is offered, and nothing the user
may not see ever is."""

import random
import re

import pytest
from django.urls import reverse

from svardesk.crm import services as crm_services
from svardesk.crm.models import Company, Contact
from svardesk.records.pickers import MAX_RESULTS
from svardesk.search.normalise import fold
from svardesk.tickets.queries import visible_companies, visible_contacts
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

FIRST = ["Åsa", "Örjan", "Émile", "Zoë", "Jürgen", "Łukasz", "Anna", "Björn", "Søren", "Maëlle"]
LAST = ["Öberg", "Lindqvist", "Müller", "Ström", "Núñez", "Dvořák", "Berg", "Åkesson", "Holm"]
COMPANY_WORDS = ["Nordic", "Ström", "Café", "Björk", "Fjäll", "Øresund", "Lumière", "Verkstad"]


def _ids(client, object_type: str, query: str) -> list[int]:  # type: ignore[no-untyped-def]
    response = client.get(reverse("records:pick", args=[object_type]), {"q": query})
    assert response.status_code == 200
    return [int(i) for i in re.findall(r'data-id="(\d+)"', response.content.decode())]


@pytest.fixture
def crm_world(billing_team, support_team):  # type: ignore[no-untyped-def]
    """40 contacts (half on Billing tickets), 16 companies (half on Billing tickets)."""
    rng = random.Random(13)
    contacts: list[tuple[Contact, list[str], str]] = []
    for n in range(40):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        emails = [f"{fold(first).replace(' ', '')}.{n}@kund{n % 7}.example"]
        if n % 3 == 0:
            emails.append(f"alt{n}@other.example")
        national = f"070-{rng.randrange(100, 999)} {rng.randrange(10, 99)} {n:02d}"
        contact = crm_services.create_contact(
            actor=None, first_name=first, last_name=last, emails=emails, phones=[national]
        )
        contacts.append((contact, emails, national))
        team = billing_team if n % 2 == 0 else support_team
        TicketFactory(team=team, contact=contact)
    companies: list[Company] = []
    for n in range(16):
        name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_WORDS)} {n}"
        company = crm_services.create_company(actor=None, name=name, domain=f"firma{n}.example")
        companies.append(company)
        team = billing_team if n % 2 == 0 else support_team
        ticket = TicketFactory(team=team)
        crm_services.associate_records(
            actor=None, from_type="ticket", from_id=ticket.pk, to_type="company", to_id=company.pk
        )
    return {"contacts": contacts, "companies": companies}


def _oracle_contacts(contacts, query: str, visible: set[int]) -> set[int]:  # type: ignore[no-untyped-def]
    """Contacts whose folded name has a word starting with every folded word of the query."""
    words = fold(query).split()
    found = set()
    for contact, _emails, _phone in contacts:
        name_words = fold(f"{contact.first_name} {contact.last_name}").split()
        if contact.pk in visible and all(any(w.startswith(q) for w in name_words) for q in words):
            found.add(contact.pk)
    return found


@pytest.mark.parametrize("who", ["agent", "team_agent"], ids=["all-tickets", "team-scope"])
def test_contact_picker_matches_the_oracle_and_stays_in_scope(request, client, crm_world, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    visible = set(visible_contacts(user).values_list("pk", flat=True))
    everyone = {c.pk for c, _e, _p in crm_world["contacts"]}
    assert visible < everyone if who == "team_agent" else visible == everyone
    queries: list[tuple[str, set[int]]] = []
    for contact, emails, national in crm_world["contacts"]:
        expected = {contact.pk} if contact.pk in visible else set()
        queries.append((emails[-1].upper(), expected))  # any of its addresses, any case
        queries.append((national, expected))  # the number as people write it
        queries.append((national.replace("-", "").replace(" ", ""), expected))
    queries.extend(
        (text, _oracle_contacts(crm_world["contacts"], text, visible))
        for first in FIRST
        for text in (first, fold(first)[:3], f"{fold(first)} ")
    )
    for contact, _emails, _phone in crm_world["contacts"][:8]:
        text = f"{contact.last_name} {contact.first_name[:2]}"
        queries.append((text, _oracle_contacts(crm_world["contacts"], text, visible)))
    for text, expected in queries:
        got = _ids(client, "contact", text)
        assert set(got) <= visible, f"{text!r} offered a contact out of scope"
        assert len(got) == len(set(got)), f"{text!r} offered a contact twice"
        if len(expected) <= MAX_RESULTS:
            assert expected <= set(got), f"{text!r}: expected {expected}, got {got}"


@pytest.mark.parametrize("who", ["agent", "team_agent"], ids=["all-tickets", "team-scope"])
def test_company_picker_matches_the_oracle_and_stays_in_scope(request, client, crm_world, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    visible = set(visible_companies(user).values_list("pk", flat=True))
    for company in crm_world["companies"]:
        expected = {company.pk} if company.pk in visible else set()
        for text in (company.domain, f"https://www.{company.domain}/about", company.name):
            got = _ids(client, "company", text)
            assert set(got) <= visible
            assert expected <= set(got), f"{text!r}: expected {expected}, got {got}"
    for word in COMPANY_WORDS:
        expected = {
            c.pk
            for c in crm_world["companies"]
            if c.pk in visible and any(w.startswith(fold(word)) for w in fold(c.name).split())
        }
        got = _ids(client, "company", word)
        assert set(got) <= visible
        if len(expected) <= MAX_RESULTS:
            assert expected <= set(got), f"{word!r}: expected {expected}, got {got}"


def test_options_show_a_name_and_a_secondary_line_and_offer_creation(client, agent, crm_world):
    contact, emails, _phone = crm_world["contacts"][0]
    client.force_login(agent)
    url = reverse("records:pick", args=["contact"])
    body = client.get(url, {"q": emails[0], "create": "1"}).content.decode()
    assert f'data-label="{contact.display_name}"' in body
    assert 'class="picker-secondary"' in body
    assert f"Create “{emails[0]}”" in body
    assert 'role="option"' in body
    body = client.get(url, {"q": "zzzzqqq"}).content.decode()
    assert "No matches" in body
    assert "data-id" not in body
    # Users: active users who may use the workspace, listed before anything is typed.
    body = client.get(reverse("records:pick", args=["user"])).content.decode()
    assert agent.display_name in body
    assert "Create" not in body


def test_the_picker_is_for_workspace_users_and_known_types(client, agent, no_seat_user):
    client.force_login(no_seat_user)
    assert client.get(reverse("records:pick", args=["contact"]), {"q": "a"}).status_code == 403
    client.force_login(agent)
    assert client.get(reverse("records:pick", args=["ticket"]), {"q": "a"}).status_code == 404
    assert client.post(reverse("records:pick", args=["contact"]), {"q": "a"}).status_code == 405
