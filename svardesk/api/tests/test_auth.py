"""Bearer authentication and scopes, through the official SDK and raw HTTP: HubSpot's 401
and 403 bodies, and the request details the SDK sends (JSON content type on GET, Python's
`False`)."""

from __future__ import annotations

import json
import uuid

import pytest
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from hubspot.crm.owners.exceptions import UnauthorizedException as OwnersUnauthorized
from hubspot.crm.tickets.exceptions import ForbiddenException, UnauthorizedException

from svardesk.api.http import api_endpoint, json_response
from svardesk.api.models import ApiToken

TICKETS = "/crm/v3/objects/tickets"
OWNERS = "/crm/v3/owners/"


# A probe beside the real routes, for what no real endpoint may do on purpose (fail).
@api_endpoint(methods=("GET",))
def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


@api_endpoint(methods=("GET",))
def _whoami(request: HttpRequest) -> HttpResponse:
    return json_response({"user": request.user.email, "app": request.api_token.name})  # type: ignore[attr-defined]


urlpatterns = [
    path("crm/v3/probe/boom", _boom),
    path("crm/v3/probe/whoami", _whoami),
    path("", include("svardesk.config.urls")),
]


def _assert_unauthenticated(answer_status, body):
    assert answer_status == 401
    assert body["status"] == "error"
    assert body["category"] == "INVALID_AUTHENTICATION"
    assert body["message"].startswith("Authentication credentials not found.")
    uuid.UUID(body["correlationId"])


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-header"),
        pytest.param({"Authorization": "Bearer "}, id="empty-bearer"),
        pytest.param({"Authorization": "Basic YWRtaW46c2VjcmV0"}, id="basic"),
        pytest.param({"Authorization": "Bearer pat-sd1-not-a-real-token"}, id="unknown"),
        pytest.param({"Authorization": "Bearer " + "pat-" + "x" * 300}, id="too-long"),
    ],
)
def test_requests_without_a_valid_token_get_hubspots_401(raw_api, api_token, headers):
    answer = raw_api.get(TICKETS, token=None, headers=headers)

    _assert_unauthenticated(answer.status, answer.body)
    assert answer.headers["Content-Type"] == "application/json;charset=utf-8"
    assert "X-HubSpot-RateLimit-Remaining" not in answer.headers


def test_the_sdk_with_a_made_up_token_raises_unauthorized(make_client, api_token):
    client = make_client("pat-sd1-" + "A" * 43)

    with pytest.raises(UnauthorizedException) as error:
        client.crm.tickets.basic_api.get_page()

    _assert_unauthenticated(error.value.status, json.loads(error.value.body))


def test_a_revoked_token_is_refused_by_the_sdk(make_client, super_admin, make_token):
    from svardesk.api.tokens import revoke_token

    raw = make_token(super_admin)
    client = make_client(raw)
    assert client.crm.tickets.basic_api.get_page().results == []

    revoke_token(ApiToken.objects.get(), actor=super_admin)

    with pytest.raises(UnauthorizedException) as error:
        client.crm.tickets.basic_api.get_page()
    _assert_unauthenticated(error.value.status, json.loads(error.value.body))


def test_a_token_revoked_in_settings_is_refused(client, make_client, super_admin, make_token):
    raw = make_token(super_admin)
    sdk = make_client(raw)
    sdk.crm.owners.owners_api.get_page()
    client.force_login(super_admin)

    client.post(f"/settings/integrations/private-apps/{ApiToken.objects.get().pk}/revoke/")

    with pytest.raises(OwnersUnauthorized):
        sdk.crm.owners.owners_api.get_page()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"has_seat": False}, id="seat-taken-away"),
        pytest.param({"is_active": False}, id="deactivated"),
    ],
)
def test_a_token_of_a_user_who_may_no_longer_work_here_is_refused(
    make_client, make_token, agent, change
):
    raw = make_token(agent)
    sdk = make_client(raw)
    sdk.crm.tickets.basic_api.get_page()

    for field, value in change.items():
        setattr(agent, field, value)
    agent.save()

    with pytest.raises(UnauthorizedException) as error:
        sdk.crm.tickets.basic_api.get_page()
    _assert_unauthenticated(error.value.status, json.loads(error.value.body))


