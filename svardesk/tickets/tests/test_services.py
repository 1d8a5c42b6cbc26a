import pytest
from django.utils import timezone

from svardesk.tickets import services
from svardesk.tickets.exceptions import (
    PropertyDefinitionError,
    StageInUseError,
    StaleTicketError,
    TicketValidationError,
)
from svardesk.tickets.models import Pipeline, PropertyType, Stage, Ticket, TicketEvent
from tests.factories import ContactFactory, default_pipeline, stage_named

pytestmark = pytest.mark.django_db


def test_default_pipeline_has_the_four_support_stages():
    pipeline = default_pipeline()
    assert pipeline.name == "Support pipeline"
    assert [(s.name, s.is_closed) for s in pipeline.stages.order_by("display_order")] == [
        ("New", False),
        ("Waiting on contact", False),
        ("Waiting on us", False),
        ("Closed", True),
    ]


def test_create_ticket_records_created_event(agent):
    ticket = services.create_ticket(
        actor=agent, name="  Printer on fire ", pipeline=default_pipeline()
    )
    assert ticket.name == "Printer on fire"
    assert ticket.stage.name == "New"
    assert ticket.is_open is True
    assert list(ticket.events.values_list("kind", "actor")) == [("created", agent.pk)]


def test_create_ticket_in_closed_stage_sets_closed_at(agent):
    ticket = services.create_ticket(
        actor=agent, name="Done already", pipeline=default_pipeline(), stage=stage_named("Closed")
    )
    assert ticket.is_open is False
    assert ticket.closed_at is not None


def test_create_ticket_rejects_stage_of_other_pipeline_and_saves_nothing(agent):
    other = services.create_pipeline(actor=agent, name="Returns")
    with pytest.raises(TicketValidationError) as exc:
        services.create_ticket(
            actor=agent, name="x", pipeline=default_pipeline(), stage=other.stages.first()
        )
    assert "stage" in exc.value.errors
    assert Ticket.objects.count() == 0


def test_create_ticket_requires_a_name(agent):
    with pytest.raises(TicketValidationError) as exc:
        services.create_ticket(actor=agent, name="   ", pipeline=default_pipeline())
    assert set(exc.value.errors) == {"name"}


def test_create_ticket_rejects_owner_without_seat(agent, no_seat_user):
    with pytest.raises(TicketValidationError) as exc:
        services.create_ticket(
            actor=agent, name="x", pipeline=default_pipeline(), owner=no_seat_user
        )
    assert "owner" in exc.value.errors


@pytest.mark.parametrize(
    "digits",
    ["".join(chr(0x0660 + i) for i in range(10)), "".join(chr(0xFF10 + i) for i in range(10))],
    ids=["arabic-indic", "fullwidth"],
)
def test_an_owner_id_in_other_digits_is_refused_and_changes_nothing(agent, super_admin, digits):
    """int() reads "٣" as 3: ids from a request are ASCII digits or nothing, so the agent's
    own id written in other digits names nobody."""
    ticket = services.create_ticket(actor=agent, name="Whose", pipeline=default_pipeline())
    owner = str(agent.pk).translate(str.maketrans("0123456789", digits))

    with pytest.raises(TicketValidationError) as exc:
        services.update_ticket(ticket.pk, actor=super_admin, changes={"owner": owner})

    assert "owner" in exc.value.errors
    ticket.refresh_from_db()
    assert ticket.owner_id is None


def test_update_records_each_change_with_old_and_new(agent, super_admin):
    ticket = services.create_ticket(
        actor=agent, name="Slow login", pipeline=default_pipeline(), priority="LOW"
    )
    services.update_ticket(
        ticket.pk, actor=super_admin, changes={"priority": "HIGH", "owner": agent.pk}
    )
    events = list(ticket.events.filter(kind="property_changed").order_by("id"))
    assert [(e.data["property"], e.data["old"], e.data["new"]) for e in events] == [
        ("priority", "LOW", "HIGH"),
        ("owner", None, agent.pk),
    ]
    assert events[0].data["new_display"] == "High"
    assert events[1].data["new_display"] == agent.display_name
    assert all(e.actor_id == super_admin.pk for e in events)
    ticket.refresh_from_db()
    assert ticket.version == 2


def test_update_without_real_change_writes_nothing(agent):
    ticket = services.create_ticket(
        actor=agent, name="Same", pipeline=default_pipeline(), priority="LOW"
    )
    services.update_ticket(ticket.pk, actor=agent, changes={"priority": "LOW"})
    ticket.refresh_from_db()
    assert ticket.version == 1
    assert ticket.events.count() == 1


def test_stale_edit_is_refused_and_nothing_changes(agent, super_admin):
    ticket = services.create_ticket(actor=agent, name="Race", pipeline=default_pipeline())
    services.update_ticket(
        ticket.pk, actor=super_admin, changes={"priority": "URGENT"}, expected_version=1
    )
    with pytest.raises(StaleTicketError):
        services.update_ticket(
            ticket.pk, actor=agent, changes={"priority": "LOW"}, expected_version=1
        )
    ticket.refresh_from_db()
    assert ticket.priority == "URGENT"
    assert ticket.events.filter(kind="property_changed").count() == 1


