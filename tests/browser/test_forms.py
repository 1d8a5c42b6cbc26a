"""The forms channel in a real browser: a visitor fills the hosted form, and the embedded one
on another website; an admin reorders the builder's fields by drag and drop."""

import http.server
import re
import socketserver
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

from svardesk.channels.forms.models import Form, FormSubmission, SubmissionStatus
from svardesk.channels.forms.services import create_form
from svardesk.tickets.models import Source, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _process_in_the_request(settings):
    """No worker runs beside the test server: each POST processes its submission (the
    worker's batch path is tested in svardesk/channels/forms/tests)."""
    settings.INBOUND_PROCESSING_DELAY = 0


def _order(form: Form) -> list[str]:
    return list(form.fields.order_by("position", "id").values_list("key", flat=True))


def test_visitor_fills_the_hosted_form_and_sees_the_confirmation(page, screenshot):
    form = create_form(actor=None, name="Contact us")
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"/forms/{form.public_key}/")
    page.get_by_label("Email").fill("kim@kund.example")
    page.get_by_label("Name").fill("Kim Kund")
    page.get_by_label("Subject").fill("The parcel is late")
    page.get_by_label("Description").fill("Order 1234 was due on Tuesday.")
    submit = page.get_by_role("button", name="Submit")
    submit.scroll_into_view_if_needed()
    expect(submit).to_be_in_viewport()
    screenshot("en-form-page")
    submit.click()
    expect(page.get_by_role("heading", name="Message sent")).to_be_visible()
    expect(page.get_by_text("We have received your message")).to_be_visible()
    screenshot("en-form-thanks")
    ticket = Ticket.objects.get()
    assert (ticket.name, ticket.source) == ("The parcel is late", Source.FORM)


def test_errors_are_shown_next_to_the_fields(page):
    form = create_form(actor=None, name="Contact us")
    page.goto(f"/forms/{form.public_key}/")
    page.get_by_label("Email").fill("not an address")
    page.get_by_role("button", name="Submit").click()
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_be_focused()
    expect(alert.get_by_role("link", name="Subject: This field is required.")).to_be_visible()
    email = page.get_by_label("Email")
    expect(email).to_have_value("not an address")
    expect(email).to_have_attribute("aria-invalid", "true")
    described = email.get_attribute("aria-describedby") or ""
    assert "id_email_error" in described
    assert FormSubmission.objects.get().status == SubmissionStatus.REJECTED
    assert Ticket.objects.count() == 0


@pytest.fixture
def other_website(tmp_path: Path):
    """A website on another origin (127.0.0.1 instead of localhost) that can embed a form."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args):  # type: ignore[no-untyped-def]
            pass

    server = socketserver.TCPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_embedded_form_works_on_another_website(page, live_server, other_website):
    folder, origin = other_website
    form = create_form(actor=None, name="Contact us")
    script = f"{live_server.url}/forms/{form.public_key}/embed.js"
    (folder / "index.html").write_text(
        '<!doctype html><html lang="en"><head><title>Shop</title></head><body>'
        f'<h1>Our shop</h1><script src="{script}" async></script><p>Footer</p></body></html>'
    )
    page.goto(f"{origin}/index.html")
    frame = page.frame_locator("iframe")
    frame.get_by_label("Email").fill("kim@kund.example")
    frame.get_by_label("Subject").fill("Embedded")
    frame.get_by_label("Description").fill("Sent from the shop's page.")
    # The frame grew to the form's height (embed.js, postMessage from the form's origin).
    iframe = page.locator("iframe")
    expect(iframe).to_have_attribute("style", re.compile(r"height: *\d+px"))
    frame.get_by_role("button", name="Submit").click()
    expect(frame.get_by_role("heading", name="Message sent")).to_be_visible()
    assert Ticket.objects.get().name == "Embedded"


def test_the_form_refuses_a_website_it_does_not_name(page, live_server, other_website):
    folder, origin = other_website
    form = create_form(actor=None, name="Contact us")
    form.allowed_websites = ["https://shop.example"]
    form.save()
    (folder / "index.html").write_text(
        f'<!doctype html><html><body><iframe src="{live_server.url}/forms/{form.public_key}/">'
        "</iframe></body></html>"
    )
    page.goto(f"{origin}/index.html")
    frame = page.frame_locator("iframe")
    expect(frame.get_by_label("Email")).to_have_count(0)


def test_builder_reorders_fields_by_drag_and_drop(page, super_admin, screenshot):
    super_admin.set_password("correct horse battery")
    super_admin.save()
    form = create_form(actor=None, name="Contact us")
    page.set_viewport_size({"width": 1280, "height": 720})
    log_in_admin(page, super_admin.email)
    page.goto(f"/settings/channels/form/{form.pk}/")
    save = page.get_by_role("button", name="Save", exact=True)
    expect(save).to_be_in_viewport()  # sticky at the bottom of the settings page
    description = page.locator(".builder-field", has_text="Description").locator(".field-handle")
    name = page.locator(".builder-field", has_text="Name").first.locator(".field-handle")
    # A person's drag: press on the handle, move in steps, release above "Name" (both in
    # view: the list scrolls with the page).
    name.evaluate("handle => handle.scrollIntoView({block: 'start'})")
    start, target = description.bounding_box(), name.bounding_box()
    assert start
    assert target
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    for step in range(1, 11):
        y = start["y"] + (target["y"] + 2 - start["y"]) * step / 10
        page.mouse.move(target["x"] + target["width"] / 2, y)
    page.mouse.up()
    expect(page.locator(".builder-field .builder-field-name")).to_have_text(
        ["Email", "Description", "Name", "Subject"]
    )
    screenshot("en-form-builder")
    save.click()
    expect(page.get_by_text("Form saved.")).to_be_visible()
    assert _order(form) == ["email", "description", "name", "subject"]


def test_builder_moves_a_field_with_the_keyboard(page, super_admin):
    super_admin.set_password("correct horse battery")
    super_admin.save()
    form = create_form(actor=None, name="Contact us")
    log_in_admin(page, super_admin.email)
    page.goto(f"/settings/channels/form/{form.pk}/")
    page.get_by_role("button", name="Move Subject (arrow keys)").focus()
    page.keyboard.press("ArrowUp")
    page.get_by_role("button", name="Move Email down").click()
    expect(page.get_by_role("status").filter(has_text="Moved to position")).to_have_text(
        "Moved to position 2 of 4."
    )
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Form saved.")).to_be_visible()
    assert _order(form) == ["subject", "email", "name", "description"]


def log_in_admin(page, email: str) -> None:  # type: ignore[no-untyped-def]
    """Sign in as a super admin (who lands on the workspace like anyone)."""
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")
