"""The ticket list: sort by any shown property with stable keyset pages, quick and advanced
filters in the URL, the column chooser, bulk actions; and the sidebar counts' cache."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from svardesk.ticket_views.columns import Sort, available_columns
from svardesk.ticket_views.queries import (
    MAX_COUNT_AGE_SECONDS,
    count_conditions,
    count_default_views,
    forget_counts_of,
    list_tickets,
)
from svardesk.tickets.models import PRIORITY_RANK, PropertyDefinition, Ticket, TicketEvent
from svardesk.tickets.queries import user_team_ids
from tests.factories import ContactFactory, TicketFactory, UserFactory, stage_named

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def many(agent, super_admin, support_team, billing_team):
    """Tickets with ties and gaps in every sortable property."""
    PropertyDefinition.objects.create(name="seats", label="Seats", type="number")
    PropertyDefinition.objects.create(name="plan", label="Plan", type="text")
    contacts = [ContactFactory(first_name=n, last_name="X") for n in ("Örjan", "anna", "Bo")]
    for i in range(23):
        stage = [stage_named("New"), stage_named("Waiting on us"), stage_named("Closed")][i % 3]
        TicketFactory(
            name=["beta", "Alpha", "alpha", "Gamma"][i % 4],
            priority=["", "LOW", "MEDIUM", "HIGH", "URGENT"][i % 5],
            category=["", "BILLING_ISSUE"][i % 2],
            owner=[agent, super_admin, None][i % 3],
            team=[support_team, billing_team, None][i % 3],
            contact=[*contacts, None][i % 4],
            stage=stage,
            is_open=not stage.is_closed,
            closed_at=NOW - dt.timedelta(hours=i) if stage.is_closed else None,
            last_activity_at=NOW - dt.timedelta(minutes=(i % 6) * 10),  # ties
            custom=[{"seats": 3}, {"seats": 1.5}, {}, {"plan": "pro"}, {"seats": 3}][i % 5],
        )


def _key(ticket: Ticket, prop: str):
    """What each sort orders by, computed in Python for the expected order."""
    if prop == "priority":
        return PRIORITY_RANK.get(ticket.priority, 0)
    if prop == "name":
        return ticket.name.lower()
    if prop == "stage":
        return ticket.stage.display_order
    if prop in ("owner", "contact"):
        person = getattr(ticket, prop)
        return f"{person.first_name} {person.last_name}".lower() if person else " "
    if prop == "team":
        return ticket.team.name.lower() if ticket.team else ""
    if prop == "closed_at":
        return ticket.closed_at or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    if prop == "seats":
        value = ticket.custom.get("seats")
        return value if isinstance(value, int | float) else -1e300
    if prop == "plan":
        return ticket.custom.get("plan") or ""
    return getattr(ticket, prop)


SORTS = ["last_activity_at", "priority", "name", "stage", "owner", "team", "contact",
         "category", "closed_at", "created_at", "id", "seats", "plan"]  # fmt: skip


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("prop", SORTS)
def test_keyset_pages_follow_any_sort_exactly(many, agent, prop, descending):
    sort = Sort(prop, descending)
    tickets = list(Ticket.objects.select_related("owner", "team", "contact", "stage"))
    expected = sorted(tickets, key=lambda t: (_key(t, prop), t.pk), reverse=descending)
    seen, cursor = [], None
    while True:
        page = list_tickets(agent, sort=sort, cursor=cursor, page_size=4, with_custom=True)
        seen += [t.pk for t in page.tickets]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    if prop == "contact":
        # "Örjan" sorts by the database's collation; check the page walk, not the collation.
        assert sorted(seen) == sorted(t.pk for t in tickets)
        assert len(seen) == len(set(seen))
        return
    assert seen == [t.pk for t in expected]


def test_a_cursor_for_another_sort_starts_over(many, agent):
    page = list_tickets(agent, sort=Sort("priority", True), page_size=5)
    other = list_tickets(agent, sort=Sort("name", False), cursor=page.next_cursor, page_size=5)
    first = list_tickets(agent, sort=Sort("name", False), page_size=5)
    assert [t.pk for t in other.tickets] == [t.pk for t in first.tickets]
    assert not other.has_previous


def test_sort_links_toggle_and_url_keeps_the_state(client, many, agent):
    client.force_login(agent)
    body = client.get(
        reverse("ticket_views:all"), {"owner": "me", "sort": "priority"}
    ).content.decode()
    assert 'aria-sort="ascending"' in body
    assert 'href="?owner=me&amp;sort=-priority"' in body  # again: descending
    assert 'href="?owner=me&amp;sort=name"' in body


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"owner": "me"}, lambda t, u: t.owner_id == u.pk),
        ({"owner": "none"}, lambda t, u: t.owner_id is None),
        ({"priority": "HIGH"}, lambda t, u: t.priority == "HIGH"),
        ({"priority": "none"}, lambda t, u: t.priority == ""),
        ({"team": "my_team"}, lambda t, u: t.team and t.team.name == "Support"),
        ({"team": "none", "owner": "none"}, lambda t, u: t.team_id is None and t.owner_id is None),
        ({"stage": "__closed__"}, lambda t, u: not t.is_open),
        ({"f": "name:CONTAINS_TOKEN:alp"}, lambda t, u: "alp" in t.name.lower()),
        (
            {"f": ["priority:IN:LOW,URGENT", "owner:NOT_HAS_PROPERTY"]},
            lambda t, u: t.priority in ("LOW", "URGENT") and t.owner_id is None,
        ),
    ],
    ids=[
        "owner-me",
        "unassigned",
        "priority",
        "no-priority",
        "my-team",
        "two-quick",
        "status",
        "advanced-text",
        "advanced-two",
    ],
)
def test_quick_and_advanced_filters_from_the_url(client, many, agent, settings, params, expected):
    settings.TICKET_LIST_PAGE_SIZE = 100
    if params.get("stage") == "__closed__":
        params = {"stage": str(stage_named("Closed").pk)}
    client.force_login(agent)
    response = client.get(reverse("ticket_views:all"), params)
    got = {t.pk for t in response.context["page"].tickets}
    want = {t.pk for t in Ticket.objects.select_related("team") if expected(t, agent)}
    assert got == want
    assert want


def test_filters_narrow_a_view_and_respect_access(client, many, team_agent, settings):
    settings.TICKET_LIST_PAGE_SIZE = 100
    client.force_login(team_agent)
    response = client.get(reverse("ticket_views:view", args=["all-open"]), {"priority": "HIGH"})
    got = {t.pk for t in response.context["page"].tickets}
    want = set(
        Ticket.objects.filter(is_open=True, is_spam=False, priority="HIGH")
        .filter(team__name="Billing")
        .values_list("pk", flat=True)
    )
    assert got == want
    assert want


def test_advanced_filter_form_redirects_to_the_canonical_url(client, many, agent):
    client.force_login(agent)
    response = client.get(
        reverse("ticket_views:all"),
        {
            "owner": "me",
            "add_property": "priority",
            "add_operator": "IN",
            "add_value": ["HIGH", "LOW"],
        },
    )
    assert response.status_code == 302
    assert response.url == "/tickets/?owner=me&f=priority%3AIN%3AHIGH%2CLOW"
    body = client.get(response.url).content.decode()
    assert "Priority is any of High, Low" in body
    assert 'href="?owner=me"' in body  # removing the condition


def test_bad_advanced_filter_shows_why(client, many, agent):
    client.force_login(agent)
    response = client.get(
        reverse("ticket_views:all"),
        {"add_property": "seats", "add_operator": "GT", "add_value": "x"},
    )
    assert response.status_code == 200
    assert "Enter a number for Seats" in response.content.decode()
    response = client.get(reverse("ticket_views:all"), {"f": "nope:EQ:1"})
    assert "There is no property called “nope”" in response.content.decode()


def test_every_property_is_offered_and_description_filters(client, many, agent, settings):
    settings.TICKET_LIST_PAGE_SIZE = 100
    Ticket.objects.filter(pk=Ticket.objects.order_by("pk").first().pk).update(
        description="Our Okta login loops"
    )
    client.force_login(agent)
    body = client.get(reverse("ticket_views:all")).content.decode()
    for name in ("description", "name", "priority", "owner", "team", "created_at", "seats"):
        assert f'<option value="{name}"' in body
    # The quick filters the list always offers, a single pipeline included.
    for name in ("owner", "priority", "pipeline", "stage", "team"):
        assert f'<select name="{name}">' in body
    response = client.get(
        reverse("ticket_views:all"),
        {"add_property": "description", "add_operator": "CONTAINS_TOKEN", "add_value": "okta"},
    )
    page = client.get(response.url).context["page"]
    want = set(Ticket.objects.filter(description__icontains="okta").values_list("pk", flat=True))
    assert {t.pk for t in page.tickets} == want
    assert len(want) == 1


def test_last_days_filter_from_the_form(client, many, agent):
    client.force_login(agent)
    response = client.get(
        reverse("ticket_views:all"),
        {"add_property": "created_at", "add_operator": "LAST_DAYS", "add_days": "7"},
    )
    assert response.url.endswith("f=created_at%3ABETWEEN%3Alast_7_days")


def test_column_chooser(client, many, agent):
    client.force_login(agent)
    response = client.get(reverse("ticket_views:all"), {"col": ["team", "seats", "bogus"]})
    keys = [c.key for c in response.context["columns"]]
    assert keys == ["name", "team", "seats"]
    body = response.content.decode()
    assert '<th class="col-prop col-seats"' in body
    assert {c.key for c in available_columns()} >= {"priority", "owner", "seats", "plan", "id"}


# --- Bulk actions ---------------------------------------------------------------------------


def _listed(*tickets):  # type: ignore[no-untyped-def]
    """What the rows' checkboxes post: each ticket with the version the list showed."""
    return [f"{t.pk}:{t.version}" for t in tickets]


