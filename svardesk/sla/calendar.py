"""Working-hours arithmetic for SLA due times: pure functions, no Django.

A :class:`WorkingSchedule` is a weekly pattern of local working ranges in one time zone,
minus holidays. Two operations answer every SLA question:

* ``add_working_time(start, duration, schedule)`` — the earliest instant at which
  ``duration`` of working time has passed since ``start`` (a due time);
* ``working_time_between(start, end, schedule)`` — how much working time lies in
  ``[start, end)`` (an elapsed time, a pause to add back).

Definitions (docs/sla.md, "Working hours arithmetic"):

* ``weekly`` maps a weekday (0 = Monday … 6 = Sunday) to ranges ``(start, end)`` of local
  wall-clock times in ``tz``; a range includes its start and excludes its end. Midnight at the
  end of a day is written ``time(0, 0)`` as the end (``time.max`` is accepted and means the
  same, 24:00 — not one microsecond earlier). Ranges of one day may touch or overlap (they are
  merged); a range cannot cross midnight (write ``22:00-00:00`` on one day and ``00:00-06:00``
  on the next instead).
* A holiday is a local date with no working time at all.
* Each range is one contiguous span of real time: from the first instant the wall clock reads
  its start (or later) to the first instant it reads its end (or later). So on a
  spring-forward day a range over the skipped hour is one hour shorter, and a start inside
  the gap begins when the clock jumps; on a fall-back day a range over the repeated hour is
  one hour longer (the wall times it covers pass twice) and a range that starts inside the
  repeated hour starts at its first pass (Europe/Stockholm, last Sunday of October:
  01:00-03:00 lasts three hours, 02:30-04:00 two and a half).
* Datetimes in and out are timezone-aware; results are in the ``start`` argument's tzinfo.

Speed: the working spans of whole years are laid out once per schedule as sorted arrays of
integer microseconds with running totals, so each call is two binary searches and a few
integer operations however long the duration (weekends, holidays and DST are in the arrays).
"""

from __future__ import annotations

import datetime as dt
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from typing import NamedTuple
from zoneinfo import ZoneInfo

__all__ = [
    "WorkingSchedule",
    "add_working_time",
    "holiday_dates",
    "working_time_between",
]

_UTC = dt.UTC
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
_US = dt.timedelta(microseconds=1)
_DAY_US = 86_400_000_000
_MIDNIGHT = dt.time(0, 0)

Range = tuple[dt.time, dt.time]


class _Layout(NamedTuple):
    """Working spans for the local years ``first_year``..``last_year`` (inclusive)."""

    first_year: int
    last_year: int
    lo: int  # first instant of the covered years (µs since the epoch)
    hi: int  # first instant after them
    starts: list[int]
    ends: list[int]
    cum_start: list[int]  # working µs before span i, counted from lo
    cum_end: list[int]  # working µs up to the end of span i


