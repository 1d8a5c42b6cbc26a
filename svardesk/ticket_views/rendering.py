"""The ticket rows of the default list layout, rendered in Python.

This is the hottest fragment of the workspace (every list page, every live refresh, 50 rows
of ~20 values each); Django's template engine spends ~20 µs on each value, escape() and an
f-string a small fraction of that. Every column layout is drawn here (a custom view's extra
columns as plain cells), so partials/_rows.html only prints the result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from html import escape  # the stdlib's: Django's adds a lazy-string wrapper per call
from typing import Any, cast

from django.contrib.humanize.templatetags.humanize import NaturalTimeFormatter, naturaltime
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import DateFormat, re_escaped, re_formatchars
from django.utils.formats import get_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from svardesk.tickets.models import Priority, Source, Ticket


def _short(text: str, limit: int = 120) -> str:
    """truncatechars: at most `limit` characters, the last one an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Memo:
    """A translatable pattern (`ngettext_lazy(...)`) formatted once per number: the rows of a
    page repeat "2 days", "3 hours" and so on, and each lazy translation costs a lookup."""

    def __init__(self, pattern: Any) -> None:
        self.pattern = pattern
        self.done: dict[tuple[tuple[str, Any], ...], str] = {}

    def __mod__(self, values: dict[str, Any]) -> str:
        key = tuple(values.items())
        text = self.done.get(key)
        if text is None:
            text = self.done[key] = str(self.pattern % values)
        return text