def test_bulk_assign_status_priority_team(client, agent, super_admin, billing_team):
    tickets = TicketFactory.create_batch(3, priority="LOW")
    client.force_login(agent)
    closed = stage_named("Closed")
    response = client.post(
        reverse("ticket_views:bulk"),
        {
            "ticket": _listed(*tickets[:2]),
            "owner": super_admin.pk,
            "stage": closed.pk,
            "priority": "URGENT",
            "team": billing_team.pk,
            "action": "update",
            "next": "/views/all-open/",
        },
    )
    assert response.status_code == 302
    assert response.url == "/views/all-open/"
    changed = Ticket.objects.filter(pk__in=[t.pk for t in tickets[:2]])
    assert {(t.owner_id, t.stage_id, t.priority, t.team_id, t.is_open) for t in changed} == {
        (super_admin.pk, closed.pk, "URGENT", billing_team.pk, False)
    }
    untouched = Ticket.objects.get(pk=tickets[2].pk)
    assert (untouched.owner_id, untouched.priority) == (None, "LOW")
    # One timeline row per changed property per ticket, as by hand.
    assert TicketEvent.objects.filter(ticket__in=changed, kind="property_changed").count() == 8


def test_bulk_skips_tickets_outside_access(client, team_agent, support_team, billing_team):
    theirs = TicketFactory(team=support_team, priority="LOW")
    ours = TicketFactory(team=billing_team, priority="LOW")
    client.force_login(team_agent)
    client.post(reverse("ticket_views:bulk"),
                {"ticket": _listed(theirs, ours), "priority": "HIGH", "action": "update"})  # fmt: skip
    assert Ticket.objects.get(pk=theirs.pk).priority == "LOW"
    assert Ticket.objects.get(pk=ours.pk).priority == "HIGH"
    ours.refresh_from_db()  # the list shows the new version
    client.post(reverse("ticket_views:bulk"), {"ticket": _listed(theirs, ours), "action": "spam"})
    assert (Ticket.objects.get(pk=theirs.pk).is_spam, Ticket.objects.get(pk=ours.pk).is_spam) == (
        False, True)  # fmt: skip


