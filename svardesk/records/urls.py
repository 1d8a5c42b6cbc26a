"""The CRM pages' URLs. Lists, record pages and the pickers each keep their own module
(list_urls, record_urls, picker_urls) and are included here."""

from django.urls import include, path

from svardesk.records import settings_views

app_name = "records"

urlpatterns: list = [
    path("", include("svardesk.records.list_urls")),
    path("", include("svardesk.records.picker_urls")),
    path("", include("svardesk.records.record_urls")),
    path("settings/crm/", settings_views.crm_settings_page, name="settings"),
]
