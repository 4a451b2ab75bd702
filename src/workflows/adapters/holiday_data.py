"""The official holiday and 调休 schedule, from the `chinese_calendar` package (2004–2026 in 1.11.0).

The package transcribes each year's State Council notice (国办发明电). Its `holidays` list every day off, weekends
inside a holiday period included; a `YearSchedule` needs only the weekdays among them, and only the weekend days
among its `workdays`. Years the package has no data for are left out, so the calendar reports them as not covered
and deadlines running into them come out provisional (暂估) instead of guessed.

Each year's `source` is what a clerk checks the dates against: the notice's 文号 (NOTICES, each checked against the
notice's published text), or, for the years before 2014 whose 文号 is not recorded here, the year's notice without one.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from functools import lru_cache

from chinese_calendar.constants import holidays, workdays

from workflows.domain.calendar import WorkingCalendar, YearSchedule

# year -> the 文号 of the State Council (Office) notices that set its days off, a later amendment after the first
NOTICES = {
    2014: "国办发明电〔2013〕28号",
    2015: "国办发明电〔2014〕28号、国发明电〔2015〕1号（9月3日纪念日调休）",
    2016: "国办发明电〔2015〕18号",
    2017: "国办发明电〔2016〕17号",
    2018: "国办发明电〔2017〕12号",
    2019: "国办发明电〔2018〕15号、国办发明电〔2019〕3号（调整劳动节）",
    2020: "国办发明电〔2019〕16号、国办发明电〔2020〕1号（延长春节假期）",
    2021: "国办发明电〔2020〕27号",
    2022: "国办发明电〔2021〕11号",
    2023: "国办发明电〔2022〕16号",
    2024: "国办发明电〔2023〕7号",
    2025: "国办发明电〔2024〕12号",
    2026: "国办发明电〔2025〕7号",
}


def notice_of(year: int) -> str:
    """The year's notice as its 文号, or by its title where the 文号 is not recorded."""
    return NOTICES.get(year) or f"国务院{year}年节假日安排通知（文号未录入）"


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
    return [YearSchedule(year, frozenset(days_off[year]), frozenset(worked[year]), notice_of(year))
            for year in range(first, last + 1)]


@lru_cache(maxsize=1)
def official_calendar() -> WorkingCalendar:
    """Built once per process: the calendar is immutable to its users (`with_year` returns a new one)."""
    return WorkingCalendar(official_schedules())
