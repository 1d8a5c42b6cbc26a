"""Settings → SLA: who may open it, what each save writes, and what a bad entry leaves alone."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from svardesk.accounts.models import User
from svardesk.sla.models import PropertyGoal, Recomputation, Schedule, SlaRule, SlaSettings
from svardesk.sla.policy import get_settings
from svardesk.teams.models import Team
from svardesk.tickets.models import Stage
from svardesk.tickets.queries import get_default_pipeline
from svardesk.workspace.tests.settings_factories import (
    AgentFactory,
    SuperAdminFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db

URL = "/settings/sla/"


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(SuperAdminFactory())
    return client


@pytest.fixture
def agent_client(client: Client) -> Client:
    client.force_login(AgentFactory())
    return client


def form(**changes: Any) -> dict[str, Any]:
    """A complete post of the page: an office week, goals on for all tickets."""
    data: dict[str, Any] = {
        "schedule": "default",
        "applies": "working_hours",
        "timezone": "Europe/Stockholm",
        "holiday_country": "SE",
        "custom_holidays": "2026-12-23\n2026-12-30",
        "is_enabled": "on",
        "mode": "all",
        "property_name": "",
        "goal-first_response-value": "1",
        "goal-first_response-unit": "hours",
        "goal-next_response-value": "30",
        "goal-next_response-unit": "minutes",
        "goal-close-value": "3",
        "goal-close-unit": "days",
        "soon-first_response-value": "15",
        "soon-first_response-unit": "minutes",
        "soon-next_response-value": "10",
        "soon-next_response-unit": "minutes",
        "soon-close-value": "4",
        "soon-close-unit": "hours",
        "save": "new",
    }
    for day in range(5):
        data[f"hours-{day}-start"] = ["08:00", "13:00"]
        data[f"hours-{day}-end"] = ["12:00", "17:00"]
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# -- access ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name", "needs_rule"),
    [
        pytest.param("get", "sla_settings:settings", False, id="page"),
        pytest.param("post", "sla_settings:settings", False, id="save"),
        pytest.param("get", "sla_settings:progress", False, id="progress"),
        pytest.param("get", "sla_settings:rule_create", False, id="rule-create"),
        pytest.param("get", "sla_settings:rule_edit", True, id="rule-edit"),
        pytest.param("post", "sla_settings:rule_delete", True, id="rule-delete"),
        pytest.param("post", "sla_settings:rule_move", True, id="rule-move"),
    ],
)
def test_only_super_admins_reach_the_sla_settings(agent_client, method, name, needs_rule):
    rule = SlaRule.objects.create(name="VIP", conditions=[]) if needs_rule else None
    url = reverse(name, args=[rule.pk] if rule else [])

    response = getattr(agent_client, method)(url, form() if method == "post" else None)

    assert response.status_code == 403
    assert not Schedule.objects.exists()
    assert SlaRule.objects.count() == (1 if rule else 0)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert "/accounts/" in response["Location"]


def test_the_page_shows_defaults_and_is_in_the_settings_navigation(admin_client):
    response = admin_client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/settings/sla/" class="is-current"' in html
    assert 'name="hours-0-start" value="08:00"' in html  # Monday to Friday 08:00-17:00
    assert 'name="hours-5-start"' not in html  # Saturday off
    assert '<option value="Europe/Stockholm" selected>' in html
    assert '<option value="SE" selected>Sweden</option>' in html
    assert "Save: apply to new tickets and existing open tickets" in html


# -- saving ------------------------------------------------------------------------------


def test_saving_for_new_tickets_writes_the_schedule_goals_and_pausing(admin_client):
    waiting = Stage.objects.filter(pipeline=get_default_pipeline(), is_closed=False).last()
    version = get_settings().version

    response = admin_client.post(URL, form(pausing=[str(waiting.pk)], applies_to_manual="on"))

    assert response.status_code == 302
    schedule = Schedule.objects.get(team__isnull=True)
    assert schedule.weekly == {
        str(day): [["08:00", "12:00"], ["13:00", "17:00"]] for day in range(5)
    }
    assert schedule.timezone == "Europe/Stockholm"
    assert schedule.holiday_country == "SE"
    assert schedule.custom_holidays == ["2026-12-23", "2026-12-30"]
    row = SlaSettings.objects.get()
    assert (row.first_response_seconds, row.next_response_seconds, row.close_seconds) == (
        3600,
        1800,
        3 * 86400,
    )
    assert (
        row.first_response_due_soon_seconds,
        row.next_response_due_soon_seconds,
        row.close_due_soon_seconds,
    ) == (900, 600, 4 * 3600)
    assert row.is_enabled
    assert row.applies_to_manual
    assert list(row.pausing_stages.all()) == [waiting]
    assert row.version == version + 1
    assert not Recomputation.objects.exists()


def test_saving_for_open_tickets_too_starts_a_recomputation(admin_client):
    response = admin_client.post(URL, form(save="open"), follow=True)

    job = Recomputation.objects.get()
    assert job.settings_version == SlaSettings.objects.get().version
    assert "Open tickets are being recomputed" in response.content.decode()
    assert 'id="sla-progress"' in response.content.decode()


def test_a_range_ending_at_midnight_is_stored_as_24_00_and_shown_as_00_00(admin_client):
    admin_client.post(URL, form(**{"hours-5-start": ["22:00"], "hours-5-end": ["00:00"]}))

    assert Schedule.objects.get().weekly["5"] == [["22:00", "24:00"]]
    assert 'name="hours-5-end" value="00:00"' in admin_client.get(URL).content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        pytest.param(
            {"hours-0-start": ["12:00"], "hours-0-end": ["09:00"]},
            "hours-0",
            "must end after it starts",
            id="backwards-range",
        ),
        pytest.param(
            {"hours-0-start": ["08:00", "11:00"], "hours-0-end": ["12:00", "13:00"]},
            "hours-0",
            "must not overlap",
            id="overlap",
        ),
        pytest.param({"timezone": "Mars/Olympus"}, "timezone", "time zone", id="zone"),
        pytest.param({"custom_holidays": "24/12"}, "custom_holidays", "YYYY-MM-DD", id="date"),
        pytest.param(
            {"goal-first_response-value": "1.5"}, "goal-first_response", "whole number", id="num"
        ),
        pytest.param(
            {"goal-close-value": "400", "goal-close-unit": "days"},
            "goal-close",
            "365 days",
            id="too-long",
        ),
        pytest.param(
            {f"hours-{day}-{part}": [] for day in range(5) for part in ("start", "end")},
            "hours",
            "at least one day",
            id="no-hours",
        ),
    ],
)
def test_a_bad_entry_is_refused_and_nothing_is_saved(admin_client, changes, field, message):
    version = get_settings().version

    response = admin_client.post(URL, form(**changes))

    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Schedule.objects.exists()
    row = SlaSettings.objects.get()
    assert row.version == version
    assert row.first_response_seconds is None


def test_add_hours_adds_a_range_without_saving(admin_client):
    response = admin_client.post(URL, form(save=None, add_hours="0"), HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('name="hours-0-start"') == 3
    assert 'name="hours-0-start" value="17:00"' in html  # the new range starts where one ended
    assert not Schedule.objects.exists()


def test_remove_drops_one_range_without_saving(admin_client):
    response = admin_client.post(URL, form(save=None, remove_hours="0:1"))

    html = response.content.decode()
    assert html.count('name="hours-0-start"') == 1
    assert 'name="hours-0-end" value="12:00"' in html
    assert not Schedule.objects.exists()


def test_goals_by_priority_are_saved_per_value(admin_client):
    data = form(
        mode="property",
        property_name="priority",
        values_for="priority",
        pv=["LOW", "MEDIUM", "HIGH", "URGENT"],
        **{
            "pv-3-on": "on",
            "pv-3-first_response-value": "15",
            "pv-3-first_response-unit": "minutes",
            "pv-3-close-value": "1",
            "pv-3-close-unit": "days",
            "pv-0-first_response-value": "2",
            "pv-0-first_response-unit": "days",
        },
    )

    response = admin_client.post(URL, data)

    assert response.status_code == 302
    goals = {goal.value: goal for goal in PropertyGoal.objects.all()}
    assert set(goals) == {"LOW", "MEDIUM", "HIGH", "URGENT"}
    urgent = goals["URGENT"]
    assert (urgent.is_enabled, urgent.first_response_seconds, urgent.close_seconds) == (
        True,
        900,
        86400,
    )
    assert urgent.next_response_seconds is None
    assert (goals["LOW"].is_enabled, goals["LOW"].first_response_seconds) == (False, 2 * 86400)
    row = SlaSettings.objects.get()
    assert (row.mode, row.property_name) == ("property", "priority")


def test_choosing_a_property_shows_a_row_per_value(admin_client):
    TeamFactory(name="Billing")

    response = admin_client.post(
        URL, form(save=None, mode="property", property_name="team"), HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert '<input type="hidden" name="pv" value="' in html
    assert "Billing" in html
    assert not PropertyGoal.objects.exists()


def test_a_team_gets_its_own_schedule_and_can_go_back_to_the_default(admin_client):
    team = TeamFactory(name="Nights")
    nights = {"hours-0-start": ["22:00"], "hours-0-end": ["00:00"]}
    nights.update({f"hours-{d}-{p}": [] for d in range(1, 5) for p in ("start", "end")})

    admin_client.post(URL, form(schedule=str(team.pk), own_schedule="on", **nights))

    assert Schedule.objects.get(team=team).weekly == {"0": [["22:00", "24:00"]]}
    assert not Schedule.objects.filter(team__isnull=True).exists()
    page = admin_client.get(f"{URL}?schedule={team.pk}").content.decode()
    assert 'name="own_schedule" checked' in page

    admin_client.post(URL, form(schedule=str(team.pk)))

    assert not Schedule.objects.filter(team=team).exists()
    assert Team.objects.filter(pk=team.pk).exists()


# -- rules -------------------------------------------------------------------------------


def rule_form(**changes: Any) -> dict[str, Any]:
    data = {
        "name": "Urgent from VIPs",
        "is_enabled": "on",
        "f": ["priority:IN:URGENT"],
        "goal-first_response-value": "10",
        "goal-first_response-unit": "minutes",
        "goal-next_response-value": "",
        "goal-next_response-unit": "hours",
        "goal-close-value": "4",
        "goal-close-unit": "hours",
        "schedule": "",
        "action": "new",
    }
    data.update(changes)
    return data


def test_a_rule_is_created_with_its_conditions_and_goals(admin_client):
    response = admin_client.post(reverse("sla_settings:rule_create"), rule_form())

    assert response.status_code == 302
    rule = SlaRule.objects.get()
    assert rule.name == "Urgent from VIPs"
    assert rule.conditions == [{"property": "priority", "operator": "IN", "values": ["URGENT"]}]
    assert (rule.first_response_seconds, rule.next_response_seconds, rule.close_seconds) == (
        600,
        None,
        4 * 3600,
    )
    assert rule.schedule is None
    assert "Urgent from VIPs" in admin_client.get(URL).content.decode()


def test_the_condition_editor_adds_and_removes_conditions_before_saving(admin_client):
    url = reverse("sla_settings:rule_create")

    added = admin_client.post(
        url,
        rule_form(action="add", add_property="source", add_operator="IN", add_value=["EMAIL"]),
    )
    removed = admin_client.post(url, rule_form(action="", remove="0"))

    assert added.content.decode().count('name="f"') == 2
    assert removed.content.decode().count('name="f"') == 0
    assert not SlaRule.objects.exists()


def test_a_rule_without_conditions_or_name_is_refused(admin_client):
    response = admin_client.post(reverse("sla_settings:rule_create"), rule_form(f=[], name=""))

    assert response.status_code == 422
    assert "Add at least one condition" in response.content.decode()
    assert "Give the rule a name" in response.content.decode()
    assert not SlaRule.objects.exists()


def test_rules_move_and_are_deleted(admin_client):
    first = SlaRule.objects.create(name="First", position=1, conditions=[])
    second = SlaRule.objects.create(name="Second", position=2, conditions=[])

    admin_client.post(reverse("sla_settings:rule_move", args=[second.pk]), {"direction": "up"})

    assert list(SlaRule.objects.values_list("name", flat=True)) == ["Second", "First"]

    admin_client.post(reverse("sla_settings:rule_delete", args=[first.pk]))

    assert list(SlaRule.objects.values_list("name", flat=True)) == ["Second"]


def test_the_page_reads_in_swedish(admin_client):
    admin: User = SuperAdminFactory(language="sv")
    admin_client.force_login(admin)

    html = admin_client.get(URL, HTTP_ACCEPT_LANGUAGE="sv").content.decode()

    assert 'lang="sv-se"' in html
    assert ">måndag</th>" in html  # the weekdays come from Django's own catalogue


def test_saving_twice_updates_the_one_default_schedule(admin_client):
    admin_client.post(URL, form())
    admin_client.post(URL, form(timezone="America/New_York"))

    assert Schedule.objects.get().timezone == "America/New_York"
