from django.urls import include, path

urlpatterns = [
    path("", include("svardesk.workspace.urls")),
    path("", include("svardesk.ticket_views.urls")),
    path("tickets/", include("svardesk.tickets.urls")),
    path("", include("svardesk.conversations.urls")),
    path("accounts/", include("svardesk.accounts.urls")),
    path("settings/channels/", include("svardesk.channels.email.settings_urls")),
    path("settings/", include("svardesk.workspace.settings_urls")),
    path("channels/email/", include("svardesk.channels.email.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