def test_moving_to_closed_stage_closes_and_reopening_clears(agent):
    ticket = services.create_ticket(actor=agent, name="Close me", pipeline=default_pipeline())
    services.update_ticket(ticket.pk, actor=agent, changes={"stage": stage_named("Closed").pk})
    ticket.refresh_from_db()
    assert (ticket.is_open, ticket.closed_at is not None) == (False, True)
    services.update_ticket(
        ticket.pk, actor=agent, changes={"stage": stage_named("Waiting on us").pk}
    )
    ticket.refresh_from_db()
    assert (ticket.is_open, ticket.closed_at) == (True, None)


def test_stage_must_belong_to_ticket_pipeline(agent):
    other = services.create_pipeline(actor=agent, name="Returns")
    ticket = services.create_ticket(actor=agent, name="x", pipeline=default_pipeline())
    with pytest.raises(TicketValidationError):
        services.update_ticket(ticket.pk, actor=agent, changes={"stage": other.stages.first().pk})


def test_pipeline_change_lands_in_first_stage_of_new_pipeline(agent):
    other = services.create_pipeline(
        actor=agent, name="Returns", stages=[("Received", False), ("Refunded", True)]
    )
    ticket = services.create_ticket(actor=agent, name="x", pipeline=default_pipeline())
    services.update_ticket(ticket.pk, actor=agent, changes={"pipeline": other.pk})
    ticket.refresh_from_db()
    assert (ticket.pipeline_id, ticket.stage.name) == (other.pk, "Received")


@pytest.mark.parametrize(
    ("type_", "raw", "stored"),
    [
        pytest.param(PropertyType.TEXT, "gold", "gold", id="text"),
        pytest.param(PropertyType.NUMBER, "42", 42, id="number-int"),
        pytest.param(PropertyType.NUMBER, "3.5", 3.5, id="number-float"),
        pytest.param(PropertyType.DATE, "2026-01-31", "2026-01-31", id="date"),
        pytest.param(PropertyType.CHECKBOX, "on", True, id="checkbox"),
    ],
)
def test_custom_property_values_are_cleaned_and_recorded(agent, type_, raw, stored):
    services.create_property_definition(actor=agent, name="extra", label="Extra", type=type_)
    ticket = services.create_ticket(actor=agent, name="x", pipeline=default_pipeline())
    services.update_ticket(ticket.pk, actor=agent, changes={"extra": raw})
    ticket.refresh_from_db()
    assert ticket.custom["extra"] == stored
    event = ticket.events.get(kind="property_changed")
    assert (event.data["property"], event.data["new"]) == ("extra", stored)


def test_invalid_custom_value_is_refused(agent):
    services.create_property_definition(
        actor=agent, name="seats", label="Seats", type=PropertyType.NUMBER
    )
    ticket = services.create_ticket(actor=agent, name="x", pipeline=default_pipeline())
    with pytest.raises(TicketValidationError) as exc:
        services.update_ticket(ticket.pk, actor=agent, changes={"seats": "many"})
    assert "seats" in exc.value.errors
    ticket.refresh_from_db()
    assert ticket.custom == {}