def _time_us(value: dt.time) -> int:
    return (((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000) + value.microsecond


def _normalise_day(ranges: Iterable[Range]) -> tuple[tuple[int, int], ...]:
    """Ranges of one weekday as merged ``(start_us, end_us)`` offsets from local midnight."""
    spans: list[tuple[int, int]] = []
    for start, end in ranges:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError("working ranges are local wall-clock times without tzinfo")
        begin = _time_us(start)
        finish = _DAY_US if end in (_MIDNIGHT, dt.time.max) else _time_us(end)
        if begin >= finish:
            raise ValueError(f"working range {start}-{end} is empty or crosses midnight")
        spans.append((begin, finish))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for begin, finish in spans:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return tuple(merged)


class WorkingSchedule:
    """Weekly working ranges in a time zone, minus holidays (see the module docstring).

    Instances are immutable and safe to share between threads; each keeps a lazily built
    layout of the years it has been asked about.
    """

    __slots__ = ("_layout", "_lock", "holidays", "is_always", "tz", "tzinfo", "weekly")

    def __init__(
        self,
        tz: str,
        weekly: dict[int, list[tuple[dt.time, dt.time]]],
        holidays: Iterable[dt.date] = (),
    ) -> None:
        self.tz = tz
        self.tzinfo = ZoneInfo(tz)
        days: dict[int, tuple[tuple[int, int], ...]] = {}
        for weekday, ranges in weekly.items():
            if weekday not in range(7):
                raise ValueError(f"weekday must be 0 (Monday) … 6 (Sunday), not {weekday!r}")
            days[weekday] = _normalise_day(ranges)
        self.weekly = tuple(days.get(weekday, ()) for weekday in range(7))
        if not any(self.weekly):
            raise ValueError("a working schedule needs at least one working range")
        self.holidays = frozenset(holidays)
        self.is_always = not self.holidays and all(day == ((0, _DAY_US),) for day in self.weekly)
        self._layout: _Layout | None = None
        self._lock = threading.Lock()

    @classmethod
    def always(cls) -> WorkingSchedule:
        """Round the clock, every day (24/7): working time equals elapsed time."""
        return cls("UTC", {weekday: [(_MIDNIGHT, _MIDNIGHT)] for weekday in range(7)})

    def __repr__(self) -> str:
        return f"WorkingSchedule(tz={self.tz!r}, holidays={len(self.holidays)})"

    # -- layout --------------------------------------------------------------------------

    def _first_instant(self, local: dt.datetime) -> int:
        """µs of the first instant the wall clock in tz shows ``local`` (naive) or later."""
        early = local.replace(tzinfo=self.tzinfo, fold=0)
        late = local.replace(tzinfo=self.tzinfo, fold=1)
        first = (early - _EPOCH) // _US
        other = (late - _EPOCH) // _US
        if other >= first:
            # Unambiguous (equal) or repeated by a fall-back (fold 0 is the first time).
            return first
        # Inside a spring-forward gap: the clock jumps past ``local`` at the transition,
        # which lies in (other, first]; find it (transitions are on whole seconds).
        low, high = other // 1_000_000, -(-first // 1_000_000)
        while high - low > 1:
            middle = (low + high) // 2
            instant = _EPOCH + dt.timedelta(seconds=middle)
            if instant.astimezone(self.tzinfo).replace(tzinfo=None) >= local:
                high = middle
            else:
                low = middle
        return high * 1_000_000

    def _year_spans(self, year: int) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        day = dt.date(year, 1, 1)
        one_day = dt.timedelta(days=1)
        while day.year == year:
            ranges = self.weekly[day.weekday()]
            if ranges and day not in self.holidays:
                # Naive on purpose: a wall-clock time in tz, placed by _first_instant.
                midnight = dt.datetime(day.year, day.month, day.day)  # noqa: DTZ001
                for begin, finish in ranges:
                    start = self._first_instant(midnight + dt.timedelta(microseconds=begin))
                    end = self._first_instant(midnight + dt.timedelta(microseconds=finish))
                    if end > start:  # a range wholly inside a DST gap has no time
                        spans.append((start, end))
            day += one_day
        return spans

    def _build(self, first_year: int, last_year: int) -> _Layout:
        starts: list[int] = []
        ends: list[int] = []
        cum_start: list[int] = []
        cum_end: list[int] = []
        total = 0
        for year in range(first_year, last_year + 1):
            for start, end in self._year_spans(year):
                starts.append(start)
                ends.append(end)
                cum_start.append(total)
                total += end - start
                cum_end.append(total)
        lo = self._first_instant(dt.datetime(first_year, 1, 1))  # noqa: DTZ001
        hi = self._first_instant(dt.datetime(last_year + 1, 1, 1))  # noqa: DTZ001
        return _Layout(first_year, last_year, lo, hi, starts, ends, cum_start, cum_end)

    def _covering(self, *instants: int) -> _Layout:
        """A layout whose years hold every instant given (µs); built or widened as needed."""
        with self._lock:
            layout = self._layout
            if layout is not None and all(layout.lo <= us < layout.hi for us in instants):
                return layout
            years = [(_EPOCH + dt.timedelta(microseconds=us)).year for us in instants]
            # A UTC year and the local year differ by at most a day: one year of margin.
            first = min(years) - 1
            last = max(years) + 1
            if layout is not None:
                first = min(first, layout.first_year)
                last = max(last, layout.last_year)
            first, last = max(first, dt.MINYEAR + 1), min(last, dt.MAXYEAR - 1)
            layout = self._build(first, last)
            self._layout = layout
            return layout

    def _extend_forward(self, layout: _Layout) -> _Layout:
        with self._lock:
            current = self._layout or layout
            if current.last_year > layout.last_year:
                return current
            if current.last_year >= dt.MAXYEAR - 1:
                raise OverflowError("due time beyond the year 9999")
            # Double the span each time so a very long duration needs few rebuilds.
            extra = max(1, current.last_year - current.first_year)
            current = self._build(current.first_year, min(current.last_year + extra, 9998))
            self._layout = current
            return current

    # -- queries (µs) ----------------------------------------------------------------------

    @staticmethod
    def _worked_before(layout: _Layout, instant: int) -> int:
        """Working µs in ``[layout.lo, instant)``; ``instant`` lies inside the layout."""
        index = bisect_right(layout.starts, instant) - 1
        if index < 0:
            return 0
        return min(layout.cum_start[index] + instant - layout.starts[index], layout.cum_end[index])


def _to_us(value: dt.datetime, name: str) -> int:
    try:
        delta = value - _EPOCH
    except TypeError:
        raise ValueError(f"{name} must be a timezone-aware datetime") from None
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_us(instant: int, tzinfo: dt.tzinfo | None) -> dt.datetime:
    # fromtimestamp on whole seconds, then the microseconds: exact (no float) and cheaper
    # than epoch + timedelta + astimezone. Zone transitions fall on whole seconds.
    seconds, micro = divmod(instant, 1_000_000)
    result = dt.datetime.fromtimestamp(seconds, tzinfo)
    return result.replace(microsecond=micro) if micro else result


def add_working_time(
    start: dt.datetime, duration: dt.timedelta, schedule: WorkingSchedule
) -> dt.datetime:
    """The earliest instant at which ``duration`` of working time has passed since ``start``.

    ``start`` may be outside working hours (the clock starts at the next working instant). A
    zero duration returns ``start`` itself; a due time that falls exactly at the end of a
    working range is that end (17:00), not the next morning. The result is in start's tzinfo.
    """
    begin = _to_us(start, "start")
    wanted = (duration.days * 86_400 + duration.seconds) * 1_000_000 + duration.microseconds
    if wanted <= 0:
        if wanted:
            raise ValueError("duration must not be negative")
        return start
    if schedule.is_always:
        # In real time: start + duration on an aware datetime would add wall-clock time.
        return _from_us(begin + wanted, start.tzinfo)
    layout = schedule._layout
    if layout is None or not layout.lo <= begin < layout.hi:
        layout = schedule._covering(begin)
    while True:
        # Recomputed after each widening: another thread may have widened the layout
        # backwards, which moves the origin of the running totals. (Inlined
        # _worked_before: this is the hot path.)
        _, _, _, _, starts, _, cum_start, cum_end = layout
        index = bisect_right(starts, begin) - 1
        worked = 0 if index < 0 else min(cum_start[index] + begin - starts[index], cum_end[index])
        target = worked + wanted
        if cum_end and target <= cum_end[-1]:
            break
        layout = schedule._extend_forward(layout)
    index = bisect_left(cum_end, target)
    return _from_us(starts[index] + target - cum_start[index], start.tzinfo)


def working_time_between(
    start: dt.datetime, end: dt.datetime, schedule: WorkingSchedule
) -> dt.timedelta:
    """Working time in ``[start, end)``; negative when ``end`` is before ``start``."""
    begin = _to_us(start, "start")
    finish = _to_us(end, "end")
    if schedule.is_always:
        return dt.timedelta(microseconds=finish - begin)
    layout = schedule._layout
    if layout is None or not (layout.lo <= begin < layout.hi and layout.lo <= finish < layout.hi):
        layout = schedule._covering(begin, finish)
    worked = WorkingSchedule._worked_before(layout, finish) - WorkingSchedule._worked_before(
        layout, begin
    )
    return dt.timedelta(microseconds=worked)


def holiday_dates(
    country: str | None,
    years: Iterable[int],
    *,
    subdiv: str | None = None,
    custom: Iterable[dt.date] = (),
) -> frozenset[dt.date]:
    """Public holidays of ``country`` (ISO 3166-1 alpha-2, e.g. "SE") in ``years``, plus ``custom``.

    Uses the ``holidays`` package; an unknown country raises ``NotImplementedError`` from it.
    ``country=None`` gives only the custom dates. A schedule knows only the years given here,
    so callers pass the years their due times can reach (e.g. last year to three years ahead).
    """
    dates = set(custom)
    if country:
        import holidays  # imported here: the module stays importable without the package

        dates.update(holidays.country_holidays(country, subdiv=subdiv, years=list(years)))
    return frozenset(dates)
