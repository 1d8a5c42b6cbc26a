"""The outgoing email of a reply: multipart/alternative (HTML + plain text) from the channel's
address with the agent's name, our signed Message-ID, In-Reply-To/References that thread it
in the customer's mail program, the message replied to quoted below, and its attachments."""

from __future__ import annotations

import contextlib
import html
import re

from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from svardesk.accounts import regional
from svardesk.accounts.models import User
from svardesk.channels.email.models import EmailChannel
from svardesk.conversations.content import html_to_text
from svardesk.conversations.models import Message
from svardesk.core.addresses import format_address
from svardesk.core.text import single_line

MAX_REFERENCES = 20
SUBJECT_TOKEN = re.compile(r"\[#(\d+)\]")
_REPLY_PREFIX = re.compile(r"^\s*(re|sv|aw|antw|vs)\s*:\s*", re.IGNORECASE)


def reply_subject(subject: str, ticket_id: int, *, is_reply: bool = True) -> str:
    """ "Re: <subject> [#<ticket id>]": one "Re:" (none when the message starts the thread),
    and the ticket token once, so a reply from the ticket's contact threads even when a mail
    program drops the headers."""
    # A subject stored before control characters were dropped at parsing may hold a line
    # break: as a header it would fail every reply (BadHeaderError).
    base = _REPLY_PREFIX.sub("", single_line(subject or "")).strip()
    while _REPLY_PREFIX.match(base):
        base = _REPLY_PREFIX.sub("", base).strip()
    base = SUBJECT_TOKEN.sub("", base).strip()
    base = re.sub(r"\s{2,}", " ", base)
    token = f"[#{ticket_id}]"
    text = f"{base} {token}" if base else token
    return f"Re: {text}" if is_reply else text


def bracketed(message_id: str) -> str:
    value = message_id.strip()
    if not value:
        return ""
    if not value.startswith("<"):
        value = "<" + value
    if not value.endswith(">"):
        value += ">"
    return value


def trim_references(references: list[str]) -> list[str]:
    """RFC 5322 §3.6.4: keep the first id (the thread's root) and the most recent ones."""
    ids = [bracketed(r) for r in references if r and r.strip()]
    unique: list[str] = []
    for ref in ids:
        if ref not in unique:
            unique.append(ref)
    if len(unique) <= MAX_REFERENCES:
        return unique
    return [unique[0], *unique[-(MAX_REFERENCES - 1) :]]


def sender_display_name(message: Message, email_channel: EmailChannel) -> str:
    """ "Anna Agent at Acme Support": the agent's name and the channel's sender name (only
    the channel's for an automatic message)."""
    agent = message.author.display_name if message.author else ""
    team = email_channel.display_name or ""
    if agent and team:
        return _("%(agent)s at %(team)s") % {"agent": agent, "team": team}
    return agent or team


def _quoted_history(parent: Message | None, *, agent: User | None) -> tuple[str, str]:
    """The message replied to, quoted below the reply (HTML, text). Its header is written
    as the agent reads the message in Svardesk: their language, time zone and date style
    (a worker sends it, where none of those is active)."""
    if parent is None:
        return "", ""
    who = parent.sender_name or parent.sender_address
    if parent.sender_name and parent.sender_address:
        who = f"{parent.sender_name} <{parent.sender_address}>"
    with regional.as_user(agent) if agent is not None else contextlib.nullcontext():
        when = formats.date_format(timezone.localtime(parent.created_at), "DATETIME_FORMAT")
        intro = _("On %(date)s, %(sender)s wrote:") % {"date": when, "sender": who}
    parent_html = parent.body_html or html.escape(parent.body_text).replace("\n", "<br>")
    parent_text = parent.body_text or html_to_text(parent.body_html)
    quoted_html = (
        f'<div class="svardesk-quote"><p>{html.escape(intro)}</p>'
        f'<blockquote style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">'
        f"{parent_html}</blockquote></div>"
    )
    quoted_text = intro + "\n" + "\n".join(f"> {line}" for line in parent_text.splitlines())
    return quoted_html, quoted_text


def build_reply_email(
    message: Message,
    *,
    email_channel: EmailChannel,
    parent: Message | None,
    connection: BaseEmailBackend | None = None,
) -> EmailMultiAlternatives:
    """The email for an outbound `message` sent as `email_channel` (its fields were set by
    the adapter's `compose_reply`). `parent` is the message it answers, quoted under the
    reply; None for a first message."""
    from_header = format_address(sender_display_name(message, email_channel), email_channel.address)
    body_html = message.body_html
    quoted_html, quoted_text = _quoted_history(parent, agent=message.author)
    text = (message.body_text or html_to_text(body_html)).strip()
    if quoted_text:
        text = f"{text}\n\n{quoted_text}"
    html_document = (
        '<!doctype html><html><head><meta charset="utf-8"></head><body>'
        f'<div class="svardesk-reply">{body_html}</div>'
        f"{'<br>' + quoted_html if quoted_html else ''}</body></html>"
    )
    headers = {"Message-ID": bracketed(message.message_id)}
    if message.in_reply_to:
        headers["In-Reply-To"] = bracketed(message.in_reply_to)
    references = trim_references(list(message.references))
    if references:
        headers["References"] = " ".join(references)
    if message.is_auto_generated:
        # RFC 3834: an automatic message; mail programs send no auto-reply to it.
        headers["Auto-Submitted"] = "auto-generated"
    email = EmailMultiAlternatives(
        subject=single_line(message.subject),  # a reply queued before the fix, too
        body=text + "\n",
        from_email=from_header,
        to=list(message.to),
        cc=list(message.cc),
        bcc=list(message.bcc),
        headers=headers,
        connection=connection,
    )
    email.attach_alternative(html_document, "text/html")
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            email.attach(attachment.filename, handle.read(), attachment.content_type)
    return email
