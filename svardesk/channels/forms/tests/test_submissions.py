"""Submitting a form over HTTP: stored as it arrived, then a contact and a ticket; invalid
input, spam and limits."""

import pytest
from django.db import IntegrityError

from svardesk.channels.forms import services
from svardesk.channels.forms.models import FormSubmission, SubmissionStatus
from svardesk.channels.forms.tests.conftest import VALID, page_token, submit
from svardesk.conversations.models import Conversation, Message
from svardesk.crm.models import Contact
from svardesk.tickets.models import Category, Priority, PropertyDefinition, Source, Ticket


def test_default_form_asks_for_email_name_subject_and_description(form):
    fields = list(form.fields.order_by("position").values_list("key", "is_required"))
    assert fields == [
        ("email", True),
        ("name", False),
        ("subject", True),
        ("description", True),
    ]


def test_default_form_page_shows_the_fields_and_a_submit_button(client, form):
    response = client.get(f"/forms/{form.public_key}/")
    html = response.content.decode()
    assert response.status_code == 200
    for label in ("Email", "Name", "Subject", "Description"):
        assert f">{label}" in html
    assert '<button type="submit" class="form-submit">Submit</button>' in html


def test_valid_submission_makes_a_contact_and_a_form_ticket(client, form):
    response = submit(client, form, VALID)
    assert response.status_code == 200
    assert "Message sent" in response.content.decode()
    submission = FormSubmission.objects.get()
    assert submission.status == SubmissionStatus.PROCESSED
    assert submission.data["email"] == ["Kim.Kund@example.com"]
    ticket = Ticket.objects.get()
    assert submission.ticket == ticket
    assert ticket.name == "The order has not arrived"
    assert ticket.source == Source.FORM
    contact = Contact.objects.get()
    assert (contact.email, contact.first_name, contact.last_name) == (
        "Kim.Kund@example.com",
        "Kim",
        "Kund",
    )
    assert ticket.contact == contact
    message = Message.objects.get(direction="inbound")
    assert message.channel == form.channel
    assert message.message_id == f"form-{submission.pk}@127.0.0.1"
    assert message.body_text.startswith("Order 1234 was due on Tuesday.")
    assert "Name: Kim Kund" in message.body_text


def test_known_contact_is_matched_by_email_and_not_overwritten(client, form):
    known = Contact.objects.create(
        email="kim.kund@example.com", first_name="Kim", last_name="Known", phone="+46 8 1"
    )
    services.add_field(form, actor=None, key="phone")
    submit(client, form, {**VALID, "name": "Someone Else", "phone": "070 000"})
    assert Contact.objects.count() == 1
    known.refresh_from_db()
    assert (known.last_name, known.phone) == ("Known", "+46 8 1")
    assert Ticket.objects.get().contact == known


def test_ticket_properties_are_set_from_the_answers(client, form):
    PropertyDefinition.objects.create(name="order_number", label="Order number", type="number")
    PropertyDefinition.objects.create(
        name="product",
        label="Product",
        type="select",
        options=[{"value": "bike", "label": "Bike"}, {"value": "car", "label": "Car"}],
    )
    for key in ("category", "priority", "property_order_number", "property_product", "company"):
        services.add_field(form, actor=None, key=key)
    response = submit(
        client,
        form,
        {
            **VALID,
            "category": "BILLING_ISSUE",
            "priority": "HIGH",
            "property_order_number": "1234",
            "property_product": "bike",
            "company": "Kund AB",
        },
    )
    assert response.status_code == 200, response.content.decode()
    ticket = Ticket.objects.get()
    assert ticket.category == Category.BILLING_ISSUE
    assert ticket.priority == Priority.HIGH
    assert ticket.custom == {"order_number": 1234, "product": "bike"}
    assert Contact.objects.get().company_name == "Kund AB"
    body = Message.objects.get(direction="inbound").body_text
    assert "Product: Bike" in body
    assert "Order number: 1234" in body


