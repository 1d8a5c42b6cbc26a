"""Settings → Contacts and companies (super admins): whether a new contact joins the company
of its email domain, and the region phone numbers without a country code are read in."""

from __future__ import annotations

import phonenumbers
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from svardesk.core.decorators import super_admin_required
from svardesk.core.shortcuts import render_settings
from svardesk.crm import services as crm_services
from svardesk.crm.exceptions import RecordValidationError
from svardesk.crm.queries import crm_settings

SECTION = "crm"


def region_choices() -> list[tuple[str, str]]:
    """Every region libphonenumber knows, as "SE (+46)", sorted by code."""
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    return [(r, f"{r} (+{phonenumbers.country_code_for_region(r)})") for r in regions]


@super_admin_required
@require_http_methods(["GET", "POST"])
def crm_settings_page(request: HttpRequest) -> HttpResponse:
    current = crm_settings()
    errors: dict[str, str] = {}
    values = {
        "associate_by_domain": current.associate_by_domain,
        "default_phone_region": current.default_phone_region,
    }
    if request.method == "POST":
        values = {
            "associate_by_domain": request.POST.get("associate_by_domain") == "on",
            "default_phone_region": request.POST.get("default_phone_region", ""),
        }
        try:
            crm_services.update_crm_settings(actor=request.user, **values)  # type: ignore[arg-type]
        except RecordValidationError as error:
            errors = {key: str(message) for key, message in error.errors.items()}
        else:
            messages.success(request, _("Settings saved."))
            return redirect("records:settings")
    return render_settings(
        request,
        "records/settings/crm.html",
        section=SECTION,
        context={"values": values, "errors": errors, "regions": region_choices()},
        status=422 if errors else 200,
    )
