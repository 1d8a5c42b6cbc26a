"""The workspace shell reaches every full page through its own templates (`{% shell %}`), while domain views import nothing from the workspace: the sidebar shows on the pages of
every app, with the current view highlighted, and only full pages pay for it — an HTMX fragment
reads no sidebar."""

import pytest
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from svardesk.ticket_views import services as view_services
from svardesk.ticket_views.filters import Filter
from svardesk.ticket_views.models import Sharing
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

SIDEBAR = 'id="sidebar-views"'
CUSTOM_VIEWS_READ = 'FROM "ticket_views_customview"'


def _get(client, url, **headers):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode(), [query["sql"] for query in captured.captured_queries]


@pytest.fixture
def ticket(support_team):
    return TicketFactory(name="Cannot log in", team=support_team)


@pytest.mark.parametrize(
    ("who", "url_name", "args"),
    [
        pytest.param("agent", "ticket_views:view", ["unassigned"], id="a-list"),
        pytest.param("super_admin", "ticket_views:create", [], id="the-view-editor"),
        pytest.param("agent", "tickets:detail", ["ticket"], id="the-ticket-page"),
        pytest.param("agent", "conversations:notifications", [], id="notifications"),
        pytest.param("agent", "accounts:preferences", [], id="preferences"),
        pytest.param("super_admin", "settings:users", [], id="workspace-settings"),
        pytest.param("super_admin", "channel_settings:quarantine", [], id="a-channel-setting"),
        pytest.param(
            "super_admin", "channel_settings:conversation_rules", [], id="conversation-rules"
        ),
    ],
)
def test_every_full_page_has_the_sidebar_with_its_views(
    client, request, ticket, who, url_name, args
):
    # Given a shared custom view
    user = request.getfixturevalue(who)
    view_services.create_view(
        actor=request.getfixturevalue("super_admin"),
        name="Urgent ones",
        sharing=Sharing.EVERYONE,
        filters=[Filter("priority", "EQ", "URGENT")],
    )
    client.force_login(user)
    url = reverse(url_name, args=[ticket.pk if a == "ticket" else a for a in args])
    # When a full page of any app renders
    body, _queries = _get(client, url)
    # Then the shell draws the sidebar: default views with counts, the custom view, the time
    assert SIDEBAR in body
    assert 'data-view="unassigned"' in body
    assert "Urgent ones" in body
    assert "Counts as of" in body


def test_a_settings_page_of_a_channel_marks_its_section(client, super_admin):
    client.force_login(super_admin)

    body, _queries = _get(client, reverse("channel_settings:quarantine"))

    assert f'href="{reverse("channel_settings:quarantine")}" class="is-current"' in body
    assert f'href="{reverse("settings:users")}" class=""' in body


@pytest.mark.parametrize(
    ("url_name", "args", "current"),
    [
        pytest.param("ticket_views:view", ["unassigned"], "unassigned", id="a-list"),
        pytest.param("tickets:detail", ["ticket"], "unassigned", id="a-ticket-opened-from-it"),
    ],
)
def test_the_current_view_is_highlighted(client, agent, ticket, url_name, args, current):
    client.force_login(agent)
    url = reverse(url_name, args=[ticket.pk if a == "ticket" else a for a in args])
    if url_name == "tickets:detail":
        url += f"?view={current}"

    body, _queries = _get(client, url)

    assert body.count('aria-current="page"') == 1
    assert f'aria-current="page" data-view="{current}"' in body
    assert f"?current={current}" in body


def test_no_view_is_highlighted_outside_the_lists(client, agent):
    client.force_login(agent)

    body, _queries = _get(client, reverse("conversations:notifications"))

    assert SIDEBAR in body
    assert 'aria-current="page"' not in body


@pytest.mark.parametrize(
    ("url_name", "args"),
    [
        pytest.param("tickets:detail", ["ticket"], id="the-ticket"),
        pytest.param("ticket_views:view", ["unassigned"], id="a-list"),
        pytest.param("conversations:notifications", [], id="notifications"),
    ],
)
def test_an_htmx_fragment_does_not_pay_for_the_sidebar(client, agent, ticket, url_name, args):
    client.force_login(agent)
    url = reverse(url_name, args=[ticket.pk if a == "ticket" else a for a in args])
    client.get(url)  # counts cached, as between two refreshes

    page, page_queries = _get(client, url)
    fragment, fragment_queries = _get(client, url, HTTP_HX_REQUEST="true")

    # The full page reads the custom views for its sidebar; the fragment reads none.
    assert SIDEBAR in page
    assert sum(CUSTOM_VIEWS_READ in sql for sql in page_queries) == 1
    assert SIDEBAR not in fragment
    assert sum(CUSTOM_VIEWS_READ in sql for sql in fragment_queries) == 0
    assert len(fragment_queries) < len(page_queries)


def test_the_ticket_page_shows_the_ticket_with_its_conversation(client, agent, ticket):
    """Composed above tickets and conversations: the header and sidebar from the ticket, the
    thread and reply editor from the conversation."""
    client.force_login(agent)

    body, _queries = _get(client, reverse("tickets:detail", args=[ticket.pk]))

    assert 'id="ticket-detail"' in body
    assert "Cannot log in" in body
    assert reverse("conversations:thread", args=[ticket.pk]) in body
    assert reverse("conversations:comment", args=[ticket.pk]) in body
    assert reverse("tickets:update_properties", args=[ticket.pk]) in body


def test_fixed_markup_is_drawn_once_per_language_and_reused():
    drawn = []

    class Probe:
        def __str__(self) -> str:
            drawn.append(translation.get_language())
            return "probe"

    template = engines["django"].from_string(
        "{% load i18n workspace_tags %}{% fixed %}{% translate 'Create ticket' %} {{ probe }}"
        "{% endfixed %} {{ user_name }}"
    )
    with translation.override("en"):
        first = template.render({"probe": Probe(), "user_name": "Ann"})
        second = template.render({"probe": Probe(), "user_name": "Bo"})
    with translation.override("sv"):
        swedish = template.render({"probe": Probe(), "user_name": "Cy"})

    assert first == "Create ticket probe Ann"
    assert second == "Create ticket probe Bo"  # outside the block: drawn per render
    assert swedish == "Skapa ärende probe Cy"
    assert drawn == ["en", "sv"]


def test_the_shell_in_swedish_after_english_is_swedish(client, agent):
    client.force_login(agent)
    english = client.get(reverse("ticket_views:all"), HTTP_ACCEPT_LANGUAGE="en")
    agent.language = "sv"
    agent.save(update_fields=["language"])
    swedish = client.get(reverse("ticket_views:all"))
    assert "Create ticket" in english.content.decode()
    assert "Skapa ärende" in swedish.content.decode()
    assert "Kortkommandon" in swedish.content.decode()  # the shortcuts dialog, fixed markup
    # drawn per request by the Jinja2 shell: the sidebar's sections and the user menu
    assert "Delade vyer" in swedish.content.decode()
    assert "Antal per kl." in swedish.content.decode()
    assert "Tillgänglig" in swedish.content.decode()


@pytest.mark.parametrize("view", ["inbox-²", "inbox-٣", "inbox-99999999999999999999", "inbox-"])
def test_a_view_from_the_query_string_that_names_no_inbox_is_no_error(client, agent, ticket, view):
    # The ticket page passes ?view= on to the shell, which reads an inbox id out of it.
    client.force_login(agent)
    response = client.get(reverse("tickets:detail", args=[ticket.pk]), {"view": view})
    assert response.status_code == 200
    assert 'id="ticket-detail"' in response.content.decode()
