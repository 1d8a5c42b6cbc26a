"""/reports/sla/: the SLA report page and its CSV."""

from django.urls import path

from svardesk.sla import report

app_name = "sla_report"

urlpatterns = [
    path("", report.sla_report, name="report"),
    path("report.csv", report.sla_report_csv, name="csv"),
]
