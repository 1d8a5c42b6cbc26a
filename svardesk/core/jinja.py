"""The Jinja2 environment of the workspace's most drawn templates (decision 0008).

Django's template engine spent over a quarter of a list page's time and about half of the
ticket page's drawing their markup; Jinja2 compiles a template to Python once and draws it
several times faster. Templates in an app's `jinja2/` folder are Jinja2; everything else
stays Django's. A Django template draws a Jinja2 one with `{% jinja "name" %}`
(core/templatetags/jinja_tags.py), passing its context; Python draws one with `render`.

Inside: `_("…")` translates (Django's catalogues, so `makemessages` finds the strings as in
Django templates: write `_("text")|format(name=value)` for placeholders, never `_()` with
arguments, and plural forms in Python); `url(name, *args)` reverses and `maybe_url()` is ""
where `url()` would fail (a view key from the query string); `static(path)` points at a
static file; `csrf_token` is the request's token; `django_template(name, **values)` draws a
Django template with just those values, `django_include(name)` one with the whole context (a
partial shared with Django templates); `{% call fixed("key") %}…{% endcall %}` draws markup
that depends on the language alone once per language; `new_token()` is a fresh random token
(a composer's draft). The `date`, `time`, `linebreaksbr`, `filesizeformat` and `naturaltime`
filters are Django's (dates in the current time zone). Values marked safe by Django
(`mark_safe`, `format_html`) print unescaped, everything else is escaped.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template import Context, defaultfilters, engines
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]
from jinja2 import ChainableUndefined, Environment, pass_context
from jinja2.runtime import Context as JinjaContext
from markupsafe import Markup

_fixed: dict[tuple[str, str], Markup] = {}
# Filters the apps above core add (`register_filters`, from their AppConfig.ready()), and the
# environments made so far, which receive a filter registered after them.
_app_filters: dict[str, Callable[..., Any]] = {}
_environments: list[Environment] = []


def register_filters(**filters: Callable[..., Any]) -> None:
    """Make `filters` available to every Jinja2 template (an app's own readings of its data,
    such as a timeline row's): core imports no app, so each app registers its own."""
    _app_filters.update(filters)
    for env in _environments:
        env.filters.update(filters)


def render(template_name: str, values: dict[str, Any]) -> SafeString:
    """The Jinja2 template drawn with `values` as they are: for a caller that already holds a
    whole context (a Django template's), so not the backend's wrapper, which would add the
    request, the CSRF token and the context processors' values again."""
    template = engines["jinja2"].get_template(template_name).template  # type: ignore[attr-defined]
    return mark_safe(template.render(values))  # noqa: S308 - Jinja2 escaped what it drew


def url(name: str, *args: Any) -> str:
    return reverse(name, args=args)


def maybe_url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def fixed(key: str, caller: Callable[[], str]) -> Markup:
    """The call block's markup, drawn once per language (`key` names the block): only for
    markup that depends on nothing but the language — translations, URLs without request
    values, static paths — never on the user, the request or the data."""
    language = translation.get_language() or ""
    html = _fixed.get((key, language))
    if html is None:
        html = Markup(caller())  # noqa: S704 - a call block's markup, escaped by Jinja2
        if not settings.DEBUG:  # an edited template is drawn anew while developing
            _fixed[(key, language)] = html
    return html


def django_template(template_name: str, /, **values: Any) -> SafeString:
    return mark_safe(render_to_string(template_name, values))  # noqa: S308 - Django escaped it


@pass_context
def django_include(context: JinjaContext, template_name: str, /, **values: Any) -> SafeString:
    """A Django template drawn with this template's whole context (and `values`), as a
    Django `{% include %}` would draw it."""
    template = engines["django"].engine.get_template(template_name)  # type: ignore[attr-defined]
    return mark_safe(template.render(Context({**context.get_all(), **values})))  # noqa: S308


def linebreaksbr(value: Any) -> SafeString:
    return defaultfilters.linebreaksbr(value, autoescape=True)


def new_token() -> str:
    return secrets.token_urlsafe(18)


def date(value: Any, format_string: str | None = None) -> str:
    return defaultfilters.date(template_localtime(value), format_string)


def time(value: Any, format_string: str | None = None) -> str:
    return defaultfilters.time(template_localtime(value), format_string)


def environment(**options: Any) -> Environment:
    # Like Django's templates: a missing value (or an attribute of one) prints as nothing.
    options["undefined"] = ChainableUndefined
    options.setdefault("extensions", []).append("jinja2.ext.i18n")
    options.pop("autoescape", None)
    env = Environment(autoescape=True, **options)
    env.install_gettext_callables(  # type: ignore[attr-defined]
        translation.gettext, translation.ngettext, newstyle=False
    )
    env.globals.update(
        url=url,
        maybe_url=maybe_url,
        static=static,
        fixed=fixed,
        django_template=django_template,
        django_include=django_include,
        new_token=new_token,
    )
    env.filters.update(
        date=date,
        time=time,
        linebreaksbr=linebreaksbr,
        filesizeformat=defaultfilters.filesizeformat,  # Jinja2's own counts in kB, not KB
        naturaltime=naturaltime,
    )
    env.filters.update(_app_filters)
    _environments.append(env)
    return env
