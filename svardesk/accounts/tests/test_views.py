import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def test_login_with_email_any_case(client, agent):
    response = client.post(
        reverse("accounts:login"), {"username": "AGENT@svardesk.test", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # now signed in: home redirects to a view


def test_wrong_password_shows_error(client, agent):
    response = client.post(reverse("accounts:login"), {"username": agent.email, "password": "nope"})
    assert response.status_code == 200
    assert "do not match" in response.content.decode()


def test_invalid_login_form_shows_field_errors(client):
    response = client.post(reverse("accounts:login"), {"username": "not-an-email", "password": ""})
    assert response.status_code == 200
    assert "field-error" in response.content.decode()


# Sign-in throttling: test_sign_in_throttle.py.


def test_logout_requires_post(client, agent):
    client.force_login(agent)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get("/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_reset_by_email_over_smtp(client, agent, smtp_server):
    response = client.post(reverse("accounts:password_reset"), {"email": agent.email})
    assert response.status_code == 302
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == agent.email
    link = re.search(
        r"http://testserver(/accounts/password-reset/\S+/)", message.get_content()
    ).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0]
    response = client.post(
        set_url,
        {"new_password1": "a brand new secret 42", "new_password2": "a brand new secret 42"},
    )
    assert response.status_code == 302
    assert client.login(username=agent.email, password="a brand new secret 42")


def test_password_reset_for_unknown_address_reveals_nothing(client, smtp_server):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert smtp_server.messages == []


def test_preferences_switch_language_to_swedish(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("accounts:preferences"), {"language": "sv", "time_zone": "Europe/Stockholm"}
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.language, agent.time_zone) == ("sv", "Europe/Stockholm")
    page = client.get(reverse("ticket_views:view", args=["unassigned"]))
    assert page.headers["Content-Language"] == "sv"
    assert "Otilldelade" in page.content.decode()


def test_preferences_reject_unknown_time_zone(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("accounts:preferences"), {"language": "en", "time_zone": "Mars/Olympus"}
    )
    assert response.status_code == 200
    agent.refresh_from_db()
    assert agent.time_zone == "UTC"


def test_user_without_seat_gets_clear_403(client, no_seat_user):
    client.force_login(no_seat_user)
    response = client.get(reverse("ticket_views:view", args=["all-open"]))
    assert response.status_code == 403
    assert "help desk seat" in response.content.decode()
    assert client.get(reverse("accounts:preferences")).status_code == 200


def test_csrf_is_enforced(agent):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    assert strict.post(reverse("tickets:create"), {"name": "x"}).status_code == 403
