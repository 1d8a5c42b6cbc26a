"""Settings → Outgoing mail: the mail Svardesk kept instead of sending (no SVARDESK_SMTP_URL).

Super admins and users with Account access. A message's HTML is shown sanitised (nh3) in a
sandboxed frame whose policy loads nothing; the raw .eml downloads as an attachment."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from svardesk.channels.email import kept_mail
from svardesk.conversations.content import sanitize_html
from svardesk.core.decorators import account_access_required
from svardesk.core.parsing import parse_id
from svardesk.workspace.settings.common import found, render_settings

SECTION = "outgoing_mail"

# The frame shows sanitised HTML and loads nothing: no script, no remote image, no form.
FRAME_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'; sandbox"
)


def _is_kept_by_default() -> bool:
    return settings.EMAIL_BACKEND == "svardesk.channels.email.kept_mail.KeptMailBackend"


@account_access_required
@require_GET
def outgoing_mail_list(request: HttpRequest) -> HttpResponse:
    before = parse_id(request.GET.get("before", "")) if request.GET.get("before") else None
    page = kept_mail.list_kept_mail(before=before)
    return render_settings(
        request,
        "workspace/settings/outgoing_mail.html",
        section=SECTION,
        context={
            "page": page,
            "is_first_page": before is None,
            "is_kept": _is_kept_by_default(),
            "limit": settings.KEPT_MAIL_LIMIT,
        },
    )


@account_access_required
@require_GET
def outgoing_mail_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = found(kept_mail.get_kept_mail(pk))
    return render_settings(
        request,
        "workspace/settings/outgoing_mail_message.html",
        section=SECTION,
        context={"message": message},
    )


@account_access_required
@require_GET
@xframe_options_sameorigin
def outgoing_mail_html(request: HttpRequest, pk: int) -> HttpResponse:
    message = found(kept_mail.get_kept_mail(pk))
    response = render(
        request,
        "workspace/settings/outgoing_mail_frame.html",
        # nh3 has cleaned it; the frame's policy and sandbox hold even if it missed something.
        {"body": mark_safe(sanitize_html(message.html))},  # noqa: S308
    )
    response["Content-Security-Policy"] = FRAME_POLICY
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response


@account_access_required
@require_GET
def outgoing_mail_raw(request: HttpRequest, pk: int) -> HttpResponse:
    message = found(kept_mail.get_kept_mail(pk))
    response = HttpResponse(bytes(message.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="outgoing-{message.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
