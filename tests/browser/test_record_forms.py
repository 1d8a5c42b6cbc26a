"""A contact's create form and page at 1280x720 in a real browser: the form's buttons stay in
view while its body scrolls, and an invalid phone shows its error next to the field."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_create_contact_form_fits_and_shows_field_errors(page, screenshot):
    UserFactory(email="boss@svardesk.test", is_superuser=True)
    page.set_viewport_size({"width": 1280, "height": 720})
    log_in(page, "boss@svardesk.test")
    page.goto("/contacts/new/")
    create = page.get_by_role("button", name="Create", exact=True)
    box = create.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= 720
    page.get_by_label("First name").fill("Karin")
    page.get_by_label("Email").first.fill("karin@example.org")
    page.get_by_label("Phone number").first.fill("12")
    create.click()
    page.get_by_role("alert").filter(has_text="phone number").first.wait_for()
    screenshot("record-contact-form-error")
    page.get_by_label("Phone number").first.fill("070-123 45 67")
    page.get_by_role("button", name="Create", exact=True).click()
    page.wait_for_url("**/contacts/*/")
    page.get_by_role("heading", name="Karin").wait_for()
    assert "070-123 45 67" in page.content()
    screenshot("record-contact-page")


def test_new_deal_for_a_company_in_swedish_then_the_company_page(page, screenshot):
    from svardesk.crm import services as crm

    boss = UserFactory(email="chef@svardesk.test", is_superuser=True, language="sv")
    company = crm.create_company(actor=boss, name="Ölbryggarna AB", domain="olbryggarna.se")
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill("chef@svardesk.test")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/views/unassigned/")
    page.goto("/deals/new/")
    footer_button = page.locator(".record-form-footer .btn-primary")
    box = footer_button.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= 720
    page.locator("#id_dealname").fill("Vinteravtal")
    page.locator("#id_amount").fill("12500")
    picker = page.locator("#deal-company")
    picker.fill("Ölbr")
    page.get_by_role("option", name="Ölbryggarna AB").click()
    screenshot("record-deal-form-sv")
    footer_button.click()
    page.wait_for_url("**/deals/*/")
    page.get_by_role("heading", name="Vinteravtal").wait_for()
    page.get_by_role("link", name="Ölbryggarna AB").click()
    page.wait_for_url(f"**/companies/{company.pk}/**")
    page.get_by_role("heading", name="Ölbryggarna AB").wait_for()
    assert "Vinteravtal" in page.content()
    screenshot("record-company-page-sv")


def test_edit_in_place_add_a_company_and_merge_two_contacts(page, screenshot):
    from svardesk.crm import services as crm
    from svardesk.crm.models import Contact

    boss = UserFactory(email="boss2@svardesk.test", is_superuser=True)
    keep = crm.create_contact(actor=boss, first_name="Maja", emails=["maja@example.org"])
    dupe = crm.create_contact(actor=boss, first_name="Maja", last_name="L", emails=["ml@x.org"])
    crm.create_company(actor=boss, name="Zeta Consulting")
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, "boss2@svardesk.test")
    page.goto(f"/contacts/{keep.pk}/")
    # In place: the last name.
    page.locator("#prop-lastname").hover()
    page.locator("#prop-lastname .edit-btn").click()
    page.locator("#prop-lastname input[name=lastname]").fill("Lind")
    page.locator("#prop-lastname").get_by_role("button", name="Save").click()
    page.locator("#prop-lastname .prop-value", has_text="Lind").wait_for()
    # Add a company with the picker.
    companies = page.locator("section.record-card", has=page.locator("#assoc-company"))
    companies.get_by_text("Add", exact=True).first.click()
    companies.locator(".picker-input").fill("Zeta")
    page.get_by_role("option", name="Zeta Consulting").click()
    companies.get_by_role("button", name="Add").last.click()
    companies.get_by_role("link", name="Zeta Consulting").wait_for()
    screenshot("record-contact-edited")
    # Merge the duplicate into this contact.
    page.get_by_label("More actions").click()
    page.get_by_role("menuitem", name="Merge").click()
    page.locator("#merge-other").fill("ml@x")
    page.get_by_role("option", name="Maja L").click()
    page.get_by_role("button", name="Next").click()
    page.get_by_text("Which contact stays?").wait_for()
    screenshot("record-merge")
    page.get_by_role("button", name="Merge").click()
    page.wait_for_url(f"**/contacts/{keep.pk}/")
    assert Contact.objects.get(pk=dupe.pk).merged_into_id == keep.pk
    page.goto(f"/contacts/{dupe.pk}/")
    page.wait_for_url(f"**/contacts/{keep.pk}/")
