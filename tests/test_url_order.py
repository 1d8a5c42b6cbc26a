"""Django tries URL patterns in order and the first match wins: the public endpoints come
first in config/urls.py (they are posted to often and in bursts), so a later reordering must
not let one pattern hide another. Every path-style route, filled with sample values, resolves
to its own view."""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RoutePattern

SAMPLES = {"int": "7", "uuid": "12345678-1234-5678-1234-567812345678", "path": "a/b"}
CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?[^>]+>")


def _routes(resolver: URLResolver, prefix: str = "") -> list[tuple[str, URLPattern]]:
    """(sample path, pattern) for every pattern reached through path() routes only."""
    found: list[tuple[str, URLPattern]] = []
    for entry in resolver.url_patterns:
        if not isinstance(entry.pattern, RoutePattern):
            continue  # a regular expression (the conversations API): its own prefix
        piece = CONVERTER.sub(
            lambda m: SAMPLES.get(m.group("converter") or "str", "abc"), str(entry.pattern)
        )
        if isinstance(entry, URLResolver):
            found += _routes(entry, prefix + piece)
        else:
            found.append((prefix + piece, entry))
    return found


def test_every_route_resolves_to_its_own_view():
    routes = _routes(get_resolver())
    assert len(routes) > 150  # the walk reached the apps' patterns

    hidden = [
        f"/{path} -> {resolve('/' + path).func}"
        for path, pattern in routes
        if resolve("/" + path).func is not pattern.callback
    ]
    assert hidden == []


def test_the_public_endpoints_are_tried_first():
    prefixes = [str(entry.pattern) for entry in get_resolver().url_patterns]
    public = ["channels/messenger/", "channels/calls/", "forms/", "chat/", "channels/email/"]
    assert set(prefixes[: len(public)]) == set(public)
