import pytest

from svardesk.core import local_cache
from svardesk.core.local_cache import cached, clear_local_cache


def test_value_is_reused_within_ttl_and_reloaded_after(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(local_cache.time, "monotonic", lambda: clock[0])
    loads = []

    def load():
        loads.append(1)
        return len(loads)

    assert cached("k", load, ttl=5) == 1
    clock[0] += 4.9
    assert cached("k", load, ttl=5) == 1
    clock[0] += 0.2
    assert cached("k", load, ttl=5) == 2
    clear_local_cache()
    assert cached("k", load, ttl=5) == 3


@pytest.mark.django_db
def test_saving_a_stage_or_the_help_desk_settings_clears_the_cache():
    from svardesk.conversations.models import HelpDeskSettings
    from svardesk.tickets.services import ensure_default_pipeline

    pipeline = ensure_default_pipeline()
    cached("probe", lambda: "old")
    stage = pipeline.stages.first()
    stage.name = "Renamed"
    stage.save()
    assert cached("probe", lambda: "new") == "new"

    cached("probe2", lambda: "old")
    settings_row = HelpDeskSettings.load()
    settings_row.reopen_closed_on_reply = False
    settings_row.save()
    assert cached("probe2", lambda: "new") == "new"
