"""How many SQL statements each workspace page runs, against committed baselines.

Every list page (each default view, every ticket, a custom view, search ranked and sorted,
a second page, a live refresh, the sidebar's counts), the ticket page and every settings
page is rendered on a small help desk with more tickets than a page holds, three times, and
the last request is counted (as between two refreshes: the lookups kept per process and the
sidebar's counts are in their caches, so the count does not depend on which test ran
first). A page whose count is ABOVE its baseline in tests/query_baselines.json fails with its name and its statements:
something added a query (an N+1, a lookup not kept for the request). A count BELOW the
baseline passes and prints a hint to lower the baseline, so the gain is kept.

Baselines are per database (PostgreSQL and SQLite differ by a statement or two). To write
them after a deliberate change: `SVARDESK_UPDATE_QUERY_BASELINES=1 pytest
tests/test_query_baselines.py` on each database, then review the JSON diff
(docs/architecture.md, "Query-count baselines").
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from svardesk.ticket_views import services as view_services
from svardesk.ticket_views.defaults import DEFAULT_VIEWS
from svardesk.ticket_views.filters import Filter
from svardesk.ticket_views.models import Sharing
from svardesk.tickets.models import Priority, Stage
from tests.factories import ContactFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db

BASELINES = Path(__file__).with_name("query_baselines.json")
UPDATE = os.environ.get("SVARDESK_UPDATE_QUERY_BASELINES") == "1"
PAGE_SIZE = 5
TICKETS = 12  # more than two pages

_measured: dict[str, int] = {}


@pytest.fixture
def helpdesk(settings, monkeypatch, agent, super_admin, support_team, billing_team):
    """Twelve tickets with contacts, owners, teams, statuses and priorities; a custom
    property; a custom view showing it; a ticket with four comments."""
    from svardesk.channels.email.services import connect_email_channel
    from svardesk.conversations.services import add_comment
    from svardesk.tickets.services import create_property_definition

    settings.TICKET_LIST_PAGE_SIZE = PAGE_SIZE
    # Sessions from the database whether or not REDIS_URL is set (the cached_db engine reads
    # Redis instead): the counts must not depend on the environment.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    # Kept lookups and sidebar counts do not expire between the two requests, however slow
    # the machine (core.local_cache reads only time.monotonic from its `time`).
    from svardesk.core import local_cache

    monkeypatch.setattr(local_cache, "time", SimpleNamespace(monotonic=lambda: 0.0))
    settings.SIDEBAR_COUNT_CACHE_SECONDS = 3600
    agent.can_manage_views = True
    agent.save(update_fields=["can_manage_views"])
    colleague = UserFactory(email="colleague@svardesk.test", teams=[billing_team])
    create_property_definition(actor=None, name="region", label="Region", type="text")
    facts = _add_tickets(
        TICKETS, owners=[agent, colleague, None], teams=[support_team, billing_team]
    )
    ticket = facts[0]
    connect_email_channel(actor=None, address="support@acme.test", display_name="Acme Support")
    for n in range(4):
        add_comment(ticket, actor=agent, html=f"<p>Note {n}</p>")
    view = view_services.create_view(
        actor=agent,
        name="Urgent and high",
        sharing=Sharing.EVERYONE,
        filters=[Filter("priority", "IN", values=("HIGH", "URGENT"))],
        sort="-priority",
        columns=["contact", "name", "stage", "priority", "team", "region", "owner"],
    )
    return {
        "agent": agent,
        "admin": super_admin,
        "view": view,
        "ticket": ticket,
        "teams": [support_team, billing_team],
        "owners": [agent, colleague, None],
    }


def _add_tickets(count: int, *, owners: list[Any], teams: list[Any]) -> list[Any]:
    stages = list(Stage.objects.order_by("pipeline__display_order", "display_order"))
    priorities = [Priority.HIGH, Priority.URGENT, Priority.LOW, Priority.MEDIUM]
    made = []
    for i in range(count):
        stage = stages[i % len(stages)]
        made.append(
            TicketFactory(
                name=f"Printer jam {i}",
                contact=ContactFactory(),
                owner=owners[i % len(owners)],
                team=teams[i % len(teams)],
                stage=stage,
                pipeline=stage.pipeline,
                is_open=not stage.is_closed,
                priority=priorities[i % len(priorities)],
                custom={"region": f"Region {i % 3}"},
            )
        )
    return made


# --- The pages -------------------------------------------------------------------------------
# (name, who, how to build the URL from the fixture, extra request headers)

Page = tuple[str, str, Callable[[dict[str, Any]], str], dict[str, str]]


def _list_pages() -> list[Page]:
    pages: list[Page] = [
        (
            f"list: {view.key}",
            "agent",
            lambda f, key=view.key: reverse("ticket_views:view", args=[key]),
            {},
        )
        for view in DEFAULT_VIEWS
    ]
    all_url = reverse("ticket_views:all")
    pages += [
        ("list: all tickets", "agent", lambda f: all_url, {}),
        ("list: all tickets, page 2", "agent", lambda f: _second_page(f, all_url), {}),
        (
            "list: all tickets, filtered",
            "agent",
            lambda f: f"{all_url}?priority=HIGH&team=my_team",
            {},
        ),
        ("list: all tickets, sorted by owner", "agent", lambda f: f"{all_url}?sort=owner", {}),
        (
            "list: custom view",
            "agent",
            lambda f: reverse("ticket_views:custom", args=[f["view"].pk]),
            {},
        ),
        (
            "list: live refresh of the rows",
            "agent",
            lambda f: reverse("ticket_views:view", args=["all-open"]),
            {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "ticket-rows"},
        ),
        (
            "list: sidebar counts",
            "agent",
            lambda f: reverse("ticket_views:sidebar_counts") + "?current=all-open",
            {"HTTP_HX_REQUEST": "true"},
        ),
        ("search: ranked", "agent", lambda f: f"{all_url}?q=printer", {}),
        ("search: ranked, page 2", "agent", lambda f: _second_page(f, f"{all_url}?q=printer"), {}),
        ("search: sorted", "agent", lambda f: f"{all_url}?q=printer&sort=-last_activity_at", {}),
        ("search: no match", "agent", lambda f: f"{all_url}?q=zzzqqq", {}),
        ("ticket page", "agent", lambda f: reverse("tickets:detail", args=[f["ticket"].pk]), {}),
    ]
    return pages


def _second_page(fixture: dict[str, Any], url: str) -> str:
    from django.test import Client

    client = Client()
    client.force_login(fixture["agent"])
    page = client.get(url).context["page"]
    if not page.next_cursor:
        pytest.skip(f"{url} has one page only (does search find the fixture's tickets?)")
    return f"{url}{'&' if '?' in url else '?'}after={page.next_cursor}"


def _settings_routes() -> list[str]:
    """Every settings page without a parameter, found in the URL configuration, so a new
    settings page is measured without being listed here."""
    found: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif (
                isinstance(pattern, URLPattern)
                and route.startswith("settings/")
                and "<" not in route
            ):
                found.append("/" + route)

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


def _settings_pages() -> list[Page]:
    pages: list[Page] = [
        (f"settings: {route}", "admin", lambda f, route=route: route, {})
        for route in _settings_routes()
    ]
    pages += [
        (
            "settings: a user",
            "admin",
            lambda f: reverse("settings:user_edit", args=[f["agent"].pk]),
            {},
        ),
        (
            "settings: a status",
            "admin",
            lambda f: reverse(
                "settings:stage_edit", args=[Stage.objects.order_by("pk").first().pk]
            ),
            {},
        ),
        (
            "settings: a property",
            "admin",
            lambda f: reverse("settings:property_edit", args=[_region().pk]),
            {},
        ),
        (
            "settings: rename a team",
            "admin",
            lambda f: reverse("settings:team_rename", args=[f["teams"][0].pk]),
            {},
        ),
        (
            "settings: import, mapping columns",
            "admin",
            lambda f: reverse("imports:job", args=[_import_job(f, done=False).pk]),
            {},
        ),
        (
            "settings: import, finished",
            "admin",
            lambda f: reverse("imports:job", args=[_import_job(f, done=True).pk]),
            {},
        ),
        (
            "settings: import, progress",
            "admin",
            lambda f: reverse("imports:progress", args=[_import_job(f, done=True).pk]),
            {"HTTP_HX_REQUEST": "true"},
        ),
    ]
    return pages


def _import_job(fixture: dict[str, Any], *, done: bool) -> Any:
    """An import of a small contacts file: still being mapped, or finished."""
    import tempfile

    from svardesk.imports import services as import_services
    from svardesk.imports.models import ImportStatus

    folder = Path(tempfile.mkdtemp(prefix="baseline-import-"))
    path = folder / "contacts.csv"
    path.write_text(
        "email,firstname,phone\n"
        + "".join(f"p{n}@example.com,P{n},070-123 45 {n:02d}\n" for n in range(8))
    )
    job = import_services.create_job(
        actor=fixture["admin"],
        object_type="contacts",
        file_path=path,
        original_name="contacts.csv",
        headers=["email", "firstname", "phone"],
    )
    if done:
        job.status = ImportStatus.DONE
        job.total = job.rows_done = job.created = 8
        job.save()
    return job


def _region() -> Any:
    from svardesk.tickets.models import PropertyDefinition

    return PropertyDefinition.objects.get(name="region")


def _record_pages() -> list[Page]:
    """The record pages of a contact, a company and a deal, each with tickets, associations
    and timeline entries (records.record_views)."""

    def records_of(fixture: dict[str, Any]) -> dict[str, int]:
        from svardesk.crm import services as crm

        contact = fixture["ticket"].contact
        company = crm.create_company(actor=None, name="Acme AB", domain="acme.test")
        deal = crm.create_deal(actor=None, name="Renewal", amount="100")
        crm.associate_records(
            actor=None, from_type="contact", from_id=contact.pk, to_type="company", to_id=company.pk
        )
        for ticket_id in [fixture["ticket"].pk]:
            for partner_type, partner_id in (("company", company.pk), ("deal", deal.pk)):
                crm.associate_records(
                    actor=None,
                    from_type="ticket",
                    from_id=ticket_id,
                    to_type=partner_type,
                    to_id=partner_id,
                )
        crm.update_contact(contact, actor=None, first_name="Changed")
        return {"contact": contact.pk, "company": company.pk, "deal": deal.pk}

    return [
        (
            f"record: {kind}",
            "agent",
            lambda f, kind=kind: reverse(f"records:{kind}", args=[records_of(f)[kind]]),
            {},
        )
        for kind in ("contact", "company", "deal")
    ]


def _picker_pages() -> list[Page]:
    """The record pickers' answers (records.picker_views): a contact by name, a company by
    name, a deal, and the owner picker's first users."""
    pick = "records:pick"
    return [
        ("picker: contacts", "agent", lambda f: reverse(pick, args=["contact"]) + "?q=a", {}),
        ("picker: companies", "agent", lambda f: reverse(pick, args=["company"]) + "?q=ac", {}),
        ("picker: deals", "agent", lambda f: reverse(pick, args=["deal"]) + "?q=re", {}),
        ("picker: users", "agent", lambda f: reverse(pick, args=["user"]), {}),
    ]


