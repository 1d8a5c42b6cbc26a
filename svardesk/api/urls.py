"""The API's paths, at the root as HubSpot serves them (`/crm/v3/…`, `/crm/v4/…`,
`/conversations/v3/…`). Order matters where paths overlap: search and merge before the
object routes (whose `{objectId}` would otherwise take `search` and `merge`)."""

from django.urls import include, path, re_path

from svardesk.api.http import unknown_path

urlpatterns = [
    path("", include("svardesk.api.search.urls")),
    path("", include("svardesk.api.merge_urls")),
    path("", include("svardesk.api.objects.urls")),
    path("", include("svardesk.api.associations.urls")),
    path("", include("svardesk.api.crm_settings.urls")),
    path("", include("svardesk.api.conversations.urls")),
    path("settings/integrations/private-apps/", include("svardesk.api.private_apps.urls")),
    path("", include("svardesk.api.openapi.urls")),
    # Anything else under the API's prefixes answers HubSpot's 404 body.
    re_path(r"^(?:crm|conversations)/(?:.*)$", unknown_path),
]
