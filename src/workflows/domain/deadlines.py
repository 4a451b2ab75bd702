"""When a case falls due (办结时限), and when it turns yellow (黄牌) or red (红牌).

Rules (民法典 §201, 行政许可法): the clock starts at acceptance and the acceptance day is not counted; a limit of N
工作日 ends at the close of office hours of the Nth working day after it. 即时办结 ends at the close of the same
working day (the next one when accepted after closing or on a day off). 自然日 and 月 limits end on the calendar day
they reach, moved to the next working day if needed. Pauses (补正, 容缺 materials, 特别程序) add back the working days
they covered; approved extensions (延期) add working days. Pure: no database, no clock.
"""
from __future__ import annotations

import calendar as gregorian
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Sequence

from workflows.domain.calendar import CHINA, OfficeHours, WorkingCalendar
from workflows.domain.catalog import IMMEDIATE, StageLimit, TimeLimit, WarningPolicy  # noqa: F401 - part of this API

WORKING_DAYS, NATURAL_DAYS, MONTHS = "working_days", "natural_days", "months"
IMMEDIATE_WARNING = timedelta(hours=2)  # 即时办结 has no days to take a share of
PAUSE_KINDS = {"correction": "补正", "waiver": "容缺补正", "expert_review": "专家评审", "site_survey": "现场勘验",
               "hearing": "听证", "appraisal": "鉴定", "suspension": "中止"}


@dataclass(frozen=True)
class Pause:
    """The clock stopped while the agency waited for the applicant or a 特别程序 ran; `ended_at` None: still stopped."""
    started_at: datetime
    ended_at: datetime | None
    reason: str = ""


@dataclass(frozen=True)
class Deadline:
    limit: TimeLimit
    due_at: datetime | None  # None while paused
    warning_at: datetime | None
    provisional: bool  # counted through a year without an official calendar (weekends only): 暂估
    paused: bool
    extension_days: int
    paused_days: int  # working days added back by closed pauses
    remaining_days: int | None = None  # while paused: the working days that were left when the pause began

    def level(self, now: datetime) -> str:
        """"paused", "red" once the due moment has passed, "yellow" from the warning moment, else "normal"."""
        if self.paused or self.due_at is None:
            return "paused"
        return level_at(self.due_at, self.warning_at, now)

    def label(self) -> str:
        """What a clerk sees: "2026-12-21 17:00", with （暂估） when provisional; "已暂停" while paused."""
        if self.paused or self.due_at is None:
            return "已暂停"
        text = f"{self.due_at:%Y-%m-%d %H:%M}"
        return f"{text}（暂估）" if self.provisional else text


def compute_deadline(calendar: WorkingCalendar, hours: OfficeHours, limit: TimeLimit, accepted_at: datetime,
                     pauses: Sequence[Pause] = (), extension_days: int = 0,
                     policy: WarningPolicy = WarningPolicy(), zone: tzinfo = CHINA) -> Deadline:
    accepted = _local(accepted_at, zone)
    if extension_days < 0:
        raise ValueError(f"extension_days must not be negative, got {extension_days}")
    open_starts = [max(_local(p.started_at, zone), accepted) for p in pauses if p.ended_at is None]
    open_since = min(open_starts, default=None)
    paused_days, last_pause_day = _paused_days(calendar, pauses, accepted, open_since, zone)

    base_day = _base_due_day(calendar, hours, limit, accepted, zone)
    due_day = calendar.add_working_days(base_day, paused_days + extension_days)
    provisional = not calendar.span_is_covered(accepted.date(), max(due_day, last_pause_day))

    if open_since is not None:
        # No due moment while stopped: say how many working days were left when the clock stopped.
        remaining = calendar.working_days_between(open_since.date(), due_day)
        return Deadline(limit, None, None, provisional, True, extension_days, paused_days, remaining)

    due_at = hours.close_of(due_day, zone)
    warning_at = max(_warning_at(calendar, hours, limit, accepted, due_day, due_at, extension_days, policy, zone),
                     accepted)  # a warning moment before acceptance would only confuse: yellow from the start
    return Deadline(limit, due_at, warning_at, provisional, False, extension_days, paused_days)


@dataclass(frozen=True)
class PlannedLimit:
    """A stage limit as planned for a case accepted at a given moment: it starts when its own `from` stage ends."""
    stage_limit: StageLimit
    starts_at: datetime | None  # None: its `from` stage has no limit of its own, so when it ends is not known
    deadline: Deadline | None


def plan_stage_limits(calendar: WorkingCalendar, hours: OfficeHours, stage_limits: Sequence[StageLimit],
                      accepted_at: datetime, acceptance_stage: str, policy: WarningPolicy = WarningPolicy(),
                      zone: tzinfo = CHINA) -> list[PlannedLimit]:
    """Each stage limit counted from the end of its `from` stage, not from acceptance: 定点's 建立机构信息 (5 days
    from 验收) runs from the latest moment 验收 may end on time (its own 20 days from 受理). The catalog lists a
    limit after the one it counts from, so one pass in order chains them."""
    ends = {acceptance_stage: accepted_at}
    planned = []
    for stage_limit in stage_limits:
        start = ends.get(stage_limit.starts_at)
        deadline = compute_deadline(calendar, hours, stage_limit.limit, start, policy=policy, zone=zone) \
            if start is not None else None
        if deadline is not None:
            ends[stage_limit.stage] = deadline.due_at
        planned.append(PlannedLimit(stage_limit, start, deadline))
    return planned


