"""The email channel as the conversation core sees it (`conversations.registry`): what an
email reply carries, how it is sent, which addresses are ours, blocked senders, and the
channel's state for Settings → Channels."""

from __future__ import annotations

import datetime as dt
import os
from argparse import ArgumentParser
from collections.abc import Callable, Mapping
from typing import Any

from django.db.models import Max
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from svardesk.accounts.models import User
from svardesk.channels.email.compose import build_reply_email, reply_subject, trim_references
from svardesk.channels.email.models import (
    BlockedSender,
    EmailChannel,
    InboundEmail,
    InboundStatus,
)
from svardesk.channels.email.outbound import describe_destination, smtp_connection_for
from svardesk.channels.email.signing import make_message_id
from svardesk.conversations.models import Channel, ChannelKind, Conversation, Message
from svardesk.conversations.registry import (
    Capabilities,
    ChannelAdapter,
    ChannelState,
    OutboundFields,
)
from svardesk.tickets.models import Source


def _email_channel(channel_id: int) -> EmailChannel:
    return EmailChannel.objects.get(channel_id=channel_id)


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1]


def _url(name: str, *args: int) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


class EmailAdapter(ChannelAdapter):
    kind = ChannelKind.EMAIL.value
    label = gettext_lazy("Email")
    description = gettext_lazy(
        "A team address such as support@company.example. Mail arrives by the built-in SMTP "
        "receiver, by fetching a mailbox over IMAP, or from a forwarding service over HTTP."
    )
    ticket_source = Source.EMAIL.value
    capabilities = Capabilities(
        rich_text=True,
        attachments=True,
        cc_bcc=True,
        subject=True,
        starts_conversations=True,
    )
    can_block_senders = True

    def compose_reply(
        self,
        conversation: Conversation,
        *,
        actor: User,
        body_text: str,
        parent: Message | None,
    ) -> OutboundFields:
        address = _email_channel(conversation.channel_id).address
        ticket = conversation.ticket
        references: list[str] = []
        if parent is not None:
            references = [*parent.references, parent.message_id]
        subject = conversation.subject or (ticket.name if ticket is not None else "")
        return OutboundFields(
            sender_address=address,
            subject=(
                reply_subject(subject, ticket.pk, is_reply=parent is not None)
                if ticket is not None
                else subject
            ),
            message_id=make_message_id(_domain(address)),
            in_reply_to=parent.message_id if parent is not None else "",
            references=trim_references(references),
        )

    def compose_automatic(
        self, conversation: Conversation, *, subject: str, dedupe_key: str
    ) -> OutboundFields:
        address = _email_channel(conversation.channel_id).address
        ticket_id = conversation.ticket_id
        return OutboundFields(
            sender_address=address,
            subject=reply_subject(subject, ticket_id, is_reply=False) if ticket_id else subject,
            # Signed and the same for the same key: the unique (channel, message_id) stores
            # it once, and a customer's answer to it threads into the ticket.
            message_id=make_message_id(_domain(address), key=dedupe_key),
        )

    def deliver(self, message: Message) -> str:
        email_channel = _email_channel(message.channel_id)
        parent = None
        if message.in_reply_to:
            parent = (
                Message.objects.filter(
                    channel_id=message.channel_id, message_id=message.in_reply_to
                )
                .exclude(pk=message.pk)
                .first()
            )
        connection = smtp_connection_for(email_channel)
        email = build_reply_email(
            message, email_channel=email_channel, parent=parent, connection=connection
        )
        email.send(fail_silently=False)
        return describe_destination(connection)

    def block_sender(self, address: str, *, actor: User) -> bool:
        BlockedSender.objects.get_or_create(
            address=address.strip().lower(), defaults={"blocked_by": actor}
        )
        return True

    def unblock_sender(self, address: str, *, actor: User) -> bool:
        deleted, _rows = BlockedSender.objects.filter(address__iexact=address.strip()).delete()
        return bool(deleted)

    def is_blocked(self, address: str) -> bool:
        return bool(address) and BlockedSender.objects.filter(address__iexact=address).exists()

    def own_addresses(self) -> set[str]:
        return {a.lower() for a in EmailChannel.objects.values_list("address", flat=True)}

    def state(self, channel: Channel) -> ChannelState:
        email_channel = EmailChannel.objects.filter(channel=channel).first()
        if email_channel is None:
            return ChannelState()
        last: dt.datetime | None = InboundEmail.objects.filter(channel=email_channel).aggregate(
            last=Max("received_at")
        )["last"]
        problems: list[str] = []
        if email_channel.imap_host and email_channel.imap_last_error:
            problems.append(
                _("Fetching mail (IMAP) fails: %(error)s")
                % {"error": email_channel.imap_last_error}
            )
        quarantined = InboundEmail.objects.filter(
            channel=email_channel, status=InboundStatus.QUARANTINED
        ).count()
        if quarantined:
            problems.append(
                ngettext(
                    "%(count)d incoming message could not be processed; a super admin can "
                    "look at it in Quarantine.",
                    "%(count)d incoming messages could not be processed; a super admin can "
                    "look at them in Quarantine.",
                    quarantined,
                )
                % {"count": quarantined}
            )
        details = [email_channel.address]
        if channel.is_active:
            ways_in = [_("SMTP receiver")]
            if email_channel.imap_host:
                ways_in.append(
                    _("IMAP %(user)s at %(host)s (%(folder)s)")
                    % {
                        "user": email_channel.imap_user,
                        "host": email_channel.imap_host,
                        "folder": email_channel.imap_folder,
                    }
                )
            if email_channel.http_token_hash:
                ways_in.append(_("HTTP endpoint"))
            details.append(_("Ways in: %(ways)s") % {"ways": ", ".join(ways_in)})
        return ChannelState(
            last_received_at=last,
            problems=problems,
            details=details,
            settings_url=_url("channel_settings:email_edit", channel.pk),
        )

    def connect_url(self) -> str:
        return _url("channel_settings:email_connect")

    def disconnect_url(self, channel: Channel) -> str:
        # Email's own page also erases the stored IMAP/SMTP credentials and the HTTP token.
        return _url("channel_settings:email_disconnect", channel.pk)

    def add_serve_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--smtp-port",
            type=int,
            default=int(os.environ.get("SVARDESK_SMTP_PORT", "2525")),
            help="Port of the built-in SMTP receiver for connected email addresses.",
        )
        parser.add_argument(
            "--smtp-host",
            default=os.environ.get("SVARDESK_SMTP_HOST", ""),
            help="Address the SMTP receiver listens on (default: the same as --host).",
        )
        parser.add_argument(
            "--no-smtp", action="store_true", help="Do not start the built-in SMTP receiver."
        )

    def start_embedded_server(
        self,
        options: Mapping[str, Any],
        *,
        host: str,
        say: Callable[[str], None],
        warn: Callable[[str], None],
    ) -> Callable[[], None] | None:
        """The built-in SMTP receiver in its own thread. A port already in use is reported, not
        fatal (production runs `svardesk smtp_receiver` instead)."""
        if options.get("no_smtp"):
            return None
        from svardesk.channels.email.smtp_receiver import make_controller

        host = options.get("smtp_host") or host
        port = options["smtp_port"]
        controller = make_controller(host=host, port=port)
        try:
            controller.start()
        except (OSError, TimeoutError) as exc:
            warn(f"The SMTP receiver could not listen on {host}:{port}: {exc}")
            return None
        say(f"Receiving email by SMTP on {host}:{port}")
        return controller.stop
