"""Settings → Integrations → Private apps: super admins list, create and revoke tokens; the
token is shown once; others get 403."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from svardesk.api.models import ApiToken
from svardesk.api.tokens import find_active_token, hash_token

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
TOKEN_RE = re.compile(r'value="(pat-sd1-[A-Za-z0-9_-]+)"')


def _create(client, user, *, name="Nightly sync", scopes=("tickets",), headers=None):
    return client.post(
        reverse("private_apps:create"),
        {"name": name, "user": user.pk, "scopes": list(scopes)},
        headers=headers or {},
    )


def test_super_admin_sees_the_list_with_each_apps_facts(client, super_admin, agent):
    from svardesk.api.tokens import create_token, revoke_token

    create_token(user=agent, name="CRM sync", scopes=["tickets"], actor=super_admin)
    gone, _raw = create_token(
        user=super_admin, name="Old export", scopes=["conversations.read"], actor=super_admin
    )
    revoke_token(gone, actor=super_admin)
    client.force_login(super_admin)

    response = client.get(reverse("private_apps:list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "CRM sync" in html
    assert agent.display_name in html
    assert "<code>tickets</code>" in html
    assert "Old export" in html
    assert "Revoked" in html
    assert "Never" in html  # last used
    # Only the live one can be revoked.
    assert html.count('class="btn btn-sm btn-danger"') == 1
    assert 'href="/settings/integrations/private-apps/"' in html
    assert 'class="is-current">Integrations: private apps' in html


def test_create_form_defaults_to_the_current_admin_and_lists_every_scope(client, super_admin):
    from svardesk.api.scopes import SCOPES

    client.force_login(super_admin)

    response = client.get(reverse("private_apps:create"), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html  # a fragment for HTMX
    assert re.search(rf'<option value="{super_admin.pk}" selected>', html)
    for name, _label in SCOPES:
        assert f'value="{name}"' in html
    assert html.count('type="checkbox" name="scopes"') == len(SCOPES)
    assert 'name="csrfmiddlewaretoken"' in html


def test_creating_shows_the_token_once_and_stores_only_its_hash(client, super_admin, agent):
    client.force_login(super_admin)

    response = _create(client, agent, scopes=["tickets", "crm.objects.owners.read"], headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    raw = TOKEN_RE.search(html).group(1)
    assert "will not be shown again" in html
    assert "data-copy-from=" in html
    assert 'hx-history="false"' in html  # htmx keeps no copy of the page in localStorage
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get()
    assert token.name == "Nightly sync"
    assert token.user == agent
    assert token.created_by == super_admin
    assert token.scopes == ["crm.objects.owners.read", "tickets"]
    assert token.token_hash == hash_token(raw)
    assert raw not in str(ApiToken.objects.values_list().get())
    assert find_active_token(raw) == token
    # Never again: not on the list, not on the create form.
    assert raw not in client.get(reverse("private_apps:list")).content.decode()
    assert raw not in client.get(reverse("private_apps:create")).content.decode()
    assert token.prefix in client.get(reverse("private_apps:list")).content.decode()


def test_creating_without_htmx_renders_the_whole_page_with_the_token(client, super_admin):
    client.force_login(super_admin)

    response = _create(client, super_admin)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert TOKEN_RE.search(html)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        pytest.param({"name": "", "scopes": ["tickets"]}, "This field is required.", id="no-name"),
        pytest.param({"name": "App"}, "Choose at least one scope.", id="no-scope"),
        pytest.param(
            {"name": "App", "scopes": ["crm.objects.everything"]},
            "Select a valid choice.",
            id="unknown-scope",
        ),
    ],
)
def test_invalid_input_is_refused_inline_and_creates_nothing(client, super_admin, data, error):
    client.force_login(super_admin)

    response = client.post(
        reverse("private_apps:create"), {"user": super_admin.pk, **data}, headers=HTMX
    )

    assert response.status_code == 422
    assert error in response.content.decode()
    assert not TOKEN_RE.search(response.content.decode())
    assert not ApiToken.objects.exists()


def test_a_user_without_a_seat_cannot_be_chosen(client, super_admin, no_seat_user):
    client.force_login(super_admin)

    form = client.get(reverse("private_apps:create")).content.decode()
    response = _create(client, no_seat_user, headers=HTMX)

    assert f'value="{no_seat_user.pk}"' not in form
    assert response.status_code == 422
    assert not ApiToken.objects.exists()


def test_revoking_asks_first_then_refuses_the_token(client, super_admin):
    from svardesk.api.tokens import create_token

    token, raw = create_token(user=super_admin, name="Zap", scopes=["tickets"], actor=None)
    client.force_login(super_admin)
    url = reverse("private_apps:revoke", args=[token.pk])

    confirm = client.get(url, headers=HTMX)
    token.refresh_from_db()
    assert confirm.status_code == 200
    assert "Revoke private app Zap?" in confirm.content.decode()
    assert token.revoked_at is None  # asking changes nothing

    response = client.post(url, headers=HTMX)

    token.refresh_from_db()
    assert response.status_code == 200
    assert token.revoked_at is not None
    assert "Private app Zap was revoked." in response.content.decode()
    assert find_active_token(raw) is None


def test_revoking_without_htmx_redirects_to_the_list(client, super_admin):
    from svardesk.api.tokens import create_token

    token, _raw = create_token(user=super_admin, name="Zap", scopes=["tickets"], actor=None)
    client.force_login(super_admin)

    response = client.post(reverse("private_apps:revoke", args=[token.pk]), follow=True)

    assert response.redirect_chain == [(reverse("private_apps:list"), 302)]
    assert "Private app Zap was revoked." in response.content.decode()


@pytest.mark.parametrize("who", ["agent", "no_seat_user"])
def test_only_super_admins_may_open_or_change_private_apps(client, request, super_admin, who):
    from svardesk.api.tokens import create_token

    token, _raw = create_token(user=super_admin, name="Zap", scopes=["tickets"], actor=None)
    client.force_login(request.getfixturevalue(who))

    answers = [
        client.get(reverse("private_apps:list")),
        client.get(reverse("private_apps:create")),
        _create(client, super_admin),
        client.post(reverse("private_apps:revoke", args=[token.pk])),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403, 403]
    assert ApiToken.objects.count() == 1
    token.refresh_from_db()
    assert token.revoked_at is None


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("private_apps:list"))

    assert response.status_code == 302
    assert "login" in response["Location"] or "sign" in response["Location"]


def test_revoke_needs_the_csrf_token(super_admin):
    from django.test import Client

    from svardesk.api.tokens import create_token

    token, _raw = create_token(user=super_admin, name="Zap", scopes=["tickets"], actor=None)
    client = Client(enforce_csrf_checks=True)
    client.force_login(super_admin)

    response = client.post(reverse("private_apps:revoke", args=[token.pk]))

    token.refresh_from_db()
    assert response.status_code == 403
    assert token.revoked_at is None


def test_the_list_costs_the_same_queries_for_one_app_or_many(
    client, super_admin, agent, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from svardesk.api.tokens import create_token

    client.force_login(super_admin)
    create_token(user=agent, name="App 0", scopes=["tickets"], actor=super_admin)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("private_apps:list"))
    for n in range(1, 6):
        create_token(user=agent, name=f"App {n}", scopes=["tickets"], actor=super_admin)

    with django_assert_max_num_queries(len(one)):
        response = client.get(reverse("private_apps:list"))

    assert response.content.decode().count("App ") >= 6
