"""The "… → Move to another inbox" dialog, on the ticket page and on a conversations inbox's
thread page: which conversation (when the ticket has several), the inbox to move it to, an
optional assignee and an optional internal comment (`conversations.moving`). Super admins
and users with Account access only: anyone else gets 403, and a ticket outside the user's
scope 404."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import reswap, retarget

from svardesk.accounts.models import User
from svardesk.accounts.queries import request_user
from svardesk.conversations.models import Conversation, Inbox
from svardesk.conversations.moving import (
    MAX_COMMENT,
    ConversationMoveError,
    list_target_inboxes,
    may_move_conversations,
    move_conversation,
)
from svardesk.conversations.queries import help_desk_inbox_ids
from svardesk.core.decorators import workspace_required
from svardesk.core.exceptions import PermissionDeniedError
from svardesk.core.parsing import parse_id
from svardesk.tickets.forms import assignable_users
from svardesk.tickets.models import Ticket
from svardesk.workspace.ticket_page import access_ticket_for_page, ticket_page_context


def check_may_move(user: User) -> None:
    if not may_move_conversations(user):
        raise PermissionDeniedError(_("Moving conversations needs the Account access permission."))


def _ticket_conversations(ticket: Ticket) -> list[Conversation]:
    """The ticket's conversations still in the help desk (a moved one is moved from its
    inbox's page), newest first."""
    return list(
        Conversation.objects.filter(ticket=ticket, inbox_id__in=help_desk_inbox_ids())
        .select_related("channel")
        .order_by("-last_message_at", "-id")
    )


def read_choices(
    request: HttpRequest, conversations: list[Conversation]
) -> tuple[Conversation | None, Inbox | None, User | None, str, dict[str, str]]:
    """The dialog's fields as posted, each checked against what may be chosen."""
    data = request.POST
    errors: dict[str, str] = {}
    conversation = None
    if len(conversations) == 1:
        conversation = conversations[0]
    else:
        wanted = parse_id(data.get("conversation", ""))
        conversation = next((c for c in conversations if c.pk == wanted), None)
        if conversation is None:
            errors["conversation"] = _("Choose the conversation to move.")
    inbox_id = parse_id(data.get("to_inbox", ""))
    to_inbox = Inbox.objects.filter(pk=inbox_id).first() if inbox_id else None
    if to_inbox is None:
        errors["to_inbox"] = _("Choose the inbox to move the conversation to.")
    assignee = None
    raw_assignee = data.get("assignee", "")
    if raw_assignee:
        assignee_id = parse_id(raw_assignee)
        assignee = assignable_users().filter(pk=assignee_id).first() if assignee_id else None
        if assignee is None:
            errors["assignee"] = _("This user cannot be assigned conversations.")
    return conversation, to_inbox, assignee, data.get("comment", "")[: MAX_COMMENT + 1], errors


def render_dialog(
    request: HttpRequest,
    *,
    post_url: str,
    cancel_url: str,
    conversations: list[Conversation],
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    htmx = request.htmx  # type: ignore[attr-defined]
    as_page = not htmx or htmx.boosted
    template = (
        "workspace/ticket_move/page.html" if as_page else "workspace/ticket_move/_dialog.html"
    )
    values = values or {}
    chosen = values.get("conversation") or (conversations[0] if conversations else None)
    inboxes = list_target_inboxes(chosen) if chosen is not None else []
    context = {
        "post_url": post_url,
        "cancel_url": cancel_url,
        "conversations": conversations,
        "chosen": chosen,
        "inboxes": inboxes,
        "users": list(assignable_users().order_by("first_name", "last_name", "email")),
        "values": values,
        "errors": errors or {},
        "as_page": as_page,
        "max_comment": MAX_COMMENT,
    }
    return render(request, template, context, status=status)


def _moved_toast(conversation: Conversation, to_inbox: Inbox) -> str:
    return _("Conversation moved to %(inbox)s.") % {"inbox": to_inbox.name}


@workspace_required
@require_http_methods(["GET", "POST"])
def move_from_ticket(request: HttpRequest, ticket_id: int) -> HttpResponse:
    actor = request_user(request)
    check_may_move(actor)
    ticket = access_ticket_for_page(ticket_id, actor=actor)
    conversations = _ticket_conversations(ticket)
    post_url = reverse("tickets:move", args=[ticket.pk])
    cancel_url = reverse("tickets:detail", args=[ticket.pk])
    if request.method == "GET":
        wanted = parse_id(request.GET.get("conversation", ""))
        chosen = next((c for c in conversations if c.pk == wanted), None)
        return render_dialog(
            request,
            post_url=post_url,
            cancel_url=cancel_url,
            conversations=conversations,
            values={"conversation": chosen},
        )
    conversation, to_inbox, assignee, comment, errors = read_choices(request, conversations)
    values: dict[str, Any] = {
        "conversation": conversation,
        "to_inbox": to_inbox,
        "assignee": assignee,
        "comment": comment,
    }
    if not errors and conversation is not None:
        try:
            move_conversation(
                conversation, to_inbox=to_inbox, actor=actor, assignee=assignee, comment=comment
            )
        except ConversationMoveError as exc:
            errors = exc.errors
    if errors or conversation is None or to_inbox is None:
        return render_dialog(
            request,
            post_url=post_url,
            cancel_url=cancel_url,
            conversations=conversations,
            values=values,
            errors=errors,
            status=422,
        )
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect(cancel_url)
    ticket = access_ticket_for_page(ticket.pk, actor=actor)
    context = ticket_page_context(request, ticket, toast=_moved_toast(conversation, to_inbox))
    response = render(request, "workspace/ticket_move/_moved.html", context)
    return reswap(retarget(response, "#ticket-detail"), "outerHTML")


urlpatterns: list[URLPattern] = [
    path("<int:ticket_id>/move/", move_from_ticket, name="move"),
]
