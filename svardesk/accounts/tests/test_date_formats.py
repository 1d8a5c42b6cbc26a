"""Dates and times follow the user's language and region, a preference with a sensible
default (issue 9, item 14)."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from svardesk.accounts.models import User
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db

# 05:03 UTC is 06:03 in Stockholm (CET) and 00:03 in New York (EST).
CREATED = dt.datetime(2026, 12, 6, 5, 3, tzinfo=dt.UTC)


def _created_date_shown(client, user: User) -> str:
    """The ticket's create date as the ticket page's sidebar shows it to `user`."""
    ticket = TicketFactory(name="Invoice missing")
    type(ticket).objects.filter(pk=ticket.pk).update(created_at=CREATED)
    client.force_login(user)
    body = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    found = re.search(r'id="prop-created_at".*?class="prop-value[^"]*">\s*([^<]*?)\s*<', body, re.S)
    assert found, "the create date is on the ticket page"
    return found.group(1).replace("\xa0", " ")


@pytest.mark.parametrize(
    ("language", "time_zone", "expected"),
    [
        pytest.param("en", "Europe/Stockholm", "06/12/2026 06:03", id="english-in-stockholm"),
        pytest.param("en", "Europe/London", "06/12/2026 05:03", id="english-in-london"),
        pytest.param("en", "America/New_York", "12/06/2026 12:03 AM", id="english-in-new-york"),
        pytest.param("sv", "Europe/Stockholm", "2026-12-06 06:03", id="swedish"),
        pytest.param("sv", "America/New_York", "2026-12-06 00:03", id="swedish-in-new-york"),
    ],
)
def test_dates_default_from_language_and_time_zone(client, language, time_zone, expected):
    user = UserFactory(language=language, time_zone=time_zone)
    assert _created_date_shown(client, user) == expected


@pytest.mark.parametrize("language", ["en", "sv"])
@pytest.mark.parametrize(
    ("date_style", "expected"),
    [
        pytest.param("se", "2026-12-06 06:03", id="sweden"),
        pytest.param("gb", "06/12/2026 06:03", id="uk"),
        pytest.param("us", "12/06/2026 6:03 AM", id="us"),
    ],
)
def test_the_preference_chooses_the_format(client, language, date_style, expected):
    user = UserFactory(language=language, time_zone="Europe/Stockholm", date_style=date_style)
    if language == "sv":  # Swedish says förmiddag
        expected = expected.replace("AM", "f.m.")
    assert _created_date_shown(client, user) == expected


def test_preferences_page_saves_the_date_format(client, agent):
    client.force_login(agent)
    page = client.get(reverse("accounts:preferences")).content.decode()
    assert "US (12/06/2026 6:03 AM)" in page
    response = client.post(
        reverse("accounts:preferences"),
        {"language": "en", "time_zone": "Europe/Stockholm", "date_style": "us"},
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.date_style, agent.time_zone) == ("us", "Europe/Stockholm")


def test_preferences_refuse_an_unknown_date_format(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("accounts:preferences"),
        {"language": "sv", "time_zone": "Europe/Stockholm", "date_style": "xx"},
    )
    assert response.status_code == 200
    assert "xx" in response.content.decode()  # the field error names the refused choice
    agent.refresh_from_db()
    assert (agent.language, agent.time_zone, agent.date_style) == ("en", "UTC", "auto")
