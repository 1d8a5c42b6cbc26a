"""core.bursts: one batch task per burst, a marker that goes stale when its task was lost."""

from __future__ import annotations

from typing import Any

import pytest
from huey.storage import SqliteStorage

from svardesk.core import bursts


class _Task:
    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], float]] = []

    def schedule(self, args: tuple[Any, ...], *, delay: float) -> None:
        self.calls.append((args, delay))


@pytest.fixture
def storage(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> SqliteStorage:
    from huey.contrib.djhuey import HUEY

    own = SqliteStorage(name="bursts-test", filename=str(tmp_path / "q.sqlite3"))
    monkeypatch.setattr(HUEY, "storage", own)
    return own


def test_only_the_first_delivery_of_a_burst_schedules(storage, settings):
    settings.INBOUND_PROCESSING_DELAY = 2.5
    task = _Task()

    assert bursts.schedule_once("m", task, 7) is True
    assert bursts.schedule_once("m", task, 8) is False
    assert bursts.schedule_once("other", task) is True  # each marker its own burst

    assert task.calls == [((7,), 2.5), ((), 2.5)]


def test_a_started_batch_or_a_stale_marker_lets_the_next_delivery_schedule(storage, settings):
    settings.INBOUND_PROCESSING_DELAY = 1.0
    task = _Task()
    bursts.schedule_once("m", task)

    bursts.batch_started("m")
    assert bursts.schedule_once("m", task) is True
    storage.put_data("m", b"0")  # set long ago: its task was lost
    assert bursts.schedule_once("m", task) is True
    storage.put_data("m", b"garbage")
    assert bursts.schedule_once("m", task) is True
    assert len(task.calls) == 4


def test_run_or_schedule_runs_in_the_request_without_a_delay(storage, settings):
    task = _Task()
    ran: list[int] = []
    settings.INBOUND_PROCESSING_DELAY = 0
    bursts.run_or_schedule("m", task, lambda: ran.append(1))
    assert (ran, task.calls) == ([1], [])

    settings.INBOUND_PROCESSING_DELAY = 1.0
    bursts.run_or_schedule("m", task, lambda: ran.append(2))
    assert (ran, task.calls) == ([1], [((), 1.0)])
