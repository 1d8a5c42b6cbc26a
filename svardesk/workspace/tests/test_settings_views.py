"""The settings area: who may open it, and what each page changes."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from svardesk.accounts.models import TicketAccess, User
from svardesk.teams.models import Membership, Team
from svardesk.tickets.models import (
    CreateFormField,
    Pipeline,
    PropertyDefinition,
    PropertyGroup,
    Stage,
    Ticket,
)
from svardesk.tickets.queries import get_default_pipeline
from svardesk.tickets.services import (
    add_stage,
    create_pipeline,
    create_property_definition,
    create_ticket,
)
from svardesk.workspace.tests.settings_factories import (
    AgentFactory,
    MembershipFactory,
    SuperAdminFactory,
    TeamFactory,
)

# --- Fixtures -------------------------------------------------------------------------------


@pytest.fixture
def admin() -> User:
    return SuperAdminFactory(first_name="Ada", last_name="Admin", email="ada@example.com")


@pytest.fixture
def admin_client(client: Client, admin: User) -> Client:
    client.force_login(admin)
    return client


@pytest.fixture
def pipeline() -> Pipeline:
    return get_default_pipeline()


def stages_of(pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.order_by("display_order", "id"))


@pytest.fixture
def objects(pipeline: Pipeline) -> dict[str, Any]:
    """One of everything a settings URL can name."""
    return {
        "user": AgentFactory(),
        "team": TeamFactory(),
        "pipeline": pipeline,
        "stage": stages_of(pipeline)[1],
        "property": create_property_definition(
            actor=None, name="order_number", label="Order number", type="text"
        ),
    }


def url_for(name: str, kind: str | None, objects: dict[str, Any]) -> str:
    return reverse(name, args=[objects[kind].pk] if kind else [])


# --- Who may open which page ----------------------------------------------------------------

PAGES = [
    pytest.param("settings:users", None, id="users"),
    pytest.param("settings:user_create", None, id="user_create"),
    pytest.param("settings:user_edit", "user", id="user_edit"),
    pytest.param("settings:teams", None, id="teams"),
    pytest.param("settings:team_rename", "team", id="team_rename"),
    pytest.param("settings:team_delete", "team", id="team_delete"),
    pytest.param("settings:pipelines", None, id="pipelines"),
    pytest.param("settings:pipeline_rename", "pipeline", id="pipeline_rename"),
    pytest.param("settings:pipeline_delete", "pipeline", id="pipeline_delete"),
    pytest.param("settings:stage_edit", "stage", id="stage_edit"),
    pytest.param("settings:stage_delete", "stage", id="stage_delete"),
    pytest.param("settings:properties", None, id="properties"),
    pytest.param("settings:property_create", None, id="property_create"),
    pytest.param("settings:property_edit", "property", id="property_edit"),
    pytest.param("settings:property_delete", "property", id="property_delete"),
    pytest.param("settings:create_form", None, id="create_form"),
]

POST_ONLY = [
    pytest.param("settings:team_create", None, id="team_create"),
    pytest.param("settings:pipeline_create", None, id="pipeline_create"),
    pytest.param("settings:stage_add", "pipeline", id="stage_add"),
    pytest.param("settings:stage_move", "stage", id="stage_move"),
]

ALL_URLS = [pytest.param("settings:home", None, id="home"), *PAGES, *POST_ONLY]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "kind"), ALL_URLS)
def test_anonymous_is_sent_to_login(
    client: Client, objects: dict[str, Any], name: str, kind: str | None
) -> None:
    url = url_for(name, kind, objects)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "kind"), ALL_URLS)
def test_agent_with_seat_is_forbidden(
    client: Client, objects: dict[str, Any], name: str, kind: str | None
) -> None:
    client.force_login(AgentFactory())

    response = client.get(url_for(name, kind, objects))

    assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "kind"), PAGES)
def test_super_admin_opens_page(
    admin_client: Client, objects: dict[str, Any], name: str, kind: str | None
) -> None:
    response = admin_client.get(url_for(name, kind, objects))

    assert response.status_code == 200
    assert response.context["settings_section"] in {
        "users", "teams", "pipelines", "properties", "create_form"
    }  # fmt: skip


@pytest.mark.django_db
def test_settings_home_redirects_super_admin_to_users(admin_client: Client) -> None:
    response = admin_client.get(reverse("settings:home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("settings:users")


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "kind"), POST_ONLY)
def test_post_only_urls_refuse_get(
    admin_client: Client, objects: dict[str, Any], name: str, kind: str | None
) -> None:
    response = admin_client.get(url_for(name, kind, objects))

    assert response.status_code == 405


@pytest.mark.django_db
def test_agent_cannot_create_a_team_by_posting(client: Client) -> None:
    client.force_login(AgentFactory())

    response = client.post(reverse("settings:team_create"), {"name": "Billing"})

    assert response.status_code == 403
    assert not Team.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "kind"),
    [*POST_ONLY, *[p for p in PAGES if p.id not in {"users", "properties"}]],
)
def test_posts_without_csrf_token_are_refused(
    objects: dict[str, Any], admin: User, name: str, kind: str | None
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)

    response = client.post(url_for(name, kind, objects), {"name": "Changed"})

    assert response.status_code == 403
    assert not Team.objects.filter(name="Changed").exists()
    assert not Pipeline.objects.filter(name="Changed").exists()


# --- Users and seats ------------------------------------------------------------------------


def user_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "email": "new.agent@example.com",
        "first_name": "Nils",
        "last_name": "Nyström",
        "is_active": "on",
        "has_seat": "on",
        "ticket_access": TicketAccess.TEAM,
        "language": "sv",
        "time_zone": "Europe/Stockholm",
        "primary_team": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.django_db
def test_user_list_shows_users_and_searches_by_name_and_email(admin_client: Client) -> None:
    AgentFactory(first_name="Greta", last_name="Garbo", email="greta@example.com")
    AgentFactory(first_name="Sven", last_name="Svensson", email="sven@example.org")

    everyone = admin_client.get(reverse("settings:users"))
    by_name = admin_client.get(reverse("settings:users"), {"q": "greta garbo"})
    by_email = admin_client.get(reverse("settings:users"), {"q": "example.org"})
    nobody = admin_client.get(reverse("settings:users"), {"q": "zzz"})

    assert {u.email for u in everyone.context["users"]} == {
        "ada@example.com", "greta@example.com", "sven@example.org"
    }  # fmt: skip
    assert [u.email for u in by_name.context["users"]] == ["greta@example.com"]
    assert [u.email for u in by_email.context["users"]] == ["sven@example.org"]
    assert list(nobody.context["users"]) == []
    assert "No users match" in nobody.content.decode()


@pytest.mark.django_db
def test_create_user_saves_seat_permissions_and_teams_without_password(
    admin_client: Client,
) -> None:
    support, billing = TeamFactory(name="Support"), TeamFactory(name="Billing")

    response = admin_client.post(
        reverse("settings:user_create"),
        user_data(primary_team=support.pk, teams=[billing.pk], can_manage_views="on"),
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("settings:users")
    user = User.objects.get(email="new.agent@example.com")
    assert (user.first_name, user.last_name) == ("Nils", "Nyström")
    assert user.has_seat is True
    assert user.is_superuser is False
    assert user.can_manage_views is True
    assert user.has_account_access is False
    assert user.ticket_access == TicketAccess.TEAM
    assert (user.language, user.time_zone) == ("sv", "Europe/Stockholm")
    assert user.primary_team == support
    assert set(user.teams.all()) == {support, billing}
    assert user.has_usable_password() is False


@pytest.mark.django_db
def test_create_user_with_invalid_email_saves_nothing(admin_client: Client) -> None:
    before = User.objects.count()

    response = admin_client.post(reverse("settings:user_create"), user_data(email="not-an-email"))

    assert response.status_code == 422
    assert response.context["form"].errors["email"] == ["Enter a valid email address."]
    assert User.objects.count() == before


@pytest.mark.django_db
def test_create_user_with_taken_email_shows_service_error(admin_client: Client) -> None:
    AgentFactory(email="taken@example.com")
    before = User.objects.count()

    response = admin_client.post(
        reverse("settings:user_create"), user_data(email="Taken@Example.com")
    )

    assert response.status_code == 422
    assert "A user with this email address already exists." in response.content.decode()
    assert User.objects.count() == before


@pytest.mark.django_db
def test_edit_user_changes_email_seat_access_and_teams(admin_client: Client) -> None:
    support, billing = TeamFactory(name="Support"), TeamFactory(name="Billing")
    agent = AgentFactory(email="agent@example.com", primary_team=support)
    MembershipFactory(user=agent, team=support)

    response = admin_client.post(
        reverse("settings:user_edit", args=[agent.pk]),
        user_data(
            email="Agnes@Example.com",
            first_name="Agnes",
            has_seat=None,
            has_account_access="on",
            ticket_access=TicketAccess.OWN,
            primary_team=billing.pk,
        ),
    )

    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.email == "agnes@example.com"
    assert agent.first_name == "Agnes"
    assert agent.has_seat is False
    assert agent.has_account_access is True
    assert agent.ticket_access == TicketAccess.OWN
    assert agent.primary_team == billing
    assert list(agent.teams.all()) == [billing]


@pytest.mark.django_db
def test_edit_user_form_shows_current_values(admin_client: Client) -> None:
    support, billing = TeamFactory(name="Support"), TeamFactory(name="Billing")
    agent = AgentFactory(primary_team=support, can_manage_views=True)
    MembershipFactory(user=agent, team=support)
    MembershipFactory(user=agent, team=billing)

    response = admin_client.get(reverse("settings:user_edit", args=[agent.pk]))

    initial = response.context["form"].initial
    assert initial["primary_team"] == support.pk
    assert initial["teams"] == [billing.pk]
    assert initial["can_manage_views"] is True


@pytest.mark.django_db
def test_super_admin_cannot_remove_own_rights(admin_client: Client, admin: User) -> None:
    response = admin_client.post(
        reverse("settings:user_edit", args=[admin.pk]),
        user_data(email=admin.email, is_superuser=None),
    )

    assert response.status_code == 422
    assert "You cannot remove your own super admin rights." in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_superuser is True
    assert admin.first_name == "Ada"


@pytest.mark.django_db
def test_edit_unknown_user_is_404(admin_client: Client) -> None:
    response = admin_client.get(reverse("settings:user_edit", args=[999999]))

    assert response.status_code == 404


# --- Teams ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_team_list_shows_member_counts(admin_client: Client) -> None:
    support = TeamFactory(name="Support")
    MembershipFactory(team=support)
    MembershipFactory(team=support)
    TeamFactory(name="Billing")

    response = admin_client.get(reverse("settings:teams"))

    assert [(t.name, t.member_count) for t in response.context["teams"]] == [
        ("Billing", 0),
        ("Support", 2),
    ]


@pytest.mark.django_db
def test_create_team(admin_client: Client) -> None:
    response = admin_client.post(reverse("settings:team_create"), {"name": " Billing "})

    assert response.status_code == 302
    assert list(Team.objects.values_list("name", flat=True)) == ["Billing"]


@pytest.mark.django_db
def test_create_team_with_taken_name_shows_error(admin_client: Client) -> None:
    TeamFactory(name="Billing")

    response = admin_client.post(reverse("settings:team_create"), {"name": "billing"})

    assert response.status_code == 422
    assert response.context["form"].errors["name"] == ["A team with this name already exists."]
    assert Team.objects.count() == 1


@pytest.mark.django_db
def test_rename_team(admin_client: Client) -> None:
    team = TeamFactory(name="Suport")

    response = admin_client.post(
        reverse("settings:team_rename", args=[team.pk]), {"name": "Support"}
    )

    assert response.status_code == 302
    team.refresh_from_db()
    assert team.name == "Support"


@pytest.mark.django_db
def test_rename_team_to_empty_name_keeps_it(admin_client: Client) -> None:
    team = TeamFactory(name="Support")

    response = admin_client.post(reverse("settings:team_rename", args=[team.pk]), {"name": "  "})

    assert response.status_code == 422
    team.refresh_from_db()
    assert team.name == "Support"


@pytest.mark.django_db
def test_delete_team_after_confirmation(admin_client: Client) -> None:
    team = TeamFactory(name="Support")
    membership = MembershipFactory(team=team)

    confirm = admin_client.get(reverse("settings:team_delete", args=[team.pk]))
    response = admin_client.post(reverse("settings:team_delete", args=[team.pk]))

    assert "Delete team Support?" in confirm.content.decode()
    assert response.status_code == 302
    assert not Team.objects.filter(pk=team.pk).exists()
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert User.objects.filter(pk=membership.user_id).exists()


# --- Pipelines and statuses -----------------------------------------------------------------


@pytest.mark.django_db
def test_pipeline_page_lists_stages_in_order_with_ticket_counts(
    admin_client: Client, admin: User, pipeline: Pipeline
) -> None:
    new, _waiting_contact, _waiting_us, closed = stages_of(pipeline)
    create_ticket(actor=admin, name="One", pipeline=pipeline, stage=new)
    create_ticket(actor=admin, name="Two", pipeline=pipeline, stage=new)
    create_ticket(actor=admin, name="Three", pipeline=pipeline, stage=closed)

    response = admin_client.get(reverse("settings:pipelines"))

    [entry] = response.context["entries"]
    assert [(s.name, s.is_closed, s.ticket_count) for s in entry["stages"]] == [
        ("New", False, 2),
        ("Waiting on contact", False, 0),
        ("Waiting on us", False, 0),
        ("Closed", True, 1),
    ]
    assert entry["pipeline"].ticket_count == 3
    assert entry["pipeline"].ticket_count_exact
    assert "3 tickets" in response.content.decode()


@pytest.mark.django_db
def test_pipeline_page_counts_a_full_status_up_to_the_limit_as_the_sidebar_does(
    admin_client: Client, admin: User, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Counting every ticket of a status read the whole status index (~450 ms at 1M).
    monkeypatch.setattr("svardesk.workspace.settings.queries.COUNT_LIMIT", 2)
    monkeypatch.setattr("svardesk.ticket_views.queries.COUNT_LIMIT", 2)
    new, _waiting_contact, _waiting_us, closed = stages_of(pipeline)
    for name in ("One", "Two", "Three", "Four"):
        create_ticket(actor=admin, name=name, pipeline=pipeline, stage=new)
    create_ticket(actor=admin, name="Five", pipeline=pipeline, stage=closed)

    response = admin_client.get(reverse("settings:pipelines"))

    [entry] = response.context["entries"]
    assert [(s.ticket_count, s.ticket_count_label) for s in entry["stages"]] == [
        (3, "2+"),
        (0, "0"),
        (0, "0"),
        (1, "1"),
    ]
    assert entry["pipeline"].ticket_count == 3
    assert not entry["pipeline"].ticket_count_exact
    page = response.content.decode()
    assert "3+ tickets" in page
    assert "5 tickets" not in page


@pytest.mark.django_db
def test_create_pipeline_gets_default_stages(admin_client: Client) -> None:
    response = admin_client.post(reverse("settings:pipeline_create"), {"name": "Returns"})

    created = Pipeline.objects.get(name="Returns")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('settings:pipelines')}#pipeline-{created.pk}"
    assert [s.name for s in stages_of(created)] == [
        "New", "Waiting on contact", "Waiting on us", "Closed"
    ]  # fmt: skip


@pytest.mark.django_db
def test_create_pipeline_without_name_shows_error(admin_client: Client) -> None:
    response = admin_client.post(reverse("settings:pipeline_create"), {"name": ""})

    assert response.status_code == 422
    assert response.context["create_form"].errors["name"] == ["This field is required."]
    assert Pipeline.objects.count() == 1


@pytest.mark.django_db
def test_rename_pipeline(admin_client: Client, pipeline: Pipeline) -> None:
    response = admin_client.post(
        reverse("settings:pipeline_rename", args=[pipeline.pk]), {"name": "Customer support"}
    )

    assert response.status_code == 302
    pipeline.refresh_from_db()
    assert pipeline.name == "Customer support"


@pytest.mark.django_db
def test_delete_empty_pipeline(admin_client: Client, admin: User) -> None:
    returns = create_pipeline(actor=admin, name="Returns")

    response = admin_client.post(reverse("settings:pipeline_delete", args=[returns.pk]))

    assert response.status_code == 302
    assert not Pipeline.objects.filter(pk=returns.pk).exists()
    assert not Stage.objects.filter(pipeline_id=returns.pk).exists()


@pytest.mark.django_db
def test_delete_pipeline_in_use_shows_error_and_keeps_it(
    admin_client: Client, admin: User, pipeline: Pipeline
) -> None:
    create_pipeline(actor=admin, name="Returns")
    create_ticket(actor=admin, name="Broken", pipeline=pipeline)

    response = admin_client.post(reverse("settings:pipeline_delete", args=[pipeline.pk]))

    assert response.status_code == 409
    assert (
        "Move this pipeline&#x27;s tickets to another pipeline first." in response.content.decode()
    )
    assert Pipeline.objects.filter(pk=pipeline.pk).exists()


@pytest.mark.django_db
def test_delete_last_pipeline_shows_error(admin_client: Client, pipeline: Pipeline) -> None:
    response = admin_client.post(reverse("settings:pipeline_delete", args=[pipeline.pk]))

    assert response.status_code == 409
    assert "The last pipeline cannot be deleted." in response.content.decode()
    assert Pipeline.objects.filter(pk=pipeline.pk).exists()


@pytest.mark.django_db
def test_add_closed_stage(admin_client: Client, pipeline: Pipeline) -> None:
    prefix = f"stage-{pipeline.pk}"

    response = admin_client.post(
        reverse("settings:stage_add", args=[pipeline.pk]),
        {f"{prefix}-name": "Spam-ish", f"{prefix}-kind": "closed"},
    )

    assert response.status_code == 302
    last = stages_of(pipeline)[-1]
    assert (last.name, last.is_closed) == ("Spam-ish", True)


@pytest.mark.django_db
def test_add_stage_without_name_shows_error_on_that_pipeline(
    admin_client: Client, pipeline: Pipeline
) -> None:
    prefix = f"stage-{pipeline.pk}"

    response = admin_client.post(
        reverse("settings:stage_add", args=[pipeline.pk]),
        {f"{prefix}-name": "", f"{prefix}-kind": "open"},
    )

    assert response.status_code == 422
    [entry] = response.context["entries"]
    assert entry["form"].errors["name"] == ["This field is required."]
    assert len(stages_of(pipeline)) == 4


@pytest.mark.django_db
def test_edit_stage_closes_its_tickets(
    admin_client: Client, admin: User, pipeline: Pipeline
) -> None:
    stage = stages_of(pipeline)[2]
    ticket = create_ticket(actor=admin, name="Pending", pipeline=pipeline, stage=stage)

    response = admin_client.post(
        reverse("settings:stage_edit", args=[stage.pk]), {"name": "Resolved", "kind": "closed"}
    )

    assert response.status_code == 302
    stage.refresh_from_db()
    ticket.refresh_from_db()
    assert (stage.name, stage.is_closed) == ("Resolved", True)
    assert ticket.is_open is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("index", "direction", "expected"),
    [
        pytest.param(1, "up", ["Waiting on contact", "New", "Waiting on us", "Closed"], id="up"),
        pytest.param(
            1, "down", ["New", "Waiting on us", "Waiting on contact", "Closed"], id="down"
        ),
        pytest.param(
            0, "up", ["New", "Waiting on contact", "Waiting on us", "Closed"], id="first-up"
        ),
        pytest.param(
            3, "down", ["New", "Waiting on contact", "Waiting on us", "Closed"], id="last-down"
        ),
    ],
)
def test_move_stage(
    admin_client: Client, pipeline: Pipeline, index: int, direction: str, expected: list[str]
) -> None:
    stage = stages_of(pipeline)[index]

    response = admin_client.post(
        reverse("settings:stage_move", args=[stage.pk]), {"direction": direction}
    )

    assert response.status_code == 302
    assert [s.name for s in stages_of(pipeline)] == expected


@pytest.mark.django_db
def test_delete_unused_stage(admin_client: Client, pipeline: Pipeline) -> None:
    stage = stages_of(pipeline)[1]

    response = admin_client.post(reverse("settings:stage_delete", args=[stage.pk]))

    assert response.status_code == 302
    assert not Stage.objects.filter(pk=stage.pk).exists()


@pytest.mark.django_db
def test_delete_stage_in_use_without_target_shows_error_and_deletes_nothing(
    admin_client: Client, admin: User, pipeline: Pipeline
) -> None:
    stage = stages_of(pipeline)[0]
    ticket = create_ticket(actor=admin, name="Help", pipeline=pipeline, stage=stage)

    confirm = admin_client.get(reverse("settings:stage_delete", args=[stage.pk]))
    response = admin_client.post(reverse("settings:stage_delete", args=[stage.pk]), {"move_to": ""})

    assert confirm.context["form"].fields["move_to"].required is True
    assert response.status_code == 422
    assert response.context["form"].errors["move_to"] == ["Choose the status its tickets move to."]
    assert Stage.objects.filter(pk=stage.pk).exists()
    ticket.refresh_from_db()
    assert ticket.stage_id == stage.pk


@pytest.mark.django_db
def test_delete_stage_in_use_moves_tickets_to_target(
    admin_client: Client, admin: User, pipeline: Pipeline
) -> None:
    stage, _contact, _us, closed = stages_of(pipeline)
    tickets = [
        create_ticket(actor=admin, name=f"T{i}", pipeline=pipeline, stage=stage) for i in range(3)
    ]

    response = admin_client.post(
        reverse("settings:stage_delete", args=[stage.pk]), {"move_to": closed.pk}
    )

    assert response.status_code == 302
    assert not Stage.objects.filter(pk=stage.pk).exists()
    moved = Ticket.objects.filter(pk__in=[t.pk for t in tickets])
    assert {(t.stage_id, t.is_open) for t in moved} == {(closed.pk, False)}


@pytest.mark.django_db
def test_delete_stage_can_move_tickets_to_another_pipeline(
    admin_client: Client, admin: User, pipeline: Pipeline
) -> None:
    stage = stages_of(pipeline)[0]
    ticket = create_ticket(actor=admin, name="Return", pipeline=pipeline, stage=stage)
    returns = create_pipeline(actor=admin, name="Returns")
    target = add_stage(returns, actor=admin, name="Received", is_closed=False)

    response = admin_client.post(
        reverse("settings:stage_delete", args=[stage.pk]), {"move_to": target.pk}
    )

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.pipeline_id, ticket.stage_id) == (returns.pk, target.pk)


@pytest.mark.django_db
def test_delete_only_stage_shows_service_error(admin_client: Client, admin: User) -> None:
    lonely = create_pipeline(actor=admin, name="Lonely", stages=[("Only", False)])
    [only] = stages_of(lonely)

    response = admin_client.post(reverse("settings:stage_delete", args=[only.pk]))

    assert response.status_code == 422
    assert "A pipeline needs at least one status." in response.content.decode()
    assert Stage.objects.filter(pk=only.pk).exists()


# --- Ticket properties ----------------------------------------------------------------------


def property_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "label": "Plan",
        "name": "plan",
        "type": "select",
        "group": "",
        "new_group": "",
        "description": "The customer's plan",
        "options": "gold|Gold\n\nSilver\n  bronze | Bronze  \n",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_property_list_shows_builtin_and_custom_by_group(admin_client: Client) -> None:
    group = PropertyGroup.objects.create(label="Billing")
    create_property_definition(actor=None, name="plan", label="Plan", type="text", group=group)
    create_property_definition(actor=None, name="loose", label="Loose", type="number")

    response = admin_client.get(reverse("settings:properties"))

    builtin_names = [row["spec"].name for row in response.context["builtin"]]
    assert builtin_names[:4] == ["name", "description", "pipeline", "stage"]
    assert [
        (g["label"], [r["definition"].name for r in g["rows"]]) for g in response.context["groups"]
    ] == [
        ("Billing", ["plan"]),
        ("", ["loose"]),
    ]


@pytest.mark.django_db
def test_create_select_property_with_options(admin_client: Client) -> None:
    group = PropertyGroup.objects.create(label="Billing")

    response = admin_client.post(reverse("settings:property_create"), property_data(group=group.pk))

    assert response.status_code == 302
    definition = PropertyDefinition.objects.get(name="plan")
    assert (definition.label, definition.type, definition.group) == ("Plan", "select", group)
    assert definition.description == "The customer's plan"
    assert definition.options == [
        {"value": "gold", "label": "Gold"},
        {"value": "Silver", "label": "Silver"},
        {"value": "bronze", "label": "Bronze"},
    ]


@pytest.mark.django_db
def test_create_property_in_a_new_group(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("settings:property_create"),
        property_data(type="number", options="", new_group="Orders"),
    )

    assert response.status_code == 302
    definition = PropertyDefinition.objects.get(name="plan")
    assert definition.group is not None
    assert definition.group.label == "Orders"
    assert definition.options == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["Plan", "1plan", "plan-type", "priority"], ids=["upper", "digit", "dash", "builtin"]
)
def test_create_property_with_invalid_name_saves_nothing(admin_client: Client, name: str) -> None:
    response = admin_client.post(
        reverse("settings:property_create"), property_data(name=name, new_group="Orders")
    )

    assert response.status_code == 422
    assert response.context["form"].non_field_errors()
    assert not PropertyDefinition.objects.exists()
    assert not PropertyGroup.objects.filter(label="Orders").exists()


@pytest.mark.django_db
def test_create_select_property_without_options_shows_error(admin_client: Client) -> None:
    response = admin_client.post(reverse("settings:property_create"), property_data(options=""))

    assert response.status_code == 422
    assert "Give the property at least one option." in response.content.decode()
    assert not PropertyDefinition.objects.exists()


@pytest.mark.django_db
def test_create_property_with_taken_group_label_shows_error_on_group(admin_client: Client) -> None:
    PropertyGroup.objects.create(label="Orders")

    response = admin_client.post(
        reverse("settings:property_create"), property_data(new_group="orders")
    )

    assert response.status_code == 422
    assert response.context["form"].errors["new_group"] == [
        "A group with this label already exists."
    ]
    assert not PropertyDefinition.objects.exists()


@pytest.mark.django_db
def test_edit_property_label_group_and_options(admin_client: Client) -> None:
    definition = create_property_definition(
        actor=None,
        name="plan",
        label="Plan",
        type="select",
        options=[{"value": "gold", "label": "Gold"}],
    )
    group = PropertyGroup.objects.create(label="Billing")

    form = admin_client.get(reverse("settings:property_edit", args=[definition.pk])).context["form"]
    response = admin_client.post(
        reverse("settings:property_edit", args=[definition.pk]),
        {
            "label": "Customer plan",
            "group": group.pk,
            "description": "",
            "options": "gold|Gold\nplatinum|Platinum",
        },
    )

    assert form.initial["options"] == "gold|Gold"
    assert response.status_code == 302
    definition.refresh_from_db()
    assert (definition.label, definition.group, definition.name) == ("Customer plan", group, "plan")
    assert definition.options == [
        {"value": "gold", "label": "Gold"},
        {"value": "platinum", "label": "Platinum"},
    ]


@pytest.mark.django_db
def test_edit_text_property_has_no_options_field(admin_client: Client) -> None:
    definition = create_property_definition(actor=None, name="ref", label="Ref", type="text")

    response = admin_client.get(reverse("settings:property_edit", args=[definition.pk]))

    assert "options" not in response.context["form"].fields


@pytest.mark.django_db
def test_delete_property_after_confirmation(admin_client: Client) -> None:
    definition = create_property_definition(actor=None, name="ref", label="Ref", type="text")
    CreateFormField.objects.create(property_name="ref", display_order=9)

    response = admin_client.post(reverse("settings:property_delete", args=[definition.pk]))

    assert response.status_code == 302
    assert not PropertyDefinition.objects.exists()
    assert not CreateFormField.objects.filter(property_name="ref").exists()


# --- The create ticket form -----------------------------------------------------------------


@pytest.mark.django_db
def test_create_form_page_shows_locked_and_current_fields(admin_client: Client) -> None:
    create_property_definition(actor=None, name="order_number", label="Order number", type="text")

    response = admin_client.get(reverse("settings:create_form"))

    form = response.context["form"]
    assert [spec.name for spec in response.context["locked"]] == ["name", "pipeline", "stage"]
    assert "show_name" not in form.fields
    assert form["show_priority"].initial is True
    assert form["order_priority"].initial == 4
    assert [row["spec"].name for row in form.rows()] == [
        "contact", "description", "owner", "priority", "category", "team", "order_number"
    ]  # fmt: skip
    assert "Always shown" in response.content.decode()


@pytest.mark.django_db
def test_create_form_save_replaces_fields(admin_client: Client) -> None:
    create_property_definition(actor=None, name="order_number", label="Order number", type="text")

    response = admin_client.post(
        reverse("settings:create_form"),
        {
            "show_priority": "on",
            "required_priority": "on",
            "order_priority": "2",
            "show_order_number": "on",
            "order_order_number": "1",
            "show_description": "on",
            "order_description": "",
            "required_team": "on",  # not shown, so not in the form
            "show_name": "on",  # locked, ignored
        },
    )

    assert response.status_code == 302
    assert list(CreateFormField.objects.values_list("property_name", "is_required")) == [
        ("order_number", False),
        ("priority", True),
        ("description", False),
    ]


@pytest.mark.django_db
def test_create_form_with_invalid_position_saves_nothing(admin_client: Client) -> None:
    before = list(
        CreateFormField.objects.values_list("property_name", "display_order", "is_required")
    )

    response = admin_client.post(
        reverse("settings:create_form"), {"show_priority": "on", "order_priority": "-3"}
    )

    assert response.status_code == 422
    assert response.context["form"].errors["order_priority"]
    after = list(
        CreateFormField.objects.values_list("property_name", "display_order", "is_required")
    )
    assert after == before


def test_super_admin_changes_a_users_email(client, super_admin, agent):
    from django.urls import reverse

    client.force_login(super_admin)
    page = client.get(reverse("settings:user_edit", args=[agent.pk]))
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    data.update(
        email="Renamed@Example.com",
        ticket_access="all",
        language="en",
        time_zone="UTC",
        has_seat="on",
        is_active="on",
    )
    data.pop("teams", None)
    data["primary_team"] = agent.primary_team_id or ""
    response = client.post(reverse("settings:user_edit", args=[agent.pk]), data)
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.email == "renamed@example.com"
