"""The ticket rows of the default list layout, rendered in Python.

This is the hottest fragment of the workspace (every list page, every live refresh, 50 rows
of ~20 values each); Django's template engine spends ~20 µs on each value, escape() and an
f-string a small fraction of that. The markup is the one partials/_rows.html draws for other column layouts.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape  # the stdlib's: Django's adds a lazy-string wrapper per call

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.formats import get_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from svardesk.tickets.models import Priority, Source, Ticket


def _short(text: str, limit: int = 120) -> str:
    """truncatechars: at most `limit` characters, the last one an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def default_rows(tickets: Iterable[Ticket], *, view_key: str = "") -> SafeString:
    sources = {value: escape(str(label)) for value, label in Source.choices}
    priorities = {value: escape(str(label)) for value, label in Priority.choices}
    no_contact = escape(_("No contact"))
    unassigned = escape(_("Unassigned"))
    select = _("Select ticket %(id)s")
    query = f"?view={escape(view_key)}" if view_key else ""
    detail = reverse("tickets:detail", args=[0])[: -len("0/")]
    exact_format = get_format("DATETIME_FORMAT")
    parts = []
    for ticket in tickets:
        pk = ticket.pk
        contact = ticket.contact
        if contact is not None:
            sender = (
                '<span class="avatar avatar-sm avatar-contact" aria-hidden="true">'
                f'{escape(contact.initials)}</span><span class="sender-name">'
                f"{escape(contact.display_name)}</span>"
            )
        else:
            sender = (
                '<span class="avatar avatar-sm" aria-hidden="true">?</span>'
                f'<span class="sender-name muted">{no_contact}</span>'
            )
        owner = ticket.owner
        if owner is not None:
            owner_name = escape(owner.display_name)
            owner_html = (
                f'<span class="avatar avatar-sm" title="{owner_name}">{escape(owner.initials)}'
                f'<span class="visually-hidden">{owner_name}</span></span>'
            )
        else:
            owner_html = f'<span class="muted" title="{unassigned}">—</span>'
        preview = (
            f'<span class="preview">— {escape(_short(ticket.preview))}</span>'
            if ticket.preview
            else ""
        )
        priority = ""
        if ticket.priority:
            label = priorities.get(ticket.priority, escape(ticket.priority))
            priority = f'<span class="badge prio-{escape(ticket.priority)}">{label}</span>'
        local = timezone.localtime(ticket.last_activity_at)
        closed = "" if ticket.is_open else " status-closed"
        parts.append(
            f'<tr class="ticket-row" data-ticket-id="{pk}">'
            f'<td class="col-check"><input type="checkbox" name="ticket" value="{pk}"'
            f' form="bulk-form" aria-label="{escape(select % {"id": pk})}"></td>'
            f'<td class="col-sender"><div class="sender">{sender}</div></td>'
            f'<td class="subject"><span class="channel">'
            f"{sources.get(ticket.source, escape(ticket.source))}</span> "
            f'<span class="ticket-id">#{pk}</span><a class="ticket-link" '
            f'href="{detail}{pk}/{query}">{escape(ticket.name)}</a>{preview}</td>'
            f'<td class="col-status"><span class="status{closed}">'
            f"{escape(ticket.stage.name)}</span></td>"
            f'<td class="col-prio">{priority}</td>'
            f'<td class="col-owner">{owner_html}</td>'
            f'<td class="col-time"><time class="time" datetime="{local.isoformat()}" '
            f'title="{escape(format_date(local, exact_format))}">'
            f"{escape(naturaltime(ticket.last_activity_at))}</time></td></tr>\n"
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value above went through escape()
