"""With a worker (the default): the visitor's POST stores the submission and answers — one
INSERT — and the worker's batch task makes the contacts and tickets, a fixed number of
statements per batch whatever its size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from svardesk.channels.forms import services
from svardesk.channels.forms.models import FormSubmission, SubmissionStatus
from svardesk.conversations.models import Channel, ChannelKind, Conversation, Message
from svardesk.tickets.models import Source, Ticket

from .conftest import VALID, page_token, submit


@pytest.fixture(autouse=True)
def _worker_batches(settings):
    from huey.contrib.djhuey import HUEY

    settings.INBOUND_PROCESSING_DELAY = 1.0
    HUEY.storage.flush_all()
    yield
    HUEY.storage.flush_all()


def _scheduled() -> list[str]:
    from huey.contrib.djhuey import HUEY

    return [task.name for task in HUEY.pending()]


def test_the_post_is_one_insert_and_a_batch_is_scheduled(
    client, form, django_capture_on_commit_callbacks
):
    token = page_token(client, form)
    submit(client, form, VALID, token=token)  # warms the form cache
    with (
        django_capture_on_commit_callbacks(execute=True),
        CaptureQueriesContext(connection) as queries,
    ):
        response = submit(client, form, {**VALID, "subject": "Second"}, token=token)
    assert response.status_code == 200
    assert b"Thank you" in response.content
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) == 1, statements
    assert statements[0].startswith('INSERT INTO "forms_channel_formsubmission"')
    assert FormSubmission.objects.filter(status=SubmissionStatus.PENDING).count() == 2
    assert Ticket.objects.count() == 0
    assert _scheduled() == ["process_form_submissions"]


def test_one_batch_is_scheduled_for_a_burst(client, form, django_capture_on_commit_callbacks):
    token = page_token(client, form)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            submit(client, form, {**VALID, "subject": f"Burst {n}"}, token=token)
    assert len(_scheduled()) == 1


def test_the_batch_task_makes_one_ticket_per_submission(client, form):
    token = page_token(client, form)
    for n in range(3):
        submit(client, form, {**VALID, "subject": f"Order {n}"}, token=token)
    assert Ticket.objects.count() == 0
    assert services.process_pending_batches() == 3
    assert FormSubmission.objects.filter(status=SubmissionStatus.PROCESSED).count() == 3
    assert sorted(Ticket.objects.values_list("name", flat=True)) == [
        "Order 0",
        "Order 1",
        "Order 2",
    ]
    assert set(Ticket.objects.values_list("source", flat=True)) == {Source.FORM}
    assert Message.objects.filter(channel=form.channel).count() == 3
    assert services.process_pending_batches() == 0  # nothing twice


def test_a_submission_the_form_no_longer_accepts_is_rejected_by_the_batch(client, form):
    submit(client, form, VALID)
    submit(client, form, {**VALID, "subject": "Fine"})
    FormSubmission.objects.filter(pk=FormSubmission.objects.order_by("id").first().pk).update(
        data={"email": ["not an address"], "subject": ["x"], "description": ["y"]}
    )
    assert services.process_pending_batches() == 2
    statuses = list(FormSubmission.objects.order_by("id").values_list("status", flat=True))
    assert statuses == [SubmissionStatus.REJECTED, SubmissionStatus.PROCESSED]
    assert Ticket.objects.count() == 1


def test_a_batch_that_fails_is_retried_one_by_one(client, form, monkeypatch):
    submit(client, form, VALID)
    submit(client, form, {**VALID, "subject": "Second"})
    real = services._process_many

    def fail_batches(ids, **kwargs):
        if ids is None:
            raise RuntimeError("the batch failed")
        return real(ids, **kwargs)

    monkeypatch.setattr(services, "_process_many", fail_batches)
    services.process_pending_batches()
    assert FormSubmission.objects.filter(status=SubmissionStatus.PROCESSED).count() == 2
    assert Ticket.objects.count() == 2


def _batch_statements(size: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert services.process_pending_batches(limit=size, max_batches=1) == size
    return len(queries)


def test_a_batch_costs_the_same_statements_whatever_its_size(client, form):
    # Query-count baseline (bench/README.md#forms): per batch, not per submission — the
    # claim, the contacts, the tickets and their timelines, the conversations, the messages,
    # the email conversations for replies, the submissions' statuses. A receiver of the
    # batch's signals that reads or writes per ticket makes this fail.
    Channel.objects.create(
        inbox=form.channel.inbox, kind=ChannelKind.EMAIL, name="support", is_active=True
    )
    token = page_token(client, form)
    for n in range(13):
        submit(client, form, {**VALID, "email": f"kund{n}@example.com"}, token=token)
    # The first makes the help desk settings row (which clears the local cache), the
    # second reads the form, the settings and the stages into it.
    _batch_statements(1)
    _batch_statements(1)
    one = _batch_statements(1)
    ten = _batch_statements(10)
    assert one == ten, (one, ten)
    # 19 since new senders' contacts get their address rows, their company by email domain
    # and a "created" timeline entry (crm.services.find_or_create_contacts_for_addresses);
    # PostgreSQL adds the batch's advisory lock on the addresses and SET LOCAL
    # synchronous_commit.
    assert ten <= (21 if connection.vendor == "postgresql" else 19)
    # Each ticket has its form conversation and an email conversation for the replies.
    assert Conversation.objects.filter(channel__kind=ChannelKind.EMAIL).count() == 13
