"""The chat's HTTP side: the widget script and its config (public, other websites), closing a
chat (agents), and the channel's pages in Help desk settings."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any, cast

from django.contrib import messages
from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from svardesk.accounts.models import User
from svardesk.channels.chat import queries, services
from svardesk.channels.chat.forms import ChatChannelForm
from svardesk.channels.chat.limits import current_limits
from svardesk.channels.chat.models import ChatChannel
from svardesk.channels.chat.services import ChatChannelValidationError
from svardesk.channels.chat.texts import widget_language, widget_strings
from svardesk.core.decorators import account_access_required, workspace_required
from svardesk.core.exceptions import NotFoundError, PermissionDeniedError
from svardesk.core.origins import origin_or_none
from svardesk.tickets.queries import access_ticket

WIDGET_CACHE_SECONDS = 24 * 3600
SECTION = "channels"


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


# --- Public: the widget and its config ------------------------------------------------------


@cache
def _widget_source() -> tuple[bytes, str]:
    path = finders.find("chat/widget.js")
    if not path:
        raise FileNotFoundError("chat/widget.js")
    body = Path(str(path)).read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:32]


@require_GET
def widget_js(request: HttpRequest) -> HttpResponse:
    """The widget: public code, cached a day by browsers, loadable from any website."""
    body, digest = _widget_source()
    etag = f'"{digest}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={WIDGET_CACHE_SECONDS}"
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _ws_url(request: HttpRequest, key: str) -> str:
    scheme = "wss" if request.is_secure() else "ws"
    return f"{scheme}://{request.get_host()}/ws/chat/{key}/"


@require_GET
def widget_config(request: HttpRequest, key: str) -> HttpResponse:
    """The widget's configuration, only for the channel's websites (`Origin`): anywhere else
    403 without CORS headers, so the browser refuses it and the launcher never appears."""
    chat_channel = queries.chat_channel_for_key(key)
    if chat_channel is None:
        return JsonResponse({"error": "not_found"}, status=404)
    origin = origin_or_none(request.headers.get("Origin"))
    if origin is None and request.headers.get("Sec-Fetch-Site") == "same-origin":
        # A browser sends no Origin on a same-origin GET: the page is on this very host (a
        # help page served beside Svardesk, the demo website), and the browser says so.
        origin = origin_or_none(f"{request.scheme}://{request.get_host()}")
    if origin is None or origin not in chat_channel.websites:
        response = JsonResponse({"error": "origin_not_allowed"}, status=403)
        response["Vary"] = "Origin"
        return response
    from svardesk.channels.chat.consumers import agents_available

    services.record_sighting(chat_channel, origin, now=timezone.now())
    language = widget_language(request.GET.get("lang"), chat_channel.language)
    response = JsonResponse(
        {
            "ws_url": _ws_url(request, chat_channel.public_key),
            "ask_details": chat_channel.ask_details,
            "available": agents_available(),
            "max_message_chars": current_limits().max_message_chars,
            "lang": language,
            "strings": widget_strings(language),
        },
        json_dumps_params={"ensure_ascii": False},
    )
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    response["Cache-Control"] = "no-store"
    return response


# --- Agents: closing a chat -----------------------------------------------------------------


@workspace_required
@require_POST
def close_chat(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Close the chat (its ticket must be visible to the agent, else 404)."""
    session = queries.session_of_conversation(conversation_id)
    if session is None or session.conversation.ticket_id is None:
        raise Http404("No such chat")
    try:
        ticket = access_ticket(session.conversation.ticket_id, actor=_actor(request))
    except NotFoundError:
        raise Http404("No such chat") from None
    if services.close_chat(session, actor=_actor(request)):
        messages.success(request, _("The chat was closed."))
    else:
        messages.info(request, _("The chat was closed already."))
    url = reverse("tickets:detail", args=[ticket.pk])
    if request.headers.get("HX-Request"):
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)


