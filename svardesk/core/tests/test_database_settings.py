"""What every PostgreSQL session of Svardesk is started with, and a bad setting refused."""

import os
import subprocess
import sys

import pytest
from django.db import connection


@pytest.mark.django_db
def test_postgres_sessions_run_with_the_planner_settings_searches_rely_on():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL session settings")
    with connection.cursor() as cursor:
        values = {}
        for name in ("jit", "max_parallel_workers_per_gather", "work_mem"):
            cursor.execute(f"SHOW {name}")
            values[name] = cursor.fetchone()[0]
    assert values == {"jit": "off", "max_parallel_workers_per_gather": "0", "work_mem": "32MB"}


def test_a_malformed_work_mem_is_refused_at_start():
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/svardesk",
        "SVARDESK_DB_WORK_MEM": "32MB -c statement_timeout=1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "svardesk", "check"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SVARDESK_DB_WORK_MEM must look like 32MB" in result.stderr
