"""Settings → Connect a channel → Calls, and each number's page (the webhook URLs to paste
into the provider, a new auth token, disconnecting): super admins and users with Account
access."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from svardesk.accounts.models import User
from svardesk.channels.calls import queries, services
from svardesk.channels.calls.models import CallChannel
from svardesk.core.decorators import account_access_required
from svardesk.core.shortcuts import found, render_settings

SECTION = "channels"


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    return render_settings(request, template, section=SECTION, context=context, status=status)


def _edit_context(
    call_channel: CallChannel, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    urls = services.webhook_urls(call_channel)
    return {
        "call_channel": call_channel,
        "urls": urls,
        "summary": queries.call_summary(call_channel),
        "errors": errors or {},
    }


@account_access_required
@never_cache
@require_http_methods(["GET", "POST"])
def connect(request: HttpRequest) -> HttpResponse:
    errors: dict[str, str] = {}
    values = {
        "phone_number": request.POST.get("phone_number", ""),
        "account_sid": request.POST.get("account_sid", ""),
        "language": request.POST.get("language", settings.LANGUAGE_CODE),
    }
    if request.method == "POST":
        try:
            call_channel = services.connect_call_channel(
                actor=_actor(request),
                phone_number=values["phone_number"],
                account_sid=values["account_sid"],
                auth_token=request.POST.get("auth_token", ""),
                language=values["language"],
            )
        except services.CallChannelValidationError as exc:
            errors = exc.errors
        else:
            messages.success(
                request, _("Number connected. Paste the webhook URLs into your provider.")
            )
            return redirect("calls_channel_settings:edit", channel_id=call_channel.channel_id)
    return _render(
        request,
        "calls_channel/connect.html",
        {"errors": errors, "values": values, "languages": settings.LANGUAGES},
        status=422 if errors else 200,  # htmx swaps 422 (app.js)
    )


@account_access_required
@require_http_methods(["GET"])
def edit(request: HttpRequest, channel_id: int) -> HttpResponse:
    call_channel = found(queries.get_call_channel(channel_id))
    return _render(request, "calls_channel/edit.html", _edit_context(call_channel))


@account_access_required
@require_POST
def replace_token(request: HttpRequest, channel_id: int) -> HttpResponse:
    call_channel = found(queries.get_call_channel(channel_id))
    try:
        services.replace_auth_token(
            call_channel, actor=_actor(request), auth_token=request.POST.get("auth_token", "")
        )
    except services.CallChannelValidationError as exc:
        return _render(
            request, "calls_channel/edit.html", _edit_context(call_channel, exc.errors), status=422
        )
    messages.success(request, _("Auth token replaced."))
    return redirect("calls_channel_settings:edit", channel_id=call_channel.channel_id)


@account_access_required
@require_http_methods(["GET", "POST"])
def disconnect(request: HttpRequest, channel_id: int) -> HttpResponse:
    call_channel = found(queries.get_call_channel(channel_id))
    if request.method == "POST":
        services.disconnect_call_channel(call_channel, actor=_actor(request))
        messages.success(request, _("Number disconnected. Its tickets stay."))
        return redirect("channel_settings:channels")
    return _render(request, "calls_channel/disconnect.html", {"call_channel": call_channel})