# --- Settings ---------------------------------------------------------------------------------


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """A settings page: the template extends workspace/settings_base.html (the shell draws
    itself; this app never imports the workspace)."""
    return render(request, template, {"settings_section": SECTION, **context}, status=status)


def snippet_for(base_url: str, chat_channel: ChatChannel) -> str:
    base = base_url.rstrip("/")
    return (
        f'<script src="{base}/chat/widget.js" data-svardesk-chat="{chat_channel.public_key}" '
        "async></script>"
    )


def _snippet(request: HttpRequest, chat_channel: ChatChannel) -> str:
    return snippet_for(request.build_absolute_uri("/"), chat_channel)


@account_access_required
@require_http_methods(["GET", "POST"])
def connect(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render(request, "chat_channel/form.html", {"form": ChatChannelForm()})
    form = ChatChannelForm(request.POST)
    if form.is_valid():
        try:
            chat_channel = services.connect_chat_channel(
                actor=_actor(request),
                name=form.cleaned_data["name"],
                websites=form.cleaned_data["websites"],
                ask_details=form.cleaned_data["ask_details"],
                language=form.cleaned_data["language"],
                transcripts=form.transcripts(),
            )
        except ChatChannelValidationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The chat channel is connected."))
            return redirect("chat_settings:snippet", channel_id=chat_channel.channel_id)
    return _render(request, "chat_channel/form.html", {"form": form}, status=422)


def _chat_channel(channel_id: int) -> ChatChannel:
    chat_channel = queries.get_chat_channel(channel_id)
    if chat_channel is None:
        raise Http404("No such chat channel")
    return chat_channel


@account_access_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, channel_id: int) -> HttpResponse:
    """Super admins and Account access users change everything on the page."""
    chat_channel = _chat_channel(channel_id)
    actor = _actor(request)
    context: dict[str, Any] = {
        "chat_channel": chat_channel,
        "snippet": _snippet(request, chat_channel),
    }
    if request.method != "POST":
        context["form"] = ChatChannelForm(instance=chat_channel)
        return _render(request, "chat_channel/form.html", context)
    form = ChatChannelForm(request.POST, instance=chat_channel)
    if form.is_valid():
        try:
            services.update_chat_channel(
                chat_channel,
                actor=actor,
                name=form.cleaned_data["name"],
                websites=form.cleaned_data["websites"],
                ask_details=form.cleaned_data["ask_details"],
                language=form.cleaned_data["language"],
                transcripts=form.transcripts(),
            )
        except (ChatChannelValidationError, PermissionDeniedError) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The chat channel was saved."))
            return redirect("chat_settings:edit", channel_id=channel_id)
    context["form"] = form
    return _render(request, "chat_channel/form.html", context, status=422)


@account_access_required
@require_GET
def snippet(request: HttpRequest, channel_id: int) -> HttpResponse:
    chat_channel = _chat_channel(channel_id)
    return _render(
        request,
        "chat_channel/snippet.html",
        {"chat_channel": chat_channel, "snippet": _snippet(request, chat_channel)},
    )


@account_access_required
@require_http_methods(["GET", "POST"])
def disconnect(request: HttpRequest, channel_id: int) -> HttpResponse:
    chat_channel = _chat_channel(channel_id)
    if request.method != "POST":
        return _render(request, "chat_channel/disconnect.html", {"chat_channel": chat_channel})
    services.set_chat_channel_active(chat_channel, actor=_actor(request), active=False)
    messages.success(request, _("The chat channel was disconnected."))
    return redirect("chat_settings:edit", channel_id=channel_id)


@account_access_required
@require_POST
def reconnect(request: HttpRequest, channel_id: int) -> HttpResponse:
    chat_channel = _chat_channel(channel_id)
    services.set_chat_channel_active(chat_channel, actor=_actor(request), active=True)
    messages.success(request, _("The chat channel is connected again."))
    return redirect("chat_settings:edit", channel_id=channel_id)
