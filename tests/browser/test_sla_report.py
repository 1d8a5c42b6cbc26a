"""The SLA report in a real browser at 1280x720: Chart.js draws the four charts under the
page's content security policy (no console errors), reached from the sidebar link."""

import datetime as dt

import pytest
from django.utils import timezone

from svardesk.sla.models import TicketSla
from svardesk.tickets.models import SlaStatus, Ticket
from tests.browser.conftest import log_in
from tests.factories import TicketFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_report_draws_its_charts_without_console_errors(page, screenshot):  # type: ignore[no-untyped-def]
    UserFactory(email="ada@example.com", is_superuser=True, is_staff=True)
    due = timezone.now() - dt.timedelta(days=2)
    for index, status in enumerate([SlaStatus.MET, SlaStatus.MET, SlaStatus.MISSED]):
        ticket = TicketFactory(name=f"Printer {index}")
        Ticket.objects.filter(pk=ticket.pk).update(
            sla_first_response_status=status, sla_first_response_due=due
        )
        TicketSla.objects.create(
            ticket=ticket,
            first_response_started_at=due - dt.timedelta(hours=1),
            first_response_completed_at=due - dt.timedelta(minutes=30 - 40 * index),
        )
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.set_viewport_size({"width": 1280, "height": 720})
    log_in(page, "ada@example.com")

    page.get_by_role("link", name="SLA report").click()
    page.wait_for_url("**/reports/sla/")

    page.wait_for_function(
        "() => ['weekly', 'teams', 'first_response', 'close'].every("
        "id => window.Chart && window.Chart.getChart(document.getElementById('sla-chart-' + id)))"
    )
    screenshot("sla-report-1280")
    assert page.get_by_role("link", name="Printer 2").count() == 1  # the miss, linked
    # The test server has no WebSocket endpoint (live updates); anything else is a failure.
    assert [error for error in errors if "WebSocket" not in error] == []
