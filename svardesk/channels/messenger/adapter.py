"""The Facebook Messenger channel as the conversation core sees it
(conversations/registry.py)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from svardesk.conversations.models import ChannelKind
from svardesk.conversations.registry import Capabilities, ChannelAdapter, ChannelState
from svardesk.tickets.models import Source

if TYPE_CHECKING:
    from svardesk.conversations.models import Channel, Conversation, Message

REPLY_WINDOW = dt.timedelta(hours=24)


class MessengerDeliveryError(RuntimeError):
    """A reply could not be handed to Messenger (the core retries, then shows Not delivered)."""


class MessengerAdapter(ChannelAdapter):
    kind = ChannelKind.MESSENGER
    label = gettext_lazy("Facebook Messenger")
    description = gettext_lazy(
        "A Facebook Page: messages to the Page become tickets, and replies go back in Messenger."
    )
    ticket_source = Source.MESSENGER
    # Messenger's standard messaging window: a Page may answer within 24 hours of the
    # person's last message. Replies are plain text; files go as one upload each.
    capabilities = Capabilities(rich_text=False, attachments=True, reply_window=REPLY_WINDOW)

    def deliver(self, message: Message) -> str:
        """Send the reply's text, then each file, through the Graph Send API. A Graph error
        raises with Graph's message (never the token) so the core retries."""
        from svardesk.channels.messenger import graph, queries, services
        from svardesk.core.crypto import decrypt_secret

        thread = queries.page_of_conversation(message.conversation_id)
        if thread is None:
            raise MessengerDeliveryError(
                f"Conversation {message.conversation_id} is no Messenger conversation"
            )
        page = thread.user.page
        token = decrypt_secret(page.page_token_encrypted)
        if not token or not page.channel.is_active:
            raise MessengerDeliveryError("The Facebook Page is disconnected")
        try:
            if message.body_text.strip():
                graph.send_text(thread.user.psid, message.body_text, token=token)
            for attachment in message.attachments.all():
                with attachment.file.open("rb") as handle:
                    payload = handle.read()
                graph.send_file(
                    thread.user.psid,
                    filename=attachment.filename,
                    content_type=attachment.content_type,
                    payload=payload,
                    token=token,
                )
        except graph.GraphError as exc:
            services.note_graph_error(page, str(exc))
            raise
        if page.last_graph_error:
            services.clear_graph_error(page)
        return "messenger"

    def reply_blocked_reason(self, conversation: Conversation, *, now: dt.datetime) -> str:
        from svardesk.channels.messenger import queries

        last = queries.last_inbound_at(conversation.pk)
        if last is None or now - last <= REPLY_WINDOW:
            return ""
        return _(
            "Messenger lets a Page reply only within 24 hours of the person's last message "
            "(last: %(ago)s ago). Reply on another channel, or add a comment."
        ) % {"ago": timesince(last, now)}

    def state(self, channel: Channel) -> ChannelState:
        from svardesk.channels.messenger import queries

        page = queries.get_page(channel.pk)
        if page is None:
            return ChannelState(problems=[_("The Facebook Page's settings are missing.")])
        problems: list[str] = []
        if page.last_graph_error:
            problems.append(
                _("The last call to Facebook failed: %(error)s") % {"error": page.last_graph_error}
            )
        failing = queries.failing_events(page)
        if failing:
            problems.append(
                ngettext(
                    "%(count)s webhook delivery could not be processed yet.",
                    "%(count)s webhook deliveries could not be processed yet.",
                    failing,
                )
                % {"count": failing}
            )
        return ChannelState(
            last_received_at=queries.last_event_at(page),
            problems=problems,
            details=[_("Page id %(id)s") % {"id": page.page_id}],
            settings_url=reverse("messenger_channel_settings:edit", args=[channel.pk]),
        )

    def connect_url(self) -> str:
        return reverse("messenger_channel_settings:connect")

    def disconnect_url(self, channel: Channel) -> str:
        return reverse("messenger_channel_settings:disconnect", args=[channel.pk])