def test_bulk_unassign_and_refuse_nothing(client, agent):
    ticket = TicketFactory(owner=agent)
    client.force_login(agent)
    client.post(
        reverse("ticket_views:bulk"),
        {"ticket": _listed(ticket), "owner": "none", "action": "update"},
    )
    assert Ticket.objects.get(pk=ticket.pk).owner_id is None
    response = client.post(
        reverse("ticket_views:bulk"), {"ticket": _listed(ticket), "action": "update"}, follow=True
    )
    assert "Choose what to change" in response.content.decode()


def test_bulk_redirect_stays_on_site(client, agent):
    ticket = TicketFactory()
    client.force_login(agent)
    response = client.post(
        reverse("ticket_views:bulk"),
        {
            "ticket": _listed(ticket),
            "priority": "HIGH",
            "action": "update",
            "next": "https://evil.example/",
        },
    )
    assert response.url == reverse("ticket_views:all")


def test_bulk_needs_a_seat_and_post(client, no_seat_user):
    ticket = TicketFactory(priority="LOW")
    client.force_login(no_seat_user)
    client.post(
        reverse("ticket_views:bulk"),
        {"ticket": _listed(ticket), "priority": "HIGH", "action": "update"},
    )
    assert Ticket.objects.get(pk=ticket.pk).priority == "LOW"


