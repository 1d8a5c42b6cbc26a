"""Settings → Integrations → Private apps (super admins): list, create (the token is shown
once, in the response to the create request, and never stored), revoke.

With HTMX each action answers the `#private-apps` region; without it, the whole page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from svardesk.accounts.queries import request_user
from svardesk.api import tokens
from svardesk.api.private_apps import queries
from svardesk.api.private_apps.forms import PrivateAppForm
from svardesk.core.decorators import super_admin_required
from svardesk.core.shortcuts import found, render_settings

SECTION = "private_apps"


def _fragment(request: HttpRequest) -> bool:
    """An HTMX swap of the region; a boosted link or a history restore wants the page."""
    htmx = request.htmx  # type: ignore[attr-defined]
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def _render(request: HttpRequest, *, status: int = 200, **context: Any) -> HttpResponse:
    context = {"apps": list(queries.list_tokens()), **context}
    if _fragment(request):
        return render(request, "api/partials/_private_apps.html", context, status=status)
    return render_settings(
        request, "api/private_apps.html", section=SECTION, context=context, status=status
    )


@super_admin_required
@require_GET
def app_list(request: HttpRequest) -> HttpResponse:
    return _render(request)


@super_admin_required
@require_http_methods(["GET", "POST"])
@never_cache
def app_create(request: HttpRequest) -> HttpResponse:
    admin = request_user(request)
    if request.method == "GET":
        return _render(request, form=PrivateAppForm(initial={"user": admin.pk}))
    form = PrivateAppForm(request.POST)
    if form.is_valid():
        try:
            token, raw = tokens.create_token(
                user=form.cleaned_data["user"],
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                actor=admin,
            )
        except tokens.TokenError as error:
            form.add_error(None, str(error))
        else:
            # Rendered into this response only: the token exists nowhere else in clear.
            return _render(request, created=token, raw_token=raw)
    return _render(request, form=form, status=422)


@super_admin_required
@require_http_methods(["GET", "POST"])
def app_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = found(queries.get_token(pk))
    if request.method == "GET":
        return _render(request, revoking=token)
    tokens.revoke_token(token, actor=request_user(request))
    notice = _("Private app %(name)s was revoked. Requests with its token now fail.") % {
        "name": token.name
    }
    if _fragment(request):
        return _render(request, notice=notice)
    messages.success(request, notice)
    return redirect("private_apps:list")