def test_multiselect_keeps_option_order_and_rejects_unknown(agent):
    services.create_property_definition(
        actor=agent,
        name="plan",
        label="Plan",
        type=PropertyType.MULTISELECT,
        options=[{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
    )
    ticket = services.create_ticket(
        actor=agent, name="x", pipeline=default_pipeline(), custom={"plan": ["b", "a"]}
    )
    assert ticket.custom["plan"] == ["a", "b"]
    with pytest.raises(TicketValidationError):
        services.update_ticket(ticket.pk, actor=agent, changes={"plan": ["c"]})


def test_user_property_requires_existing_user(agent):
    services.create_property_definition(
        actor=agent, name="reviewer", label="Reviewer", type=PropertyType.USER
    )
    ticket = services.create_ticket(actor=agent, name="x", pipeline=default_pipeline())
    services.update_ticket(ticket.pk, actor=agent, changes={"reviewer": agent.pk})
    with pytest.raises(TicketValidationError):
        services.update_ticket(ticket.pk, actor=agent, changes={"reviewer": 999999})


@pytest.mark.parametrize("name", ["Bad", "1abc", "owner", "priority", "has space", ""])
def test_property_names_must_be_valid_and_free(agent, name):
    with pytest.raises(PropertyDefinitionError):
        services.create_property_definition(
            actor=agent, name=name, label="L", type=PropertyType.TEXT
        )


def test_select_property_needs_options(agent):
    with pytest.raises(PropertyDefinitionError):
        services.create_property_definition(
            actor=agent, name="tier", label="Tier", type=PropertyType.SELECT
        )


def test_delete_stage_in_use_requires_target_and_moves_tickets(agent):
    ticket = services.create_ticket(
        actor=agent, name="x", pipeline=default_pipeline(), stage=stage_named("Waiting on us")
    )
    stage = stage_named("Waiting on us")
    with pytest.raises(StageInUseError):
        services.delete_stage(stage, actor=agent)
    assert Stage.objects.filter(pk=stage.pk).exists()
    moved = services.delete_stage(stage, actor=agent, move_to=stage_named("Closed"))
    assert moved == 1
    ticket.refresh_from_db()
    assert (ticket.stage.name, ticket.is_open) == ("Closed", False)
    event = TicketEvent.objects.get(ticket=ticket, kind="property_changed")
    assert (event.data["old_display"], event.data["new_display"]) == ("Waiting on us", "Closed")


def test_closing_a_stage_closes_its_tickets(agent):
    ticket = services.create_ticket(
        actor=agent, name="x", pipeline=default_pipeline(), stage=stage_named("Waiting on us")
    )
    services.update_stage(
        stage_named("Waiting on us"), actor=agent, name="Resolved", is_closed=True
    )
    ticket.refresh_from_db()
    assert ticket.is_open is False


def test_last_pipeline_cannot_be_deleted(agent):
    from svardesk.tickets.exceptions import PipelineInUseError

    with pytest.raises(PipelineInUseError):
        services.delete_pipeline(default_pipeline(), actor=agent)
    assert Pipeline.objects.count() == 1


def test_change_announces_after_commit_only(agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        ticket = services.create_ticket(actor=agent, name="x", pipeline=default_pipeline())
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(TicketValidationError):
        services.update_ticket(ticket.pk, actor=agent, changes={"priority": "NOPE"})
    assert callbacks == []


def test_contact_association(agent):
    contact = ContactFactory()
    ticket = services.create_ticket(
        actor=agent, name="x", pipeline=default_pipeline(), contact=contact
    )
    assert ticket.contact == contact
    services.update_ticket(ticket.pk, actor=agent, changes={"contact": None}, now=timezone.now())
    ticket.refresh_from_db()
    assert ticket.contact is None


def test_mark_spam_and_back_records_timeline(agent):
    ticket = services.create_ticket(actor=agent, name="Buy pills", pipeline=default_pipeline())
    assert services.mark_spam([ticket.pk], actor=agent, is_spam=True) == 1
    assert services.mark_spam([ticket.pk], actor=agent, is_spam=True) == 0
    ticket.refresh_from_db()
    assert ticket.is_spam is True
    services.mark_spam([ticket.pk], actor=agent, is_spam=False)
    ticket.refresh_from_db()
    assert ticket.is_spam is False
    assert ticket.events.filter(kind="property_changed").count() == 2


def test_create_tickets_makes_several_with_their_timelines(agent):
    made = services.create_tickets(
        [
            services.NewTicket(name="One", pipeline=default_pipeline()),
            services.NewTicket(name="Two", pipeline=default_pipeline(), priority="HIGH"),
        ],
        actor=agent,
    )
    assert [t.name for t in made] == ["One", "Two"]
    assert all(t.pk for t in made)
    assert Ticket.objects.get(pk=made[1].pk).priority == "HIGH"
    assert TicketEvent.objects.filter(ticket__in=made, kind="created").count() == 2


def test_create_tickets_saves_nothing_when_one_is_invalid(agent):
    with pytest.raises(TicketValidationError):
        services.create_tickets(
            [
                services.NewTicket(name="Fine", pipeline=default_pipeline()),
                services.NewTicket(name=" ", pipeline=default_pipeline()),
            ],
            actor=agent,
        )
    assert not Ticket.objects.exists()


def test_move_to_stage_moves_closes_reopens_and_records(agent):
    open_one = services.create_ticket(actor=agent, name="Open", pipeline=default_pipeline())
    closed = services.create_ticket(
        actor=agent, name="Closed", pipeline=default_pipeline(), stage=stage_named("Closed")
    )
    other_pipeline = services.create_pipeline(actor=agent, name="Other")
    elsewhere = services.create_ticket(actor=agent, name="Elsewhere", pipeline=other_pipeline)
    closed_at = Ticket.objects.get(pk=closed.pk).closed_at

    moved = services.move_to_stage(
        [open_one.pk, closed.pk, elsewhere.pk], stage_named("Closed"), actor=agent
    )

    assert moved == [open_one.pk]  # already there, or another pipeline: left alone
    open_one.refresh_from_db()
    assert (open_one.is_open, open_one.closed_at is not None) == (False, True)
    assert open_one.version == 2
    assert Ticket.objects.get(pk=closed.pk).closed_at == closed_at
    event = TicketEvent.objects.get(ticket=open_one, kind="property_changed")
    assert event.data["property"] == "stage"
    assert (event.data["old_display"], event.data["new_display"]) == ("New", "Closed")
    assert event.actor == agent

    assert services.move_to_stage([closed.pk], stage_named("Waiting on us"), actor=None) == [
        closed.pk
    ]
    closed.refresh_from_db()
    assert (closed.is_open, closed.closed_at, closed.stage.name) == (True, None, "Waiting on us")
