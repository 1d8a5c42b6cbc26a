"""/reports/sla/: the SLA report page and its CSV."""

from django.urls import path

from svardesk.sla import report_views

app_name = "sla_report"

urlpatterns = [
    path("", report_views.sla_report, name="report"),
    path("report.csv", report_views.sla_report_csv, name="csv"),
]
