"""Built-in pipelines and statuses read in each reader's language; names an admin typed read
as typed (issue 9, item 13)."""

import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from django.utils import translation

from svardesk.tickets import services
from svardesk.tickets.models import Pipeline, Stage, TicketEvent
from tests.factories import TicketFactory, UserFactory, default_pipeline, stage_named

pytestmark = pytest.mark.django_db


@pytest.fixture
def swedish_agent(support_team):
    return UserFactory(email="svensk@svardesk.test", language="sv", teams=[support_team])


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_migrations_key_the_default_pipeline_and_its_statuses():
    pipeline = Pipeline.objects.order_by("id").first()
    assert pipeline is not None
    assert (pipeline.name, pipeline.builtin_key) == ("Support pipeline", "support")
    assert list(pipeline.stages.values_list("name", "builtin_key")) == [
        ("New", "new"),
        ("Waiting on contact", "waiting_on_contact"),
        ("Waiting on us", "waiting_on_us"),
        ("Closed", "closed"),
    ]


def test_migration_keys_unkeyed_defaults_and_leaves_typed_names_alone():
    # Given rows as they were before keys: the defaults, a renamed one and an admin's own.
    old = Pipeline.objects.create(name="Support pipeline")
    renamed = Pipeline.objects.create(name="Kundtjänst")
    new = Stage.objects.create(pipeline=old, name="New")
    closed = Stage.objects.create(pipeline=renamed, name="Closed", is_closed=True)
    typed = Stage.objects.create(pipeline=renamed, name="Escalated")
    # When the migration's step runs
    migration = importlib.import_module("svardesk.tickets.migrations.0006_builtin_keys")
    migration.key_builtins(django_apps, None)
    # Then the defaults are keyed and the typed names are not
    keys = dict(Pipeline.objects.values_list("pk", "builtin_key"))
    assert (keys[old.pk], keys[renamed.pk]) == ("support", "")
    stage_keys = dict(Stage.objects.values_list("pk", "builtin_key"))
    assert (stage_keys[new.pk], stage_keys[closed.pk], stage_keys[typed.pk]) == (
        "new",
        "closed",
        "",
    )


def test_builtin_names_follow_the_active_language():
    stage = stage_named("Waiting on contact")
    with translation.override("sv"):
        assert (stage.display_name, str(stage.pipeline)) == ("Väntar på kontakt", "Supportflöde")
    with translation.override("en"):
        assert (stage.display_name, str(stage.pipeline)) == (
            "Waiting on contact",
            "Support pipeline",
        )


def test_swedish_list_and_filters_show_swedish_names(client, swedish_agent):
    TicketFactory(name="Fakturan saknas")
    client.force_login(swedish_agent)
    body = client.get(reverse("ticket_views:all")).content.decode()
    row = _text(body[body.index("Fakturan saknas") :])
    assert "Ny" in row.split("Fakturan saknas")[1][:80]
    assert "Alla flöden" in body
    assert ">Supportflöde</option>" in body
    assert ">Väntar på oss</option>" in body
    assert "Waiting on" not in body
    assert "Support pipeline" not in body
    criteria = client.get(reverse("ticket_views:criteria"), {"add_property": "stage"})
    assert "Väntar på kontakt" in criteria.content.decode()
    assert "Waiting on contact" not in criteria.content.decode()


def test_swedish_ticket_page_and_timeline_read_swedish(client, swedish_agent, agent):
    # Given a ticket an English-speaking agent moved from New to Waiting on contact
    ticket = TicketFactory(name="Fakturan saknas")
    services.update_ticket(
        ticket.pk, actor=agent, changes={"stage": stage_named("Waiting on contact").pk}
    )
    # When a Swedish agent opens it
    client.force_login(swedish_agent)
    body = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    text = _text(body)
    # Then the status, the pipeline and the timeline sentence are Swedish
    assert "Anna Agent ändrade Ärendestatus från Ny till Väntar på kontakt" in text
    assert ">Väntar på kontakt</option>" in body
    assert "Supportflöde" in body
    assert "Waiting on contact" not in body
    assert "Ticket status" not in body


def test_english_reader_sees_english_for_a_swedish_writer(client, swedish_agent, agent):
    ticket = TicketFactory(name="Invoice missing")
    with translation.override("sv"):
        services.update_ticket(
            ticket.pk,
            actor=swedish_agent,
            changes={"stage": stage_named("Closed").pk, "priority": "HIGH"},
        )
    client.force_login(agent)
    text = _text(client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode())
    assert "changed Ticket status from New to Closed" in text
    assert "changed Priority from Medium to High" in text


def test_a_timeline_row_stored_before_keys_reads_in_the_readers_language(client, swedish_agent):
    ticket = TicketFactory(name="Fakturan saknas")
    TicketEvent.objects.create(
        ticket=ticket,
        kind="property_changed",
        created_at=ticket.created_at,
        data={
            "property": "stage",
            "label": "Ticket status",
            "old": stage_named("New").pk,
            "new": stage_named("Waiting on us").pk,
            "old_display": "New",
            "new_display": "Waiting on us",
        },
    )
    client.force_login(swedish_agent)
    text = _text(client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode())
    assert "ändrade Ärendestatus från Ny till Väntar på oss" in text


@pytest.mark.parametrize("language", ["en", "sv"])
def test_a_renamed_stage_shows_as_typed_in_every_language(client, super_admin, language):
    # Given an admin renames the built-in "Waiting on us" and the pipeline
    stage = stage_named("Waiting on us")
    client.force_login(super_admin)
    response = client.post(
        reverse("settings:stage_edit", args=[stage.pk]), {"name": "Hos oss", "kind": "open"}
    )
    assert response.status_code == 302
    services.rename_pipeline(default_pipeline(), actor=super_admin, name="Kundtjänst")
    stage.refresh_from_db()
    assert (stage.name, stage.builtin_key) == ("Hos oss", "")
    # When a user of either language lists tickets in it
    TicketFactory(name="Fakturan saknas", stage=stage)
    reader = UserFactory(email=f"{language}@svardesk.test", language=language)
    client.force_login(reader)
    body = client.get(reverse("ticket_views:all")).content.decode()
    # Then both read the names as typed
    assert ">Hos oss</option>" in body
    assert ">Kundtjänst</option>" in body


def test_saving_a_builtin_status_unchanged_keeps_it_builtin(client, super_admin):
    # A Swedish admin's form shows "Väntar på oss"; saving it as shown is no rename.
    super_admin.language = "sv"
    super_admin.save(update_fields=["language"])
    stage = stage_named("Waiting on us")
    client.force_login(super_admin)
    form = client.get(reverse("settings:stage_edit", args=[stage.pk])).content.decode()
    assert 'value="Väntar på oss"' in form
    assert "Ett inbyggt namn: varje användare läser det på sitt eget språk." in form
    response = client.post(
        reverse("settings:stage_edit", args=[stage.pk]), {"name": "Väntar på oss", "kind": "closed"}
    )
    assert response.status_code == 302
    stage.refresh_from_db()
    assert (stage.name, stage.builtin_key, stage.is_closed) == (
        "Waiting on us",
        "waiting_on_us",
        True,
    )


def test_a_new_pipeline_gets_builtin_statuses_under_the_admins_name(super_admin):
    pipeline = services.create_pipeline(actor=super_admin, name="Returns")
    with translation.override("sv"):
        assert str(pipeline) == "Returns"
        assert [s.display_name for s in pipeline.stages.all()] == [
            "Ny",
            "Väntar på kontakt",
            "Väntar på oss",
            "Stängd",
        ]
