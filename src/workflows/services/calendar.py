"""Use cases of the working-day calendar: the calendar in force, publishing a year, correcting a day.

The packaged data (chinese-calendar, 2004–2026) is the base; a year an administrator publishes replaces that
year, and a corrected day overrides its year. Each change names the State Council notice it comes from, is kept
in calendar_changes, and makes every open case recompute its deadlines, with the change in the case's history:
not in the administrator's request, but after it through the outbox (CalendarChanged), a batch of cases at a
time, each case in a transaction of its own (time_limits.recompute_batch).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from workflows.adapters.holiday_data import official_schedules
from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain import pages
from workflows.domain.calendar import WorkingCalendar, YearSchedule
from workflows.domain.errors import InvalidInput
from workflows.domain.events import CalendarChanged
from workflows.domain.model import User

from .access import require_role
from .context import Context
from .retries import retried

_PACKAGED = {schedule.year: schedule for schedule in official_schedules()}


def working_calendar(ctx: Context, uow: UnitOfWork) -> WorkingCalendar:
    """The calendar in force, rebuilt only after a change (by this process or another: the version is read once
    per transaction)."""
    version = uow.versions.calendar()
    cached_version, cached = ctx.cache.get("calendar", (None, None))
    if cached is None or cached_version != version:
        cached = _build(uow.calendar.years(), uow.calendar.days())
        ctx.cache["calendar"] = (version, cached)
    return cached


def _build(published: list[dict], corrected: list[dict]) -> WorkingCalendar:
    schedules = dict(_PACKAGED)
    for row in published:
        schedules[row["year"]] = YearSchedule(row["year"], frozenset(map(date.fromisoformat, row["holidays"])),
                                              frozenset(map(date.fromisoformat, row["workdays"])), row["source"])
    for row in sorted(corrected, key=lambda row: row["day"]):
        if row["day"].year in schedules:
            schedules[row["day"].year] = _corrected(schedules[row["day"].year], row["day"], row["working"])
    return WorkingCalendar(schedules)


def _corrected(schedule: YearSchedule, day: date, working: bool) -> YearSchedule:
    holidays, workdays = set(schedule.holidays), set(schedule.workdays)
    holidays.discard(day)
    workdays.discard(day)
    if day.weekday() < 5 and not working:
        holidays.add(day)
    if day.weekday() >= 5 and working:
        workdays.add(day)
    return YearSchedule(schedule.year, frozenset(holidays), frozenset(workdays), schedule.source)


@dataclass(frozen=True)
class YearView:
    year: int
    covered: bool
    source: str | None
    holidays: list[date]  # weekdays off
    workdays: list[date]  # weekend days worked


def calendar_year(ctx: Context, year: int) -> YearView:
    with ctx.uow(write=False) as uow:
        schedule = working_calendar(ctx, uow).schedule(year)
    if schedule is None:
        return YearView(year, False, None, [], [])
    return YearView(year, True, schedule.source, sorted(schedule.holidays), sorted(schedule.workdays))


@retried
def publish_year(ctx: Context, actor: User, year: int, days_off: list[date], workdays: list[date],
                 source: str) -> YearView:
    """Publish a year's schedule from the State Council's notice: the days off of each holiday period (weekend
    days among them are simply ignored) and the weekend days worked in lieu."""
    require_role(actor, "admin")
    errors = {}
    if not source.strip():
        errors["source"] = "请填写通知文号，如 国办发明电〔2026〕X号"
    for field, days in (("days_off", days_off), ("workdays", workdays)):
        if any(day.year != year for day in days):
            errors[field] = f"日期须在 {year} 年内"
    if any(day.weekday() < 5 for day in workdays):
        errors["workdays"] = "调休上班日应为周六或周日"
    if errors:
        raise InvalidInput("日历数据有误", errors)
    holidays = sorted(day.isoformat() for day in set(days_off) if day.weekday() < 5)
    worked = sorted(day.isoformat() for day in set(workdays))
    with ctx.uow() as uow:
        at = ctx.now()
        uow.calendar.save_year(year, holidays, worked, source.strip(), actor.username, at)
        uow.calendar.record_change(actor.username, "publish_year", source.strip(),
                                   {"year": year, "holidays": holidays, "workdays": worked}, at)
        uow.publish(CalendarChanged(f"{year} 年日历已发布（{source.strip()}）"))
        uow.commit()
    return calendar_year(ctx, year)


@retried
def correct_day(ctx: Context, actor: User, day: date, working: bool, name: str, source: str) -> YearView:
    require_role(actor, "admin")
    if not source.strip():
        raise InvalidInput("日历数据有误", {"source": "请填写通知文号"})
    with ctx.uow() as uow:
        if not working_calendar(ctx, uow).covers(day):
            raise InvalidInput("日历数据有误", {"day": f"{day.year} 年日历尚未发布，请先发布全年安排"})
        at = ctx.now()
        uow.calendar.save_day(day, working, name.strip() or ("调休上班" if working else "休息"), source.strip(),
                              actor.username, at)
        uow.calendar.record_change(actor.username, "correct_day", source.strip(),
                                   {"day": day.isoformat(), "working": working, "name": name}, at)
        uow.publish(CalendarChanged(f"{day.isoformat()} 调整为{'工作日' if working else '休息日'}（{source.strip()}）"))
        uow.commit()
    return calendar_year(ctx, day.year)


def calendar_changes(ctx: Context, limit: int = 100, offset: int = 0) -> list[dict]:
    """A page of the calendar's change history, the newest first."""
    with ctx.uow(write=False) as uow:
        return uow.calendar.changes(min(limit, pages.MAX_PAGE), offset)
