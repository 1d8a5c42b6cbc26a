"""Remote images in a customer's mail stay unloaded until the agent asks for them, and the
workspace's Content-Security-Policy holds on the main screens without a single violation."""

import datetime as dt
import http.server
import ipaddress
import ssl
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.utils import timezone
from playwright.sync_api import expect

from svardesk.channels.email.services import connect_email_channel
from svardesk.tickets.models import Ticket
from tests.browser.conftest import log_in, wait_for_requests_in_flight
from tests.browser.test_email_flow import TEAM, deliver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A 1x1 transparent GIF: what a tracking pixel is.
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
# A 1x1 PNG, sent with the mail as an inline (cid:) image.
INLINE_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5b9a1"
    "a30000000049454e44ae426082"
)


class PixelServer:
    """An HTTPS server (the sanitiser keeps only https images) that records every request."""

    def __init__(self, certificate: Path, key: Path) -> None:
        self.requests: list[str] = []
        requests = self.requests
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)

        class Handler(http.server.BaseHTTPRequestHandler):
            def setup(self) -> None:
                # TLS in the connection's own thread: wrapping the listening socket would
                # shake hands inside accept(), where one connection the browser opened ahead
                # and left silent stalls every other one.
                self.request.settimeout(10)
                self.request = context.wrap_socket(self.request, server_side=True)
                super().setup()

            def do_GET(self) -> None:
                requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/gif")
                self.send_header("Content-Length", str(len(PIXEL)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(PIXEL)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A connection the browser opened ahead and dropped is no error of the test's.
        self.httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = directory / "pixel.crt", directory / "pixel.key"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_path, key_path


@pytest.fixture
def pixel_server(tmp_path) -> Iterator[PixelServer]:  # type: ignore[no-untyped-def]
    server = PixelServer(*_self_signed(tmp_path))
    yield server
    server.close()


@pytest.fixture
def tasks_now():  # type: ignore[no-untyped-def]
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = False


@pytest.fixture
def browser_page(browser, live_server, transactional_db):  # type: ignore[no-untyped-def]
    """A page that trusts the pixel server's self-signed certificate and records every
    Content-Security-Policy violation the browser reports."""
    from tests.factories import default_pipeline

    default_pipeline()
    context = browser.new_context(
        viewport={"width": 1440, "height": 900},
        base_url=live_server.url,
        ignore_https_errors=True,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.violations = []  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda message: (
            page.violations.append(message.text)  # type: ignore[attr-defined]
            if "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    context.close()
    wait_for_requests_in_flight()


def _mail_with_pixel(pixel_url: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Åsa Lindqvist <asa@kund.example>"
    message["To"] = TEAM
    message["Subject"] = "Newsletter reply"
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain="kund.example")
    message.set_content("Hello, my order has not arrived.")
    message.add_alternative(
        "<p>Hello, my order has not arrived.</p>"
        f'<p><img src="{pixel_url}" width="1" height="1" alt=""></p>'
        '<p><img src="cid:shot@kund.example" alt="Screenshot"></p>'
        '<div class="gmail_quote">On Mon, 3 Mar 2025 at 10:00, Acme wrote:'
        "<blockquote>Your order is on its way.</blockquote></div>",
        subtype="html",
    )
    message.get_payload()[1].add_related(
        INLINE_PNG, "image", "png", cid="<shot@kund.example>", filename="shot.png"
    )
    return message.as_bytes()


def test_remote_images_load_only_when_the_agent_asks(browser_page, agent, pixel_server, tasks_now):
    page = browser_page
    channel = connect_email_channel(actor=None, address=TEAM, display_name="Acme Support").channel
    deliver(channel, _mail_with_pixel(f"{pixel_server.url}/pixel.gif?who=asa"))
    ticket = Ticket.objects.get()

    log_in(page, agent.email)
    page.goto(f"/tickets/{ticket.pk}/")
    message = page.locator(f"#thread-{ticket.pk} .msg-inbound")
    expect(message).to_contain_text("my order has not arrived")
    # The inline image sent with the mail shows (it is ours, served by the workspace).
    inline = message.get_by_role("img", name="Screenshot")
    expect(inline).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 1", arg=inline.element_handle()
    )
    page.wait_for_load_state("networkidle")
    assert pixel_server.requests == []
    expect(message).to_contain_text("1 remote image blocked")

    message.get_by_role("button", name="Load images").click()

    frame = page.frame_locator(f"#thread-{ticket.pk} .msg-inbound iframe.msg-frame")
    expect(frame.get_by_text("my order has not arrived")).to_be_visible()
    deadline = time.monotonic() + 10
    while not pixel_server.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    page.wait_for_timeout(300)  # a second request, were there one, would be in by now
    assert pixel_server.requests == ["/pixel.gif?who=asa"]
    expect(message.get_by_role("button", name="Load images")).to_be_hidden()
    # The page sizes the frame to the message (it may read it: same origin, no scripts in it).
    page.wait_for_function(
        "f => { const body = f.contentDocument && f.contentDocument.body;"
        " return body && Math.abs(f.getBoundingClientRect().height"
        " - Math.ceil(body.getBoundingClientRect().height)) < 1 && body.textContent.length > 0 }",
        arg=page.locator("iframe.msg-frame").element_handle(),
    )
    closed_height = page.locator("iframe.msg-frame").evaluate("f => f.offsetHeight")
    # Opening the quoted history inside the frame makes the frame taller.
    frame.get_by_title("Show quoted text").click()
    expect(frame.get_by_text("Your order is on its way.")).to_be_visible()
    page.wait_for_function(
        f"f => f.offsetHeight > {closed_height}",
        arg=page.locator("iframe.msg-frame").element_handle(),
    )
    assert page.violations == []  # type: ignore[attr-defined]


def test_main_screens_break_no_content_security_policy_rule(browser_page, super_admin, tasks_now):
    page = browser_page
    channel = connect_email_channel(actor=None, address=TEAM, display_name="Acme Support").channel
    deliver(channel, _mail_with_pixel("https://tracker.invalid/p.gif"))
    ticket = Ticket.objects.get()

    log_in(page, super_admin.email)
    expect(page.locator(".ticket-row")).to_have_count(1)
    page.goto(f"/tickets/{ticket.pk}/")
    expect(page.locator("[data-pane=reply] .ql-editor")).to_be_visible()
    page.locator("[data-pane=reply] .ql-editor").click()
    page.keyboard.type("Thanks, we are looking")
    page.get_by_role("button", name="Create ticket").click()
    expect(page.get_by_role("dialog", name="Create ticket")).to_be_visible()
    for url in ("/settings/", "/settings/users/", "/settings/channels/", "/accounts/preferences/"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
    assert page.violations == []  # type: ignore[attr-defined]
