"""What a supervisor (科室负责人) watches: the desk's cases in warning or overdue, and the hall's statistics.

Counted: the closed cases and the open ones already past a due moment (late whatever happens next: a rate that
left them out would read 100 % while a 红牌 case waits). On time (按时办结): a closed case counts on time when
every limit it had — 承诺, 法定 and each stage's own — ended
(was met, at the latest when the case closed) no later than its due moment, extensions approved included; a limit
stopped by a pause when it ended has no due moment and is not missed, and a case that never had a running limit
(不予受理 at acceptance) is on time. A completed task counts on time when it was completed no later than the due
moment it carried (the case's running limit when it was done); one done while no limit ran (before acceptance, during
a pause) is on time, and the supervisor's own 督办 tasks (which exist because a case is late already) are not counted.
Every figure is counted by the database (StatisticsRepository); nothing here loads cases one by one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from workflows.domain.deadlines import escalation_wording, overdue_working_days
from workflows.domain.model import CaseDeadline, CasePause, Escalation, ExtensionRequest, User

from .access import require_role
from .calendar import working_calendar
from .clock import due_label, level_of
from .context import CHINA, Context

WEEKS = 12
LEVEL_ORDER = {"red": 0, "yellow": 1, "paused": 2, "normal": 3, "met": 4}


@dataclass(frozen=True)
class Holder:
    """Who holds an open task of a case: its assignee, or nobody yet (any clerk of the role may claim it)."""

    task_name: str
    role: str
    username: str | None
    full_name: str | None


@dataclass(frozen=True)
class EscalationRow:
    escalation: Escalation
    stage: str  # where the case stands now
    due: str  # the escalated limit's due label now ("已暂停" while paused, "" once met)
    holders: list[Holder]
    candidates: list[User]  # the hall's people who may take over every open task (改派)
    wording: str = ""  # 黄牌 "将于 … 届满", 红牌 "已于 … 届满，已超期 N 个工作日"; "" once the limit is met or paused


@dataclass(frozen=True)
class CaseRow:
    """A case of the hall the supervisor should look at, with its most urgent running limit."""

    case_id: int
    number: str
    item_name: str
    stage: str
    limit: CaseDeadline | None
    level: str  # red | yellow | paused | normal
    due: str
    holders: list[Holder]
    extension: ExtensionRequest | None  # a request waiting for the supervisor's decision
    pause: CasePause | None  # the clock's open pause, if stopped


@dataclass(frozen=True)
class DeskBoard:
    escalations: list[EscalationRow]
    cases: list[CaseRow]
    now: datetime


@dataclass(frozen=True)
class Rate:
    key: str
    name: str
    total: int
    on_time: int

    @property
    def percent(self) -> float | None:
        """The on-time rate in per cent, one decimal; None when nothing was counted."""
        return round(100 * self.on_time / self.total, 1) if self.total else None


@dataclass(frozen=True)
class StageBacklog:
    stage: str
    hall: int
    agency: int


@dataclass(frozen=True)
class WeekCount:
    start: date  # the Monday (Beijing time) the week begins
    opened: int
    closed: int
    agency_opened: int
    agency_closed: int


@dataclass(frozen=True)
class OverdueCase:
    number: str
    item_name: str
    stage: str
    limit: CaseDeadline
    due: str


@dataclass(frozen=True)
class Statistics:
    agency_code: str
    hall_code: str
    hall_names: dict[str, str]
    by_item: list[Rate]  # the hall's closed cases, per item
    by_hall: list[Rate]  # the agency's closed cases, per hall
    by_person: list[Rate]  # the hall's completed tasks, per person
    hall_total: Rate
    agency_total: Rate
    backlog: list[StageBacklog]
    weeks: list[WeekCount]
    overdue: list[OverdueCase]  # the hall's open cases past a due moment
    agency_overdue: int  # how many open cases of the whole agency are past a due moment
    now: datetime


# --- the desk ----------------------------------------------------------------------------------------------------

def desk_board(ctx: Context, actor: User, limit: int = 200) -> DeskBoard:
    """The supervisor's hall: its open escalations (red first), and its open cases in warning or overdue (any
    running limit yellow or red now), with an extension request to decide, or suspended (中止)."""
    require_role(actor, "supervisor")
    now = ctx.now()
    with ctx.uow(write=False) as uow:
        stats = uow.statistics
        escalations = uow.escalations.desk(actor.agency_code, actor.hall_code, "open", limit)
        risky = stats.limits_at_risk(actor.agency_code, actor.hall_code, now, limit=limit)
        case_ids = list(dict.fromkeys([row[0].case_id for row in risky]
                                      + stats.cases_awaiting_supervisor(actor.agency_code, actor.hall_code, limit)))
        every_id = list(dict.fromkeys(case_ids + [e.case_id for e in escalations]))
        summaries = stats.case_summaries(every_id)
        limits = _group(stats.running_limits(every_id))
        tasks = _group(stats.open_tasks(every_id))
        extensions = {r.case_id: r for r in stats.pending_extensions(case_ids)}
        pauses = {p.case_id: p for p in stats.open_pauses(case_ids)}
        people = uow.users.in_hall(actor.agency_code, actor.hall_code)
        calendar = working_calendar(ctx, uow)
    names = {user.username: user.full_name for user in people}

    def holders(case_id):
        return [Holder(t.name, t.role, t.assignee, names.get(t.assignee, t.assignee)) for t in tasks.get(case_id, [])]

    escalation_rows = []
    for escalation in escalations:
        summary = summaries.get(escalation.case_id, {})
        row = next((r for r in limits.get(escalation.case_id, []) if r.kind == escalation.limit_kind), None)
        roles = {t.role for t in tasks.get(escalation.case_id, [])}
        candidates = [user for user in people if roles and all(user.has_role(role) for role in roles)]
        wording = escalation_wording(escalation.level, due_label(row), overdue_working_days(
            calendar, row.due_at, now)) if row and row.due_at else ""
        escalation_rows.append(EscalationRow(escalation, summary.get("stage", escalation.stage or ""),
                                             due_label(row) if row else "", holders(escalation.case_id), candidates,
                                             wording))
    case_rows = []
    for case_id in case_ids:
        summary = summaries[case_id]
        running = sorted(limits.get(case_id, []), key=lambda r: (LEVEL_ORDER[level_of(r, now)],
                                                                   r.due_at or datetime.max.replace(tzinfo=CHINA)))
        first = running[0] if running else None
        case_rows.append(CaseRow(case_id, summary["number"], summary["item_name"], summary["stage"], first,
                                 level_of(first, now) if first else "normal", due_label(first) if first else "",
                                 holders(case_id), extensions.get(case_id), pauses.get(case_id)))
    case_rows.sort(key=lambda r: (LEVEL_ORDER[r.level], r.limit.due_at if r.limit and r.limit.due_at
                                  else datetime.max.replace(tzinfo=CHINA), r.number))
    return DeskBoard(escalation_rows, case_rows, now)


def _group(records) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for record in records:
        grouped.setdefault(record.case_id, []).append(record)
    return grouped


# --- the statistics ----------------------------------------------------------------------------------------------

def week_starts(today: date, weeks: int = WEEKS) -> list[date]:
    """The Mondays of the last `weeks` weeks, the current one last."""
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=weeks - 1 - index) for index in range(weeks)]


def hall_statistics(ctx: Context, actor: User, weeks: int = WEEKS, overdue_limit: int = 200) -> Statistics:
    """The supervisor's hall in figures, with the agency's totals beside them (see the module's definition of
    on time)."""
    require_role(actor, "supervisor")
    agency_code, hall_code, now = actor.agency_code, actor.hall_code, ctx.now()
    mondays = week_starts(ctx.today(), weeks)
    with ctx.uow(write=False) as uow:
        agency = ctx.catalog(uow).agency(agency_code)
        stats = uow.statistics
        late_open = stats.overdue_open_cases(agency_code, now)
        by_item = stats.closed_on_time(agency_code, hall_code, by="item", overdue=late_open)
        by_hall = stats.closed_on_time(agency_code, by="hall", overdue=late_open)
        [hall_total] = stats.closed_on_time(agency_code, hall_code, overdue=late_open)
        [agency_total] = stats.closed_on_time(agency_code, overdue=late_open)
        by_person = stats.tasks_on_time(agency_code, hall_code)
        backlog = stats.backlog(agency_code, hall_code)
        counts = stats.opened_and_closed(agency_code, hall_code, mondays)
        overdue = stats.limits_at_risk(agency_code, hall_code, now, overdue_only=True, limit=overdue_limit)
    hall_names = {hall.code: hall.name for hall in agency.halls} if agency else {}
    seen, overdue_cases = set(), []
    for row, number, item_name, stage in overdue:  # soonest due first: a case once, with its longest-overdue limit
        if row.case_id not in seen:
            seen.add(row.case_id)
            overdue_cases.append(OverdueCase(number, item_name, stage, row, due_label(row)))
    return Statistics(
        agency_code=agency_code, hall_code=hall_code, hall_names=hall_names,
        by_item=[Rate(*row) for row in by_item],
        by_hall=[Rate(code, hall_names.get(code, code), total, punctual) for code, _, total, punctual in by_hall],
        by_person=[Rate(*row) for row in by_person],
        hall_total=Rate(hall_code, hall_names.get(hall_code, hall_code), hall_total[2], hall_total[3]),
        agency_total=Rate(agency_code, agency.name if agency else agency_code, agency_total[2], agency_total[3]),
        backlog=[StageBacklog(*row) for row in backlog],
        weeks=[WeekCount(day, *figures) for day, figures in zip(mondays, counts)],
        overdue=overdue_cases, agency_overdue=sum(row[-1] for row in late_open), now=now)
