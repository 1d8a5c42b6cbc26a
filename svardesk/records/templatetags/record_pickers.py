"""`{% picker "contact" name="contact" label=… %}`: a record picker (records/pickers.py) in
any template, so a form of a domain app below records draws one without importing it. The
widget itself is Jinja2 (records/jinja2/records/picker/_widget.html, decision 0008)."""

from typing import Any

from django import template
from django.template import engines
from django.utils.safestring import SafeString, mark_safe

from svardesk.records.pickers import picker_widget

register = template.Library()


@register.simple_tag
def picker(object_type: str, **options: Any) -> SafeString:
    widget = engines["jinja2"].get_template("records/picker/_widget.html")
    html = widget.template.render({"picker": picker_widget(object_type, **options)})  # type: ignore[attr-defined]
    return mark_safe(html)  # noqa: S308 - Jinja2 escaped what it drew
