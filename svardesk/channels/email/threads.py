"""Which conversation an inbound email continues. The signals, strongest first:

1. our own signed Message-IDs in In-Reply-To/References (unforgeable, any channel);
2. In-Reply-To and every References id against the ids stored on this channel — inbound
   ones too, so a CC'd copy arriving after the first message still threads;
3. a `[#1234]` ticket token in the subject, only from the ticket's contact or a participant.

Never the subject text alone. What happens on the ticket (merged, closed) is decided by
`conversations.inbound.record_inbound_message`.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from svardesk.channels.email.models import EmailChannel
from svardesk.channels.email.signing import is_signed_message_id
from svardesk.conversations.models import Channel, Conversation, Message
from svardesk.crm import queries as crm_queries
from svardesk.tickets.merge import resolve_ticket_id
from svardesk.tickets.models import Ticket

TICKET_TOKEN = re.compile(r"\[#(\d{1,12})\]")


@dataclass(frozen=True)
class ThreadMatch:
    conversation: Conversation | None
    ticket: Ticket | None
    via: str  # "signed-id" | "message-id" | "ticket-token"


def ticket_token(ticket_id: int) -> str:
    """The subject token of a ticket, e.g. "[#1234]"."""
    return f"[#{ticket_id}]"


def candidate_ids(in_reply_to: str, references: Sequence[str]) -> list[str]:
    """In-Reply-To first, then References from the newest (the parent) back to the root."""
    ordered: list[str] = []
    for mid in [in_reply_to, *reversed(list(references))]:
        if mid and mid not in ordered:
            ordered.append(mid)
    return ordered


def _first_by_order(messages: Iterable[Message], order: list[str]) -> Message | None:
    by_id: dict[str, Message] = {}
    for message in messages:
        by_id.setdefault(message.message_id, message)
    for mid in order:
        if mid in by_id:
            return by_id[mid]
    return None


def _messages(ids: list[str], *, channel_id: int | None) -> list[Message]:
    query = Message.objects.filter(message_id__in=ids)
    if channel_id is not None:
        query = query.filter(channel_id=channel_id)
    # Only what threading and recording read: whole rows of three tables cost ~3 ms a reply.
    query = query.select_related("conversation", "conversation__ticket").only(
        "message_id", "conversation", *(f"conversation__{f}" for f in _CONVERSATION_FIELDS)
    )
    return list(query.order_by("-id"))


_CONVERSATION_FIELDS = (
    "ticket",
    "channel",
    "inbox",
    "last_message_at",
    "ticket__merged_into",
    "ticket__is_open",
    "ticket__is_spam",
    "ticket__pipeline",
    "ticket__stage",
    "ticket__preview",
    "ticket__name",
    "ticket__contact",
)


def messages_on_channel(channel_id: int, ids: Iterable[str]) -> dict[str, Message]:
    """The newest message of each of these Message-IDs on the channel, loaded as
    `find_thread` reads them: its `known`, when many mails are threaded together."""
    wanted = sorted(set(ids))
    found: dict[str, Message] = {}
    if wanted:
        for message in _messages(wanted, channel_id=channel_id):
            found.setdefault(message.message_id, message)
    return found


def find_thread(
    *,
    channel: Channel,
    sender_address: str,
    in_reply_to: str,
    references: Sequence[str],
    subject: str,
    known: Mapping[str, Message] | None = None,
) -> ThreadMatch | None:
    """The conversation (or, for a subject token, the ticket) this email continues.
    `known`: `messages_on_channel` of (at least) this mail's candidate ids, read before."""

    def on_this_channel(wanted: list[str]) -> Message | None:
        if known is None:
            return _first_by_order(_messages(wanted, channel_id=channel.pk), wanted)
        return next((known[mid] for mid in wanted if mid in known), None)

    ids = candidate_ids(in_reply_to, references)
    signed = [mid for mid in ids if is_signed_message_id(mid)]
    if signed:
        # Our ids are unforgeable: trust them on any channel (the reply may have been
        # forwarded to another team address). This channel first, for the index.
        found = on_this_channel(signed)
        if found is None:
            found = _first_by_order(_messages(signed, channel_id=None), signed)
        if found is not None:
            return ThreadMatch(found.conversation, found.conversation.ticket, "signed-id")
    unsigned = [mid for mid in ids if mid not in signed]
    if unsigned:
        found = on_this_channel(unsigned)
        if found is not None:
            return ThreadMatch(found.conversation, found.conversation.ticket, "message-id")
    for match in TICKET_TOKEN.finditer(subject or ""):
        # A token of a ticket merged since names the ticket it was merged into.
        ticket_id = resolve_ticket_id(int(match.group(1)))
        ticket = Ticket.objects.filter(pk=ticket_id).first() if ticket_id else None
        if ticket is not None and is_participant(ticket, sender_address):
            return ThreadMatch(None, ticket, "ticket-token")
    return None


def ticket_participants(ticket: Ticket) -> set[str]:
    """Lower-case addresses of the ticket's contact and of everyone who sent or received a
    message in its conversations — minus our own team addresses (a forged From: of ours
    must not pass)."""
    found: set[str] = set()
    if ticket.contact_id:
        found |= crm_queries.contact_addresses(ticket.contact_id)  # any of its addresses
    rows = Message.objects.filter(conversation__ticket=ticket).values_list(
        "sender_address", "to", "cc"
    )
    for sender, to, cc in rows:
        if sender:
            found.add(sender.lower())
        listed = [str(item) for item in [*(to or []), *(cc or [])]]
        found.update(addr.lower() for _name, addr in email.utils.getaddresses(listed) if addr)
    ours = {a.lower() for a in EmailChannel.objects.values_list("address", flat=True)}
    return found - ours


def is_participant(ticket: Ticket, address: str) -> bool:
    return bool(address) and address.strip().lower() in ticket_participants(ticket)
