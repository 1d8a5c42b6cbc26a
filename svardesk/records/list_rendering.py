"""The rows of the contact, company and deal lists, drawn in Python as the ticket list's are
(ticket_views.rendering): fifty rows of several values each would cost the template engine
more than the query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.safestring import SafeString, mark_safe

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