def test_invalid_input_shows_field_errors_and_creates_nothing(client, form):
    response = submit(client, form, {"email": "not an address", "subject": "", "name": "Kim"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter a valid email address." in html
    assert 'aria-describedby="id_email_error"' in html
    assert 'id="id_email_error"' in html
    assert 'value="Kim"' in html  # what was typed is kept
    assert Ticket.objects.count() == 0
    assert Contact.objects.count() == 0
    assert Conversation.objects.count() == 0
    submission = FormSubmission.objects.get()
    assert submission.status == SubmissionStatus.REJECTED
    assert set(submission.errors) == {"email", "subject", "description"}


def test_too_long_answer_is_a_field_error(client, form):
    response = submit(client, form, {**VALID, "subject": "x" * 256})
    assert response.status_code == 400
    assert "Ensure this value has at most 255 characters (it has 256)." in response.content.decode()
    assert Ticket.objects.count() == 0


def test_oversize_body_is_refused_with_a_clear_message(client, form, settings):
    settings.FORMS_MAX_BODY_BYTES = 2000
    response = submit(client, form, {**VALID, "description": "x" * 3000})
    assert response.status_code == 413
    assert "What you sent is too long" in response.content.decode()
    assert FormSubmission.objects.count() == 0


def test_honeypot_is_stored_as_spam_and_answered_like_any_other(client, form):
    response = submit(client, form, {**VALID, "homepage": "http://spam.example"})
    assert response.status_code == 200
    assert "Message sent" in response.content.decode()
    submission = FormSubmission.objects.get()
    assert submission.status == SubmissionStatus.SPAM
    assert submission.data["homepage"] == ["http://spam.example"]
    assert Ticket.objects.count() == 0


def test_rate_limit_keeps_the_input_and_a_later_send_gets_through(client, form, settings):
    settings.FORMS_RATE_LIMIT = 2
    token = page_token(client, form)
    for n in range(2):
        assert (
            submit(client, form, {**VALID, "subject": f"Try {n}"}, token=token).status_code == 200
        )
    refused = submit(client, form, {**VALID, "subject": "Third"}, token=token)
    html = refused.content.decode()
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many messages were sent from your network" in html
    assert 'value="Third"' in html
    assert "Order 1234 was due on Tuesday.</textarea>" in html
    assert Ticket.objects.count() == 2
    # The next window: the same answers are sent again and arrive.
    from django.core.cache import cache

    cache.clear()
    assert submit(client, form, {**VALID, "subject": "Third"}, token=token).status_code == 200
    assert sorted(Ticket.objects.values_list("name", flat=True)) == ["Third", "Try 0", "Try 1"]


def test_a_post_from_another_website_is_refused_with_the_input_kept(client, form):
    response = submit(client, form, VALID, HTTP_SEC_FETCH_SITE="cross-site")
    assert response.status_code == 403
    assert 'value="The order has not arrived"' in response.content.decode()
    assert FormSubmission.objects.count() == 0
    response = submit(client, form, VALID, HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403


def test_a_forged_token_is_refused(client, form):
    response = submit(client, form, VALID, token="forged")
    assert response.status_code == 403
    assert Ticket.objects.count() == 0


def test_swedish_page_by_query_and_labels(client, form):
    field = form.fields.get(key="subject")
    field.label_sv = "Ärende"
    field.save()
    html = client.get(f"/forms/{form.public_key}/?lang=sv").content.decode()
    assert '<html lang="sv">' in html
    assert "Ärende" in html
    assert "E-post" in html or "Email" in html


def test_disconnected_form_takes_no_submissions(client, form):
    token = page_token(client, form)
    services.set_form_active(form, actor=None, is_active=False)
    response = submit(client, form, VALID, token=token)
    assert response.status_code == 404
    assert FormSubmission.objects.count() == 0


def test_unknown_form_is_404(client, db):
    assert client.get("/forms/nope/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_failed_processing_keeps_the_submission_and_a_retry_makes_one_ticket(
    client, form, monkeypatch
):
    def broken(*args, **kwargs):
        raise IntegrityError("database went away")

    monkeypatch.setattr(services, "record_inbound_messages", broken)
    response = submit(client, form, VALID)
    assert response.status_code == 200  # the message is safe with us
    submission = FormSubmission.objects.get()
    assert submission.status == SubmissionStatus.PENDING
    assert submission.attempts == 1
    assert "database went away" in submission.error
    assert Ticket.objects.count() == 0
    monkeypatch.undo()

    import datetime as dt

    assert services.retry_pending_submissions(older_than=dt.timedelta(0)) == 1
    assert services.retry_pending_submissions(older_than=dt.timedelta(0)) == 0
    services.process_submission(submission.pk)  # once more: still one ticket
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PROCESSED
    assert Ticket.objects.count() == 1
    assert submission.ticket == Ticket.objects.get()


def test_one_ticket_per_submission_is_a_database_guarantee(client, form):
    submit(client, form, VALID)
    submission = FormSubmission.objects.get()
    # Processing again as if it were pending (a second worker that missed the status):
    FormSubmission.objects.filter(pk=submission.pk).update(status=SubmissionStatus.PENDING)
    outcome = services.process_submission(submission.pk)
    assert outcome.submission.status == SubmissionStatus.PENDING
    assert "IntegrityError" in outcome.submission.error
    assert Ticket.objects.count() == 1


OPTIONS = [{"value": "a", "label": "Alpha"}, {"value": "b", "label": "Beta"}]


@pytest.mark.parametrize(
    ("kind", "posted", "stored"),
    [
        ("text", "Blue", "Blue"),
        ("textarea", "Line one\r\nLine two", "Line one\r\nLine two"),
        ("number", "12.5", 12.5),
        ("date", "2026-12-24", "2026-12-24"),
        ("select", "b", "b"),
        ("multiselect", ["a", "b"], ["a", "b"]),
        ("checkbox", "on", True),
    ],
    ids=["text", "textarea", "number", "date", "select", "multiselect", "checkbox"],
)
def test_every_custom_property_type_reaches_the_ticket(client, form, kind, posted, stored):
    PropertyDefinition.objects.create(name="extra", label="Extra", type=kind, options=OPTIONS)
    services.add_field(form, actor=None, key="property_extra")
    response = submit(client, form, {**VALID, "property_extra": posted})
    assert response.status_code == 200, response.content.decode()
    assert Ticket.objects.get().custom == {"extra": stored}


def test_a_wrong_custom_value_is_a_field_error(client, form):
    PropertyDefinition.objects.create(name="extra", label="Extra", type="number")
    services.add_field(form, actor=None, key="property_extra")
    response = submit(client, form, {**VALID, "property_extra": "twelve"})
    assert response.status_code == 400
    assert "Enter a number." in response.content.decode()
    assert Ticket.objects.count() == 0


def test_user_properties_are_not_offered_on_a_public_form(form):
    from svardesk.channels.forms.fields import available_fields

    PropertyDefinition.objects.create(name="expert", label="Expert", type="user")
    PropertyDefinition.objects.create(name="extra", label="Extra", type="text")
    keys = {a.key for a in available_fields()}
    assert "property_extra" in keys
    assert "property_expert" not in keys
    with pytest.raises(services.FormValidationError):
        services.add_field(form, actor=None, key="property_expert")


def test_old_spam_and_rejected_submissions_are_pruned_processed_ones_stay(client, form):
    import datetime as dt

    from django.utils import timezone

    submit(client, form, VALID)
    submit(client, form, {**VALID, "email": "bad"})
    submit(client, form, {**VALID, "homepage": "x"})
    assert services.prune_submissions() == 0
    later = timezone.now() + dt.timedelta(days=31)
    assert services.prune_submissions(now=later) == 2
    assert list(FormSubmission.objects.values_list("status", flat=True)) == ["processed"]


def test_a_submission_costs_a_bounded_number_of_queries(
    client, form, django_assert_max_num_queries
):
    # Baseline (bench/README.md#forms): store, process (contact, ticket, conversation,
    # message, the email conversation lookup), the live update. The form is cached.
    token = page_token(client, form)
    submit(client, form, VALID, token=token)  # warms the form cache
    with django_assert_max_num_queries(26):
        response = submit(client, form, {**VALID, "subject": "Second"}, token=token)
    assert response.status_code == 200
