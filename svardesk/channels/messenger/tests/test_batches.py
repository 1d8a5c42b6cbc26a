"""With a processing delay the webhook only stores the delivery and schedules one batch task
per burst; the batch records every message exactly once (duplicates, a person's first
messages, a bad body among good ones)."""

from __future__ import annotations

import json

import pytest

from svardesk.channels.messenger import services
from svardesk.channels.messenger.models import MessengerConversation, MessengerEvent, MessengerUser
from svardesk.channels.messenger.views import webhook_path
from svardesk.conversations.models import Message, MessageDirection
from svardesk.tickets.models import Ticket

from .helpers import PSID, post, text_event

pytestmark = pytest.mark.django_db(transaction=True)

OTHER = "1111222233334444"


@pytest.fixture
def deferred(settings, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A delay, tasks not run (the queue in its own file): the webhook only stores."""
    from huey.contrib.djhuey import HUEY
    from huey.storage import SqliteStorage

    settings.INBOUND_PROCESSING_DELAY = 1.0
    monkeypatch.setattr(HUEY, "immediate", False)
    monkeypatch.setattr(
        HUEY, "storage", SqliteStorage(name="messenger-batches", filename=str(tmp_path / "q.db"))
    )
    return HUEY


def _inbound() -> list[Message]:
    return list(Message.objects.filter(direction=MessageDirection.INBOUND).order_by("id"))


def test_the_webhook_only_stores_and_one_task_per_burst_is_scheduled(
    live_server, page, graph, deferred
):
    url = live_server.url + webhook_path(page)

    answers = [post(url, text_event(f"m_{n}", f"Hello {n}")) for n in range(3)]

    assert [(a.status_code, a.text) for a in answers] == [(200, "EVENT_RECEIVED")] * 3
    assert MessengerEvent.objects.filter(processed_at__isnull=True, attempts=0).count() == 3
    assert _inbound() == []
    assert deferred.pending_count() + deferred.scheduled_count() == 1  # one batch for three
    assert graph.requests == []  # no profile asked for in the request


def test_the_batch_records_everything_once(live_server, page, graph, deferred):
    url = live_server.url + webhook_path(page)
    bodies = [
        text_event("m_1", "First", psid=PSID),
        text_event("m_2", "Second, same new person", psid=PSID),
        text_event("m_1", "First (Meta's redelivery)", psid=PSID),
        text_event("m_3", "Someone else", psid=OTHER),
        b'{"object": "page"}',  # signed, but no entry list
    ]
    for body in bodies:
        assert post(url, body).status_code == 200
    # Two messages in one delivery, one of them recorded before by an earlier batch.
    both = json.loads(text_event("m_4", "Fourth", psid=OTHER))
    second = json.loads(text_event("m_3", "again", psid=OTHER))["entry"][0]["messaging"][0]
    both["entry"][0]["messaging"].append(second)
    assert post(url, json.dumps(both).encode()).status_code == 200

    taken = services.process_pending_batches()

    assert taken == 6
    texts = [(m.message_id, m.body_text) for m in _inbound()]
    assert sorted(texts) == [
        ("m_1", "First"),
        ("m_2", "Second, same new person"),
        ("m_3", "Someone else"),
        ("m_4", "Fourth"),
    ]
    # Each person: one contact, one conversation, one ticket, their messages in it.
    assert MessengerUser.objects.count() == 2
    assert MessengerConversation.objects.count() == 2
    assert Ticket.objects.count() == 2
    first = {m.message_id: m for m in _inbound()}
    assert first["m_1"].conversation_id == first["m_2"].conversation_id
    assert first["m_3"].conversation_id == first["m_4"].conversation_id
    assert first["m_1"].conversation_id != first["m_3"].conversation_id
    assert all(m.contact_id is not None for m in first.values())
    assert len(graph.requests) == 2  # one profile per new person
    # Every event processed; the bad body keeps its error.
    assert MessengerEvent.objects.filter(processed_at__isnull=True).count() == 0
    bad = MessengerEvent.objects.get(body=b'{"object": "page"}')
    assert "entry" in bad.error
    assert services.process_pending_batches() == 0  # nothing left, nothing twice
    assert Message.objects.filter(direction=MessageDirection.INBOUND).count() == 4


def test_a_known_persons_batch_continues_their_conversation(live_server, page, graph, deferred):
    url = live_server.url + webhook_path(page)
    post(url, text_event("m_1", "Hello"))
    services.process_pending_batches()
    conversation_id = Message.objects.get(message_id="m_1").conversation_id

    post(url, text_event("m_2", "Still me"))
    post(url, text_event("m_3", "And again"))
    services.process_pending_batches()

    assert set(
        Message.objects.filter(message_id__in=["m_2", "m_3"]).values_list(
            "conversation_id", flat=True
        )
    ) == {conversation_id}
    assert Ticket.objects.count() == 1
    assert len(graph.requests) == 1


def test_a_failed_batch_is_processed_event_by_event(
    live_server, page, graph, deferred, monkeypatch
):
    url = live_server.url + webhook_path(page)
    for n in range(3):
        post(url, text_event(f"m_{n}", f"Hello {n}", psid=f"77{n}"))

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the batch broke")

    monkeypatch.setattr(services, "_record_batch", broken)
    services.process_pending_batches()

    assert sorted(m.message_id for m in _inbound()) == ["m_0", "m_1", "m_2"]
    assert MessengerEvent.objects.filter(processed_at__isnull=True).count() == 0


def test_a_burst_of_new_people_costs_the_same_statements_however_many(page, graph):
    """New people are made in one INSERT per table (contacts, their timelines, users), not one
    after another: a batch of 9 new people takes as many statements as a batch of 2."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from svardesk.core.local_cache import clear_local_cache

    def batch_of_new_people(prefix: str, count: int) -> int:
        now = timezone.now()
        ids = []
        for n in range(count):
            psid = f"{prefix}{n:015d}"
            graph.profiles[psid] = {"first_name": f"Ny{n}", "last_name": f"Person {prefix}"}
            event = MessengerEvent.objects.create(
                page=page, body=text_event(f"m_{psid}", f"Hej {n}", psid=psid), received_at=now
            )
            ids.append(event.pk)
        clear_local_cache()  # each batch starts cold: the per-process caches expire by time
        with CaptureQueriesContext(connection) as run:
            outcome = services.process_batch(ids)
        assert outcome.recorded == count
        return len(run.captured_queries)

    batch_of_new_people("1", 1)  # rows made on first use (the help desk's settings)

    assert batch_of_new_people("2", 2) == batch_of_new_people("3", 9)

    people = list(MessengerUser.objects.filter(psid__startswith="3").select_related("contact"))
    assert len(people) == 9
    assert len({p.contact_id for p in people}) == 9
    assert sorted(p.name for p in people) == [f"Ny{n} Person 3" for n in range(9)]
    assert sorted(p.contact.first_name for p in people) == [f"Ny{n}" for n in range(9)]
    assert all(p.profile_fetched for p in people)
    # Their messages, conversations and tickets carry the contact from the start.
    for message in _inbound():
        assert message.contact_id is not None
        assert message.conversation.contact_id == message.contact_id
        assert message.conversation.ticket.contact_id == message.contact_id
