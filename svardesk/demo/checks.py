"""A warning while a demo load's indexes are still unbuilt (`svardesk migrate` and `svardesk
check --database default` show it): the rows are there, but lists and search run without
their indexes until `svardesk demo --finish-indexes` builds them."""

from typing import Any

from django.core import checks
from django.db import connections


def check_pending_indexes(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    from svardesk.demo.models import PendingIndex

    found: list[checks.CheckMessage] = []
    for alias in databases or ():
        if PendingIndex._meta.db_table not in connections[alias].introspection.table_names():
            continue  # not migrated yet
        names = list(PendingIndex.objects.using(alias).values_list("name", flat=True)[:6])
        if names:
            shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
            found.append(
                checks.Warning(
                    f"An interrupted demo load left indexes unbuilt: {shown}.",
                    hint="Run `svardesk demo --finish-indexes`.",
                    id="demo.W001",
                )
            )
    return found
