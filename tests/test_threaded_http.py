"""HTTP through the ASGI entry point (config/asgi.py): a request runs whole on the web thread
pool (core/threaded_http.py); static files and the sign-in page stay on the event loop."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from django.contrib.staticfiles import finders
from django.core.signals import request_started
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

pytestmark = pytest.mark.django_db(transaction=True)


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def _messages(
    method: str,
    path: str,
    body_parts: list[bytes],
    headers: list[tuple[bytes, bytes]] | None = None,
) -> list[dict[str, Any]]:
    """Every message the app sends for a request whose body arrives in `body_parts`."""
    from svardesk.config.asgi import application

    length = (b"content-length", str(sum(map(len, body_parts))).encode())
    communicator = ApplicationCommunicator(
        application, _scope(method, path, [*(headers or []), length])
    )
    for n, part in enumerate(body_parts):
        more = n < len(body_parts) - 1
        await communicator.send_input({"type": "http.request", "body": part, "more_body": more})
    messages = [await communicator.receive_output(timeout=20)]
    while messages[-1]["type"] != "http.response.body" or messages[-1].get("more_body"):
        messages.append(await communicator.receive_output(timeout=20))
    await communicator.wait(timeout=5)
    return messages


async def _request(
    method: str, path: str, *, body: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[int, dict[bytes, bytes], bytes]:
    # The body in two parts: the threaded path reads a request body as it arrives.
    middle = len(body) // 2
    start, *rest = await _messages(method, path, [body[:middle], body[middle:]], headers)
    assert start["type"] == "http.response.start"
    content = b"".join(message.get("body", b"") for message in rest)
    return start["status"], {k.lower(): v for k, v in start["headers"]}, content


@pytest.fixture
def request_threads():
    """The name of the thread each request started on."""
    names: list[str] = []

    def note(**kwargs: Any) -> None:
        names.append(threading.current_thread().name)

    request_started.connect(note, weak=False)
    yield names
    request_started.disconnect(note)


def test_a_page_runs_on_the_web_thread_pool(request_threads):
    status, headers, _content = asyncio.run(_request("GET", "/no-such-page/"))

    assert status == 404
    assert b"content-security-policy" in headers  # the whole middleware list ran
    assert request_threads
    assert request_threads[-1].startswith("WSGI")


def test_static_files_and_the_sign_in_page_stay_on_the_event_loop(request_threads):
    path = finders.find("records/list.css")
    assert path

    status, headers, content = asyncio.run(_request("GET", "/static/records/list.css"))
    assert status == 200
    assert headers[b"content-type"].startswith(b"text/css")
    assert content == Path(path).read_bytes()

    status, _headers, content = asyncio.run(_request("GET", "/accounts/login/"))
    assert status == 200
    assert b'name="username"' in content

    assert request_threads
    assert not any(name.startswith("WSGI") for name in request_threads)


def test_a_request_body_reaches_the_view_whole(super_admin):
    from svardesk.api.tokens import create_token
    from svardesk.tickets.models import Ticket
    from tests.factories import default_pipeline, stage_named

    default_pipeline()
    new = str(stage_named("New").pk)

    _token, raw = create_token(user=super_admin, name="Threaded", scopes=["tickets"], actor=None)
    subject = "Printer on fire " + "x" * 5000  # a body larger than one read
    body = json.dumps(
        {"properties": {"subject": subject[:255], "content": subject, "hs_pipeline_stage": new}}
    ).encode()

    status, _headers, content = asyncio.run(
        _request(
            "POST",
            "/crm/v3/objects/tickets",
            body=body,
            headers=[
                (b"authorization", f"Bearer {raw}".encode()),
                (b"content-type", b"application/json"),
            ],
        )
    )

    assert status == 201, content
    ticket_id = int(json.loads(content)["id"])
    ticket = Ticket.objects.get(pk=ticket_id)
    assert ticket.name == subject[:255]


def _pieces(request):  # type: ignore[no-untyped-def]
    from django.http import StreamingHttpResponse

    def pieces():  # type: ignore[no-untyped-def]
        for n in range(3):
            yield f"piece {n};".encode()

    return StreamingHttpResponse(pieces(), content_type="text/plain")


def _whole(request):  # type: ignore[no-untyped-def]
    from django.http import HttpResponse

    return HttpResponse(b"x" * 100_000 + request.body, content_type="text/plain")


# The views take a POST from outside (no CSRF token), as webhooks and the API do. The
# project's own URLs stay: the ASGI entry point reverses the sign-in page when first imported.
urlpatterns = [
    path("pieces/", csrf_exempt(_pieces)),
    path("whole/", csrf_exempt(_whole)),
    path("", include("svardesk.config.urls")),
]


@pytest.mark.urls("tests.test_threaded_http")
@pytest.mark.parametrize("parts", [[b"one piece"], [b"two ", b"pieces"]], ids=["whole", "parts"])
def test_a_response_in_memory_leaves_in_one_message(parts):
    messages = asyncio.run(_messages("POST", "/whole/", parts))

    assert [m["type"] for m in messages] == ["http.response.start", "http.response.body"]
    assert messages[0]["status"] == 200
    assert messages[1]["body"] == b"x" * 100_000 + b"".join(parts)
    assert not messages[1].get("more_body")


@pytest.mark.urls("tests.test_threaded_http")
def test_a_streaming_response_leaves_piece_by_piece():
    messages = asyncio.run(_messages("POST", "/pieces/", [b""]))

    assert messages[0]["type"] == "http.response.start"
    bodies = [m["body"] for m in messages[1:] if m["body"]]
    assert bodies == [b"piece 0;", b"piece 1;", b"piece 2;"]
    assert not messages[-1].get("more_body")


def test_a_client_gone_before_its_request_is_read_gets_no_answer(request_threads):
    from svardesk.config.asgi import application

    async def gone() -> None:
        scope = _scope("GET", "/no-such-page/", [])
        communicator = ApplicationCommunicator(application, scope)
        await communicator.send_input({"type": "http.disconnect"})
        await communicator.wait(timeout=5)
        assert await communicator.receive_nothing()

    asyncio.run(gone())
    assert request_threads == []  # Django never saw it
