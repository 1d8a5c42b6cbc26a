from django.urls import include, path

from svardesk.tickets import urls as tickets_urls
from svardesk.workspace import (
    inbox_pages,
    ticket_calls,
    ticket_cards,
    ticket_merge,
    ticket_move,
    ticket_page,
)

urlpatterns = [
    # First what comes from outside, often and in bursts (webhooks, form posts, the chat
    # widget): Django tries the patterns in order, and the includes at "" below hold ~200.
    path("channels/email/", include("svardesk.channels.email.urls")),
    path("chat/", include("svardesk.channels.chat.urls")),
    path("forms/", include("svardesk.channels.forms.urls")),
    path("channels/calls/", include("svardesk.channels.calls.urls")),
    path("channels/messenger/", include("svardesk.channels.messenger.urls")),
    # The HubSpot-compatible API at the root, as HubSpot serves it (/crm/v3/…, /conversations/v3/…).
    path("", include("svardesk.api.urls")),
    path("", include("svardesk.workspace.urls")),
    path("", include("svardesk.ticket_views.urls")),
    # One "tickets" namespace: the ticket's own actions and the ticket page composed above.
    path(
        "tickets/",
        include(
            (
                [
                    *tickets_urls.urlpatterns,
                    *ticket_page.urlpatterns,
                    *ticket_cards.urlpatterns,
                    *ticket_merge.urlpatterns,
                    *ticket_move.urlpatterns,
                    *ticket_calls.urlpatterns,
                ],
                tickets_urls.app_name,
            )
        ),
    ),
    path("", include("svardesk.conversations.urls")),
    path("inboxes/", include((inbox_pages.urlpatterns, inbox_pages.app_name))),
    path("accounts/", include("svardesk.accounts.urls")),
    path("settings/channels/chat/", include("svardesk.channels.chat.settings_urls")),
    path("settings/channels/", include("svardesk.workspace.channel_settings_urls")),
    path("settings/channels/form/", include("svardesk.channels.forms.settings_urls")),
    path("settings/channels/calls/", include("svardesk.channels.calls.settings_urls")),
    path("settings/channels/messenger/", include("svardesk.channels.messenger.settings_urls")),
    path("settings/sla/", include("svardesk.sla.settings_urls")),
    path("reports/sla/", include("svardesk.sla.report_urls")),
    path("settings/import/", include("svardesk.imports.urls")),
    path("settings/integrations/webhooks/", include("svardesk.webhooks.urls")),
    path("settings/", include("svardesk.workspace.settings_urls")),
    path("", include("svardesk.records.urls")),
    path("demo/", include("svardesk.demo.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
