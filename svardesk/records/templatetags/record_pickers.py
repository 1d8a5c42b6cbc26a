"""`{% picker "contact" name="contact" label=… %}`: a record picker (records/pickers.py) in
any template, so a form of a domain app below records draws one without importing it. The
widget itself is Jinja2 (records/jinja2/records/picker/_widget.html, decision 0008)."""

from typing import Any

from django import template
from django.utils.safestring import SafeString

from svardesk.core.jinja import render
from svardesk.records.pickers import picker_widget

register = template.Library()


@register.simple_tag
def picker(object_type: str, **options: Any) -> SafeString:
    return render("records/picker/_widget.html", {"picker": picker_widget(object_type, **options)})
