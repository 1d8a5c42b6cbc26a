"""An import checks rows in a second thread; while both run, Python's thread switch interval
is short so the writing thread's database replies do not wait 5 ms for the GIL each."""

from __future__ import annotations

import sys

from svardesk.imports import engine


def test_checking_rows_shortens_the_switch_interval_and_restores_it():
    before = sys.getswitchinterval()
    importer = engine.Importer(context=None, actor=None)  # type: ignore[arg-type]
    rows = engine.checked_rows(iter([["a"], ["b"], ["c"]]), [None], importer)

    seen = [(row.number, sys.getswitchinterval()) for row in rows]

    assert seen == [(n, engine.SWITCH_INTERVAL_SECONDS) for n in (1, 2, 3)]
    assert sys.getswitchinterval() == before


def test_two_imports_at_once_the_last_one_out_restores_the_interval():
    before = sys.getswitchinterval()
    first, second = engine.short_gil_turns(), engine.short_gil_turns()

    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert sys.getswitchinterval() == engine.SWITCH_INTERVAL_SECONDS  # the second still runs
    second.__exit__(None, None, None)

    assert sys.getswitchinterval() == before


def test_a_stopped_import_restores_the_interval_too():
    before = sys.getswitchinterval()
    importer = engine.Importer(context=None, actor=None)  # type: ignore[arg-type]
    rows = engine.checked_rows(iter([["a"]] * 1000), [None], importer)

    next(rows)
    assert sys.getswitchinterval() == engine.SWITCH_INTERVAL_SECONDS
    rows.close()  # as _run closes it when a batch finds the job taken by another run

    assert sys.getswitchinterval() == before
