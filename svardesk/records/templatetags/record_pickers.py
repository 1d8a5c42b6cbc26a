"""`{% picker "contact" name="contact" label=… %}`: a record picker (records/pickers.py) in
any template, so a form of a domain app below records draws one without importing it."""

from typing import Any

from django import template

from svardesk.records.pickers import picker_widget

register = template.Library()


@register.inclusion_tag("records/picker/_widget.html")
def picker(object_type: str, **options: Any) -> dict[str, Any]:
    return {"picker": picker_widget(object_type, **options)}
