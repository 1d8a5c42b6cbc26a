from django.urls import include, path

urlpatterns = [
    path("", include("svardesk.workspace.urls")),
    path("", include("svardesk.ticket_views.urls")),
    path("tickets/", include("svardesk.tickets.urls")),
    path("accounts/", include("svardesk.accounts.urls")),
    path("settings/", include("svardesk.workspace.settings_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
