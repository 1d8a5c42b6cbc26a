"""The ticket's conversation: reply, comment, retry, spam, attachments, mention search and the
notifications list. Every view checks the ticket through `access_ticket` (404 out of scope)."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from svardesk.accounts.queries import request_user
from svardesk.conversations import queries, services
from svardesk.conversations.forms import CommentForm, ReplyForm, SpamForm
from svardesk.conversations.models import DeliveryStatus
from svardesk.core.decorators import workspace_required
from svardesk.core.exceptions import NotFoundError
from svardesk.tickets.models import Ticket
from svardesk.tickets.page import detail_context
from svardesk.tickets.queries import access_ticket, list_timeline

# Shown inline only when asked for and harmless in a browser; everything else downloads.
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _detail_context(request: HttpRequest, ticket: Ticket, **extra: Any) -> dict[str, Any]:
    """The ticket page's fragment after a conversation action: the ticket's part
    (`tickets.page`, which knows no conversation) with the conversation beside it."""
    context = detail_context(request, ticket)
    user = request_user(request)
    context.update(queries.conversation_context(ticket, actor=user, timeline=context["timeline"]))
    context.update(extra)
    return context


def _detail(request: HttpRequest, ticket: Ticket, *, status: int = 200, **extra: Any) -> Any:
    """The ticket detail fragment after a change (a full page for a plain form post)."""
    if not _is_htmx(request):
        return redirect("tickets:detail", ticket.pk)
    ticket = access_ticket(ticket.pk, actor=request_user(request))
    return render(
        request,
        "tickets/partials/_detail.html",
        _detail_context(request, ticket, **extra),
        status=status,
    )


def _compose_errors(
    request: HttpRequest, ticket: Ticket, tab: str, errors: dict[str, str]
) -> HttpResponse:
    """Errors shown inside the editor, which keeps what the agent wrote (422)."""
    response = render(
        request,
        "conversations/partials/_compose_errors.html",
        {"errors": errors, "tab": tab, "ticket": ticket},
        status=422,
    )
    if not _is_htmx(request):
        return response
    return reswap(retarget(response, f"#{tab}-errors-{ticket.pk}"), "innerHTML")


@workspace_required
@require_POST
def reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = request_user(request)
    ticket = access_ticket(ticket_id, actor=user)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _compose_errors(
            request,
            ticket,
            "reply",
            {k: " ".join(str(e) for e in v) for k, v in form.errors.items()},
        )
    data = form.cleaned_data
    try:
        message = services.send_reply(
            ticket,
            actor=user,
            html=data["html"],
            text=data["text"],
            to=data["to"],
            cc=data["cc"],
            bcc=data["bcc"],
            attachments=data["attachments"],
            client_token=data["client_token"],
        )
    except services.ReplyValidationError as exc:
        return _compose_errors(request, ticket, "reply", exc.errors)
    except services.NoReplyChannelError as exc:
        return _compose_errors(request, ticket, "reply", {"channel": str(exc)})
    toast = _("Reply sent to the outbox.")
    adapter = queries.adapter_of(message.channel)
    if _is_htmx(request) and adapter is not None and adapter.delivers_immediately:
        return _live_reply_sent(request, ticket, message.pk, toast=toast)
    return _detail(request, ticket, toast=toast)


def _live_reply_sent(
    request: HttpRequest, ticket: Ticket, message_id: int, *, toast: str
) -> HttpResponse:
    """Send on a live channel (chat: quick replies, often): the new reply alone, added to the
    end of the thread — the editor stays where it is and conversations.js empties it —
    instead of the whole ticket. What else the reply changed (a chat's reply moves the ticket
    to "Waiting on contact" after each visitor message) reaches the header with the live
    update the page makes for every change of its ticket, this reply's included. The thread
    when the reply is still on its way (the thread then asks for its status itself)."""
    # The ticket as the view read it (access checked): the new message names nothing else.
    message = queries.ticket_message(ticket, message_id)
    if message is None or message.delivery_status == DeliveryStatus.QUEUED:
        current = access_ticket(ticket.pk, actor=request_user(request))
        response = _thread(request, current, toast=toast, thread_template=THREAD_AND_TOAST)
        return reswap(retarget(response, f"#thread-{current.pk}"), "outerHTML")
    response = render(
        request,
        "conversations/partials/_reply_sent.html",
        {"ticket": ticket, "entry": queries.display_message(message), "toast": toast},
    )
    response = retarget(response, f"#thread-{ticket.pk} .thread-items")
    # Added at the end, and the conversation scrolled to it as the ticket page does.
    response["HX-Reswap"] = "beforeend scroll:.ticket-detail>.conversation:bottom"
    return response


@workspace_required
@require_POST
def comment(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = request_user(request)
    ticket = access_ticket(ticket_id, actor=user)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _compose_errors(
            request,
            ticket,
            "comment",
            {k: " ".join(str(e) for e in v) for k, v in form.errors.items()},
        )
    try:
        services.add_comment(
            ticket,
            actor=user,
            html=form.cleaned_data.get("html", ""),
            mentioned_user_ids=form.mention_ids(),
            ticket_url=request.build_absolute_uri(reverse("tickets:detail", args=[ticket.pk])),
            client_token=form.cleaned_data["client_token"],
        )
    except services.ReplyValidationError as exc:
        return _compose_errors(request, ticket, "comment", exc.errors)
    except services.NoReplyChannelError as exc:
        return _compose_errors(request, ticket, "comment", {"channel": str(exc)})
    return _detail(request, ticket, toast=_("Comment added."))


THREAD = "conversations/partials/_thread.html"
# The thread and a toast (a reply's).
THREAD_AND_TOAST = "conversations/partials/_thread_and_toast.html"


def _thread(
    request: HttpRequest, ticket: Ticket, *, thread_template: str = THREAD, **extra: Any
) -> HttpResponse:
    user = request_user(request)
    context = {
        "ticket": ticket,
        **queries.conversation_context(ticket, actor=user, timeline=list(list_timeline(ticket))),
        **extra,
    }
    return render(request, thread_template, context)


@workspace_required
@require_GET
def thread(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The conversation column alone, for live updates that must not touch the editor."""
    ticket = access_ticket(ticket_id, actor=request_user(request))
    return _thread(request, ticket)


