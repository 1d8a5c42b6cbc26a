"""`{% jinja "name" key=value … %}`: a Jinja2 template (core/jinja.py) drawn inside a Django
template with the Django template's context, plus the given values."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from svardesk.core.jinja import render

register = template.Library()


@register.simple_tag(takes_context=True)
def jinja(context: template.Context, name: str, **values: Any) -> SafeString:
    flat: dict[str, Any] = context.flatten()  # type: ignore[assignment]
    flat.update(values)
    return render(name, flat)
