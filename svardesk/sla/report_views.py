"""The SLA report page and its CSV download (the numbers come from `sla.report`)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from svardesk.accounts.queries import request_user
from svardesk.core.decorators import workspace_required
from svardesk.sla.report import (
    PERIODS,
    ReportFilters,
    build_report,
    chart_data,
    csv_text,
    page_summary,
)
from svardesk.teams.models import Team
from svardesk.tickets.models import Pipeline, Priority


@workspace_required
@require_GET
def sla_report(request: HttpRequest) -> HttpResponse:
    filters = ReportFilters.parse(request.GET)
    report = build_report(request_user(request), filters)
    context = {
        "filters": filters,
        "periods": [(key, _("Last %(n)s weeks") % {"n": weeks}) for key, weeks in PERIODS.items()],
        "teams": Team.objects.order_by("name"),
        "pipelines": Pipeline.objects.order_by("display_order", "id"),
        "priorities": Priority.choices,
        **page_summary(report),
        "chart": chart_data(report),
        "query": request.GET.urlencode(),
        "current_view": "sla_report",
    }
    return render(request, "sla/report.html", context)


@workspace_required
@require_GET
def sla_report_csv(request: HttpRequest) -> HttpResponse:
    filters = ReportFilters.parse(request.GET)
    text = csv_text(build_report(request_user(request), filters))
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="sla-report.csv"'
    return response
