from django.apps import AppConfig


class RecordsConfig(AppConfig):
    """The CRM's pages: contact, company and deal lists, record pages, the pickers and the
    ticket's association cards. Composed above `crm` (the records and their rules) and
    `tickets` (whose access scope decides which records an agent sees)."""

    name = "svardesk.records"
    label = "records"
