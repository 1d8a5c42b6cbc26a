"""A burst: 50 submissions at once from threads, over HTTP to a live server → all stored at
once, then the batch task → 50 tickets, none doubled."""

import re
import threading
import urllib.parse
import urllib.request

import pytest
from django.db import connection

from svardesk.channels.forms.models import FormSubmission, SubmissionStatus
from svardesk.conversations.models import Message
from svardesk.crm.models import Contact
from svardesk.tickets.models import Ticket

BURST = 50


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the test server shares one in-memory SQLite connection between its threads; "
    "bench/forms.py sends bursts to a real server on a SQLite file",
)
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_submissions_makes_one_ticket_each(live_server, settings):
    from svardesk.channels.forms.services import create_form
    from tests.factories import default_pipeline

    settings.FORMS_RATE_LIMIT = 1000
    settings.INBOUND_PROCESSING_DELAY = 1.0  # as with a worker: stored now, processed in batches
    # The test server listens with a backlog of 10 (Django's WSGIServer); fifty clients
    # connecting at once would be reset. A real server (uvicorn) queues far more.
    live_server.thread.httpd.socket.listen(128)
    default_pipeline()
    form = create_form(actor=None, name="Burst")
    url = f"{live_server.url}/forms/{form.public_key}/"
    page = urllib.request.urlopen(url, timeout=10).read().decode()  # noqa: S310 (http://)
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    statuses: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(BURST)

    def send(n: int) -> None:
        body = urllib.parse.urlencode(
            {
                "form_token": token,
                "email": f"kund{n % 10}@burst.example",  # ten people, five messages each
                "name": f"Kund {n % 10}",
                "subject": f"Burst {n}",
                "description": f"Message number {n}.",
            }
        ).encode()
        try:
            start.wait(timeout=30)
            with urllib.request.urlopen(url, data=body, timeout=60) as response:  # noqa: S310
                statuses.append(response.status)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert statuses == [200] * BURST
    # Every answer came after the INSERT: all stored, none processed yet.
    assert FormSubmission.objects.filter(status=SubmissionStatus.PENDING).count() == BURST
    assert Ticket.objects.count() == 0
    # The worker's batch task (run here, as the scheduled task would).
    from svardesk.channels.forms.services import process_pending_batches

    assert process_pending_batches(limit=20) == BURST
    assert FormSubmission.objects.filter(status=SubmissionStatus.PROCESSED).count() == BURST
    assert Ticket.objects.count() == BURST
    names = sorted(Ticket.objects.values_list("name", flat=True))
    assert names == sorted(f"Burst {n}" for n in range(BURST))
    assert Message.objects.filter(channel=form.channel).count() == BURST
    assert Contact.objects.count() == 10
