"""The rows of the contact, company and deal lists, drawn in Python as the ticket list's are
(ticket_views.rendering): fifty rows of several values each would cost the template engine
more than the query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from svardesk.records import properties as rp
from svardesk.ticket_views.rendering import _DateFormatter, _NaturalTime


def record_rows(
    records: Sequence[Any],
    specs: Sequence[rp.PropertySpec],
    *,
    object_type: str,
    users: Mapping[int, Any],
) -> SafeString:
    """One `<tr>` per record: the first column links to the record's page."""
    detail = reverse(f"records:{object_type}", args=[0])[: -len("0/")]
    # Once per page, as the ticket list does: the format split and the translations looked up.
    exact = _DateFormatter(get_format("DATETIME_FORMAT"))
    natural = _NaturalTime()
    css = {spec.name: f"col-prop col-{escape(spec.name)}" for spec in specs}
    parts = []
    for record in records:
        cells = []
        for index, spec in enumerate(specs):
            if index == 0:
                # The record's name: a contact's whole name (or address), a company's name.
                label = str(record) if spec.is_builtin else rp.display(record, spec, users=users)
                cells.append(
                    f'<td class="subject"><a class="ticket-link record-link" '
                    f'href="{detail}{record.pk}/">{escape(label)}</a></td>'
                )
            elif spec.is_builtin and spec.name in ("createdate", "lastmodifieddate",
                                                    "hs_lastmodifieddate"):  # fmt: skip
                moment = record.created_at if spec.name == "createdate" else record.updated_at
                local = timezone.localtime(moment)
                cells.append(
                    f'<td class="{css[spec.name]}"><time datetime="{local.isoformat()}" '
                    f'title="{escape(exact(local))}">{escape(natural(moment))}</time></td>'
                )
            else:
                text = rp.display(record, spec, users=users)
                cells.append(f'<td class="{css[spec.name]}">{escape(text)}</td>')
        parts.append(
            f'<tr class="ticket-row record-row" data-record-id="{record.pk}">{"".join(cells)}</tr>\n'
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value above went through escape()


def record_ticket_rows(
    tickets: Sequence[Any],
    *,
    next_cursor: str,
    record_id: int,
    primary_contact_id: int | None,
    url_base: str,
    csrf_token: str,
) -> SafeString:
    """The record page's tickets (`<tr>`s, then "More" when there are more): each with its
    status, owner, last activity and a Remove form. Built here, not in a template: a row
    with two URLs, a CSRF field and five translated strings cost the template engine ~0.8 ms,
    most of the record page's time."""
    detail = reverse("tickets:detail", args=[0])[: -len("0/")]
    dissociate = escape(reverse(f"{url_base}_dissociate", args=[record_id]))
    primary = escape(_("Primary contact"))
    unassigned = escape(_("Unassigned"))
    remove = _("Remove ticket #%(id)s")
    remove_label = escape(_("Remove"))
    csrf = escape(csrf_token)
    exact = _DateFormatter(get_format("DATETIME_FORMAT"))
    natural = _NaturalTime()
    stages: dict[int, str] = {}
    parts = []
    for ticket in tickets:
        stage = stages.get(ticket.stage_id)
        if stage is None:
            stage = stages[ticket.stage_id] = escape(ticket.stage.display_name)
        badge = (
            f' <span class="badge">{primary}</span>'
            if primary_contact_id is not None and ticket.contact_id == primary_contact_id
            else ""
        )
        owner = ticket.owner
        if owner is None:
            owner_cell = f'<span class="muted">{unassigned}</span>'
        else:
            name = escape(owner.display_name)
            owner_cell = (
                f'<span class="avatar avatar-sm" title="{name}" aria-hidden="true">'
                f'{escape(owner.initials)}</span> <span class="owner-name">{name}</span>'
            )
        activity = ticket.last_activity_at
        local = timezone.localtime(activity)
        parts.append(
            f'<tr>\n  <td class="ticket-cell"><a href="{detail}{ticket.pk}/">'
            f'<span class="ticket-id">#{ticket.pk}</span> {escape(ticket.name)}</a>{badge}</td>\n'
            f'  <td><span class="status">{stage}</span></td>\n'
            f"  <td>{owner_cell}</td>\n"
            f'  <td class="time"><time datetime="{local.isoformat()}" '
            f'title="{escape(exact(local))}">{escape(natural(activity))}</time></td>\n'
            f'  <td><form hx-post="{dissociate}" hx-target="#record-page" hx-swap="outerHTML" '
            f'method="post" action="{dissociate}">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
            f'<input type="hidden" name="partner_type" value="ticket">'
            f'<input type="hidden" name="partner_id" value="{ticket.pk}">'
            f'<button type="submit" class="linklike btn-sm" '
            f'aria-label="{escape(remove % {"id": ticket.pk})}">{remove_label}</button></form></td>\n'
            "</tr>"
        )
    if not parts and not next_cursor:
        parts.append(f'<tr><td colspan="5" class="muted">{escape(_("No tickets yet."))}</td></tr>')
    if next_cursor:
        more = reverse(f"{url_base}_tickets", args=[record_id])
        parts.append(
            f'<tr class="more-row"><td colspan="5"><button type="button" class="btn btn-sm" '
            f'hx-get="{escape(more)}?after={escape(quote(next_cursor, safe="/"))}" '
            f'hx-target="closest tr" hx-swap="outerHTML">{escape(_("More"))}</button></td></tr>'
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value above went through escape()
