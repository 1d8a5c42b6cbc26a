"""The demo's Graph stand-in answers the Send API and profiles as Graph does, only once the
demo is loaded, and refuses what Graph refuses."""

import json

import pytest

from svardesk.demo.models import DemoSite

pytestmark = pytest.mark.django_db

SEND = "/demo/graph/v21.0/me/messages"


@pytest.fixture
def demo_site():
    return DemoSite.objects.create(origin="http://127.0.0.1:8000")


def _send(client, body, access="page-token"):
    query = f"?access_token={access}" if access else ""
    return client.post(SEND + query, data=json.dumps(body), content_type="application/json")


def test_not_served_before_the_demo_is_loaded(client):
    assert _send(client, {"recipient": {"id": "1"}, "message": {"text": "Hi"}}).status_code == 404


def test_the_send_api_answers_with_the_recipient_and_a_message_id(client, demo_site):
    response = _send(
        client,
        {"recipient": {"id": "4711"}, "messaging_type": "RESPONSE", "message": {"text": "Hej"}},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["recipient_id"] == "4711"
    assert body["message_id"].startswith("m_demo_")


@pytest.mark.parametrize(
    ("body", "token"),
    [
        ({"recipient": {"id": "1"}, "message": {"text": "Hi"}}, ""),
        ({"message": {"text": "Hi"}}, "t"),
        ({"recipient": {"id": "1"}}, "t"),
    ],
    ids=["no token", "no recipient", "no message"],
)
def test_what_graph_refuses_is_refused_with_its_error_body(client, demo_site, body, token):
    response = _send(client, body, access=token)

    assert response.status_code == 400
    assert "message" in response.json()["error"]


def test_a_profile_reads_as_a_demo_name(client, demo_site):
    response = client.get("/demo/graph/v21.0/123456?fields=first_name,last_name&access_token=t")

    assert response.status_code == 200
    assert response.json()["first_name"]
    assert response.json()["id"] == "123456"
