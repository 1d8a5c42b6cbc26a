"""/demo/website/: a plain page of a fictional shop that embeds the demo chat and links to the
demo form, so a trial user can chat as a customer would. Served only once `svardesk demo`
has connected the channels (the DemoSite row); otherwise 404."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from svardesk.demo.channels import snippet_attributes
from svardesk.demo.models import DemoSite

# A page of "another website": the chat widget may add its own style sheet; nothing else
# beyond our own origin loads.
WEBSITE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@require_GET
def website(request: HttpRequest) -> HttpResponse:
    site = DemoSite.objects.select_related("chat_channel", "form_channel").first()
    if site is None:
        raise Http404("The demo has not been loaded")
    chat = (
        snippet_attributes(site.chat_snippet)
        if site.chat_channel is not None and site.chat_channel.is_active
        else {}
    )
    form_url = (
        site.form_url if site.form_channel is not None and site.form_channel.is_active else ""
    )
    response = render(
        request,
        "demo/website.html",
        {"chat_attributes": sorted(chat.items()), "form_url": form_url, "site": site},
    )
    response["Content-Security-Policy"] = WEBSITE_POLICY
    return response
