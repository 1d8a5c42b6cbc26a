"""Working-hours arithmetic against a brute-force, minute-by-minute oracle.

The oracle reads the definition in svardesk/sla/calendar.py's docstring literally: walk real
time a minute at a time, keep the furthest wall-clock time shown so far (the clock turning
back does not turn a range back), and count a minute as working when that wall time's date is
not a holiday and its time of day lies in a range of its weekday. Everything is on whole
minutes, and every zone used changes offset on a whole minute, so counting minutes is exact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svardesk.sla.calendar import (
    WorkingSchedule,
    add_working_time,
    holiday_dates,
    working_time_between,
)

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)
STOCKHOLM = "Europe/Stockholm"
NEW_YORK = "America/New_York"
ZONES = [STOCKHOLM, NEW_YORK, "UTC", "Australia/Lord_Howe", "Asia/Kolkata"]
# Offset changes in 2026: EU 29 Mar / 25 Oct, US 8 Mar / 1 Nov, Lord Howe (30 minutes)
# 5 Apr / 4 Oct; and a year's end.
DST_DAYS = [
    dt.date(2026, 3, 29),
    dt.date(2026, 10, 25),
    dt.date(2026, 3, 8),
    dt.date(2026, 11, 1),
    dt.date(2026, 4, 5),
    dt.date(2026, 10, 4),
    dt.date(2026, 12, 31),
]
OFFICE = [(dt.time(8), dt.time(12)), (dt.time(13), dt.time(17))]


def office(tz: str = STOCKHOLM, holidays: tuple[dt.date, ...] = ()) -> WorkingSchedule:
    return WorkingSchedule(tz, dict.fromkeys(range(5), OFFICE), holidays)


# -- the oracle --------------------------------------------------------------------------


def _minute_of_day(value: dt.time) -> int:
    return value.hour * 60 + value.minute


def _spec_minutes(weekly: dict[int, list[tuple[dt.time, dt.time]]]) -> dict[int, list[range]]:
    days: dict[int, list[range]] = {}
    for weekday, ranges in weekly.items():
        for start, end in ranges:
            finish = 1440 if end in (dt.time(0, 0), dt.time.max) else _minute_of_day(end)
            days.setdefault(weekday, []).append(range(_minute_of_day(start), finish))
    return days


def oracle_minutes(
    start: dt.datetime, tz: str, weekly: dict[int, list[tuple[dt.time, dt.time]]], holidays
) -> Iterator[tuple[dt.datetime, bool]]:
    """(minute, is working) for every minute from ``start`` on, in real time."""
    zone = ZoneInfo(tz)
    days = _spec_minutes(weekly)
    moment = start.astimezone(UTC) - dt.timedelta(hours=3)  # room for a clock turned back
    furthest: dt.datetime | None = None
    while True:
        wall = moment.astimezone(zone).replace(tzinfo=None)
        furthest = wall if furthest is None or wall > furthest else furthest
        minute = furthest.hour * 60 + furthest.minute
        working = furthest.date() not in holidays and any(
            minute in span for span in days.get(furthest.weekday(), [])
        )
        if moment >= start:
            yield moment, working
        moment += MINUTE


def oracle_add(start, minutes, tz, weekly, holidays) -> dt.datetime:
    if minutes == 0:
        return start
    counted = 0
    for moment, working in oracle_minutes(start, tz, weekly, holidays):
        counted += working
        if counted == minutes:
            return moment + MINUTE
    raise AssertionError("unreachable")


def oracle_between(start, end, tz, weekly, holidays) -> dt.timedelta:
    counted = 0
    for moment, working in oracle_minutes(start, tz, weekly, holidays):
        if moment >= end:
            break
        counted += working
    return counted * MINUTE


# -- strategies --------------------------------------------------------------------------


@st.composite
def day_ranges(draw: st.DrawFn) -> list[tuple[dt.time, dt.time]]:
    # Boundaries favour the hours where clocks change and the day's ends.
    boundary = st.one_of(
        st.integers(0, 1440), st.sampled_from([0, 60, 90, 120, 150, 180, 1380, 1440])
    )
    points = sorted(draw(st.sets(boundary, max_size=4)))
    if len(points) % 2:
        points = points[:-1]
    ranges = []
    for begin, finish in zip(points[::2], points[1::2], strict=True):
        end = (
            draw(st.sampled_from([dt.time(0, 0), dt.time.max]))
            if finish == 1440
            else dt.time(finish // 60, finish % 60)
        )
        ranges.append((dt.time(begin // 60, begin % 60), end))
    return ranges


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, dict, frozenset[dt.date], dt.datetime]:
    tz = draw(st.sampled_from(ZONES))
    weekly = {day: draw(day_ranges()) for day in range(7)}
    weekly = {day: ranges for day, ranges in weekly.items() if ranges}
    if not weekly:
        weekly = {draw(st.integers(0, 6)): [(dt.time(9), dt.time(10))]}
    anchor = draw(
        st.one_of(st.sampled_from(DST_DAYS), st.dates(dt.date(2024, 1, 1), dt.date(2028, 12, 31)))
    )
    holidays = frozenset(
        anchor + dt.timedelta(days=offset)
        for offset in draw(st.lists(st.integers(-3, 10), max_size=4))
    )
    start = dt.datetime(anchor.year, anchor.month, anchor.day, tzinfo=UTC) + dt.timedelta(
        minutes=draw(st.integers(-2 * 1440, 1440))
    )
    # Results come back in the caller's zone: start in UTC, in the schedule's zone or another.
    shown_in = draw(st.sampled_from([UTC, ZoneInfo(tz), ZoneInfo(NEW_YORK)]))
    return tz, weekly, holidays, start.astimezone(shown_in)


def weekly_minutes(weekly) -> int:
    return sum(len(span) for spans in _spec_minutes(weekly).values() for span in spans)


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- properties --------------------------------------------------------------------------


@FAST
@given(case=cases(), data=st.data())
def test_add_working_time_matches_the_minute_by_minute_oracle(case, data):
    tz, weekly, holidays, start = case
    minutes = data.draw(st.integers(0, min(weekly_minutes(weekly), 3000)), label="minutes")
    schedule = WorkingSchedule(tz, weekly, holidays)

    due = add_working_time(start, minutes * MINUTE, schedule)

    # Compared in UTC: Python compares two ambiguous wall times (the repeated hour) of
    # different zones as unequal, and of the same zone without their fold.
    assert due.astimezone(UTC) == oracle_add(start, minutes, tz, weekly, holidays).astimezone(UTC)
    assert due.tzinfo is start.tzinfo


@FAST
@given(case=cases(), minutes=st.integers(-120, 4 * 1440))
def test_working_time_between_matches_the_minute_by_minute_oracle(case, minutes):
    tz, weekly, holidays, start = case
    end = start + minutes * MINUTE
    schedule = WorkingSchedule(tz, weekly, holidays)

    worked = working_time_between(start, end, schedule)

    if minutes >= 0:
        assert worked == oracle_between(start, end, tz, weekly, holidays)
    else:
        assert worked == -oracle_between(end, start, tz, weekly, holidays)


@settings(max_examples=60, deadline=None)
@given(case=cases(), data=st.data())
def test_the_working_time_up_to_a_due_time_is_the_duration(case, data):
    tz, weekly, holidays, start = case
    # Up to half a year of this schedule's working time, to the microsecond.
    longest = dt.timedelta(minutes=26 * weekly_minutes(weekly))
    duration = data.draw(st.timedeltas(dt.timedelta(0), longest), label="duration")
    schedule = WorkingSchedule(tz, weekly, holidays)

    due = add_working_time(start, duration, schedule)

    assert due.astimezone(UTC) >= start.astimezone(UTC)
    assert working_time_between(start, due, schedule) == duration


# -- examples ----------------------------------------------------------------------------


def at(tz: str, *args: int, fold: int = 0) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo(tz), fold=fold)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        pytest.param(at(STOCKHOLM, 2026, 3, 2, 9), 2, at(STOCKHOLM, 2026, 3, 2, 11), id="inside"),
        pytest.param(at(STOCKHOLM, 2026, 3, 2, 11), 2, at(STOCKHOLM, 2026, 3, 2, 14), id="lunch"),
        pytest.param(
            at(STOCKHOLM, 2026, 3, 2, 6), 1, at(STOCKHOLM, 2026, 3, 2, 9), id="before-opening"
        ),
        pytest.param(
            at(STOCKHOLM, 2026, 3, 6, 16), 2, at(STOCKHOLM, 2026, 3, 9, 9), id="over-a-weekend"
        ),
        pytest.param(
            at(STOCKHOLM, 2026, 3, 7, 12), 1, at(STOCKHOLM, 2026, 3, 9, 9), id="on-a-saturday"
        ),
        pytest.param(
            at(STOCKHOLM, 2026, 3, 2, 16), 1, at(STOCKHOLM, 2026, 3, 2, 17), id="ends-at-closing"
        ),
        pytest.param(
            at(STOCKHOLM, 2026, 3, 27, 16),
            2,
            at(STOCKHOLM, 2026, 3, 30, 9),
            id="over-the-spring-forward-weekend",
        ),
        pytest.param(
            at(STOCKHOLM, 2026, 4, 2, 16),
            2,
            at(STOCKHOLM, 2026, 4, 7, 9),
            id="easter-from-the-holidays-package",
        ),
        pytest.param(
            at(STOCKHOLM, 2026, 12, 31, 16), 3, at(STOCKHOLM, 2027, 1, 4, 10), id="new-year"
        ),
        pytest.param(
            at(STOCKHOLM, 2026, 3, 2, 9), 40, at(STOCKHOLM, 2026, 3, 9, 9), id="a-working-week"
        ),
    ],
)
def test_add_working_time_in_a_swedish_office(start, hours, due):
    schedule = office(holidays=tuple(holiday_dates("SE", [2026, 2027])))

    assert add_working_time(start, dt.timedelta(hours=hours), schedule) == due


def test_a_range_over_the_skipped_hour_is_an_hour_shorter():
    night = WorkingSchedule(STOCKHOLM, {6: [(dt.time(1), dt.time(4))]})
    sunday = at(STOCKHOLM, 2026, 3, 29, 0)

    assert working_time_between(sunday, sunday + dt.timedelta(days=1), night) == dt.timedelta(
        hours=2
    )
    # 02:30 does not exist that night: a range starting there starts when the clock jumps.
    late = WorkingSchedule(STOCKHOLM, {6: [(dt.time(2, 30), dt.time(4))]})
    assert add_working_time(sunday, dt.timedelta(minutes=1), late) == at(
        STOCKHOLM, 2026, 3, 29, 3, 1
    )


def test_a_range_over_the_repeated_hour_is_an_hour_longer():
    night = WorkingSchedule(STOCKHOLM, {6: [(dt.time(1), dt.time(3))]})
    sunday = at(STOCKHOLM, 2026, 10, 25, 0)

    assert working_time_between(sunday, sunday + dt.timedelta(days=1), night) == dt.timedelta(
        hours=3
    )
    # The due time two and a half hours in is the second 02:30 (after the clock turned back).
    due = add_working_time(sunday, dt.timedelta(hours=2, minutes=30), night)
    assert due == at(STOCKHOLM, 2026, 10, 25, 2, 30, fold=1)
    assert due.astimezone(UTC) == dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_new_york_office_days_keep_their_length_over_dst():
    schedule = office(NEW_YORK)
    monday_before = at(NEW_YORK, 2026, 3, 2, 8)
    monday_after = at(NEW_YORK, 2026, 3, 9, 8)

    assert working_time_between(monday_before, monday_after, schedule) == dt.timedelta(hours=40)
    assert add_working_time(at(NEW_YORK, 2026, 3, 6, 16), dt.timedelta(hours=2), schedule) == (
        at(NEW_YORK, 2026, 3, 9, 9)
    )


@pytest.mark.parametrize("midnight", [dt.time(0, 0), dt.time.max], ids=["time-0-0", "time-max"])
def test_a_range_ending_at_midnight_runs_into_the_next_days_range(midnight):
    schedule = WorkingSchedule(
        STOCKHOLM, {0: [(dt.time(22), midnight)], 1: [(dt.time(0), dt.time(2))]}
    )

    due = add_working_time(at(STOCKHOLM, 2026, 3, 2, 23), dt.timedelta(hours=2), schedule)

    assert due == at(STOCKHOLM, 2026, 3, 3, 1)
    assert working_time_between(
        at(STOCKHOLM, 2026, 3, 2, 0), at(STOCKHOLM, 2026, 3, 4, 0), schedule
    ) == dt.timedelta(hours=4)


def test_always_is_elapsed_real_time_even_across_dst():
    start = at(STOCKHOLM, 2026, 3, 28, 12)

    due = add_working_time(start, dt.timedelta(hours=24), WorkingSchedule.always())

    assert due == at(STOCKHOLM, 2026, 3, 29, 13)  # 24 real hours; the clock sprang forward
    assert working_time_between(start, due, WorkingSchedule.always()) == dt.timedelta(hours=24)


def test_a_duration_of_years_skips_ahead():
    schedule = office(holidays=tuple(holiday_dates("SE", range(2026, 2032))))
    start = at(STOCKHOLM, 2026, 1, 5, 8)

    due = add_working_time(start, dt.timedelta(hours=8 * 1000), schedule)

    assert due.year == 2029  # about 250 working days a year
    assert working_time_between(start, due, schedule) == dt.timedelta(hours=8 * 1000)


def test_holiday_dates_adds_custom_dates_to_a_countrys_holidays():
    dates = holiday_dates("SE", [2026], custom=[dt.date(2026, 12, 23)])

    assert dt.date(2026, 12, 25) in dates  # Christmas Day
    assert dt.date(2026, 6, 20) in dates  # Midsummer Day
    assert dt.date(2026, 12, 23) in dates
    assert dt.date(2026, 12, 22) not in dates
    assert holiday_dates(None, [2026], custom=[dt.date(2026, 1, 2)]) == {dt.date(2026, 1, 2)}


@pytest.mark.parametrize(
    ("weekly", "message"),
    [
        pytest.param({}, "at least one", id="no-ranges"),
        pytest.param({0: [(dt.time(12), dt.time(9))]}, "empty or crosses", id="backwards"),
        pytest.param({0: [(dt.time(9), dt.time(9))]}, "empty or crosses", id="empty"),
        pytest.param({7: [(dt.time(9), dt.time(10))]}, "weekday", id="weekday-7"),
    ],
)
def test_invalid_schedules_are_refused(weekly, message):
    with pytest.raises(ValueError, match=message):
        WorkingSchedule(STOCKHOLM, weekly)


def test_naive_datetimes_and_negative_durations_are_refused():
    schedule = office()
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_time(dt.datetime(2026, 3, 2, 9), dt.timedelta(hours=1), schedule)  # noqa: DTZ001
    with pytest.raises(ValueError, match="negative"):
        add_working_time(at(STOCKHOLM, 2026, 3, 2, 9), dt.timedelta(hours=-1), schedule)
