"""The SLA status columns of the ticket list: one coloured badge per row (`badge sla-<status>`,
the ticket header's classes), read from the row itself; other columns' text stays escaped."""

import pytest
from django.urls import reverse

from svardesk.tickets.models import PropertyDefinition, SlaStatus
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def test_each_status_shows_as_its_badge_and_other_text_stays_escaped(client, super_admin):
    PropertyDefinition.objects.create(name="plan", label="Plan", type="text")
    for status in SlaStatus:
        TicketFactory(name=f"T {status.value}", sla_first_response_status=status)
    TicketFactory(name="No goal", custom={"plan": "<b>pro</b>"})
    client.force_login(super_admin)

    body = client.get(
        reverse("ticket_views:all"), {"col": ["name", "sla_first_response_status", "plan"]}
    ).content.decode()

    for status in SlaStatus:
        assert f'<span class="badge sla-{status.value}">{status.label}</span>' in body
    assert body.count('<td class="col-prop col-sla_first_response_status"></td>') == 1
    assert "&lt;b&gt;pro&lt;/b&gt;" in body
    assert "<b>pro</b>" not in body


def test_the_badge_reads_in_the_current_language():
    from django.utils import translation

    from svardesk.sla.properties import _status_cell
    from svardesk.tickets.models import Ticket

    cell = _status_cell("sla_first_response_status")
    ticket = Ticket(sla_first_response_status=SlaStatus.ON_TRACK)

    with translation.override("sv"):
        assert cell(ticket) == '<span class="badge sla-on_track">I fas</span>'
    with translation.override("en"):
        assert cell(ticket) == '<span class="badge sla-on_track">On track</span>'
