"""The official holiday and 调休 schedule, from the `chinese_calendar` package (2004–2026 in 1.11.0).

The package transcribes each year's State Council notice (国办发明电). Its `holidays` list every day off, weekends
inside a holiday period included; a `YearSchedule` needs only the weekdays among them, and only the weekend days
among its `workdays`. Years the package has no data for are left out, so the calendar reports them as not covered
and deadlines running into them come out provisional (暂估) instead of guessed.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from functools import lru_cache

import chinese_calendar
from chinese_calendar.constants import holidays, workdays

from workflows.domain.calendar import WorkingCalendar, YearSchedule

SOURCE = f"chinese-calendar {chinese_calendar.__version__}"


def official_schedules() -> list[YearSchedule]:
    """One schedule per year the package covers; the same year range it answers `is_workday` for."""
    first, last = min(holidays).year, max(holidays).year
    days_off: dict[int, set[date]] = defaultdict(set)
    worked: dict[int, set[date]] = defaultdict(set)
    for day in holidays:
        if day.weekday() < 5:
            days_off[day.year].add(day)
    for day in workdays:
        if day.weekday() >= 5:
            worked[day.year].add(day)
    return [YearSchedule(year, frozenset(days_off[year]), frozenset(worked[year]), SOURCE)
            for year in range(first, last + 1)]


@lru_cache(maxsize=1)
def official_calendar() -> WorkingCalendar:
    """Built once per process: the calendar is immutable to its users (`with_year` returns a new one)."""
    return WorkingCalendar(official_schedules())
