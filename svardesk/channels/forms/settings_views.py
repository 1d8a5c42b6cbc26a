"""The form builder (Help desk settings → Channels → Form), for super admins and users with
Account access (SPEC: Account access connects channels): create a form, arrange its fields,
its confirmation, where it may be embedded; see its submissions; disconnect, reconnect."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from svardesk.accounts.models import User
from svardesk.channels.forms import queries, services
from svardesk.channels.forms.exceptions import FormValidationError
from svardesk.channels.forms.fields import available_fields, default_label, specs_for
from svardesk.channels.forms.models import FieldKind, Form, FormLanguage
from svardesk.core.decorators import account_access_required
from svardesk.core.parsing import parse_id
from svardesk.core.shortcuts import render_settings

SECTION = "channels"


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _form_or_404(form_id: int) -> Form:
    form = queries.get_form(form_id)
    if form is None:
        raise Http404("No such form")
    return form


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    return render_settings(request, template, section=SECTION, context=context, status=status)


@account_access_required
@require_http_methods(["GET", "POST"])
def connect(request: HttpRequest) -> HttpResponse:
    errors: dict[str, str] = {}
    name = request.POST.get("name", "") if request.method == "POST" else ""
    language = request.POST.get("language", FormLanguage.ENGLISH)
    if request.method == "POST":
        try:
            form = services.create_form(actor=_actor(request), name=name, language=language)
        except FormValidationError as exc:
            errors = exc.errors
        else:
            messages.success(request, _("Form created. Add fields, then copy its link or snippet."))
            return redirect("forms_channel_settings:edit", form_id=form.pk)
    return _render(
        request,
        "forms_channel/connect.html",
        {"errors": errors, "name": name, "language": language, "languages": FormLanguage.choices},
        status=400 if errors else 200,
    )


def _urls(request: HttpRequest, form: Form) -> dict[str, str]:
    page = request.build_absolute_uri(reverse("forms_channel:page", args=[form.public_key]))
    script = request.build_absolute_uri(reverse("forms_channel:embed", args=[form.public_key]))
    return {"hosted_url": page, "snippet": f'<script src="{script}" async></script>'}


def _rows(form: Form) -> list[dict[str, Any]]:
    form_fields = list(form.fields.all())
    specs = specs_for(form_fields)
    rows = []
    for field in form_fields:
        spec = specs.get(field.property_name)
        row: dict[str, Any] = {
            "field": field,
            "property_label": spec.label if spec else str(FieldKind(field.kind).label),
            "placeholder_en": default_label(_blank(field), "en", spec),
            "placeholder_sv": default_label(_blank(field), "sv", spec),
            "missing": field.kind == FieldKind.CUSTOM and spec is None,
            "is_email": field.kind == FieldKind.EMAIL,
        }
        rows.append(row)
    return rows


def _blank(field: Any) -> Any:
    """The field without its typed labels (for the placeholders: the default labels)."""
    return type(field)(kind=field.kind, property_name=field.property_name, key=field.key)


def _change_from(request: HttpRequest, form: Form) -> services.FormChange:
    post = request.POST
    fields = []
    for raw in post.getlist("field"):
        field_id = parse_id(raw)
        if field_id is None:
            continue
        fields.append(
            services.FieldChange(
                field_id=field_id,
                is_required=post.get(f"required_{field_id}") == "on",
                label_en=post.get(f"label_en_{field_id}", ""),
                label_sv=post.get(f"label_sv_{field_id}", ""),
                help_text_en=post.get(f"help_en_{field_id}", ""),
                help_text_sv=post.get(f"help_sv_{field_id}", ""),
            )
        )
    return services.FormChange(
        name=post.get("name", ""),
        language=post.get("language", form.language),
        confirmation_message_en=post.get("confirmation_message_en", ""),
        confirmation_message_sv=post.get("confirmation_message_sv", ""),
        send_confirmation_email=post.get("send_confirmation_email") == "on",
        allowed_websites=post.get("allowed_websites", "").splitlines(),
        fields=fields,
    )


@account_access_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, form_id: int) -> HttpResponse:
    form = _form_or_404(form_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        actor = _actor(request)
        action = request.POST.get("action", "save")
        verb, _sep, target = action.partition(":")
        try:
            services.save_form(form, actor=actor, change=_change_from(request, form))
            target_id = parse_id(target)
            if verb == "add":
                services.add_field(form, actor=actor, key=request.POST.get("add_key", ""))
            elif verb == "remove" and target_id is not None:
                services.remove_field(form, actor=actor, field_id=target_id)
            elif verb in ("up", "down") and target_id is not None:
                services.move_field(
                    form, actor=actor, field_id=target_id, step=-1 if verb == "up" else 1
                )
        except FormValidationError as exc:
            errors = exc.errors
        else:
            if verb == "save":
                messages.success(request, _("Form saved."))
            url = reverse("forms_channel_settings:edit", args=[form.pk])
            anchor = "#form-fields" if verb in ("add", "remove", "up", "down") else ""
            return redirect(url + anchor)
        form = _form_or_404(form_id)
    present = set(form.fields.values_list("key", flat=True))
    addable = [a for a in available_fields() if a.key not in present]
    posted = request.POST if errors else None
    return _render(
        request,
        "forms_channel/builder.html",
        {
            "form": form,
            "rows": _rows(form),
            "addable": addable,
            "errors": errors,
            "posted": posted,
            "languages": FormLanguage.choices,
            "websites_text": "\n".join(form.allowed_websites),
            **_urls(request, form),
        },
        status=400 if errors else 200,
    )


@account_access_required
@require_GET
def submissions(request: HttpRequest, form_id: int) -> HttpResponse:
    form = _form_or_404(form_id)
    rows = [
        {"submission": s, "email": queries.submission_email(s)}
        for s in queries.recent_submissions(form)
    ]
    return _render(request, "forms_channel/submissions.html", {"form": form, "rows": rows})


@account_access_required
@require_POST
def disconnect(request: HttpRequest, form_id: int) -> HttpResponse:
    form = _form_or_404(form_id)
    services.set_form_active(form, actor=_actor(request), is_active=False)
    messages.success(request, _("The form is disconnected: its page no longer takes messages."))
    return redirect("forms_channel_settings:edit", form_id=form.pk)


@account_access_required
@require_POST
def reconnect(request: HttpRequest, form_id: int) -> HttpResponse:
    form = _form_or_404(form_id)
    services.set_form_active(form, actor=_actor(request), is_active=True)
    messages.success(request, _("The form takes messages again."))
    return redirect("forms_channel_settings:edit", form_id=form.pk)
