"""The webhook's request path stays lean (≥300 webhooks/s is the target): a known person's
message costs the channel three statements of its own and no Graph call."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from svardesk.channels.messenger.views import webhook_path
from svardesk.conversations.models import Message, MessageDirection

from .conftest import sign
from .helpers import PSID, text_event

pytestmark = pytest.mark.django_db


def _post(client, page, body):  # type: ignore[no-untyped-def]
    return client.post(
        webhook_path(page),
        body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=sign(body),
    )


def test_a_known_persons_message_costs_three_statements_of_the_channel_and_no_graph_call(
    client, page, graph
):
    graph.profiles[PSID] = {"first_name": "Maja", "last_name": "Berg"}
    assert _post(client, page, text_event("m_first", "Hello")).status_code == 200
    # Warm: the first message made the pipeline, which clears the per-process caches.
    assert _post(client, page, text_event("m_warm", "Hi again")).status_code == 200
    graph.requests.clear()

    with CaptureQueriesContext(connection) as queries:
        response = _post(client, page, text_event("m_second", "Still there?"))

    assert response.status_code == 200
    ours = [q["sql"] for q in queries.captured_queries if "messenger_channel_" in q["sql"]]
    assert [sql.split()[0] for sql in ours] == ["INSERT", "SELECT", "UPDATE"], ours
    assert graph.requests == []
    assert Message.objects.filter(direction=MessageDirection.INBOUND).count() == 3


def test_a_text_delivered_twice_is_refused_by_the_unique_message_id(client, page, graph):
    body = text_event("m_same", "Hello")
    assert _post(client, page, body).status_code == 200
    assert _post(client, page, body).status_code == 200
    assert Message.objects.filter(direction=MessageDirection.INBOUND).count() == 1
