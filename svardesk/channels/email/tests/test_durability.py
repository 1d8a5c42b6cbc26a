"""Mail acknowledged to its sender (SMTP 250, HTTP 202, an advanced IMAP UID) survives a
power loss on the embedded default: SQLite syncs every commit (issue: hardening, item 4)."""

import pytest
from django.db import connection

FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="a SQLite setting")
def test_sqlite_connections_sync_every_commit():
    connection.close()  # a fresh connection runs the settings' init command
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == FULL