@workspace_required
@require_POST
def retry(request: HttpRequest, message_id: int) -> HttpResponse:
    user = request_user(request)
    message = queries.access_message(message_id, actor=user)
    ticket = access_ticket(message.conversation.ticket_id, actor=user)
    # Someone may have retried it already: the refreshed thread shows where it stands.
    with suppress(services.MessageNotRetryableError):
        services.retry_delivery(message, actor=user)
    if not _is_htmx(request):
        return redirect("tickets:detail", ticket.pk)
    return _thread(request, ticket)


@workspace_required
@require_POST
def mark_spam(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = request_user(request)
    ticket = access_ticket(ticket_id, actor=user)
    form = SpamForm(request.POST)
    form.is_valid()
    blocked = services.mark_ticket_spam(
        ticket, actor=user, block_sender=bool(form.cleaned_data.get("block_sender"))
    )
    toast = _("Marked as spam.")
    if blocked:
        toast = _("Marked as spam. Mail from %(address)s now goes straight to Spam.") % {
            "address": blocked
        }
    return _detail(request, ticket, toast=toast)


@workspace_required
@require_POST
def mark_not_spam(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = request_user(request)
    ticket = access_ticket(ticket_id, actor=user)
    form = SpamForm(request.POST)
    form.is_valid()
    unblocked = services.mark_ticket_not_spam(
        ticket, actor=user, unblock_sender=bool(form.cleaned_data.get("unblock_sender"))
    )
    toast = _("Not spam: the ticket is back in its views.")
    if unblocked:
        toast = _("Not spam. Mail from %(address)s is accepted again.") % {"address": unblocked}
    return _detail(request, ticket, toast=toast)


@workspace_required
@require_GET
def attachment(request: HttpRequest, attachment_id: int) -> Any:
    item = queries.access_attachment(attachment_id, actor=request_user(request))
    inline = request.GET.get("inline") == "1" and item.content_type in INLINE_TYPES
    try:
        handle = item.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise NotFoundError("The attachment's file is missing") from exc
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=item.filename,
        content_type=item.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# The frame "Load images" opens: the one message, remote images allowed, nothing else (no
# scripts, fonts, forms or plugins; links open outside it), even when opened on its own.
MESSAGE_FRAME_POLICY = (
    "default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; "
    "sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox"
)


@workspace_required
@require_GET
@xframe_options_sameorigin
def message_images(request: HttpRequest, message_id: int) -> HttpResponse:
    """One message's HTML with its remote images, for the sandboxed frame the agent opens
    with "Load images" (the thread itself shows none)."""
    message = queries.access_message(message_id, actor=request_user(request))
    if not message.body_html:
        raise NotFoundError("The message has no HTML body")
    body, quoted = queries.message_html_parts(message)
    response = render(request, "conversations/message_frame.html", {"body": body, "quoted": quoted})
    response["Content-Security-Policy"] = MESSAGE_FRAME_POLICY
    # The image hosts learn neither the ticket's address nor ours.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response


@workspace_required
@require_GET
def mention_search(request: HttpRequest) -> JsonResponse:
    """Up to 10 workspace users matching ?q= by name or email, for @mentions."""
    query = request.GET.get("q", "").strip()[:100]  # NUL is gone (strip_nul_from_query_string)
    users = queries.search_mentionable_users(query)
    return JsonResponse(
        {
            "results": [
                {"id": u.pk, "name": u.display_name, "email": u.email, "initials": u.initials}
                for u in users
            ]
        }
    )


@workspace_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    context = {
        "notifications": queries.list_notifications(user),
        "unread_count": queries.count_unread_notifications(user),
        "title": _("Notifications"),
    }
    if _is_htmx(request) and not request.htmx.boosted:  # type: ignore[attr-defined]
        return render(request, "conversations/partials/_notifications.html", context)
    return render(request, "conversations/notifications.html", context)


@workspace_required
@require_GET
def notification_badge(request: HttpRequest) -> HttpResponse:
    count = queries.count_unread_notifications(request_user(request))
    return render(request, "conversations/partials/_notification_badge.html", {"count": count})


@workspace_required
@require_POST
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponseRedirect:
    """Mark the notification read and go to its ticket."""
    user = request_user(request)
    notification = queries.get_notification(notification_id, user=user)
    services.mark_notification_read(notification, actor=user)
    if notification.ticket_id is not None:
        return redirect("tickets:detail", notification.ticket_id)
    return redirect("conversations:notifications")


@workspace_required
@require_POST
def read_all_notifications(request: HttpRequest) -> HttpResponse:
    services.mark_all_notifications_read(actor=request_user(request))
    return redirect("conversations:notifications")
