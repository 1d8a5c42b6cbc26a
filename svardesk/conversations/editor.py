"""What the reply and comment editor sends: its HTML cleaned (nh3) before it is stored, on
any channel. A channel without rich text stores the text instead (see `services`)."""

from __future__ import annotations

import nh3
from django.utils.html import escape, linebreaks

from svardesk.conversations.content import html_to_text

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


def text_as_html(text: str) -> str:
    """Plain text as the thread shows it: escaped, paragraphs and line breaks kept."""
    return str(linebreaks(escape(text)))