# --- Counting -------------------------------------------------------------------------------


def test_all_counts_in_one_statement(agent, django_assert_num_queries, settings):
    settings.SIDEBAR_COUNT_CACHE_SECONDS = 5
    TicketFactory(owner=agent)
    user_team_ids(agent)  # read once per request, before counting
    with django_assert_num_queries(1):
        count_default_views(agent)
    with django_assert_num_queries(0):
        assert count_default_views(agent).is_cached


def test_counts_are_shared_between_people_with_the_same_view_of_tickets(agent, settings):
    settings.SIDEBAR_COUNT_CACHE_SECONDS = 5
    colleague = UserFactory()  # also sees all tickets
    live = {"all-open": Q(is_open=True, is_spam=False)}
    TicketFactory()
    assert count_conditions(agent, live).counts == {"all-open": 1}
    TicketFactory()  # someone else's change is not counted for a few seconds …
    shared = count_conditions(colleague, live)
    assert shared.counts == {"all-open": 1}
    assert shared.is_cached
    forget_counts_of(colleague.pk)  # … unless it was the colleague's own change
    assert count_conditions(colleague, live).counts == {"all-open": 2}


def test_counts_never_older_than_ten_seconds(agent, settings, monkeypatch):
    settings.SIDEBAR_COUNT_CACHE_SECONDS = 3600
    seen = {}

    from django.core.cache import cache

    real_set_many = cache.set_many

    def spy(data, timeout=None, **kwargs):
        seen["timeout"] = timeout
        return real_set_many(data, timeout, **kwargs)

    monkeypatch.setattr(cache, "set_many", spy)
    count_default_views(agent)
    assert seen["timeout"] == MAX_COUNT_AGE_SECONDS == 10


def test_sidebar_says_when_counts_were_computed(client, agent):
    client.force_login(agent)
    body = client.get(reverse("ticket_views:sidebar_counts")).content.decode()
    assert "Counts as of" in body