class _NaturalTime:
    """humanize's naturaltime for one page, to its largest unit ("3 minutes ago", "2 days
    ago", not "2 days, 4 hours ago", so the Swedish "2 dagar sedan" fits its column): the
    same code path for past times, its translated pieces looked up once per page; anything
    else (times in the future) goes to naturaltime itself."""

    def __init__(self) -> None:
        strings = NaturalTimeFormatter.time_strings
        self.now = dt.datetime.now(dt.UTC)
        self.day = _Memo(strings["past-day"])
        self.hour = _Memo(strings["past-hour"])
        self.minute = _Memo(strings["past-minute"])
        self.second = _Memo(strings["past-second"])
        self.just_now = str(strings["now"])
        self.units = {
            name: _Memo(pattern) for name, pattern in NaturalTimeFormatter.past_substrings.items()
        }

    def __call__(self, value: dt.datetime) -> str:
        now = self.now
        if value.tzinfo is None or value >= now:
            return str(naturaltime(value))
        delta = now - value
        if delta.days != 0:
            units = cast(dict[str, str], self.units)  # used only as `pattern % {"num": n}`
            return self.day % {"delta": timesince(value, now, time_strings=units, depth=1)}
        if delta.seconds == 0:
            return self.just_now
        if delta.seconds < 60:
            return self.second % {"count": delta.seconds}
        if delta.seconds // 60 < 60:
            return self.minute % {"count": delta.seconds // 60}
        return self.hour % {"count": delta.seconds // 60 // 60}


class _DateFormatter:
    """django.utils.dateformat.format with the format string split once per page."""

    def __init__(self, format_string: str) -> None:
        self.pieces: list[tuple[bool, str]] = []
        for i, piece in enumerate(re_formatchars.split(str(format_string))):
            if i % 2:
                self.pieces.append((True, piece))
            elif piece:
                self.pieces.append((False, re_escaped.sub(r"\1", piece)))

    def __call__(self, value: dt.datetime) -> str:
        formatter = DateFormat(value)
        return "".join(
            str(getattr(formatter, piece)()) if code else piece for code, piece in self.pieces
        )


DEFAULT_KEYS = ("contact", "name", "stage", "priority", "owner", "last_activity_at")


def default_rows(tickets: Iterable[Ticket], *, view_key: str = "") -> SafeString:
    """The rows of the default layout (sender, subject, status, priority, owner, time)."""
    return ticket_rows(tickets, DEFAULT_KEYS, view_key=view_key)


def ticket_rows(
    tickets: Iterable[Ticket],
    keys: Sequence[str],
    *,
    view_key: str = "",
    cell_text: Callable[[Ticket, str], str] | None = None,
) -> SafeString:
    """The `<tr>`s of a list showing the columns `keys`, in that order: the default columns
    drawn as the default layout draws them, any other one as `cell_text(ticket, key)` in a
    plain cell (columns.table_rows supplies it; a SafeString is markup, anything else text)."""
    sources = {value: escape(str(label)) for value, label in Source.choices}
    priorities = {value: escape(str(label)) for value, label in Priority.choices}
    no_contact = escape(_("No contact"))
    unassigned = escape(_("Unassigned"))
    select = _("Select ticket %(id)s")
    query = f"?view={escape(view_key)}" if view_key else ""
    detail = reverse("tickets:detail", args=[0])[: -len("0/")]
    exact = _DateFormatter(get_format("DATETIME_FORMAT"))
    natural = _NaturalTime()
    other_css = {key: f"col-prop col-{escape(key)}" for key in keys}

    def contact_cell(ticket: Ticket) -> str:
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
        return f'<td class="col-sender"><div class="sender">{sender}</div></td>'

    def name_cell(ticket: Ticket) -> str:
        pk = ticket.pk
        preview = (
            f'<span class="preview">— {escape(_short(ticket.preview))}</span>'
            if ticket.preview
            else ""
        )
        return (
            f'<td class="subject"><span class="channel">'
            f"{sources.get(ticket.source, escape(ticket.source))}</span> "
            f'<span class="ticket-id">#{pk}</span><a class="ticket-link" '
            f'href="{detail}{pk}/{query}">{escape(ticket.name)}</a>{preview}</td>'
        )

    stage_names: dict[int, str] = {}  # a built-in status's name is a lazy translation

    def stage_cell(ticket: Ticket) -> str:
        closed = "" if ticket.is_open else " status-closed"
        name = stage_names.get(ticket.stage_id)
        if name is None:
            name = stage_names[ticket.stage_id] = escape(ticket.stage.display_name)
        return f'<td class="col-status"><span class="status{closed}">{name}</span></td>'

    def priority_cell(ticket: Ticket) -> str:
        if not ticket.priority:
            return '<td class="col-prio"></td>'
        label = priorities.get(ticket.priority, escape(ticket.priority))
        return (
            f'<td class="col-prio"><span class="badge prio-{escape(ticket.priority)}">'
            f"{label}</span></td>"
        )

    def owner_cell(ticket: Ticket) -> str:
        owner = ticket.owner
        if owner is None:
            return f'<td class="col-owner"><span class="muted" title="{unassigned}">—</span></td>'
        owner_name = escape(owner.display_name)
        return (
            f'<td class="col-owner"><span class="avatar avatar-sm" title="{owner_name}">'
            f'{escape(owner.initials)}<span class="visually-hidden">{owner_name}</span>'
            "</span></td>"
        )

    def time_cell(ticket: Ticket) -> str:
        local = timezone.localtime(ticket.last_activity_at)
        return (
            f'<td class="col-time"><time class="time" datetime="{local.isoformat()}" '
            f'title="{escape(exact(local))}">'
            f"{escape(natural(ticket.last_activity_at))}</time></td>"
        )

    drawn: dict[str, Callable[[Ticket], str]] = {
        "contact": contact_cell,
        "name": name_cell,
        "stage": stage_cell,
        "priority": priority_cell,
        "owner": owner_cell,
        "last_activity_at": time_cell,
    }

    def other_cell(ticket: Ticket, key: str) -> str:
        text = cell_text(ticket, key) if cell_text is not None else ""
        # A registered cell may return markup it built and escaped itself (the SLA badges).
        html = text if isinstance(text, SafeString) else escape(text)
        return f'<td class="{other_css[key]}">{html}</td>'

    parts = []
    for ticket in tickets:
        pk = ticket.pk
        cells = "".join(
            drawn[key](ticket) if key in drawn else other_cell(ticket, key) for key in keys
        )
        parts.append(
            f'<tr class="ticket-row" data-ticket-id="{pk}">'
            f'<td class="col-check"><input type="checkbox" name="ticket" value="{pk}:{ticket.version}"'
            f' form="bulk-form" aria-label="{escape(select % {"id": pk})}"></td>'
            f"{cells}</tr>\n"
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value above went through escape()


# --- Hot fragments around the rows: option lists and the sidebar's view links ---------------
# Each was a template loop of 10 to 60 items on every list page; the markup is the same.


def options_html(options: Iterable[tuple[str, str] | tuple[str, str, bool]]) -> SafeString:
    """`<option>`s from (value, label) or (value, label, selected) items."""
    parts = []
    for option in options:
        selected = " selected" if len(option) > 2 and option[2] else ""
        parts.append(
            f'<option value="{escape(str(option[0]))}"{selected}>{escape(str(option[1]))}</option>'
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value went through escape()


def column_choices_html(choices: Iterable[tuple[str, str, bool]]) -> SafeString:
    """The column chooser's checkboxes from (key, label, checked); the name always shows."""
    parts = []
    for key, label, checked in choices:
        parts.append(
            f'<label class="check"><input type="checkbox" name="col" value="{escape(key)}" '
            f"{'checked' if checked else ''} {'disabled' if key == 'name' else ''}> "
            f"{escape(str(label))}</label>"
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value went through escape()


def sidebar_links_html(views: Iterable[Any], current_view: str) -> SafeString:
    """The sidebar's `<li>` view links with their counts (queries.SidebarView items); a view
    whose filters no longer apply shows "—"."""
    more = escape(_("More tickets than the sidebar counts exactly"))
    broken = escape(_("This view's filters no longer apply."))
    parts = []
    for view in views:
        key = escape(view.key)
        current = ' is-current" aria-current="page"' if view.key == current_view else '"'
        if view.count is None:
            count = f'<span class="count count-broken" title="{broken}">—</span>'
        else:
            label = escape(view.count_label)
            title = f' title="{more}"' if view.is_more else ""
            count = f'<span class="count" data-count="{label}"{title}>{label}</span>'
        parts.append(
            f'<li><a href="{escape(view.url)}" class="view-link{current} data-view="{key}">'
            f'<span class="view-label">{escape(str(view.label))}</span>{count}</a></li>\n'
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value went through escape()


def list_time(value: dt.datetime | None) -> str:
    """How long ago, as the list's time column shows it (see _NaturalTime)."""
    return _NaturalTime()(value) if value is not None else ""
