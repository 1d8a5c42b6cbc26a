import re

import pytest

from svardesk.channels.forms.models import Form


@pytest.fixture
def form(db) -> Form:
    from svardesk.channels.forms.services import create_form
    from tests.factories import default_pipeline

    default_pipeline()
    return create_form(actor=None, name="Contact us")


def page_token(client, form: Form, **params: str) -> str:
    """GET the form's page and read its signed token, as a browser would."""
    response = client.get(f"/forms/{form.public_key}/", params)
    assert response.status_code == 200
    match = re.search(rb'name="form_token" value="([^"]+)"', response.content)
    assert match
    return match.group(1).decode()


def submit(client, form: Form, data: dict, *, token: str | None = None, **extra):
    token = token if token is not None else page_token(client, form)
    return client.post(f"/forms/{form.public_key}/", {"form_token": token, **data}, **extra)


VALID = {
    "email": "Kim.Kund@example.com",
    "name": "Kim Kund",
    "subject": "The order has not arrived",
    "description": "Order 1234 was due on Tuesday.",
}


@pytest.fixture(autouse=True)
def _process_in_the_request(settings):
    """Submissions are processed in the request here, as without a worker (the same rules as
    the worker's batch task); test_batches.py turns the worker's batches back on."""
    settings.INBOUND_PROCESSING_DELAY = 0