def level_at(due_at: datetime | None, warning_at: datetime | None, moment: datetime) -> str:
    """"red" once `due_at` has passed, "yellow" from `warning_at`, else "normal" (also with no due moment)."""
    if due_at is None:
        return "normal"
    if moment > due_at:
        return "red"
    return "yellow" if warning_at is not None and moment >= warning_at else "normal"


def overdue_working_days(calendar: WorkingCalendar, due_at: datetime, now: datetime, zone: tzinfo = CHINA) -> int:
    """The working days a limit is late by at `now`: the working days after its due day, up to today."""
    return calendar.working_days_between(_local(due_at, zone).date(), _local(now, zone).date())


def time_left_wording(calendar: WorkingCalendar, due_at: datetime, now: datetime, zone: tzinfo = CHINA) -> str:
    """What an inbox row says of the time left to `due_at`: "剩 N 个工作日" (the working days after today up to the
    due day), "今日到期", or once past "已超期 N 个工作日" ("已超期" on the due day itself, after its hour)."""
    today, due_day = _local(now, zone).date(), _local(due_at, zone).date()
    if now > due_at:
        late = overdue_working_days(calendar, due_at, now, zone)
        return f"已超期 {late} 个工作日" if late else "已超期"
    if due_day == today:
        return "今日到期"
    return f"剩 {calendar.working_days_between(today, due_day)} 个工作日"


def escalation_wording(level: str, due: str, overdue_days: int = 0) -> str:
    """What a 黄牌 or 红牌 says of its limit: 黄牌 "将于 … 届满"; 红牌 "已于 … 届满" and by how much once a working
    day has passed."""
    if level != "red":
        return f"将于 {due} 届满"
    return f"已于 {due} 届满" + (f"，已超期 {overdue_days} 个工作日" if overdue_days > 0 else "")


def days_given_back(calendar: WorkingCalendar, pause: Pause, now: datetime, zone: tzinfo = CHINA) -> int:
    """The working days a pause gives back to the limits: those it covered (S < d <= E), up to today while open."""
    end = _local(pause.ended_at or now, zone).date()
    return calendar.working_days_between(_local(pause.started_at, zone).date(), end)


def _local(moment: datetime, zone: tzinfo) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{moment} has no time zone")
    return moment.astimezone(zone)


def _base_due_day(calendar: WorkingCalendar, hours: OfficeHours, limit: TimeLimit, accepted: datetime,
                  zone: tzinfo) -> date:
    """The due day before pauses and extensions."""
    day = accepted.date()
    if limit.unit == IMMEDIATE:
        same_day = calendar.is_working_day(day) and not hours.is_after_closing(accepted, zone)
        return day if same_day else calendar.next_working_day(day)
    if limit.unit == WORKING_DAYS:
        return calendar.add_working_days(day, limit.value)
    if limit.unit in (NATURAL_DAYS, MONTHS):
        return calendar.working_day_on_or_after(_calendar_end(day, limit))
    raise ValueError(f"unknown time-limit unit {limit.unit!r}")


def _calendar_end(day: date, limit: TimeLimit) -> date:
    """The last day of a 自然日 or 月 limit before moving it off a day off; 1/31 + 1 month is the month's last day."""
    if limit.unit == NATURAL_DAYS:
        return day + timedelta(days=limit.value)
    years, month_index = divmod(day.month - 1 + limit.value, 12)
    year, month = day.year + years, month_index + 1
    return date(year, month, min(day.day, gregorian.monthrange(year, month)[1]))


def _paused_days(calendar: WorkingCalendar, pauses: Sequence[Pause], accepted: datetime,
                 open_since: datetime | None, zone: tzinfo) -> tuple[int, date]:
    """Working days added back by closed pauses, each day once however many pauses cover it, and the last day any
    pause touches (for the provisional check). A closed pause from S to E covers the days d with S < d <= E."""
    spans: list[tuple[date, date]] = []
    last = accepted.date()
    for pause in pauses:
        start = max(_local(pause.started_at, zone), accepted).date()  # the clock was not running before acceptance
        if pause.ended_at is None:
            last = max(last, start)
            continue
        if pause.ended_at < pause.started_at:
            raise ValueError(f"pause ends ({pause.ended_at}) before it starts ({pause.started_at})")
        end = _local(pause.ended_at, zone).date()
        if open_since is not None:
            end = min(end, open_since.date())  # days after the open pause began are counted when it closes
        last = max(last, end)
        if end > start:
            spans.append((start, end))
    total, covered_to = 0, None
    for start, end in sorted(spans):  # merge: count only the part of each span past what is already counted
        if covered_to is not None:
            start = max(start, covered_to)
        total += calendar.working_days_between(start, end)
        covered_to = end if covered_to is None else max(covered_to, end)
    return total, last


def _warning_at(calendar: WorkingCalendar, hours: OfficeHours, limit: TimeLimit, accepted: datetime, due_day: date,
                due_at: datetime, extension_days: int, policy: WarningPolicy, zone: tzinfo) -> datetime:
    if limit.unit == IMMEDIATE:
        return due_at - IMMEDIATE_WARNING
    if limit.unit == WORKING_DAYS:
        # The approved limit is what the share is taken of: an extension lengthens it, a pause does not.
        before = policy.days_before_due(limit.value + extension_days)
        return hours.close_of(calendar.subtract_working_days(due_day, before), zone)
    # 自然日 / 月: the same share of the calendar days, moved back onto a working day so the warning is seen.
    total = (_calendar_end(accepted.date(), limit) - accepted.date()).days
    day = due_day - timedelta(days=policy.days_before_due(total))
    if not calendar.is_working_day(day):
        day = calendar.subtract_working_days(day, 1)
    return hours.close_of(day, zone)
