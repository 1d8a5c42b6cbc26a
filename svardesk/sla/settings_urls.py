"""/settings/sla/…: the SLA settings page, its rules and the recomputation's progress."""

from django.urls import path

from svardesk.sla import settings_views as views

app_name = "sla_settings"

urlpatterns = [
    path("", views.sla_settings, name="settings"),
    path("progress/", views.recompute_progress, name="progress"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("rules/<int:pk>/move/", views.rule_move, name="rule_move"),
]
