"""The API and the webhooks leave the middleware list early (core/machine_endpoints.py):
nothing of the browser's middleware runs for them, their domain errors are still answered as
the product answers them, and every other page still takes the whole list."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import URLPattern, get_resolver, include, path, resolve
from django.utils.translation import gettext

from svardesk.core.exceptions import NotFoundError, PermissionDeniedError
from svardesk.core.machine_endpoints import (
    MACHINE_PATH_PREFIXES,
    is_machine_endpoint,
    machine_endpoint,
)

# --- A URLconf with the project's URLs and a few views of the tests' own ---------------------


@machine_endpoint
def _missing(request: HttpRequest) -> HttpResponse:
    raise NotFoundError("No such thing")


@machine_endpoint
def _refused(request: HttpRequest) -> HttpResponse:
    raise PermissionDeniedError("Not yours")


@machine_endpoint
def _what_it_sees(request: HttpRequest) -> HttpResponse:
    # Something translated: the visitor's language must not reach a machine endpoint.
    seen = [
        f"user={request.user.is_authenticated}",
        f"session={hasattr(request, 'session')}",
        f"text={gettext('Tickets')}",
    ]
    return HttpResponse(" ".join(seen), content_type="text/plain")


def _browser_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"session={hasattr(request, 'session')}", content_type="text/plain")


urlpatterns = [
    path("channels/test-missing/", _missing),
    path("channels/test-refused/", _refused),
    path("channels/test-sees/", _what_it_sees),
    path("channels/test-browser/", _browser_view),
    path("", include("svardesk.config.urls")),
]

OWN_URLS = override_settings(ROOT_URLCONF=__name__)


# --- The project's endpoints -----------------------------------------------------------------


@pytest.mark.django_db
def test_an_api_request_takes_none_of_the_browsers_middleware(client: Client) -> None:
    client.cookies["django_language"] = "sv"
    response = client.get(
        "/crm/v3/objects/tickets/1", HTTP_ACCEPT_LANGUAGE="sv", HTTP_AUTHORIZATION="Bearer x"
    )

    assert response.status_code == 401
    assert response.json()["category"] == "INVALID_AUTHENTICATION"
    # LocaleMiddleware varies every response it passes by Accept-Language; sessions and
    # CSRF by Cookie.
    assert "Accept-Language" not in response.get("Vary", "")
    assert "Cookie" not in response.get("Vary", "")
    # The headers every response gets are still there.
    assert response["Content-Length"] == str(len(response.content))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_a_workspace_page_still_takes_the_whole_list(client: Client) -> None:
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="sv")

    assert response.status_code == 200
    assert "Accept-Language" in response["Vary"]


def _machine_routes() -> list[tuple[str, URLPattern]]:
    from tests.test_url_order import _routes

    return [
        (route, pattern)
        for route, pattern in _routes(get_resolver())
        if ("/" + route).startswith(MACHINE_PATH_PREFIXES)
    ]


def test_every_webhook_and_api_route_is_a_machine_endpoint() -> None:
    routes = _machine_routes()
    names = {pattern.name for _route, pattern in routes}
    assert {"webhook", "voice", "status", "recording", "transcription", "raw"} <= names
    assert len(routes) > 30  # the API's object, association, pipeline and property routes

    unmarked = [route for route, pattern in routes if not is_machine_endpoint(pattern.callback)]
    assert unmarked == []
    # The conversations API's paths are regular expressions; one of them, and the API's 404.
    assert is_machine_endpoint(resolve("/conversations/v3/conversations/threads").func)
    assert is_machine_endpoint(resolve("/crm/v3/no-such-thing").func)


# --- What a machine endpoint meets -----------------------------------------------------------


@OWN_URLS
@pytest.mark.django_db
def test_a_machine_endpoint_runs_in_the_default_language_without_session_or_user(
    client: Client,
) -> None:
    client.cookies["django_language"] = "sv"

    machine = client.get("/channels/test-sees/", HTTP_ACCEPT_LANGUAGE="sv")
    browser = client.get("/channels/test-browser/", HTTP_ACCEPT_LANGUAGE="sv")

    assert machine.content.decode() == "user=False session=False text=Tickets"
    assert browser.content.decode() == "session=True"  # unmarked: the whole list


@OWN_URLS
@pytest.mark.django_db
def test_domain_errors_of_a_machine_endpoint_are_answered_as_everywhere(client: Client) -> None:
    assert client.get("/channels/test-missing/").status_code == 404
    assert client.get("/channels/test-refused/").status_code == 403


@OWN_URLS
@pytest.mark.django_db
def test_an_unknown_path_under_a_machine_prefix_gets_the_products_404(client: Client) -> None:
    response = client.get("/channels/no-such-thing/")

    assert response.status_code == 404
    assert "Accept-Language" in response["Vary"]  # answered by the whole list
