"""The Messenger channel's HTTP side: the Messenger Platform's webhook (public, verified by
its signature instead of CSRF) and the channel's pages in Settings."""

from __future__ import annotations

import logging
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from svardesk.accounts.models import User
from svardesk.channels.messenger import queries, services
from svardesk.channels.messenger.forms import ConnectPageForm, ReplaceSecretsForm
from svardesk.channels.messenger.models import MessengerPage
from svardesk.core import bursts
from svardesk.core.crypto import decrypt_secret
from svardesk.core.decorators import account_access_required
from svardesk.core.exceptions import PermissionDeniedError
from svardesk.core.machine_endpoints import machine_endpoint

logger = logging.getLogger(__name__)
SECTION = "channels"
MAX_CHALLENGE_CHARS = 200


def _text(body: str, status: int) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")


def webhook_path(page: MessengerPage) -> str:
    return reverse("messenger_channel:webhook", args=[page.url_key])


def webhook_url(page: MessengerPage, base_url: str | None = None) -> str:
    return f"{(base_url or settings.BASE_URL).rstrip('/')}{webhook_path(page)}"


# --- The webhook ----------------------------------------------------------------------------


@machine_endpoint
@csrf_exempt  # Meta signs its POSTs (X-Hub-Signature-256); there is no session or form
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, key: str) -> HttpResponse:
    page = queries.page_for_key(key)
    if page is None or not page.channel.is_active:
        return _text("Forbidden", 403)
    if request.method == "GET":
        return _verify(request, page)
    if not services.signature_valid(
        page, request.body, request.headers.get("X-Hub-Signature-256", "")
    ):
        return _text("Invalid signature", 403)
    event = services.store_event(page, request.body)  # committed: nothing is lost below
    if bursts.processing_deferred():
        # The worker processes the burst's events in batches (a body that is not Messenger
        # JSON keeps its error there): this request is one INSERT and the answer.
        services.enqueue_processing()
        return _text("EVENT_RECEIVED", 200)
    event_id = event.pk
    try:
        services.process_event(event_id, stored=event)
    except services.EventBodyError as exc:
        return _text(f"Bad request: {exc}", 400)
    except Exception:
        # Kept with its error; the task (and the minute sweep) try again. Meta gets its 200:
        # the event is ours now.
        logger.exception("Processing Messenger event %s failed; it is retried", event_id)
        from svardesk.channels.messenger.tasks import process_messenger_event

        process_messenger_event(event_id)
    return _text("EVENT_RECEIVED", 200)


def _verify(request: HttpRequest, page: MessengerPage) -> HttpResponse:
    """Meta's subscription check: echo `hub.challenge` when the verify token is ours."""
    mode = request.GET.get("hub.mode", "")
    token = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    if (
        mode == "subscribe"
        and services.verify_token_matches(page, token)
        and challenge
        and len(challenge) <= MAX_CHALLENGE_CHARS
    ):
        return _text(challenge, 200)
    return _text("Forbidden", 403)


# --- Settings -------------------------------------------------------------------------------


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """A settings page (the template extends workspace/settings_base.html)."""
    return render(request, template, {"settings_section": SECTION, **context}, status=status)


def _page(channel_id: int) -> MessengerPage:
    page = queries.get_page(channel_id)
    if page is None:
        raise Http404("No such Facebook Page")
    return page


@account_access_required
@never_cache
@require_http_methods(["GET", "POST"])
def connect(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render(request, "messenger_channel/connect.html", {"form": ConnectPageForm()})
    form = ConnectPageForm(request.POST)
    if form.is_valid():
        try:
            page = services.connect_page(actor=_actor(request), **form.cleaned_data)
        except (services.MessengerValidationError, PermissionDeniedError) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("The Facebook Page is connected. Now paste the webhook address in Meta's app."),
            )
            return redirect("messenger_channel_settings:edit", channel_id=page.channel_id)
    return _render(request, "messenger_channel/connect.html", {"form": form}, status=422)


@account_access_required
@never_cache  # shows the verify token: kept out of caches
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, channel_id: int) -> HttpResponse:
    page = _page(channel_id)
    context: dict[str, Any] = {
        "page": page,
        "webhook_url": webhook_url(page, request.build_absolute_uri("/")),
        "verify_token": decrypt_secret(page.verify_token_encrypted),
    }
    if request.method != "POST":
        context["form"] = ReplaceSecretsForm(initial={"page_name": page.page_name})
        return _render(request, "messenger_channel/edit.html", context)
    form = ReplaceSecretsForm(request.POST)
    if form.is_valid():
        try:
            replaced = services.replace_secrets(page, actor=_actor(request), **form.cleaned_data)
        except (services.MessengerValidationError, PermissionDeniedError) as exc:
            form.add_error(None, str(exc))
        else:
            if replaced:
                messages.success(
                    request, _("Replaced: %(secrets)s.") % {"secrets": ", ".join(replaced)}
                )
            else:
                messages.success(request, _("The Facebook Page was saved."))
            return redirect("messenger_channel_settings:edit", channel_id=channel_id)
    context["form"] = form
    return _render(request, "messenger_channel/edit.html", context, status=422)


@account_access_required
@require_http_methods(["GET", "POST"])
def disconnect(request: HttpRequest, channel_id: int) -> HttpResponse:
    page = _page(channel_id)
    if request.method != "POST":
        return _render(request, "messenger_channel/disconnect.html", {"page": page})
    services.disconnect_page(page, actor=_actor(request))
    messages.success(request, _("The Facebook Page was disconnected."))
    return redirect("channel_settings:channels")
