"""The public side of a form: the hosted page /forms/<key>/ (also what the embed snippet
shows in a frame) and the snippet's script /forms/<key>/embed.js.

Nobody signs in here. The page is posted back to itself; instead of Django's CSRF cookie —
which a browser does not send from a frame on another website (SameSite) — the page carries
a signed, expiring token and the POST must come from the page's own origin (Sec-Fetch-Site /
Origin). Whatever fails, the visitor gets the form back with what they typed.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from django.core import signing
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import override
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from svardesk.accounts.throttle import client_of
from svardesk.channels.forms import conf, queries, services
from svardesk.channels.forms.fields import HONEYPOT, LANG, TOKEN
from svardesk.channels.forms.models import Form, FormLanguage, SubmissionStatus
from svardesk.core.csp import HEADER as CSP_HEADER
from svardesk.core.csp import POLICY

TOKEN_SALT = "svardesk.forms.page"  # noqa: S105 (a signing salt, not a secret)
TOKEN_MAX_AGE = 2 * 24 * 3600  # a page left open over a weekend still sends


def _language(request: HttpRequest, form: Form) -> str:
    asked = request.POST.get(LANG) if request.method == "POST" else request.GET.get("lang")
    return asked if asked in FormLanguage.values else form.language


def _frame_ancestors(form: Form) -> str:
    return " ".join(form.allowed_websites) if form.allowed_websites else "*"


def _page_token(form: Form) -> str:
    return signing.dumps(form.public_key, salt=TOKEN_SALT, compress=False)


def _token_ok(form: Form, token: str) -> bool:
    try:
        return bool(signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE) == form.public_key)
    except signing.BadSignature:
        return False


def _from_own_page(request: HttpRequest) -> bool:
    """The POST came from our own page (in a frame or not), not from another website."""
    fetch_site = request.headers.get("Sec-Fetch-Site", "")
    if fetch_site:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("Origin", "")
    if origin and origin != "null":
        return urlsplit(origin).netloc.lower() == request.get_host().lower()
    return True  # an old browser or a script: the token still has to be right


def _seconds_over_rate_limit(request: HttpRequest) -> int:
    """0 while the client may send, else the seconds until its window ends."""
    window = conf.rate_window_seconds()
    now = time.time()
    key = f"forms:rate:{client_of(request)}:{int(now // window)}"
    cache.add(key, 0, timeout=window * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window * 2)
        count = 1
    if count > conf.rate_limit():
        return int(window - now % window) + 1
    return 0


def _respond(
    request: HttpRequest,
    form: Form,
    *,
    language: str,
    bound: Any = None,
    thanks: bool = False,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    embed = (request.POST if request.method == "POST" else request.GET).get("embed") == "1"
    with override(language):
        if bound is None and not thanks:
            bound = services.bind_form(form, None, language)
        context = {
            "form": form,
            "bound": bound,
            "language": language,
            "thanks": thanks,
            "confirmation": services.confirmation_message(form, language) if thanks else "",
            "problem": problem,
            "embed": embed,
            "token": _page_token(form),
            "honeypot": HONEYPOT,
            "action": reverse("forms_channel:page", args=[form.public_key]),
            "languages": FormLanguage.choices,
        }
        response = render(request, "forms_channel/page.html", context, status=status)
    response[CSP_HEADER] = POLICY.replace(
        "frame-ancestors 'none'", f"frame-ancestors {_frame_ancestors(form)}"
    )
    response["Content-Language"] = language
    return response


def _closed(request: HttpRequest, form: Form, language: str) -> HttpResponse:
    with override(language):
        response = render(
            request,
            "forms_channel/closed.html",
            {"form": form, "language": language},
            status=404,
        )
    response[CSP_HEADER] = POLICY.replace(
        "frame-ancestors 'none'", f"frame-ancestors {_frame_ancestors(form)}"
    )
    return response


@csrf_exempt  # see the module docstring: a signed page token and an origin check instead
@xframe_options_exempt  # framing is limited per form by the CSP's frame-ancestors instead
@never_cache
@require_http_methods(["GET", "POST"])
def form_page(request: HttpRequest, key: str) -> HttpResponse:
    form = queries.form_by_key(key)
    if form is None:
        raise Http404("No such form")
    language = _language(request, form) if request.method == "GET" else form.language
    if not form.is_active:
        return _closed(request, form, language)
    if request.method == "GET":
        return _respond(request, form, language=language)
    return _submit(request, form)


def _submit(request: HttpRequest, form: Form) -> HttpResponse:
    limit = conf.max_body_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        language = form.language
        with override(language):
            problem = _(
                "What you sent is too long (more than %(size)s KB). Shorten the longest answer "
                "and send again."
            ) % {"size": limit // 1024}
        return _respond(request, form, language=language, problem=problem, status=413)
    language = _language(request, form)
    data = services.raw_data(request.POST)

    def again(problem: str, status: int, **extra: Any) -> HttpResponse:
        # The form again, with what the visitor typed.
        bound = services.bind_form(form, data, language)
        response = _respond(
            request, form, language=language, bound=bound, problem=problem, status=status
        )
        for header, value in extra.items():
            response[header] = value
        return response

    with override(language):
        if not _from_own_page(request) or not _token_ok(form, request.POST.get(TOKEN, "")):
            return again(
                _(
                    "This page was open too long, or it was sent from another website. Check "
                    "your answers and send again."
                ),
                403,
            )
        wait = _seconds_over_rate_limit(request)
        if wait:
            return again(
                _(
                    "Too many messages were sent from your network in a short time. Your "
                    "answers are kept below: send again in %(seconds)s seconds."
                )
                % {"seconds": wait},
                429,
                **{"Retry-After": str(wait)},
            )
    arrival = services.Arrival(
        ip_address=_ip(request),
        user_agent=request.headers.get("User-Agent", ""),
        origin=request.headers.get("Origin", ""),
        referrer=request.headers.get("Referer", ""),
    )
    if "".join(data.get(HONEYPOT, [])).strip():
        # Kept as spam, and answered like any other, so a bot learns nothing.
        services.store_submission(
            form, data=data, language=language, arrival=arrival, status=SubmissionStatus.SPAM
        )
        return _respond(request, form, language=language, thanks=True)
    # Checked here first, so the visitor's mistakes are shown at once (processing checks the
    # stored submission again).
    bound = services.bind_form(form, data, language)
    with override(language):
        if bound.is_valid():
            bound.custom_values()  # adds the custom properties' own errors
        if bound.errors:
            services.store_submission(
                form,
                data=data,
                language=language,
                arrival=arrival,
                status=SubmissionStatus.REJECTED,
                errors=services.error_dict(bound),
            )
            problem = _("Some answers need a look. Correct them and send again.")
            return _respond(
                request, form, language=language, bound=bound, problem=problem, status=400
            )
    submission = services.store_submission(form, data=data, language=language, arrival=arrival)
    if services.processing_deferred():
        # Stored: the worker's batch task makes the contact and the ticket in a moment. The
        # visitor's answer costs this one INSERT.
        return _respond(request, form, language=language, thanks=True)
    outcome = services.process_with_waiting(submission.pk)
    if outcome.submission.status == SubmissionStatus.REJECTED:  # the form changed meanwhile
        bound = services.bind_form(form, data, language)
        bound.is_valid()
        with override(language):
            problem = _("Some answers need a look. Correct them and send again.")
        return _respond(request, form, language=language, bound=bound, problem=problem, status=400)
    # Processed, or stored and waiting for a retry: either way the message is safe with us.
    return _respond(request, form, language=language, thanks=True)


def _ip(request: HttpRequest) -> str | None:
    value = str(request.META.get("REMOTE_ADDR") or "")
    import ipaddress

    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


@require_GET
def embed_js(request: HttpRequest, key: str) -> HttpResponse:
    """The snippet's script: puts a frame of the hosted form where the script tag is and
    resizes it to the form's height (messages from the form's own origin only)."""
    form = queries.form_by_key(key)
    if form is None:
        raise Http404("No such form")
    origin = f"{request.scheme}://{request.get_host()}"
    script = render_to_string(
        "forms_channel/embed.js",
        {
            "origin": origin,
            "src": f"{origin}{reverse('forms_channel:page', args=[form.public_key])}",
            "title": form.name,
        },
    )
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    response["X-Content-Type-Options"] = "nosniff"
    return response
