"""The form builder (super admins and Account access users), connect_form, the embed script and framing headers."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from svardesk.channels.forms import services
from svardesk.channels.forms.models import Form, FormField, FormSubmission
from svardesk.channels.forms.tests.conftest import VALID, submit
from svardesk.conversations.models import Channel, ChannelKind
from svardesk.conversations.registry import get_adapter
from svardesk.tickets.models import Source
from tests.factories import UserFactory


def _keys(form: Form) -> list[str]:
    return list(form.fields.order_by("position", "id").values_list("key", flat=True))


def _builder_post(form: Form, **overrides) -> dict:
    """What the builder page posts: every field in the page's order, with its inputs."""
    data: dict = {
        "name": form.name,
        "language": form.language,
        "confirmation_message_en": "",
        "confirmation_message_sv": "",
        "allowed_websites": "",
        "action": "save",
        "field": [],
    }
    for field in form.fields.order_by("position", "id"):
        data["field"].append(str(field.pk))
        data[f"label_en_{field.pk}"] = field.label_en
        data[f"label_sv_{field.pk}"] = field.label_sv
        if field.is_required:
            data[f"required_{field.pk}"] = "on"
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    "url",
    ["/settings/channels/form/new/", "/settings/channels/form/{id}/",
     "/settings/channels/form/{id}/submissions/"],
    ids=["connect", "edit", "submissions"],
)  # fmt: skip
def test_builder_is_refused_to_users_without_account_access(client, agent, form, url):
    client.force_login(agent)
    assert client.get(url.format(id=form.pk)).status_code == 403
    response = client.post(url.format(id=form.pk), _builder_post(form, name="Taken over"))
    assert response.status_code in (403, 405)
    form.channel.refresh_from_db()
    assert form.channel.name == "Contact us"
    assert Form.objects.count() == 1


def test_disconnect_and_reconnect_need_account_access(client, agent, form):
    client.force_login(agent)
    assert client.post(f"/settings/channels/form/{form.pk}/disconnect/").status_code == 403
    form.channel.refresh_from_db()
    assert form.channel.is_active
    services.set_form_active(form, actor=None, is_active=False)
    assert client.post(f"/settings/channels/form/{form.pk}/reconnect/").status_code == 403
    form.channel.refresh_from_db()
    assert not form.channel.is_active


def test_an_account_access_user_connects_edits_and_disconnects_a_form(client, db):
    manager = UserFactory(email="manager@svardesk.test", has_account_access=True)
    assert not manager.is_superuser
    client.force_login(manager)
    assert client.get("/settings/channels/form/new/").status_code == 200
    response = client.post("/settings/channels/form/new/", {"name": "Support", "language": "en"})
    assert response.status_code == 302
    form = Form.objects.get()
    assert response["Location"] == f"/settings/channels/form/{form.pk}/"
    assert client.get(response["Location"]).status_code == 200
    saved = client.post(f"/settings/channels/form/{form.pk}/", _builder_post(form, name="Help"))
    assert saved.status_code == 302
    form.channel.refresh_from_db()
    assert form.channel.name == "Help"
    assert client.get(f"/settings/channels/form/{form.pk}/submissions/").status_code == 200
    assert client.post(f"/settings/channels/form/{form.pk}/disconnect/").status_code == 302
    form.channel.refresh_from_db()
    assert not form.channel.is_active
    assert client.post(f"/settings/channels/form/{form.pk}/reconnect/").status_code == 302
    form.channel.refresh_from_db()
    assert form.channel.is_active


def test_connect_a_form_creates_the_default_form(client, super_admin, db):
    client.force_login(super_admin)
    page = client.get("/settings/channels/form/new/")
    assert page.status_code == 200
    response = client.post("/settings/channels/form/new/", {"name": "Support", "language": "sv"})
    form = Form.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/settings/channels/form/{form.pk}/"
    assert form.channel.kind == ChannelKind.FORM
    assert form.language == "sv"
    assert _keys(form) == ["email", "name", "subject", "description"]


def test_connect_without_a_name_is_a_field_error(client, super_admin, db):
    client.force_login(super_admin)
    response = client.post("/settings/channels/form/new/", {"name": "  "})
    assert response.status_code == 400
    assert "Give the form a name." in response.content.decode()
    assert Channel.objects.count() == 0


def test_builder_page_shows_the_hosted_url_and_the_snippet(client, super_admin, form):
    client.force_login(super_admin)
    html = client.get(f"/settings/channels/form/{form.pk}/").content.decode()
    assert f"http://testserver/forms/{form.public_key}/" in html
    assert (
        f"&lt;script src=&quot;http://testserver/forms/{form.public_key}/embed.js&quot; "
        "async&gt;&lt;/script&gt;" in html
    )
    assert 'name="action" value="save"' in html


def test_builder_saves_the_order_labels_and_required_flags(client, super_admin, form):
    client.force_login(super_admin)
    by_key = {f.key: f for f in form.fields.all()}
    order = [by_key[k].pk for k in ("subject", "email", "description", "name")]
    data = _builder_post(form, field=[str(pk) for pk in order], name="Kontakt")
    data[f"label_sv_{by_key['subject'].pk}"] = "Ärende"
    data[f"required_{by_key['name'].pk}"] = "on"
    data.pop(f"required_{by_key['email'].pk}")  # the email stays required regardless
    response = client.post(f"/settings/channels/form/{form.pk}/", data)
    assert response.status_code == 302
    form.refresh_from_db()
    assert _keys(form) == ["subject", "email", "description", "name"]
    assert form.name == "Kontakt"
    assert FormField.objects.get(pk=by_key["subject"].pk).label_sv == "Ärende"
    assert FormField.objects.get(pk=by_key["name"].pk).is_required
    assert FormField.objects.get(pk=by_key["email"].pk).is_required