def _crm_list_pages() -> list[Page]:
    """The contact, company and deal lists (records.list_views): the fixture's contacts (more
    than a page), the companies and deals of the record pages' fixture, a second page, a
    filtered and sorted list with a custom column, and a saved view."""

    def saved_view(fixture: dict[str, Any]) -> str:
        from svardesk.records import properties as record_props

        view = view_services.create_view(
            actor=fixture["agent"],
            name="Contacts with email",
            sharing=Sharing.EVERYONE,
            filters=[Filter("email", "HAS_PROPERTY")],
            sort="email",
            columns=["firstname", "email", "company", "hubspot_owner_id"],
            records=view_services.RecordSchema(
                "contact",
                record_props.specs_by_name("contact"),
                record_props.filter_schema("contact"),
            ),
        )
        return reverse("records:contacts_view", args=[view.pk])

    def with_records(fixture: dict[str, Any], url: str) -> str:
        from svardesk.crm import services as crm

        for n in range(3):
            company = crm.create_company(actor=None, name=f"Acme {n}", domain=f"acme{n}.test")
            deal = crm.create_deal(actor=None, name=f"Renewal {n}", amount="100")
            for to_type, to_id in (("company", company.pk), ("deal", deal.pk)):
                crm.associate_records(
                    actor=None,
                    from_type="ticket",
                    from_id=fixture["ticket"].pk,
                    to_type=to_type,
                    to_id=to_id,
                )
        return url

    contacts = reverse("records:contacts")
    return [
        ("crm list: contacts", "agent", lambda f: contacts, {}),
        ("crm list: contacts, page 2", "agent", lambda f: _second_page(f, contacts), {}),
        (
            "crm list: contacts, filtered and sorted",
            "agent",
            lambda f: (
                f"{contacts}?hubspot_owner_id=none&f=email:CONTAINS_TOKEN:example"
                "&sort=company&cols=firstname,email,company,hubspot_owner_id,lastmodifieddate"
            ),
            {},
        ),
        ("crm list: contacts, search", "agent", lambda f: f"{contacts}?q=customer", {}),
        ("crm list: a saved contact view", "agent", saved_view, {}),
        (
            "crm list: companies",
            "agent",
            lambda f: with_records(f, reverse("records:companies")),
            {},
        ),
        ("crm list: deals", "agent", lambda f: with_records(f, reverse("records:deals")), {}),
    ]