def test_counts_stop_at_the_limit_and_say_so(client, agent, monkeypatch):
    from svardesk.ticket_views import queries

    monkeypatch.setattr(queries, "COUNT_LIMIT", 2)
    TicketFactory.create_batch(3)
    assert count_default_views(agent).counts["all-open"] == 3  # "more than 2"
    client.force_login(agent)
    body = client.get(reverse("ticket_views:sidebar_counts")).content.decode()
    assert 'data-count="2+"' in body
    assert 'data-count="3"' not in body


def test_filter_groups_or_together(agent):
    from svardesk.ticket_views.filters import Filter, compile_filter_groups

    high = TicketFactory(priority="HIGH")
    mine = TicketFactory(priority="LOW", owner=agent)
    TicketFactory(priority="LOW")
    condition = compile_filter_groups(
        [[Filter("priority", "EQ", "HIGH")], [Filter("owner", "EQ", "me")]], viewer=agent
    )
    assert set(Ticket.objects.filter(condition).values_list("pk", flat=True)) == {high.pk, mine.pk}
    assert Ticket.objects.filter(compile_filter_groups([], viewer=agent)).count() == 3


def test_priority_sort_reads_the_rank_index(agent):
    """The sort expression must stay the one the migration indexed (ticket_sort_priority);
    if PRIORITY_RANK or the expression changes, this fails instead of pages going slow."""
    from django.db import connection

    from svardesk.ticket_views.columns import sort_key

    if connection.vendor != "postgresql":
        pytest.skip("checked on PostgreSQL, where the planner can be told to avoid sorting")
    TicketFactory.create_batch(3)
    key = sort_key(Sort("priority", True))
    queryset = (
        Ticket.objects.annotate(rank=key.expression).order_by("-rank", "-id").values("pk")[:5]
    )
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ticket_sort_priority" in plan


@pytest.mark.parametrize("prop", ["name", "description"])
@pytest.mark.parametrize("operator", ["CONTAINS_TOKEN", "EQ"])
def test_text_filters_read_the_trigram_indexes(agent, prop, operator):
    """The filter engine's SQL for "contains" and "is" on name and description must stay the
    expression the migration indexed (ticket_filter_*_trgm); else a filter at a million
    tickets reads the whole table."""
    from django.db import connection

    from svardesk.ticket_views.filters import Filter, compile_filters

    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes exist on PostgreSQL only")
    TicketFactory.create_batch(3)
    condition = compile_filters([Filter(prop, operator, "okta")], viewer=agent)
    sql, params = Ticket.objects.filter(condition).values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"ticket_filter_{prop}_trgm" in plan


@pytest.mark.parametrize(
    ("index", "condition"),
    [
        ("ticket_open_owner", "mine"),
        ("ticket_sent_recent", "sent"),
        ("ticket_spam_recent", "spam"),
    ],
)
def test_team_scoped_counts_read_the_index_alone(team_agent, index, condition):
    """A team-scoped agent's access check (team or owner) must be answerable from the views'
    indexes (their INCLUDE columns), or at a million tickets every count visits the table."""
    from django.db import connection

    from svardesk.tickets.queries import visible_tickets

    if connection.vendor != "postgresql":
        pytest.skip("INCLUDE columns exist on PostgreSQL only")
    TicketFactory.create_batch(3)
    view = {
        "mine": Q(owner=team_agent, is_open=True, is_spam=False),
        "sent": Q(last_message_author=team_agent, is_spam=False),
        "spam": Q(is_spam=True),
    }[condition]
    sql, params = visible_tickets(team_agent).filter(view).values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        # Fresh statistics: otherwise the plan depends on whether autovacuum has analysed the
        # three-row table yet (it chose another index once in CI).
        cursor.execute("ANALYZE tickets_ticket")
        for method in ("seqscan", "bitmapscan", "indexscan"):
            cursor.execute(f"SET LOCAL enable_{method} = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"Index Only Scan using {index}" in plan, plan
