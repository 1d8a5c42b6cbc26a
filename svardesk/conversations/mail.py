"""The outgoing email of an agent's reply: multipart/alternative (HTML + plain text) from the
channel's address with the agent's name, our signed Message-ID, In-Reply-To/References that
thread it in the customer's mail program, and its attachments.

Also the editor's HTML clean-up (nh3) and the HTML → plain-text rendering for the text part.
"""

from __future__ import annotations

import contextlib
import html
import re
from email.utils import getaddresses
from html.parser import HTMLParser

import nh3
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from svardesk.accounts import regional
from svardesk.accounts.models import User
from svardesk.channels.email.parsing import format_address
from svardesk.conversations.models import Message
from svardesk.core.text import single_line

# What the reply editor produces (Quill: bold, italic, underline, lists, links, quote), and
# nothing else: pasted styles, scripts and images from elsewhere are dropped.
EDITOR_TAGS = {
    "p",
    "br",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "ol",
    "ul",
    "li",
    "a",
    "blockquote",
    "span",
}
EDITOR_ATTRIBUTES = {"a": {"href", "title"}}
MAX_REFERENCES = 20
SUBJECT_TOKEN = re.compile(r"\[#(\d+)\]")
_REPLY_PREFIX = re.compile(r"^\s*(re|sv|aw|antw|vs)\s*:\s*", re.IGNORECASE)


def clean_editor_html(raw: str) -> str:
    """Sanitise HTML from the reply or comment editor before it is stored or sent. Links get
    rel="noopener noreferrer"; only http(s) and mailto URLs survive."""
    cleaned = nh3.clean(
        raw or "",
        tags=EDITOR_TAGS,
        attributes=EDITOR_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    return cleaned.strip()


def is_blank_html(value: str) -> bool:
    return not html_to_text(value).strip()


class _TextRenderer(HTMLParser):
    """A small HTML → text renderer for the plain part: paragraphs become blank lines, list
    items get "- " or "1. ", quotes get "> ", links keep their address in brackets."""

    _BLOCKS = frozenset({"p", "div", "blockquote", "ul", "ol", "li", "h1", "h2", "h3", "tr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.quote_depth = 0
        self.lists: list[list[int]] = []  # [kind (0 bullet, 1 ordered), counter]
        self.href_stack: list[str | None] = []
        self.link_text: list[str] = []
        self.skip = 0

    def _flush(self) -> None:
        text = "".join(self.current)
        self.current = []
        text = re.sub(r"[ \t\u00a0]+", " ", text).strip()
        prefix = "> " * self.quote_depth
        if text:
            self.lines.append(prefix + text)

    def _blank(self) -> None:
        self._flush()
        if self.lines and self.lines[-1].strip("> ").strip():
            self.lines.append(("> " * self.quote_depth).rstrip())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title"):
            self.skip += 1
        elif tag == "br":
            self._flush()
        elif tag == "blockquote":
            self._blank()
            self.quote_depth += 1
        elif tag in ("ul", "ol"):
            self._flush()
            self.lists.append([1 if tag == "ol" else 0, 0])
        elif tag == "li":
            self._flush()
            marker = "- "
            if self.lists:
                self.lists[-1][1] += 1
                if self.lists[-1][0]:
                    marker = f"{self.lists[-1][1]}. "
            self.current.append("  " * max(len(self.lists) - 1, 0) + marker)
        elif tag in self._BLOCKS:
            self._blank()
        elif tag == "a":
            self.href_stack.append(dict(attrs).get("href"))
            self.link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self.skip = max(self.skip - 1, 0)
        elif tag == "blockquote":
            self._flush()
            while self.lines and not self.lines[-1].strip("> ").strip():
                self.lines.pop()
            self.quote_depth = max(self.quote_depth - 1, 0)
            self._blank()
        elif tag in ("ul", "ol"):
            self._flush()
            if self.lists:
                self.lists.pop()
            if not self.lists:
                self._blank()
        elif tag == "li":
            self._flush()
        elif tag in self._BLOCKS:
            self._blank()
        elif tag == "a" and self.href_stack:
            href = self.href_stack.pop()
            text = "".join(self.link_text).strip()
            if href and href.startswith(("http://", "https://")) and href != text:
                self.current.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        self.current.append(data)
        if self.href_stack:
            self.link_text.append(data)

    def text(self) -> str:
        self._flush()
        while self.lines and not self.lines[-1].strip("> ").strip():
            self.lines.pop()
        return "\n".join(line.rstrip() for line in self.lines)


def html_to_text(value: str) -> str:
    renderer = _TextRenderer()
    renderer.feed(value or "")
    renderer.close()
    return renderer.text()


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


def sender_display_name(message: Message) -> str:
    """ "Anna Agent at Acme Support": the agent's name and the channel's sender name."""
    agent = message.author.display_name if message.author else ""
    email_channel = message.channel.email
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
    message: Message, *, parent: Message | None, connection: BaseEmailBackend | None = None
) -> EmailMultiAlternatives:
    """The email for an outbound reply `message` (its fields were set by `send_reply`).
    `parent` is the message it answers, quoted under the reply; None for a first message."""
    email_channel = message.channel.email
    from_header = format_address(sender_display_name(message), email_channel.address)
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


def _address_chunks(value: str) -> list[str]:
    """Split "a, "B, C" <b@x>; c@y" on commas and semicolons outside quotes and brackets."""
    chunks: list[str] = []
    current: list[str] = []
    quoted = False
    depth = 0
    for char in value or "":
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "<":
            depth += 1
        elif not quoted and char == ">":
            depth = max(depth - 1, 0)
        if char in ",;" and not quoted and not depth:
            chunks.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    chunks.append("".join(current).strip())
    return [c for c in chunks if c]


def split_address_list(value: str) -> tuple[list[str], list[str]]:
    """(addresses as "Name <a@x>" or "a@x", the pieces that are not an address)."""
    good: list[str] = []
    bad: list[str] = []
    for chunk in _address_chunks(value):
        parsed = [(n, a) for n, a in getaddresses([chunk]) if a]
        if len(parsed) != 1 or "@" not in parsed[0][1]:
            bad.append(chunk)
            continue
        name, address = parsed[0]
        good.append(format_address(name.strip(), address.strip()))
    return good, bad


def parse_address_list(value: str) -> list[str]:
    """ "Ann <a@x>, b@y" → ["Ann <a@x>", "b@y"], keeping names; what is not an address is
    dropped (see `split_address_list` to report it)."""
    return split_address_list(value)[0]


def address_of(entry: str) -> str:
    parsed = getaddresses([entry])
    return parsed[0][1].lower() if parsed and parsed[0][1] else ""
