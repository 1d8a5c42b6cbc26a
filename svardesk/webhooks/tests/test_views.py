"""Settings → Integrations → Webhooks: who may use it, the form's checks, and each action."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from svardesk.core.crypto import decrypt_secret
from svardesk.webhooks import services
from svardesk.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Warehouse",
    "target_url": "https://example.com/hooks/svardesk",
    "event_types": ["ticket.creation", "contact.deletion"],
    "property_name": "",
}


@pytest.fixture
def admin_client(client, super_admin):  # type: ignore[no-untyped-def]
    client.force_login(super_admin)
    return client


@pytest.fixture
def hook(super_admin):  # type: ignore[no-untyped-def]
    return services.create_subscription(
        actor=super_admin,
        name="Warehouse",
        target_url="http://127.0.0.1:9/hook",
        event_types=["ticket.creation"],
    )


def _pages(pk: int, delivery_pk: int) -> list[tuple[str, str]]:
    return [
        ("get", reverse("webhooks:list")),
        ("get", reverse("webhooks:create")),
        ("post", reverse("webhooks:create")),
        ("get", reverse("webhooks:detail", args=[pk])),
        ("get", reverse("webhooks:edit", args=[pk])),
        ("post", reverse("webhooks:edit", args=[pk])),
        ("post", reverse("webhooks:set_active", args=[pk])),
        ("post", reverse("webhooks:test", args=[pk])),
        ("post", reverse("webhooks:new_secret", args=[pk])),
        ("get", reverse("webhooks:log", args=[pk])),
        ("post", reverse("webhooks:retry", args=[pk, delivery_pk])),
        ("get", reverse("webhooks:delete", args=[pk])),
        ("post", reverse("webhooks:delete", args=[pk])),
    ]


def test_agents_are_refused_and_nothing_changes(client, agent, hook):
    delivery = WebhookDelivery.objects.create(subscription=hook, status=DeliveryStatus.FAILED)
    secret_before = hook.secret_encrypted
    client.force_login(agent)
    for method, url in _pages(hook.pk, delivery.pk):
        response = getattr(client, method)(url, VALID if method == "post" else None)
        assert response.status_code == 403, url
        assert hook.secret_encrypted not in response.content.decode()
    hook.refresh_from_db()
    assert (hook.name, hook.is_active, hook.secret_encrypted) == (
        "Warehouse",
        True,
        secret_before,
    )
    assert WebhookSubscription.objects.count() == 1
    assert WebhookDelivery.objects.count() == 1


def test_signed_out_visitors_are_sent_to_sign_in(client, hook):
    response = client.get(reverse("webhooks:detail", args=[hook.pk]))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_the_empty_list_says_what_to_do(admin_client):
    response = admin_client.get(reverse("webhooks:list"))
    assert response.status_code == 200
    assert "No webhooks yet" in response.content.decode()


def test_creating_a_webhook_stores_an_encrypted_secret_and_shows_it(admin_client, super_admin):
    response = admin_client.post(reverse("webhooks:create"), VALID)

    subscription = WebhookSubscription.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("webhooks:detail", args=[subscription.pk])
    assert (subscription.name, subscription.target_url, subscription.created_by) == (
        "Warehouse",
        "https://example.com/hooks/svardesk",
        super_admin,
    )
    assert subscription.event_types == ["ticket.creation", "contact.deletion"]
    secret = decrypt_secret(subscription.secret_encrypted)
    assert len(secret) >= 40
    assert secret not in subscription.secret_encrypted
    page = admin_client.get(response["Location"]).content.decode()
    assert secret in page
    # htmx keeps no copy of a page showing the secret in its history cache (localStorage).
    assert 'hx-history="false"' in page
    assert "https://example.com/hooks/svardesk" in page
    listed = admin_client.get(reverse("webhooks:list")).content.decode()
    assert "Warehouse" in listed
    assert secret not in listed


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)//https://x.test",
        "ftp://example.com/hook",
        "data:text/html,hi",
        "//example.com/hook",
        "https://",
        "not a url",
        "",
    ],
    ids=[
        "file",
        "javascript",
        "javascript-mixed-case",
        "ftp",
        "data",
        "scheme-relative",
        "no-host",
        "words",
        "empty",
    ],
)
def test_only_http_and_https_urls_are_accepted(admin_client, url):
    response = admin_client.post(reverse("webhooks:create"), {**VALID, "target_url": url})

    assert response.status_code == 422
    assert not WebhookSubscription.objects.exists()
    assert 'class="field-error"' in response.content.decode()


def test_a_webhook_needs_an_event(admin_client):
    response = admin_client.post(reverse("webhooks:create"), {**VALID, "event_types": []})
    assert response.status_code == 422
    assert "Choose at least one event." in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_editing_changes_url_events_and_property(admin_client, hook):
    response = admin_client.post(
        reverse("webhooks:edit", args=[hook.pk]),
        {
            "name": "CRM sync",
            "target_url": "http://sync.example.com/in",
            "event_types": ["contact.propertyChange"],
            "property_name": "email",
        },
    )
    assert response.status_code == 302
    hook.refresh_from_db()
    assert (hook.name, hook.target_url, hook.event_types, hook.property_name) == (
        "CRM sync",
        "http://sync.example.com/in",
        ["contact.propertyChange"],
        "email",
    )
    bad = admin_client.post(
        reverse("webhooks:edit", args=[hook.pk]), {**VALID, "target_url": "file:///x"}
    )
    assert bad.status_code == 422
    hook.refresh_from_db()
    assert hook.target_url == "http://sync.example.com/in"


def test_turning_off_and_on_with_htmx_answers_the_webhook_region(admin_client, hook):
    url = reverse("webhooks:set_active", args=[hook.pk])
    off = admin_client.post(url, {"active": "0"}, HTTP_HX_REQUEST="true")
    assert off.status_code == 200
    body = off.content.decode()
    assert 'id="webhook"' in body
    assert "<html" not in body
    assert "receives no events" in body
    hook.refresh_from_db()
    assert hook.is_active is False
    on = admin_client.post(url, {"active": "1"})
    assert on.status_code == 302
    hook.refresh_from_db()
    assert hook.is_active is True


def test_send_test_event_and_retry_now_show_in_the_log(
    admin_client, super_admin, receiver, tasks_now, django_capture_on_commit_callbacks
):
    hook = services.create_subscription(
        actor=super_admin,
        name="Receiver",
        target_url=receiver.url + "/in",
        event_types=["ticket.creation"],
    )
    receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("webhooks:test", args=[hook.pk]), HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get(subscription=hook)
    assert (delivery.is_test, delivery.status, delivery.last_status_code) == (
        True,
        DeliveryStatus.PENDING,
        500,
    )
    assert "A test event was sent." in response.content.decode()
    log = admin_client.get(reverse("webhooks:log", args=[hook.pk])).content.decode()
    assert "HTTP 500" in log
    assert "Retry now" in log

    with django_capture_on_commit_callbacks(execute=True):
        retried = admin_client.post(
            reverse("webhooks:retry", args=[hook.pk, delivery.pk]), HTTP_HX_REQUEST="true"
        )
    assert retried.status_code == 200
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 2)
    assert len(receiver.requests) == 2
    log = admin_client.get(reverse("webhooks:log", args=[hook.pk])).content.decode()
    assert "Delivered" in log
    assert "Retry now" not in log


def test_a_delivery_of_another_webhook_is_not_found(admin_client, super_admin, hook):
    other = services.create_subscription(
        actor=super_admin,
        name="Other",
        target_url="https://example.com/x",
        event_types=["ticket.creation"],
    )
    delivery = WebhookDelivery.objects.create(subscription=other, status=DeliveryStatus.FAILED)
    response = admin_client.post(reverse("webhooks:retry", args=[hook.pk, delivery.pk]))
    assert response.status_code == 404
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED


def test_a_new_secret_replaces_the_old(admin_client, hook):
    before = decrypt_secret(hook.secret_encrypted)
    response = admin_client.post(reverse("webhooks:new_secret", args=[hook.pk]))
    assert response.status_code == 302
    hook.refresh_from_db()
    assert decrypt_secret(hook.secret_encrypted) not in ("", before)


def test_deleting_asks_first_then_removes_the_log_too(admin_client, hook):
    WebhookDelivery.objects.create(subscription=hook)
    confirm = admin_client.get(reverse("webhooks:delete", args=[hook.pk]))
    assert confirm.status_code == 200
    assert WebhookSubscription.objects.exists()
    response = admin_client.post(reverse("webhooks:delete", args=[hook.pk]))
    assert response.status_code == 302
    assert not WebhookSubscription.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_posts_need_the_csrf_token(super_admin, hook):
    client = Client(enforce_csrf_checks=True)
    client.force_login(super_admin)
    response = client.post(reverse("webhooks:set_active", args=[hook.pk]), {"active": "0"})
    assert response.status_code == 403
    hook.refresh_from_db()
    assert hook.is_active is True
