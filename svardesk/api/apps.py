from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The HubSpot-compatible public API (CRM v3/v4, pipelines, properties, owners,
    conversations v3) and its private-app tokens. An interface above the domain apps: it parses
    HubSpot's dialect, calls their queries and services, and answers in HubSpot's shapes."""

    name = "svardesk.api"
    label = "api"
    verbose_name = "API"
