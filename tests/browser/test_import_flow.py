"""Settings → Import at 1280x720, as a super admin would use it: upload a semicolon CSV
with Swedish headers, see the preview and a column's invalid values, fix the mapping, start,
watch the job finish, and find the failed rows' CSV link — in English and in Swedish."""

import re

import pytest
from playwright.sync_api import expect

from svardesk.crm.models import Contact
from svardesk.imports.models import ImportJob, ImportStatus
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = (
    "E-post;Förnamn;Efternamn;Mobil;Kundnummer\n"
    "anna@kund.example;Anna;Andersson;070-123 45 67;K-1\n"
    "inte-en-adress;Bo;Berg;070-123 45 68;K-2\n"
    "carl@kund.example;Carl;Ceder;12;K-3\n"
)


@pytest.fixture
def tasks_now():  # type: ignore[no-untyped-def]
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = False


def _in_view(page, locator) -> None:  # type: ignore[no-untyped-def]
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= size["width"]


def _map_until(page, label: str, value: str, locator, count: int) -> None:  # type: ignore[no-untyped-def]
    """Map a column and wait for the checked preview; choose it again if the change came
    before htmx listened (a warm browser can act the instant the boosted page appears)."""
    for _attempt in range(4):
        page.get_by_label(label).select_option(value)
        try:
            expect(locator()).to_have_count(count, timeout=2_500)
        except AssertionError:
            page.get_by_label(label).select_option("")
            continue
        return


def test_import_contacts_from_the_settings_page(
    page, screenshot, super_admin, settings, tmp_path, tasks_now
):  # type: ignore[no-untyped-def]
    settings.DATA_DIR = tmp_path
    page.set_viewport_size({"width": 1280, "height": 720})
    path = tmp_path / "kunder.csv"
    path.write_text(CSV, encoding="utf-8-sig")

    log_in(page, super_admin.email)
    page.goto("/settings/import/")
    expect(page.get_by_text("No imports yet")).to_be_visible()
    screenshot("en-settings-import")
    page.get_by_label("What does the file hold?").select_option("contacts")
    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and map columns").click()

    page.wait_for_url(re.compile(r".*/settings/import/\d+/$"))
    expect(page.get_by_text("anna@kund.example")).to_be_visible()
    expect(page.get_by_text("1 invalid value")).to_have_count(1)  # the email column
    _map_until(page, "Mobil", "mobilephone", lambda: page.get_by_text("1 invalid value"), 2)
    expect(page.get_by_text("1 invalid value")).to_have_count(2)  # and now the numbers
    page.get_by_label("Kundnummer").select_option("external_id")
    screenshot("en-settings-import-mapping")
    start = page.get_by_role("button", name="Start import")
    _in_view(page, start)
    start.click()

    expect(page.get_by_role("link", name="Download failed rows (CSV)")).to_be_visible()
    job = ImportJob.objects.get()
    assert (job.status, job.created, job.failed) == (ImportStatus.DONE, 1, 2)
    anna = Contact.objects.get()
    assert (anna.external_id, anna.mobile_phone) == ("K-1", "+46701234567")
    screenshot("en-settings-import-done")

    super_admin.language = "sv"
    super_admin.save(update_fields=["language"])
    page.goto("/settings/import/")
    expect(page.get_by_text("kunder.csv")).to_be_visible()
    screenshot("sv-settings-import")
