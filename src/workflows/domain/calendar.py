"""Working days (工作日) and office hours (办理时间).

A working day is Monday–Friday minus the public holidays, plus the 调休 weekend days worked in lieu, as the State
Council's yearly notice sets them. The calendar knows only the years it is given a `YearSchedule` for; any other
year is treated as plain Monday–Friday, and callers must ask `covers()` / `span_is_covered()` so that a deadline
computed that way is shown as provisional (暂估), never as final. Pure: the data comes in from an adapter.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
DEFAULT_CLOSING = time(17, 0)  # an agency that publishes no office hours closes at 17:00


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(text) -> date:
    """A date written YYYY-MM-DD, and nothing looser (date.fromisoformat also takes 20270101)."""
    if not isinstance(text, str) or not _DAY.match(text):
        raise ValueError(f"{text!r} is not a YYYY-MM-DD date")
    return date.fromisoformat(text)


@dataclass(frozen=True)
class YearSchedule:
    """One year of the State Council's holiday notice."""
    year: int
    holidays: frozenset[date]  # weekdays that are days off (weekend days off need no listing)
    workdays: frozenset[date]  # weekend days that are working days (调休上班)
    source: str  # the notice's 文号, e.g. "国办发明电〔2025〕7号"

    def __post_init__(self) -> None:
        # A holiday on a weekend or a 调休 weekday would be silently meaningless: reject it so bad data shows.
        for day in self.holidays:
            if day.year != self.year or day.weekday() >= 5:
                raise ValueError(f"{self.source}: holiday {day} is not a weekday of {self.year}")
        for day in self.workdays:
            if day.year != self.year or day.weekday() < 5:
                raise ValueError(f"{self.source}: make-up working day {day} is not a weekend day of {self.year}")


def _year_working_days(year: int, schedule: YearSchedule | None) -> tuple[int, ...]:
    """The ordinals of the year's working days, ascending. Ordinal 1 (0001-01-01) is a Monday."""
    first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
    weekdays = [n for n in range(first, last + 1) if (n - 1) % 7 < 5]
    if schedule is None:
        return tuple(weekdays)
    off = {day.toordinal() for day in schedule.holidays}
    extra = [day.toordinal() for day in schedule.workdays]
    return tuple(sorted([n for n in weekdays if n not in off] + extra))


class WorkingCalendar:
    """Counts working days. Each year's working days are built once into a sorted tuple of ordinals, so counting
    N days is a binary search per year touched rather than a walk over every day."""

    def __init__(self, schedules: Iterable[YearSchedule] | Mapping[int, YearSchedule]):
        if isinstance(schedules, Mapping):
            for year, schedule in schedules.items():
                if year != schedule.year:
                    raise ValueError(f"schedule for {schedule.year} filed under {year}")
            schedules = schedules.values()
        self._schedules: dict[int, YearSchedule] = {}
        for schedule in schedules:
            if schedule.year in self._schedules:
                raise ValueError(f"two schedules for {schedule.year}")
            self._schedules[schedule.year] = schedule
        self._days: dict[int, tuple[int, ...]] = {}  # built on first use, covered or not

    def __repr__(self) -> str:
        years = self.covered_years
        return f"WorkingCalendar({years[0]}–{years[-1]})" if years else "WorkingCalendar(no years)"

    @property
    def covered_years(self) -> tuple[int, ...]:
        return tuple(sorted(self._schedules))

    def schedule(self, year: int) -> YearSchedule | None:
        return self._schedules.get(year)

    def covers(self, day: date) -> bool:
        return day.year in self._schedules

    def span_is_covered(self, start: date, end: date) -> bool:
        low, high = sorted((start.year, end.year))
        return all(year in self._schedules for year in range(low, high + 1))

    def is_working_day(self, day: date) -> bool:
        schedule = self._schedules.get(day.year)
        if schedule is not None:
            if day in schedule.workdays:
                return True
            if day in schedule.holidays:
                return False
        return day.weekday() < 5

    def next_working_day(self, day: date) -> date:
        return self.add_working_days(day, 1)

    def working_day_on_or_after(self, day: date) -> date:
        return day if self.is_working_day(day) else self.next_working_day(day)

    def add_working_days(self, day: date, count: int) -> date:
        """The count-th working day after `day` (`day` itself not counted); `day` when count is 0."""
        if count < 0:
            raise ValueError(f"count must not be negative, got {count}")
        if count == 0:
            return day
        year, days = day.year, self._working_days(day.year)
        index = bisect_right(days, day.toordinal())  # the first working day after `day`
        while index + count > len(days):
            count -= len(days) - index
            year, index = year + 1, 0
            days = self._working_days(year)
        return date.fromordinal(days[index + count - 1])

    def subtract_working_days(self, day: date, count: int) -> date:
        """The count-th working day before `day` (`day` itself not counted); `day` when count is 0."""
        if count < 0:
            raise ValueError(f"count must not be negative, got {count}")
        if count == 0:
            return day
        year, days = day.year, self._working_days(day.year)
        before = bisect_left(days, day.toordinal())  # how many of the year's working days lie before `day`
        while count > before:
            count -= before
            year -= 1
            days = self._working_days(year)
            before = len(days)
        return date.fromordinal(days[before - count])

    def working_days_between(self, start: date, end: date) -> int:
        """The number of working days d with start < d <= end (0 when end <= start)."""
        if end <= start:
            return 0
        low, high = start.toordinal(), end.toordinal()
        total = 0
        for year in range(start.year, end.year + 1):
            days = self._working_days(year)
            total += bisect_right(days, high) - bisect_right(days, low)
        return total

    def with_year(self, schedule: YearSchedule) -> WorkingCalendar:
        """A new calendar with `schedule` added, or replacing the year's previous one; this one is unchanged."""
        return WorkingCalendar({**self._schedules, schedule.year: schedule})

    def _working_days(self, year: int) -> tuple[int, ...]:
        days = self._days.get(year)
        if days is None:
            days = self._days[year] = _year_working_days(year, self._schedules.get(year))
        return days


@dataclass(frozen=True)
class OfficeHours:
    """An agency's opening periods on a working day; deadlines fall due at the close of the last one."""
    periods: tuple[tuple[time, time], ...] = ((time(8, 30), time(11, 30)), (time(13, 0), time(17, 0)))

    @property
    def closing(self) -> time:
        return max(end for _, end in self.periods) if self.periods else DEFAULT_CLOSING

    def close_of(self, day: date, zone: tzinfo = CHINA) -> datetime:
        return datetime.combine(day, self.closing, tzinfo=zone)

    def is_after_closing(self, moment: datetime, zone: tzinfo = CHINA) -> bool:
        """Whether the moment is at or after the close of its own day (local time in `zone`)."""
        if moment.tzinfo is None:
            raise ValueError(f"{moment} has no time zone")
        return moment.astimezone(zone).time() >= self.closing
