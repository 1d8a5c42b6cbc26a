"""Background work for conversations: delivering replies and mention emails.

Tasks load by id and are safe to run twice: a reply that is no longer queued (sent, failed for
good, bounced) is never sent again.
"""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from huey import crontab
from huey.api import Task
from huey.contrib.djhuey import db_periodic_task, db_task

from svardesk.conversations import delivery, queries
from svardesk.conversations.models import Notification

logger = logging.getLogger(__name__)

# Five tries over about half an hour: 1, 2, 4 and 8 minutes between them (then Retry by hand).
SEND_RETRIES = 4
SEND_RETRY_DELAY = 60
SEND_RETRY_BACKOFF = 2


@db_task(
    retries=SEND_RETRIES,
    retry_delay=SEND_RETRY_DELAY,
    retry_backoff=SEND_RETRY_BACKOFF,
    context=True,
)
def deliver_message(message_id: int, task: Task | None = None) -> str:
    """Deliver an outbound message through its channel's adapter. Each failure is recorded
    on the message and retried with a growing delay; after the last try the message shows as
    not delivered, with the error."""
    is_final = task is None or not task.retries
    return delivery.deliver_message(message_id, is_final_attempt=is_final)


@db_task(
    retries=SEND_RETRIES,
    retry_delay=SEND_RETRY_DELAY,
    retry_backoff=SEND_RETRY_BACKOFF,
    context=True,
)
def send_email_message(message_id: int, task: Task | None = None) -> str:
    """The task's name before channels plugged in: replies queued then (their tasks wait in
    the queue under this name) are delivered like any other."""
    is_final = task is None or not task.retries
    return delivery.deliver_message(message_id, is_final_attempt=is_final)


@db_periodic_task(crontab(minute="*"), retries=0)
def requeue_stuck_replies() -> None:
    """Safety net: a reply whose send task was lost is queued again (see the service)."""
    delivery.requeue_stuck_replies()


@db_task(retries=3, retry_delay=120)
def send_mention_email(notification_id: int, ticket_url: str = "") -> bool:
    """Email a mentioned user (Django's mail, the install's SMTP settings), unless they have
    already seen the notification in the workspace or may no longer see its ticket."""
    notification = (
        Notification.objects.select_related("user", "actor", "ticket", "message")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None or notification.read_at is not None:
        return False
    user = notification.user
    if not user.email:
        return False
    # Access may have changed since the mention was queued (a team, the seat, the ticket's
    # team): the email names the ticket and quotes the comment, so it follows access now.
    if not queries.is_notification_visible(notification):
        return False
    with translation.override(user.language or "en"):
        actor = notification.actor.display_name if notification.actor else _("Someone")
        ticket = notification.ticket
        subject = _("%(actor)s mentioned you on ticket #%(id)s: %(name)s") % {
            "actor": actor,
            "id": ticket.pk if ticket else "",
            "name": ticket.name if ticket else "",
        }
        body = render_to_string(
            "conversations/email/mention.txt",
            {
                "notification": notification,
                "actor": actor,
                "ticket": ticket,
                "comment": notification.message.body_text if notification.message else "",
                "ticket_url": ticket_url,
            },
        )
    send_mail(subject.replace("\n", " ")[:250], body, None, [user.email], fail_silently=False)
    return True