PAGES = _list_pages() + _settings_pages() + _record_pages() + _picker_pages() + _crm_list_pages()


def _count(client: Any, url: str, headers: dict[str, str]) -> tuple[int, list[str]]:
    """The statements of the third of three requests (-status if not 200): the first fills
    the caches, the second may still write what a first visit writes (the ticket page)."""
    response = client.get(url, **headers)
    client.get(url, **headers)
    with CaptureQueriesContext(connection) as captured:
        client.get(url, **headers)
    if response.status_code != 200:
        return -response.status_code, []
    return len(captured.captured_queries), [q["sql"] for q in captured.captured_queries]


def _baselines() -> dict[str, Any]:
    if BASELINES.exists():
        return json.loads(BASELINES.read_text())
    return {}


@pytest.fixture(scope="module", autouse=True)
def _write_baselines():
    yield
    if UPDATE and _measured:
        data = _baselines()
        data[connection.vendor] = dict(
            sorted({**data.get(connection.vendor, {}), **_measured}.items())
        )
        BASELINES.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@pytest.mark.parametrize(
    ("name", "who", "url_of", "headers"), PAGES, ids=[page[0] for page in PAGES]
)
def test_page_runs_no_more_statements_than_its_baseline(
    client, helpdesk, name, who, url_of, headers
):
    client.force_login(helpdesk[who])
    url = url_of(helpdesk)
    count, statements = _count(client, url, headers)
    if count < 0:
        if name.startswith("settings: /"):
            pytest.skip(f"{url} answers {-count} to a GET, not a page")
        pytest.fail(f"{name}: {url} answered {-count}")
    _measured[name] = count
    if UPDATE:
        return
    baseline = _baselines().get(connection.vendor, {}).get(name)
    if baseline is None:
        # A new page must come with its baseline, or it would never be checked.
        pytest.fail(
            f"{name}: no {connection.vendor} baseline yet ({count} statements);"
            " add it with SVARDESK_UPDATE_QUERY_BASELINES=1"
        )
    listing = "\n".join(f"  {i + 1}. {sql[:300]}" for i, sql in enumerate(statements))
    assert count <= baseline, (
        f"{name} ({url}) now runs {count} SQL statements, its baseline is {baseline}: "
        f"something added a query (an N+1, a lookup no longer kept).\n{listing}"
    )
    if count < baseline:
        print(  # noqa: T201 - the hint pytest shows with -s or -rP
            f"\n{name}: {count} statements, below its baseline {baseline}: lower it in "
            f"{BASELINES.name} (SVARDESK_UPDATE_QUERY_BASELINES=1) to keep the gain."
        )


LIST_PAGES = [page for page in PAGES if page[0].startswith(("list:", "search:", "ticket page"))]


@pytest.mark.parametrize(
    ("name", "who", "url_of", "headers"), LIST_PAGES, ids=[page[0] for page in LIST_PAGES]
)
def test_page_statements_do_not_grow_with_rows(client, helpdesk, name, who, url_of, headers):
    """The same count with three times the tickets (each page full) and twice the comments."""
    from svardesk.conversations.services import add_comment

    client.force_login(helpdesk[who])
    before = _count(client, url_of(helpdesk), headers)[0]
    _add_tickets(2 * TICKETS, owners=helpdesk["owners"], teams=helpdesk["teams"])
    for n in range(4):
        add_comment(helpdesk["ticket"], actor=helpdesk["agent"], html=f"<p>More {n}</p>")
    after = _count(client, url_of(helpdesk), headers)[0]
    assert after == before, f"{name}: {before} statements became {after} with more rows"
