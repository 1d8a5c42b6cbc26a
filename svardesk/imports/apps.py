from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """CSV import of contacts, companies and tickets: Settings → Import and `import_csv`."""

    name = "svardesk.imports"
    label = "imports"
