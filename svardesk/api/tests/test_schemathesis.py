"""Schemathesis against the OpenAPI document on a live server: every operation, with data
that fits its schema (half of it aimed at records that exist) and data that does not. No
answer may be a 5xx, and every answer must have a documented status and match its
documented body (success and error shapes alike).

Bounded: a few examples per operation (`SCHEMATHESIS_EXAMPLES` to run more), no shrinking.
Derandomized, so the suite (and CI) sees the same examples every run and a failure
reproduces; `SCHEMATHESIS_EXPLORE=1` draws new ones each run (never under CI=true)."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
import requests
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from svardesk.api.openapi.document import build_document
from svardesk.conversations.inbound import record_inbound_message
from svardesk.conversations.models import Channel, ChannelKind, Inbox, InboxKind
from svardesk.conversations.services import add_comment
from svardesk.crm.models import Company, Deal
from svardesk.tickets.models import Stage
from tests.factories import ContactFactory, TicketFactory, default_pipeline

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "4"))
DERANDOMIZE = os.environ.get("CI") == "true" or not os.environ.get("SCHEMATHESIS_EXPLORE")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Run last: these take the seeded records away from the operations after them.
DESTRUCTIVE = re.compile(r"^(DELETE |POST .*/(archive|merge|gdpr-delete)$)")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def seeded(super_admin) -> dict[str, str]:
    """A few records of every kind, and the path parameter values that reach them."""
    pipeline = default_pipeline()
    contacts = [ContactFactory() for _ in range(3)]
    tickets = [TicketFactory(contact=contact) for contact in contacts]
    company = Company.objects.create(name="Acme", domain="acme.test")
    deal = Deal.objects.create(name="Renewal")
    inbox = Inbox.objects.filter(kind=InboxKind.HELP_DESK).first() or Inbox.objects.create(
        name="Help desk", kind=InboxKind.HELP_DESK
    )
    channel = Channel.objects.create(inbox=inbox, kind=ChannelKind.EMAIL, name="support")
    message = record_inbound_message(
        channel=channel,
        sender_name="Anna Svensson",
        sender_address="anna@example.se",
        to=["support@acme.example"],
        cc=[],
        subject="Help",
        body_text="Hello, I need help.",
        body_html="",
        message_id="<m1@example.se>",
        in_reply_to="",
        references=[],
        attachments=[],
        is_auto_generated=False,
        received_at=timezone.now(),
    )
    add_comment(message.conversation.ticket, actor=super_admin, html="<p>Looking.</p>")
    stage = Stage.objects.filter(pipeline=pipeline).order_by("pk").first()
    assert stage is not None
    return {
        "ticketId": str(tickets[0].pk),
        "contactId": str(contacts[0].pk),
        "companyId": str(company.pk),
        "dealId": str(deal.pk),
        "objectId": str(tickets[1].pk),
        "fromObjectId": str(tickets[1].pk),
        "toObjectId": str(contacts[1].pk),
        "pipelineId": "0",
        "stageId": str(stage.pk),
        "propertyName": "subject",
        "groupName": "ticketinformation",
        "ownerId": str(super_admin.pk),
        "inboxId": str(inbox.pk),
        "channelId": "1002",
        "channelAccountId": str(channel.pk),
        "threadId": str(message.conversation_id),
        "messageId": str(message.pk),
        "actorId": f"A-{super_admin.pk}",
    }


def _strategies(operation: Any, seeded: dict[str, str], headers: dict[str, str]) -> list[Any]:
    names = [p.name for p in operation.path_parameters]
    aimed = {name: seeded[name] for name in names if name in seeded}
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE, headers=headers),
        operation.as_strategy(GenerationMode.NEGATIVE, headers=headers),
    ]
    if aimed:
        strategies.append(
            operation.as_strategy(GenerationMode.POSITIVE, headers=headers, path_parameters=aimed)
        )
    return strategies


def test_no_operation_answers_a_server_error_or_breaks_its_schema(
    live_server, make_token, super_admin, seeded
):
    headers = {"Authorization": f"Bearer {make_token(super_admin)}"}
    schema = schemathesis.openapi.from_dict(build_document(live_server.url))
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda op: bool(DESTRUCTIVE.match(op.label)),
    )
    session = requests.Session()
    failures: list[str] = []
    calls = 0

    for operation in operations:
        for strategy in _strategies(operation, seeded, headers):

            @given(case=strategy)
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=DERANDOMIZE,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def call(case: Any) -> None:
                nonlocal calls
                calls += 1
                response = case.call(base_url=live_server.url, session=session, timeout=30)
                case.validate_response(response, checks=CHECKS)

            try:
                call()
            except Unsatisfiable:
                pass  # negative data for an operation whose every input is valid
            # Schemathesis' FailureGroup is a BaseExceptionGroup; one failure must not hide
            # the others.
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label}: {exc}")

    assert calls >= len(operations)
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
