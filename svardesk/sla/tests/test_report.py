"""The SLA report: compliance per week and per team, times to first response and close, the
latest misses, scoped to what the viewer may see; the CSV carries the same numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from svardesk.accounts.models import TicketAccess
from svardesk.sla.models import TicketSla
from svardesk.sla.report import ReportFilters, build_report, chart_data
from svardesk.tickets.models import SlaStatus, Ticket
from svardesk.workspace.tests.settings_factories import (
    AgentFactory,
    SuperAdminFactory,
    TeamFactory,
)
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

# Wednesday noon of last week: in the past, so the page (which reports up to the real now)
# sees the same tickets as build_report(now=NOW).
_TODAY = dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0, microsecond=0)
NOW = _TODAY - dt.timedelta(days=_TODAY.weekday() - 2 + 7)
MONDAY = NOW.date() - dt.timedelta(days=2)
WEEK = dt.timedelta(weeks=1)
HOUR = dt.timedelta(hours=1)


def goal_ticket(
    team, *, status: str, due: dt.datetime, took: dt.timedelta | None = None, close=None
):  # type: ignore[no-untyped-def]
    """A ticket whose first-response goal stands at `status`, due at `due`, answered after
    `took` (completed goals)."""
    ticket = TicketFactory(team=team)
    Ticket.objects.filter(pk=ticket.pk).update(
        sla_first_response_status=status,
        sla_first_response_due=due,
        **({"sla_close_status": close[0], "sla_close_due": close[1]} if close else {}),
    )
    started = due - HOUR
    TicketSla.objects.create(
        ticket=ticket,
        first_response_started_at=started,
        first_response_completed_at=started + took if took else None,
        close_started_at=started if close else None,
        close_completed_at=started + close[2] if close else None,
    )
    return ticket


@pytest.fixture
def teams():  # type: ignore[no-untyped-def]
    return TeamFactory(name="Billing"), TeamFactory(name="Support")


@pytest.fixture
def tickets(teams):  # type: ignore[no-untyped-def]
    billing, support = teams
    this_week = NOW - dt.timedelta(days=1)  # Tuesday
    last_week = NOW - dt.timedelta(days=7)
    return {
        "met-1": goal_ticket(billing, status=SlaStatus.MET, due=this_week, took=dt.timedelta(minutes=30),
                             close=(SlaStatus.MET, this_week, dt.timedelta(hours=5))),
        "met-2": goal_ticket(billing, status=SlaStatus.MET, due=this_week, took=dt.timedelta(minutes=50)),
        "late": goal_ticket(support, status=SlaStatus.MISSED, due=this_week, took=dt.timedelta(hours=2)),
        "overdue": goal_ticket(support, status=SlaStatus.OVERDUE, due=last_week),
        "on-track": goal_ticket(support, status=SlaStatus.ON_TRACK, due=NOW + HOUR),
        "long-ago": goal_ticket(billing, status=SlaStatus.MISSED, due=NOW - dt.timedelta(weeks=20),
                                took=dt.timedelta(hours=9)),
    }  # fmt: skip


def report_for(user, **filters):  # type: ignore[no-untyped-def]
    with timezone.override("UTC"):
        return build_report(user, ReportFilters.parse(filters), now=NOW)


def test_compliance_counts_decided_goals_in_the_week_they_fell_due(tickets, teams):
    report = report_for(SuperAdminFactory(), period="4")

    weekly = report.by_week["first_response"]
    assert weekly == {MONDAY: (2, 3), MONDAY - WEEK: (0, 1)}
    assert report.weeks == [MONDAY - 3 * WEEK, MONDAY - 2 * WEEK, MONDAY - WEEK, MONDAY]
    billing, support = teams
    assert report.by_team["first_response"] == {billing.pk: (2, 2), support.pk: (0, 2)}
    assert chart_data(report)["weekly"][0] == [None, None, 0.0, 66.7]


def test_median_and_90th_percentile_of_completed_goals(tickets):
    report = report_for(SuperAdminFactory(), period="4")

    # 30 min, 50 min and 2 h: median 50 min; p90 = 50 + 0.8 * 70 = 106 min (on PostgreSQL
    # read from the histogram of durations, within 2 %)
    p50, p90 = report.overall_times["first_response"]
    assert p50 == pytest.approx(50 * 60, rel=0.02)
    assert p90 == pytest.approx(106 * 60, rel=0.02)
    assert report.overall_times["close"] == pytest.approx((5 * 3600, 5 * 3600), rel=0.02)
    with timezone.override("UTC"):
        exact = build_report(SuperAdminFactory(), ReportFilters.parse({"period": "4"}), now=NOW,
                             exact=True)  # fmt: skip
    assert exact.overall_times["first_response"] == pytest.approx((50 * 60, 106 * 60))


def test_the_latest_misses_come_first_and_link_to_their_tickets(tickets, client: Client):
    admin = SuperAdminFactory()
    report = report_for(admin, period="26")

    assert [miss["id"] for miss in report.recent_misses] == [
        tickets["late"].pk,
        tickets["overdue"].pk,
        tickets["long-ago"].pk,
    ]


def test_filters_narrow_the_report_to_a_team(tickets, teams):
    billing, _support = teams

    report = report_for(SuperAdminFactory(), period="4", team=str(billing.pk))

    assert report.by_week["first_response"] == {MONDAY: (2, 2)}
    assert report.recent_misses == []


def test_an_agent_sees_only_the_tickets_of_their_scope(tickets, teams):
    billing, _support = teams
    agent = AgentFactory(ticket_access=TicketAccess.TEAM, primary_team=billing)

    report = report_for(agent, period="4")

    assert report.by_week["first_response"] == {MONDAY: (2, 2)}
    assert report.recent_misses == []


def test_the_page_and_its_csv(tickets, client: Client):
    client.force_login(SuperAdminFactory())

    page = client.get(reverse("sla_report:report"), {"period": "52"})
    download = client.get(reverse("sla_report:csv"), {"period": "52"})

    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="sla-report-data"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert f'href="/tickets/{tickets["late"].pk}/"' in html
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0][:3] == ["Section", "Week or team", "Goal"]
    teams = [row for row in rows if row[0] == "Team" and row[2] == "Time to first response"]
    assert sorted((row[1], row[3], row[4]) for row in teams) == [
        ("Billing", "2", "3"),
        ("Support", "0", "2"),
    ]


def test_the_report_needs_a_seat(client: Client):
    client.force_login(AgentFactory(has_seat=False))

    assert client.get(reverse("sla_report:report")).status_code == 403
    assert client.get(reverse("sla_report:csv")).status_code == 403
