"""`{% jinja "name" key=value … %}`: a Jinja2 template (core/jinja.py) drawn inside a Django
template with the Django template's context, plus the given values."""

from __future__ import annotations

from typing import Any

from django import template
from django.template import engines
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def jinja(context: template.Context, name: str, **values: Any) -> SafeString:
    # The Jinja2 template itself, not the backend's wrapper: the Django context already
    # holds what the wrapper would add (request, csrf_token, the context processors').
    compiled = engines["jinja2"].get_template(name).template  # type: ignore[attr-defined]
    flat = context.flatten()
    flat.update(values)
    return mark_safe(compiled.render(flat))  # noqa: S308 - Jinja2 escaped what it drew
