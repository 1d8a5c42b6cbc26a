"""The ticket list in Swedish, at the laptop sizes new users have (issue 9, item 13)."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from tests.browser.conftest import log_in
from tests.factories import TicketFactory, UserFactory, stage_named

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1366, 768)])
def test_swedish_relative_times_and_statuses_show_whole(page, screenshot, width, height):
    swede = UserFactory(email="svea@svardesk.test", first_name="Svea", language="sv")
    now = timezone.now()
    ages = {
        "Sekunder": dt.timedelta(seconds=28),
        "Minuter": dt.timedelta(minutes=59),
        "Timmar": dt.timedelta(hours=23, minutes=59),
        "Dagar": dt.timedelta(days=2, hours=4),
        "Månader": dt.timedelta(days=700),
    }
    waiting = stage_named("Waiting on contact")
    for name, age in ages.items():
        if name == "Dagar":
            TicketFactory(name=name, last_activity_at=now - age, stage=waiting)
        else:
            TicketFactory(name=name, last_activity_at=now - age)
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, swede.email)
    page.goto("/tickets/")
    page.locator(".ticket-row").first.wait_for()
    screenshot(f"sv-list-{width}x{height}")

    cells = page.locator(".ticket-row").evaluate_all(
        """rows => rows.map(row => {
            const name = row.querySelector('.ticket-link').textContent.trim();
            const time = row.querySelector('.col-time');
            const status = row.querySelector('.col-status');
            return [name, time.textContent.trim(), time.scrollWidth <= time.clientWidth,
                    status.textContent.trim(), status.scrollWidth <= status.clientWidth];
        })"""
    )
    shown = {
        name: (time.replace("\xa0", " "), fits, status, status_fits)
        for name, time, fits, status, status_fits in cells
    }
    seconds = shown.pop("Sekunder")  # the page loads a few seconds after the ticket was made
    assert re.fullmatch(r"[2-5]\d sekunder sedan", seconds[0]), seconds
    assert seconds[1:] == (True, "Ny", True)
    assert {name: time for name, (time, *_rest) in shown.items()} == {
        "Minuter": "59 minuter sedan",
        "Timmar": "23 timmar sedan",
        "Dagar": "2 dagar sedan",
        "Månader": "1 år sedan",
    }
    assert all(fits for _time, fits, _status, _status_fits in shown.values()), shown
    assert {status for _time, _fits, status, _ok in shown.values()} == {"Ny", "Väntar på kontakt"}
    assert all(status_fits for *_rest, status_fits in shown.values()), shown


def test_swedish_ticket_page_reads_swedish_with_swedish_dates(page, screenshot, agent):
    from svardesk.tickets import services

    swede = UserFactory(
        email="svea@svardesk.test", first_name="Svea", language="sv", time_zone="Europe/Stockholm"
    )
    ticket = TicketFactory(name="Fakturan saknas")
    services.update_ticket(
        ticket.pk, actor=agent, changes={"stage": stage_named("Waiting on contact").pk}
    )
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, swede.email)
    page.goto(f"/tickets/{ticket.pk}/")
    event = page.locator("li.event").filter(has_text="ändrade")
    event.wait_for()
    screenshot("sv-ticket-1366x768")
    assert " ".join(event.inner_text().split()).startswith(
        "Anna Agent ändrade Ärendestatus från Ny till Väntar på kontakt"
    )
    title = event.locator("time").get_attribute("title") or ""
    assert re.fullmatch(r"\d{1,2} [a-zåäö]+ \d{4} \d{2}:\d{2}", title.replace("\xa0", " ")), title
