"""The raw-MIME HTTP endpoint, and the channel pages of Help desk settings (Channels, Connect
a channel → Email, Quarantine, Conversation rules)."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from svardesk.accounts.models import User
from svardesk.channels.email import channel_queries as queries
from svardesk.channels.email import services
from svardesk.channels.email.forms import MB, EmailChannelForm, HelpDeskSettingsForm
from svardesk.channels.email.imap import max_message_bytes
from svardesk.channels.email.ingest import receive_raw_email, reprocess
from svardesk.channels.email.models import EmailChannel, InboundStatus
from svardesk.channels.email.services import EmailChannelValidationError
from svardesk.conversations.models import HelpDeskSettings
from svardesk.core.decorators import account_access_required, super_admin_required
from svardesk.core.machine_endpoints import machine_endpoint
from svardesk.core.shortcuts import found, render_settings

ACCEPTED_RAW_TYPES = {"", "message/rfc822", "text/plain", "application/octet-stream"}


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


# --- The raw-MIME endpoint ---------------------------------------------------------------------


def _bearer_token(request: HttpRequest) -> str:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@machine_endpoint
@csrf_exempt  # authenticated by its bearer token, not a session: the only CSRF-exempt view
@require_POST
def receive_raw(request: HttpRequest, channel_id: int) -> HttpResponse:
    """POST the message exactly as received (RFC 822 bytes) with `Authorization: Bearer
    <token>`. 202 {"id", "duplicate"} once it is stored; the same message twice is stored once."""
    token = _bearer_token(request)
    channel = queries.channel_for_http_token(channel_id, token) if token else None
    if channel is None:
        response = JsonResponse({"error": "A valid bearer token is required."}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="svardesk"'
        return response
    content_type = request.content_type or ""
    if content_type.lower() not in ACCEPTED_RAW_TYPES:
        return JsonResponse(
            {"error": "Send the raw message as Content-Type: message/rfc822."}, status=415
        )
    limit = max_message_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return JsonResponse({"error": f"The message is over {limit} bytes."}, status=413)
    raw = request.read(limit + 1)
    if len(raw) > limit:
        return JsonResponse({"error": f"The message is over {limit} bytes."}, status=413)
    if not raw.strip():
        return JsonResponse({"error": "The request body is empty."}, status=400)
    inbound = receive_raw_email(channel=channel, raw=raw, via="http")
    return JsonResponse(
        {"id": inbound.pk, "duplicate": bool(getattr(inbound, "is_duplicate", False))},
        status=202,
    )


# --- Channels ----------------------------------------------------------------------------------

SECTION_CHANNELS = "channels"
SECTION_QUARANTINE = "quarantine"
SECTION_RULES = "conversation_rules"


def _raw_endpoint_url(request: HttpRequest, email_channel: EmailChannel) -> str:
    return request.build_absolute_uri(reverse("email_channel:raw", args=[email_channel.channel_id]))


def _render_form(
    request: HttpRequest,
    form: EmailChannelForm,
    *,
    email_channel: EmailChannel | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, object] = {
        "form": form,
        "email_channel": email_channel,
        "may_manage_mail_servers": form.with_servers,
    }
    if email_channel is not None:
        context["raw_endpoint_url"] = _raw_endpoint_url(request, email_channel)
    return render_settings(
        request,
        "email_channel/email_form.html",
        section=SECTION_CHANNELS,
        context=context,
        status=status,
    )


@account_access_required
@require_http_methods(["GET", "POST"])
def email_connect(request: HttpRequest) -> HttpResponse:
    with_servers = services.may_manage_mail_servers(_actor(request))
    if request.method != "POST":
        return _render_form(request, EmailChannelForm(with_servers=with_servers))
    form = EmailChannelForm(request.POST, with_servers=with_servers)
    if form.is_valid():
        try:
            connected = services.connect_email_channel(
                actor=_actor(request),
                address=form.cleaned_data["address"],
                display_name=form.cleaned_data["display_name"],
                imap=form.imap_settings(),
                smtp_url=form.smtp_url_change() or "",
            )
        except EmailChannelValidationError as exc:
            form.add_error(None, str(exc))
        else:
            # The token is not stored, so it is shown on this response and never again.
            return render_settings(
                request,
                "email_channel/token.html",
                section=SECTION_CHANNELS,
                context={
                    "email_channel": connected.channel,
                    "http_token": connected.http_token,
                    "raw_endpoint_url": _raw_endpoint_url(request, connected.channel),
                    "just_connected": True,
                },
            )
    return _render_form(request, form, status=422)


@account_access_required
@require_http_methods(["GET", "POST"])
def email_edit(request: HttpRequest, channel_id: int) -> HttpResponse:
    email_channel = found(queries.get_email_channel(channel_id))
    with_servers = services.may_manage_mail_servers(_actor(request))
    if request.method != "POST":
        form = EmailChannelForm(instance=email_channel, with_servers=with_servers)
        return _render_form(request, form, email_channel=email_channel)
    form = EmailChannelForm(request.POST, instance=email_channel, with_servers=with_servers)
    if form.is_valid():
        try:
            services.update_email_channel(
                email_channel,
                actor=_actor(request),
                address=form.cleaned_data["address"],
                display_name=form.cleaned_data["display_name"],
                imap=form.imap_settings(),
                smtp_url=form.smtp_url_change(),
            )
        except EmailChannelValidationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The email channel was saved."))
            return redirect("channel_settings:email_edit", channel_id=channel_id)
    return _render_form(request, form, email_channel=email_channel, status=422)


@account_access_required
@require_http_methods(["GET", "POST"])
def email_disconnect(request: HttpRequest, channel_id: int) -> HttpResponse:
    email_channel = found(queries.get_email_channel(channel_id))
    if request.method == "POST":
        services.disconnect_email_channel(email_channel, actor=_actor(request))
        messages.success(
            request,
            _("%(address)s was disconnected. Its tickets and conversations stay.")
            % {"address": email_channel.address},
        )
        return redirect("channel_settings:channels")
    return render_settings(
        request,
        "email_channel/disconnect.html",
        section=SECTION_CHANNELS,
        context={"email_channel": email_channel},
    )


@account_access_required
@require_http_methods(["GET", "POST"])
def email_reconnect(request: HttpRequest, channel_id: int) -> HttpResponse:
    email_channel = found(queries.get_email_channel(channel_id))
    if request.method != "POST":
        # The page that showed a token, reloaded (the URL stays in the address bar).
        return redirect("channel_settings:email_edit", channel_id=channel_id)
    try:
        token = services.reconnect_email_channel(email_channel, actor=_actor(request))
    except EmailChannelValidationError as exc:
        messages.error(request, str(exc))
        return redirect("channel_settings:email_edit", channel_id=channel_id)
    return render_settings(
        request,
        "email_channel/token.html",
        section=SECTION_CHANNELS,
        context={
            "email_channel": email_channel,
            "http_token": token,
            "raw_endpoint_url": _raw_endpoint_url(request, email_channel),
            "just_connected": True,
        },
    )


@account_access_required
@require_http_methods(["GET", "POST"])
def email_rotate_token(request: HttpRequest, channel_id: int) -> HttpResponse:
    email_channel = found(queries.get_email_channel(channel_id))
    if request.method != "POST":
        # The page that showed a token, reloaded (the URL stays in the address bar).
        return redirect("channel_settings:email_edit", channel_id=channel_id)
    if not email_channel.channel.is_active:
        messages.error(request, _("Connect the address again before making a token."))
        return redirect("channel_settings:email_edit", channel_id=channel_id)
    token = services.rotate_http_token(email_channel, actor=_actor(request))
    return render_settings(
        request,
        "email_channel/token.html",
        section=SECTION_CHANNELS,
        context={
            "email_channel": email_channel,
            "http_token": token,
            "raw_endpoint_url": _raw_endpoint_url(request, email_channel),
            "just_connected": False,
        },
    )


# --- Quarantine --------------------------------------------------------------------------------


@super_admin_required  # raw mail of every team (services.may_manage_mail_servers)
@require_GET
def quarantine(request: HttpRequest) -> HttpResponse:
    return render_settings(
        request,
        "email_channel/quarantine.html",
        section=SECTION_QUARANTINE,
        context={"quarantined": queries.list_quarantined()},
    )


@super_admin_required  # raw mail of every team (services.may_manage_mail_servers)
@require_POST
def quarantine_reprocess(request: HttpRequest, pk: int) -> HttpResponse:
    inbound = found(queries.get_quarantined(pk))
    reprocess(inbound)
    inbound.refresh_from_db(fields=["status", "error"])
    if inbound.status == InboundStatus.QUARANTINED:
        messages.error(
            request,
            _("The message still cannot be processed: %(error)s") % {"error": inbound.error},
        )
    else:
        messages.success(request, _("The message was processed."))
    return redirect("channel_settings:quarantine")


@super_admin_required  # raw mail of every team (services.may_manage_mail_servers)
@require_GET
def quarantine_download(request: HttpRequest, pk: int) -> HttpResponse:
    inbound = found(queries.get_quarantined(pk))
    response = HttpResponse(bytes(inbound.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="quarantined-{inbound.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Conversation rules ------------------------------------------------------------------------


@account_access_required
@require_http_methods(["GET", "POST"])
def conversation_rules(request: HttpRequest) -> HttpResponse:
    current = HelpDeskSettings.load()
    if request.method != "POST":
        form = HelpDeskSettingsForm.for_settings(current)
    else:
        form = HelpDeskSettingsForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            services.update_help_desk_settings(
                actor=_actor(request),
                reopen_closed_on_reply=data["reopen_closed_on_reply"],
                move_to_waiting_on_contact_on_reply=data["move_to_waiting_on_contact_on_reply"],
                move_to_waiting_on_us_on_customer_reply=data[
                    "move_to_waiting_on_us_on_customer_reply"
                ],
                max_attachment_bytes=data["max_attachment_mb"] * MB,
            )
            messages.success(request, _("The conversation rules were saved."))
            return redirect("channel_settings:conversation_rules")
    return render_settings(
        request,
        "email_channel/rules.html",
        section=SECTION_RULES,
        context={"form": form},
        status=422 if form.is_bound else 200,
    )