def test_a_token_without_the_tickets_scope_gets_403_missing_scopes(make_client, make_token, agent):
    sdk = make_client(make_token(agent, scopes=["crm.objects.owners.read"]))

    with pytest.raises(ForbiddenException) as error:
        sdk.crm.tickets.basic_api.get_page()

    body = json.loads(error.value.body)
    assert error.value.status == 403
    assert body["category"] == "MISSING_SCOPES"
    assert body["status"] == "error"
    assert body["message"].startswith("This app hasn't been granted all required scopes")
    assert "tickets" in body["context"]["requiredGranularScopes"]
    assert "tickets" in body["context"]["missingScopes"]
    assert "tickets" in body["errors"][0]["context"]["requiredGranularScopes"]
    uuid.UUID(body["correlationId"])
    # ...while the scope it has works.
    assert sdk.crm.owners.owners_api.get_page().results is not None


def test_a_read_scope_does_not_allow_writes(make_client, make_token, agent):
    from hubspot.crm.contacts import SimplePublicObjectInputForCreate
    from hubspot.crm.contacts.exceptions import ForbiddenException as ContactsForbidden

    sdk = make_client(make_token(agent, scopes=["crm.objects.contacts.read"]))
    assert sdk.crm.contacts.basic_api.get_page().results == []

    with pytest.raises(ContactsForbidden) as error:
        sdk.crm.contacts.basic_api.create(
            simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
                properties={"email": "new@example.com"}
            )
        )

    body = json.loads(error.value.body)
    assert body["category"] == "MISSING_SCOPES"
    assert body["context"]["requiredGranularScopes"] == ["crm.objects.contacts.write"]


def test_a_get_with_a_json_content_type_and_no_body_works(raw_api):
    answer = raw_api.get(
        TICKETS + "?limit=5&archived=False",
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )

    assert answer.status == 200
    assert answer.body["results"] == []


@pytest.mark.parametrize("archived", [False, True])
def test_archived_as_python_writes_it_parses(hubspot, archived):
    page = hubspot.crm.tickets.basic_api.get_page(archived=archived, limit=5)

    assert page.results == []


@pytest.mark.parametrize("value", ["false", "FALSE", "0", "True", "1"])
def test_booleans_parse_case_insensitively(raw_api, value):
    assert raw_api.get(f"{TICKETS}?archived={value}").status == 200


def test_a_malformed_boolean_is_a_validation_error(raw_api):
    answer = raw_api.get(f"{TICKETS}?archived=maybe")

    assert answer.status == 400
    assert answer.body["category"] == "VALIDATION_ERROR"


def test_use_is_recorded_as_the_last_used_time(hubspot, super_admin):
    assert ApiToken.objects.get().last_used_at is None

    hubspot.crm.tickets.basic_api.get_page()

    assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.urls(__name__)
def test_requests_act_as_the_tokens_user(raw_api, make_token, agent):
    raw = make_token(agent, scopes=["tickets"], name="Agent's script")

    answer = raw_api.get("/crm/v3/probe/whoami", token=raw)

    assert answer.body == {"user": agent.email, "app": "Agent's script"}


@pytest.mark.urls(__name__)
def test_the_bearer_scheme_is_case_insensitive(raw_api, api_token):
    answer = raw_api.get(
        "/crm/v3/probe/whoami", token=None, headers={"Authorization": f"bearer {api_token}"}
    )

    assert answer.status == 200


@pytest.mark.urls(__name__)
def test_an_unexpected_error_is_a_500_in_hubspots_body_not_a_page(raw_api, caplog):
    answer = raw_api.get("/crm/v3/probe/boom")

    assert answer.status == 500
    assert answer.body["category"] == "INTERNAL_ERROR"
    assert "a bug" not in answer.raw.decode()
    assert "API request failed: GET /crm/v3/probe/boom" in caplog.text


@pytest.mark.urls(__name__)
def test_a_method_the_endpoint_does_not_serve_is_405(raw_api):
    answer = raw_api.delete("/crm/v3/probe/whoami")

    assert answer.status == 405
    assert answer.body["category"] == "METHOD_NOT_ALLOWED"


@pytest.mark.urls(__name__)
def test_the_token_never_appears_in_the_logs(raw_api, api_token, caplog):
    raw_api.get("/crm/v3/probe/boom")
    raw_api.get(TICKETS, token="pat-sd1-wrong")

    assert api_token not in caplog.text
    assert "pat-sd1-wrong" not in caplog.text


def test_json_nested_deeper_than_the_parser_goes_is_a_validation_error(raw_api):
    answer = raw_api.request(
        "POST",
        "/crm/v3/objects/tickets",
        data=b'{"properties": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    )
    assert answer.status == 400
    assert answer.body["category"] == "VALIDATION_ERROR"