def test_up_and_down_buttons_move_a_field(client, super_admin, form):
    client.force_login(super_admin)
    description = form.fields.get(key="description")
    client.post(
        f"/settings/channels/form/{form.pk}/", _builder_post(form, action=f"up:{description.pk}")
    )
    assert _keys(form) == ["email", "name", "description", "subject"]
    email = form.fields.get(key="email")
    client.post(f"/settings/channels/form/{form.pk}/", _builder_post(form, action=f"up:{email.pk}"))
    assert _keys(form) == ["email", "name", "description", "subject"]  # already first


def test_add_and_remove_fields(client, super_admin, form):
    client.force_login(super_admin)
    url = f"/settings/channels/form/{form.pk}/"
    client.post(url, _builder_post(form, action="add", add_key="priority"))
    assert _keys(form)[-1] == "priority"
    response = client.post(url, _builder_post(form, action="add", add_key="priority"))
    assert response.status_code == 400
    assert "The form already asks for that." in response.content.decode()
    priority = form.fields.get(key="priority")
    client.post(url, _builder_post(form, action=f"remove:{priority.pk}"))
    assert "priority" not in _keys(form)
    email = form.fields.get(key="email")
    response = client.post(url, _builder_post(form, action=f"remove:{email.pk}"))
    assert response.status_code == 400
    assert "email" in _keys(form)


def test_websites_are_normalised_and_bad_ones_refused(client, super_admin, form):
    client.force_login(super_admin)
    url = f"/settings/channels/form/{form.pk}/"
    response = client.post(
        url, _builder_post(form, allowed_websites="https://Shop.example/contact\nhttp://x:8080")
    )
    assert response.status_code == 302
    form.refresh_from_db()
    assert form.allowed_websites == ["https://shop.example", "http://x:8080"]
    response = client.post(url, _builder_post(form, allowed_websites="shop dot example"))
    assert response.status_code == 400
    assert "Write each website as its address" in response.content.decode()
    form.refresh_from_db()
    assert form.allowed_websites == ["https://shop.example", "http://x:8080"]


def test_a_stale_field_list_is_refused(client, super_admin, form):
    client.force_login(super_admin)
    data = _builder_post(form)
    data["field"] = data["field"][:-1]
    response = client.post(f"/settings/channels/form/{form.pk}/", data)
    assert response.status_code == 400
    assert "The form was changed meanwhile" in response.content.decode()


def test_submissions_page_lists_every_status(client, super_admin, form):
    submit(client, form, VALID)
    submit(client, form, {**VALID, "email": "bad"})
    submit(client, form, {**VALID, "homepage": "x"})
    client.force_login(super_admin)
    html = client.get(f"/settings/channels/form/{form.pk}/submissions/").content.decode()
    assert "Ticket created" in html
    assert "Rejected (invalid input)" in html
    assert "Spam" in html
    assert "Enter a valid email address." in html


def test_connect_form_command_prints_the_absolute_url_last(db, settings):
    settings.BASE_URL = "https://help.example.com"
    out = StringIO()
    call_command("connect_form", "Website contact", stdout=out, stderr=StringIO())
    form = Form.objects.get()
    assert out.getvalue().splitlines()[-1] == f"https://help.example.com/forms/{form.public_key}/"
    assert _keys(form) == ["email", "name", "subject", "description"]


def test_embed_js_inserts_a_frame_of_the_hosted_page(client, form):
    response = client.get(f"/forms/{form.public_key}/embed.js")
    body = response.content.decode("ascii").encode().decode("unicode_escape")  # \u002D → -
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert f'"http://testserver/forms/{form.public_key}/?embed=1"' in body
    assert "event.origin !== origin" in body
    assert client.get("/forms/unknown/embed.js").status_code == 404


def test_form_page_may_be_framed_by_its_websites_only(client, form):
    response = client.get(f"/forms/{form.public_key}/")
    assert "X-Frame-Options" not in response
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    form.allowed_websites = ["https://shop.example"]
    form.save()
    response = client.get(f"/forms/{form.public_key}/")
    assert "frame-ancestors https://shop.example;" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_other_pages_still_refuse_framing(client, super_admin, form):
    client.force_login(super_admin)
    response = client.get(f"/settings/channels/form/{form.pk}/")
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_adapter_is_registered_with_the_form_source_and_its_state(client, form):
    adapter = get_adapter(ChannelKind.FORM)
    assert adapter.ticket_source == Source.FORM
    assert adapter.capabilities.starts_conversations is False
    assert adapter.connect_url() == "/settings/channels/form/new/"
    submit(client, form, VALID)
    submit(client, form, {**VALID, "homepage": "x"})
    state = adapter.state(form.channel)
    assert state.last_received_at == FormSubmission.objects.latest("received_at").received_at
    assert state.details == ["2 submissions today", "1 of them spam"]
    assert state.problems == []
    assert state.settings_url == f"/settings/channels/form/{form.pk}/"


def test_adapter_state_names_submissions_that_wait(form):
    import datetime as dt

    from django.utils import timezone

    services.store_submission(
        form,
        data={"email": ["a@b.example"]},
        language="en",
        arrival=services.Arrival(),
        now=timezone.now() - dt.timedelta(minutes=5),
    )
    FormSubmission.objects.update(error="OperationalError: locked")
    state = get_adapter(ChannelKind.FORM).state(form.channel)
    assert len(state.problems) == 1
    assert re.search(
        r"1 submission waits to be processed.*OperationalError: locked", state.problems[0]
    )
