"""Events end to end: a domain change → a delivery → a signed POST to a real HTTP receiver,
verified with the official SDK's signature check."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone
from hubspot.utils.signature import Signature

from svardesk.webhooks import queries, services
from svardesk.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db


def _new_ticket(actor, name: str = "Printer"):  # type: ignore[no-untyped-def]
    from svardesk.tickets.services import create_ticket, ensure_default_pipeline

    return create_ticket(actor=actor, name=name, pipeline=ensure_default_pipeline())


def _assert_signed(request, subscription, receiver) -> None:  # type: ignore[no-untyped-def]
    headers = request.headers
    assert headers["X-HubSpot-Signature-Version"] == "v3"
    assert headers["Content-Type"] == "application/json"
    assert Signature.is_valid(
        signature=headers["X-HubSpot-Signature-v3"],
        client_secret=queries.subscription_secret(subscription),
        request_body=request.body,
        http_uri=subscription.target_url,
        http_method="POST",
        signature_version="v3",
        timestamp=headers["X-HubSpot-Request-Timestamp"],
    )
    # A wrong secret does not verify.
    assert not Signature.is_valid(
        signature=headers["X-HubSpot-Signature-v3"],
        client_secret="not-the-secret",
        request_body=request.body,
        http_uri=subscription.target_url,
        http_method="POST",
        signature_version="v3",
        timestamp=headers["X-HubSpot-Request-Timestamp"],
    )


def test_ticket_created_changed_and_deleted_reach_the_receiver_signed(
    subscribe, receiver, super_admin, django_capture_on_commit_callbacks
):
    from svardesk.tickets.deletion import delete_tickets
    from svardesk.tickets.services import update_ticket

    subscription = subscribe(["ticket.creation", "ticket.propertyChange", "ticket.deletion"])
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _new_ticket(super_admin)
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(
            ticket.pk, actor=super_admin, changes={"name": "Printer on fire", "priority": "HIGH"}
        )
    with django_capture_on_commit_callbacks(execute=True):
        delete_tickets([ticket.pk], actor=super_admin)

    assert [r.path for r in receiver.requests] == ["/hook", "/hook", "/hook"]
    created, changed, deleted = (r.events for r in receiver.requests)
    assert [(e["subscriptionType"], e["objectId"]) for e in created] == [
        ("ticket.creation", ticket.pk)
    ]
    assert sorted((e["propertyName"], e["propertyValue"]) for e in changed) == [
        ("hs_ticket_priority", "HIGH"),
        ("subject", "Printer on fire"),
    ]
    assert {e["subscriptionType"] for e in changed} == {"ticket.propertyChange"}
    assert [(e["subscriptionType"], e["objectId"]) for e in deleted] == [
        ("ticket.deletion", ticket.pk)
    ]
    first = created[0]
    assert first["subscriptionId"] == subscription.pk
    assert first["attemptNumber"] == 0
    assert first["changeSource"] == "CRM"
    assert first["sourceId"] == f"userId:{super_admin.pk}"
    assert isinstance(first["occurredAt"], int)
    assert abs(first["occurredAt"] / 1000 - timezone.now().timestamp()) < 60
    assert {"eventId", "portalId", "appId"} <= first.keys()
    for request in receiver.requests:
        _assert_signed(request, subscription, receiver)
    deliveries = WebhookDelivery.objects.filter(subscription=subscription)
    assert [(d.status, d.attempts, d.last_status_code) for d in deliveries] == [
        (DeliveryStatus.SUCCEEDED, 1, 200)
    ] * 3


def test_a_stage_move_is_a_pipeline_stage_change(
    subscribe, receiver, super_admin, django_capture_on_commit_callbacks
):
    from svardesk.tickets.models import Stage
    from svardesk.tickets.services import move_to_stage

    subscribe(["ticket.propertyChange"])
    ticket = _new_ticket(super_admin)
    closed = Stage.objects.get(pipeline=ticket.pipeline, is_closed=True)
    with django_capture_on_commit_callbacks(execute=True):
        move_to_stage([ticket.pk], closed, actor=None)

    assert [
        (e["objectId"], e["propertyName"], e["propertyValue"], e["changeSource"])
        for e in receiver.events()
    ] == [(ticket.pk, "hs_pipeline_stage", str(closed.pk), "AUTOMATION")]


def test_a_merge_names_the_new_ticket_and_both_old_ones(
    subscribe, receiver, super_admin, django_capture_on_commit_callbacks
):
    from svardesk.tickets.merge import merge_tickets

    subscribe(["ticket.merge"])
    first, second = _new_ticket(super_admin), _new_ticket(super_admin, "Other")
    with django_capture_on_commit_callbacks(execute=True):
        merged = merge_tickets(primary=first, other=second, actor=super_admin)

    (event,) = receiver.events()
    assert event["subscriptionType"] == "ticket.merge"
    assert event["objectId"] == merged.pk
    assert event["mergedObjectIds"] == sorted([first.pk, second.pk])


def test_contact_created_changed_and_deleted(
    subscribe, receiver, super_admin, django_capture_on_commit_callbacks
):
    from svardesk.crm.services import create_contact, delete_contact, update_contact

    subscription = subscribe(
        ["contact.creation", "contact.propertyChange", "contact.deletion"], path="/contacts"
    )
    with django_capture_on_commit_callbacks(execute=True):
        contact = create_contact(actor=super_admin, first_name="Åsa", emails=["asa@kund.example"])
    with django_capture_on_commit_callbacks(execute=True):
        update_contact(contact, actor=super_admin, first_name="Åse", emails=["ny@kund.example"])
    with django_capture_on_commit_callbacks(execute=True):
        delete_contact(contact, actor=super_admin)

    events = receiver.events("/contacts")
    assert [e["subscriptionType"] for e in events if not e.get("propertyName")] == [
        "contact.creation",
        "contact.deletion",
    ]
    assert {e["objectId"] for e in events} == {contact.pk}
    assert sorted(
        (e["propertyName"], e["propertyValue"])
        for e in events
        if e["subscriptionType"] == "contact.propertyChange"
    ) == [("email", "ny@kund.example"), ("firstname", "Åse")]
    for request in receiver.requests:
        _assert_signed(request, subscription, receiver)


def test_a_new_message_is_sent_once_with_its_thread_and_kind(
    subscribe, receiver, super_admin, django_capture_on_commit_callbacks
):
    from svardesk.channels.email.services import connect_email_channel
    from svardesk.conversations.inbound import record_inbound_message
    from svardesk.conversations.services import add_comment

    channel = connect_email_channel(
        actor=None, address="support@acme.test", display_name="Acme"
    ).channel.channel
    subscribe(["conversation.newMessage"])
    with django_capture_on_commit_callbacks(execute=True):
        message = record_inbound_message(
            channel=channel,
            sender_name="Åsa Lindqvist",
            sender_address="asa@kund.example",
            to=["support@acme.test"],
            cc=[],
            subject="Printer on fire",
            body_text="It burns.",
            body_html="<p>It burns.</p>",
            message_id="<m1@kund.example>",
            in_reply_to="",
            references=[],
            attachments=[],
            is_auto_generated=False,
            received_at=timezone.now(),
        )
    with django_capture_on_commit_callbacks(execute=True):
        comment = add_comment(message.conversation.ticket, actor=super_admin, html="<p>On it.</p>")

    events = receiver.events()
    assert [
        (e["subscriptionType"], e["objectId"], e["messageId"], e["messageType"]) for e in events
    ] == [
        ("conversation.newMessage", message.conversation_id, str(message.pk), "MESSAGE"),
        ("conversation.newMessage", comment.conversation_id, str(comment.pk), "COMMENT"),
    ]


def test_two_subscriptions_each_get_each_event_once(
    subscribe, receiver, super_admin, django_capture_on_commit_callbacks
):
    from svardesk.tickets.services import update_ticket

    only_new = subscribe(["ticket.creation"], path="/a")
    everything = subscribe(["ticket.creation", "ticket.propertyChange"], path="/b")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _new_ticket(super_admin)
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(ticket.pk, actor=super_admin, changes={"priority": "LOW"})

    a_events, b_events = receiver.events("/a"), receiver.events("/b")
    assert [(e["subscriptionType"], e["subscriptionId"]) for e in a_events] == [
        ("ticket.creation", only_new.pk)
    ]
    assert [(e["subscriptionType"], e["subscriptionId"]) for e in b_events] == [
        ("ticket.creation", everything.pk),
        ("ticket.propertyChange", everything.pk),
    ]
    event_ids = [e["eventId"] for e in a_events + b_events]
    assert len(set(event_ids)) == len(event_ids)
    assert len(receiver.requests) == 3


def test_a_property_filter_sends_only_that_property(
    subscribe, receiver, super_admin, django_capture_on_commit_callbacks
):
    from svardesk.tickets.services import update_ticket

    subscribe(["ticket.propertyChange"], property_name="hs_ticket_priority")
    ticket = _new_ticket(super_admin)
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(
            ticket.pk, actor=super_admin, changes={"name": "Renamed", "priority": "URGENT"}
        )

    assert [(e["propertyName"], e["propertyValue"]) for e in receiver.events()] == [
        ("hs_ticket_priority", "URGENT")
    ]


def test_an_inactive_subscription_gets_nothing(
    subscribe, receiver, super_admin, django_capture_on_commit_callbacks
):
    subscription = subscribe(["ticket.creation"])
    with django_capture_on_commit_callbacks(execute=True):
        services.set_subscription_active(subscription, actor=super_admin, is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        _new_ticket(super_admin)

    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_a_rolled_back_change_sends_nothing(
    subscribe, receiver, super_admin, django_capture_on_commit_callbacks
):
    subscribe(["ticket.creation"])

    def create_then_fail() -> None:
        with transaction.atomic():
            _new_ticket(super_admin)
            raise RuntimeError("boom")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        create_then_fail()

    assert callbacks == []
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_a_500_is_retried_after_the_backoff_and_then_succeeds(
    subscribe, receiver, super_admin, django_capture_on_commit_callbacks
):
    subscription = subscribe(["ticket.creation"])
    receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        _new_ticket(super_admin)

    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.PENDING,
        1,
        500,
    )
    assert delivery.last_error == "HTTP 500"
    wait = (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds()
    assert 59 <= wait <= 61
    # Not due yet: nothing is sent.
    assert services.send_due_deliveries() == []

    later = timezone.now() + dt.timedelta(seconds=61)
    assert services.send_due_deliveries(now=later) == ["delivered"]

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.SUCCEEDED,
        2,
        200,
    )
    assert delivery.last_error == ""
    first, second = receiver.requests
    assert [e["attemptNumber"] for e in first.events + second.events] == [0, 1]
    assert first.events[0]["eventId"] == second.events[0]["eventId"]
    for request in receiver.requests:
        _assert_signed(request, subscription, receiver)
    # Delivered: never sent again, by the sweep, the task or Retry now.
    assert services.send_due_deliveries(now=later + dt.timedelta(days=9)) == []
    assert services.attempt_delivery(delivery.pk, now=later) == "skipped"
    assert services.retry_delivery(delivery, actor=super_admin) is False
    assert len(receiver.requests) == 2


def test_a_redirect_is_not_followed(
    subscribe, receiver, super_admin, django_capture_on_commit_callbacks
):
    subscription = subscribe(["ticket.creation"])
    receiver.statuses = [302]
    with django_capture_on_commit_callbacks(execute=True):
        _new_ticket(super_admin)

    assert [r.path for r in receiver.requests] == ["/hook"]
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert (delivery.status, delivery.last_status_code) == (DeliveryStatus.PENDING, 302)


def test_an_unreachable_receiver_is_recorded_and_given_up_after_the_last_attempt(
    subscribe, receiver, super_admin, django_capture_on_commit_callbacks
):
    subscription = subscribe(["ticket.creation"])
    receiver.statuses = [503] * services.MAX_ATTEMPTS
    with django_capture_on_commit_callbacks(execute=True):
        _new_ticket(super_admin)
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    moment = timezone.now()
    outcomes = []
    for _ in range(services.MAX_ATTEMPTS - 1):
        moment += dt.timedelta(days=2)
        outcomes += services.send_due_deliveries(now=moment)
    assert outcomes == ["retry"] * (services.MAX_ATTEMPTS - 2) + ["failed"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.FAILED,
        services.MAX_ATTEMPTS,
        "HTTP 503",
    )
    assert delivery.next_attempt_at is None
    # Retry now sends it once more (the receiver is back).
    with django_capture_on_commit_callbacks(execute=True):
        assert services.retry_delivery(delivery, actor=super_admin) is True
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 11)


def test_a_closed_port_is_an_error_not_a_crash(super_admin, tasks_now, receiver):
    subscription = services.create_subscription(
        actor=super_admin,
        name="Nowhere",
        target_url="http://127.0.0.1:9/hook",
        event_types=["ticket.creation"],
    )
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        events=[{"subscriptionType": "ticket.creation"}],
        next_attempt_at=timezone.now(),
    )
    assert services.attempt_delivery(delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.last_status_code is None
    assert "ConnectionRefusedError" in delivery.last_error


def test_a_delivery_another_worker_holds_is_skipped(subscribe, receiver):
    subscription = subscribe(["ticket.creation"])
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        events=[{"subscriptionType": "ticket.creation", "objectId": 1}],
        next_attempt_at=now,
        locked_until=now + dt.timedelta(seconds=30),
    )
    assert services.attempt_delivery(delivery.pk, now=now) == "skipped"
    assert services.retry_delivery(delivery, actor=None) is False
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.attempts == 0


def test_nothing_is_queued_without_subscriptions(super_admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _new_ticket(super_admin)
    assert not WebhookDelivery.objects.exists()


def test_a_test_event_goes_to_an_inactive_subscription_too(
    subscribe, receiver, super_admin, django_capture_on_commit_callbacks
):
    subscription = subscribe(["contact.propertyChange"], property_name="email")
    services.set_subscription_active(subscription, actor=super_admin, is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.send_test_event(subscription, actor=super_admin)

    (event,) = receiver.events()
    assert (event["subscriptionType"], event["objectId"], event["propertyName"]) == (
        "contact.propertyChange",
        0,
        "email",
    )
    delivery.refresh_from_db()
    assert delivery.is_test
    assert delivery.status == DeliveryStatus.SUCCEEDED


def test_company_and_deal_events_use_hubspot_names(
    subscribe, receiver, super_admin, django_capture_on_commit_callbacks
):
    from svardesk.crm.services import create_company, create_deal, update_company, update_deal

    subscribe(
        ["company.creation", "company.propertyChange", "deal.creation", "deal.propertyChange"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        company = create_company(actor=super_admin, name="Acme")
        deal = create_deal(actor=super_admin, name="Big one", amount="100")
    with django_capture_on_commit_callbacks(execute=True):
        update_company(company, actor=super_admin, domain="https://www.acme.example/", city="Lund")
        update_deal(deal, actor=super_admin, amount="250.5")

    assert sorted(
        (e["subscriptionType"], e["objectId"], e.get("propertyName"), e.get("propertyValue"))
        for e in receiver.events()
    ) == sorted(
        [
            ("company.creation", company.pk, None, None),
            ("deal.creation", deal.pk, None, None),
            ("company.propertyChange", company.pk, "city", "Lund"),
            ("company.propertyChange", company.pk, "domain", "acme.example"),
            ("deal.propertyChange", deal.pk, "amount", "250.50"),
        ]
    )


def test_an_inbound_email_announces_its_ticket_contact_and_message(
    subscribe, receiver, django_capture_on_commit_callbacks
):
    from svardesk.channels.email.services import connect_email_channel
    from svardesk.conversations.inbound import record_inbound_message

    channel = connect_email_channel(
        actor=None, address="support@acme.test", display_name="Acme"
    ).channel.channel
    subscribe(["ticket.creation", "contact.creation", "conversation.newMessage"])
    with django_capture_on_commit_callbacks(execute=True):
        message = record_inbound_message(
            channel=channel,
            sender_name="Bo Kund",
            sender_address="bo@kund.example",
            to=["support@acme.test"],
            cc=[],
            subject="Hello",
            body_text="Hi.",
            body_html="<p>Hi.</p>",
            message_id="<m2@kund.example>",
            in_reply_to="",
            references=[],
            attachments=[],
            is_auto_generated=False,
            received_at=timezone.now(),
        )

    conversation = message.conversation
    assert sorted(
        (e["subscriptionType"], e["objectId"], e["changeSource"]) for e in receiver.events()
    ) == [
        ("contact.creation", conversation.contact_id, "AUTOMATION"),
        ("conversation.newMessage", conversation.pk, "CONVERSATIONS"),
        ("ticket.creation", conversation.ticket_id, "AUTOMATION"),
    ]


def test_the_log_forgets_done_deliveries_after_thirty_days(subscribe):
    subscription = subscribe(["ticket.creation"])
    old = timezone.now() - dt.timedelta(days=31)
    rows = {
        status: WebhookDelivery.objects.create(subscription=subscription, status=status)
        for status in DeliveryStatus.values
    }
    WebhookDelivery.objects.update(created_at=old)
    recent = WebhookDelivery.objects.create(
        subscription=subscription, status=DeliveryStatus.SUCCEEDED
    )

    assert services.prune_delivery_log() == 2
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {
        rows[DeliveryStatus.PENDING].pk,
        recent.pk,
    }


def test_a_receiver_slower_than_the_timeout_is_a_failed_attempt(subscribe, receiver, monkeypatch):
    monkeypatch.setattr(services, "TIMEOUT_SECONDS", 0.3)
    receiver.delay = 1.5
    subscription = subscribe(["ticket.creation"])
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        events=[{"subscriptionType": "ticket.creation", "objectId": 1}],
        next_attempt_at=timezone.now(),
    )
    assert services.attempt_delivery(delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code is None
    assert "timed out" in delivery.last_error


def test_an_unreadable_secret_sends_nothing_and_says_why(subscribe, receiver):
    subscription = subscribe(["ticket.creation"])
    WebhookSubscription.objects.filter(pk=subscription.pk).update(secret_encrypted="garbage")
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        events=[{"subscriptionType": "ticket.creation", "objectId": 1}],
        next_attempt_at=timezone.now(),
    )
    assert services.attempt_delivery(delivery.pk) == "retry"
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert "signing secret cannot be read" in delivery.last_error


def test_contact_and_company_merges_name_the_survivor_and_the_merged_record(
    subscribe, receiver, super_admin, django_capture_on_commit_callbacks
):
    from svardesk.crm.services import (
        create_company,
        create_contact,
        merge_companies,
        merge_contacts,
    )

    subscribe(["contact.merge", "company.merge"])
    keep, gone = (
        create_contact(actor=super_admin, first_name="Åsa"),
        create_contact(actor=super_admin, first_name="Asa"),
    )
    acme, acme_ab = (
        create_company(actor=super_admin, name="Acme"),
        create_company(actor=super_admin, name="Acme AB"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        merge_contacts(actor=super_admin, primary=keep, other=gone)
    with django_capture_on_commit_callbacks(execute=True):
        merge_companies(actor=super_admin, primary=acme, other=acme_ab)

    assert [
        (e["subscriptionType"], e["objectId"], e["primaryObjectId"], e["mergedObjectIds"])
        for e in receiver.events()
    ] == [
        ("contact.merge", keep.pk, keep.pk, [gone.pk]),
        ("company.merge", acme.pk, acme.pk, [acme_ab.pk]),
    ]
