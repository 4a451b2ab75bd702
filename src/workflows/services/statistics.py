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

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from workflows.domain.deadlines import escalation_wording, overdue_working_days
from workflows.domain.errors import InvalidInput
from workflows.domain.model import (CaseDeadline, CasePause, CaseTask, Escalation, ExtensionRequest,
                                    TaskSupervision, User)
from workflows.domain.case_limits import due_label, level_of
from workflows.domain.roles import TASK_ROLE_NAMES

from .access import require_role
from .calendar import working_calendar
from .followups import FollowUpRow, followup_row

from .context import CHINA, Context

WEEKS = 12
DESK_PAGE = 50  # rows of the statistics page's overdue list
# rows per page of each desk list: the page stays small however many cases run late; twenty fill a 1366×768
# screen, red first, and a third of the rows is a third of the template's work (the desk's CPU is half template)
DESK_ROWS = 20
MAX_DESK_PAGE = 10_000
DESK_SORTS = {"level": "按等级", "due": "按到期时间"}
LEVEL_ORDER = {"red": 0, "yellow": 1, "paused": 2, "normal": 3, "met": 4}


@dataclass(frozen=True)
class Holder:
    """Who holds an open task of a case: its assignee, or nobody yet (any clerk of the role may claim it)."""

    task_name: str
    role: str
    username: str | None
    full_name: str | None

    @property
    def text(self) -> str:
        """As the desk's rows show it, composed here rather than by the template in each of its lists:
        "审核：李审核", "审核：未认领（审核员）"."""
        held = self.full_name if self.username else f"未认领（{TASK_ROLE_NAMES.get(self.role, self.role)}）"
        return f"{self.task_name}：{held}"


@dataclass(frozen=True)
class EscalationRow:
    escalation: Escalation
    stage: str  # where the case stands now
    due: str  # the escalated limit's due label now ("已暂停" while paused, "" once met)
    holders: list[Holder]
    roles: tuple[str, ...]  # the roles of the case's open tasks: who may take them over (改派) holds every one
    wording: str = ""  # 黄牌 "将于 … 届满", 红牌 "已于 … 届满，已超期 N 个工作日"; "" once the limit is met or paused


@dataclass(frozen=True)
class CaseRow:
    """A case of the hall the supervisor should look at, with one of its limits: a limit at risk (one row per case
    and limit), or, for a case waiting for a decision, its most urgent running limit."""

    case_id: int
    number: str
    item_name: str
    stage: str
    limit: CaseDeadline | None  # read as a row of its columns (desk_queries), not a tracked record
    level: str  # red | yellow | paused | normal
    due: str
    holders: list[Holder]
    extension: ExtensionRequest | None  # a request waiting for the supervisor's decision
    pause: CasePause | None  # the clock's open pause, if stopped


@dataclass(frozen=True)
class DeskPage:
    """Where a list of the desk stands: its page (from 1), whether a next one exists, and its total when cheap."""

    number: int = 1
    more: bool = False
    total: int | None = None


@dataclass(frozen=True)
class DeskBoard:
    escalations: list[EscalationRow]  # a page of the hall's open escalations
    cases: list[CaseRow]  # a page of the hall's limits at risk, one row per case and limit
    now: datetime
    waiting: list[CaseRow] = field(default_factory=list)  # cases with an extension request or a suspension
    people: list[User] = field(default_factory=list)  # the hall's people, once for every row's 改派 choice
    sort: str = "level"
    escalation_page: DeskPage = DeskPage()
    case_page: DeskPage = DeskPage()
    # a page of the hall's 督办, unreplied first, then the newest
    supervisions: list[tuple[TaskSupervision, CaseTask]] = field(default_factory=list)
    followups: list[FollowUpRow] = field(default_factory=list)  # a page of the hall's open 差评回访, the soonest due first
    waiting_page: DeskPage = DeskPage()
    supervision_page: DeskPage = DeskPage()
    followup_page: DeskPage = DeskPage()
    unreplied: int = 0  # how many of the hall's 督办 wait for a reply (all pages)

    @property
    def names(self) -> dict[str, str]:
        """username -> full name of the hall's people (the 督办's supervisor and who replied)."""
        return {user.username: user.full_name for user in self.people}

    def candidates(self, row: EscalationRow) -> list[User]:
        """The hall's people who may take over every open task of the row's case (改派)."""
        return self.choices().get(row.roles, [])

    def choices(self) -> dict[tuple[str, ...], list[User]]:
        """改派 choices once per set of roles on the page (a handful), not once per row: roles -> the hall's people
        holding every one of them."""
        return {roles: [user for user in self.people if roles and all(user.has_role(role) for role in roles)]
                for roles in dict.fromkeys(row.roles for row in self.escalations)}


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
    overdue: list[OverdueCase]  # the hall's open cases longest past a due moment (the first `overdue_limit`)
    hall_overdue: int  # how many open cases of the hall are past a due moment
    agency_overdue: int  # how many open cases of the whole agency are past a due moment
    now: datetime


# --- the desk ----------------------------------------------------------------------------------------------------

def desk_board(ctx: Context, actor: User, page: int = 1, sort: str = "level", cases_page: int = 1,
               per_page: int | None = None, waiting_page: int = 1, supervisions_page: int = 1,
               followups_page: int = 1) -> DeskBoard:
    """A page of the supervisor's hall: its open escalations (by level or by due moment), its running limits in
    warning or overdue (one row per case and limit, the soonest due first: red before yellow), the cases with an
    extension request to decide or suspended (中止), the hall's 督办 with their replies (unreplied first) and its open
    差评回访 (the soonest due first). Each list reads one page (and one row more, to know whether a next page exists)
    through the partial indexes on open rows, and all but the waiting list count their rows in the same statement:
    the closed millions are never read; all of it in one transaction, a statement per list and one per detail of
    their rows (limits, holders), not per row."""
    require_role(actor, "supervisor")
    numbers = {"page": page, "cases_page": cases_page, "waiting_page": waiting_page,
               "supervisions_page": supervisions_page, "followups_page": followups_page}
    _check_desk_query(numbers, sort)
    per_page = per_page or DESK_ROWS  # read at the call: a test makes the page small
    asked = {name: (per_page + 1, (number - 1) * per_page) for name, number in numbers.items()}
    now = ctx.now()
    place = (actor.agency_code, actor.hall_code)
    with ctx.uow(write=False) as uow:
        stats = uow.statistics
        escalations, total = stats.escalation_page(*place, sort, *asked["page"])
        risky, at_risk = stats.limits_at_risk_page(*place, now, *asked["cases_page"])
        waiting_cases = stats.awaiting_supervisor(*place, *asked["waiting_page"])
        more_waiting, waiting_cases = len(waiting_cases) > per_page, waiting_cases[:per_page]
        waiting_ids = [row.id for row in waiting_cases]
        limits = _group(stats.running_limit_rows(waiting_ids))  # an escalation's comes with it
        tasks = _group(stats.open_tasks(list(dict.fromkeys(
            [e.case_id for e, _, _ in escalations[:per_page]] + [row.case_id for row in risky[:per_page]]
            + waiting_ids))))
        extensions = {r.case_id: r for r in stats.pending_extensions(waiting_ids)}
        pauses = {p.case_id: p for p in stats.open_pauses(waiting_ids)}
        people = uow.users.in_hall(*place)
        calendar = working_calendar(ctx, uow) if escalations else None
        supervisions, supervised, unreplied = stats.supervision_page(*place, *asked["supervisions_page"])
        followups, open_followups = stats.followup_page(*place, *asked["followups_page"])
    names = {user.username: user.full_name for user in people}
    holders = {case_id: [Holder(t.name, t.role, t.assignee, names.get(t.assignee, t.assignee)) for t in rows]
               for case_id, rows in tasks.items()}
    escalation_rows = [_escalation_row(e, stage, limit, tasks, holders, calendar, now)
                       for e, stage, limit in escalations[:per_page]]
    case_rows = [CaseRow(row.case_id, row.number, row.item_name, row.stage, row, level_of(row, now), due_label(row),
                         holders.get(row.case_id, []), None, None) for row in risky[:per_page]]
    waiting = [_waiting_row(row, limits.get(row.id, []), holders.get(row.id, []), extensions.get(row.id),
                            pauses.get(row.id), now) for row in waiting_cases]

    def paged(name: str, rows: list, count: int) -> DeskPage:
        return DeskPage(numbers[name], len(rows) > per_page, count)

    return DeskBoard(escalation_rows, case_rows, now, waiting, people, sort, paged("page", escalations, total),
                     paged("cases_page", risky, at_risk), supervisions[:per_page],
                     [followup_row(f, now) for f in followups[:per_page]], DeskPage(waiting_page, more_waiting),
                     supervision_page=paged("supervisions_page", supervisions, supervised),
                     followup_page=paged("followups_page", followups, open_followups), unreplied=unreplied)


def _waiting_row(case, running, holders, extension, pause, now) -> CaseRow:
    """A case waiting for the supervisor's decision, shown with its most urgent running limit."""
    first = min(running, default=None, key=lambda r: (LEVEL_ORDER[level_of(r, now)],
                                                      r.due_at or datetime.max.replace(tzinfo=CHINA)))
    return CaseRow(case.id, case.number, case.item_name, case.stage, first,
                   level_of(first, now) if first else "normal", due_label(first) if first else "", holders,
                   extension, pause)


def _escalation_row(escalation, stage, row, tasks, holders, calendar, now) -> EscalationRow:
    """An escalation as the desk shows it: the case's stage and holders now, its running limit's (`row`, None once
    met) due moment and wording."""
    due = due_label(row) if row else ""
    wording = escalation_wording(escalation.level, due, overdue_working_days(
        calendar, row.due_at, now)) if row and row.due_at else ""
    return EscalationRow(escalation, stage or escalation.stage or "", due, holders.get(escalation.case_id, []),
                         tuple(sorted({t.role for t in tasks.get(escalation.case_id, [])})), wording)


def _check_desk_query(numbers: dict, sort) -> None:
    """Each list's page (`numbers`: its argument -> the number asked) is a whole number from 1, the order one of
    DESK_SORTS: else 422 naming the field."""
    errors = {name: "页码应为从 1 开始的整数" for name, value in numbers.items()
              if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_DESK_PAGE}
    if sort not in DESK_SORTS:
        errors["sort"] = "排序应为：" + "、".join(f"{key}（{name}）" for key, name in DESK_SORTS.items())
    if errors:
        raise InvalidInput("督办台的查询条件有误：" + "；".join(f"{name} {text}" for name, text in errors.items()),
                           errors)


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


def hall_statistics(ctx: Context, actor: User, weeks: int = WEEKS, overdue_limit: int = DESK_PAGE) -> Statistics:
    """The supervisor's hall in figures, with the agency's totals beside them (see the module's definition of
    on time)."""
    require_role(actor, "supervisor")
    agency_code, hall_code, now = actor.agency_code, actor.hall_code, ctx.now()
    mondays = week_starts(ctx.today(), weeks)
    with ctx.uow(write=False) as uow:
        agency = ctx.catalog(uow).agency(agency_code)
        stats = uow.statistics
        closed = stats.closed_counts(agency_code)
        names = {code: item.name for code, item in (agency.items.items() if agency else ())}
        names.update((item, name) for _, item, name, _, _ in closed if name)  # as the cases were named
        late_open = [(hall, item, names.get(item, item), late)
                     for hall, item, late in stats.overdue_open_cases(agency_code, now)]
        by_item = stats.closed_on_time(agency_code, hall_code, by="item", overdue=late_open, closed=closed)
        by_hall = stats.closed_on_time(agency_code, by="hall", overdue=late_open, closed=closed)
        [hall_total] = stats.closed_on_time(agency_code, hall_code, overdue=late_open, closed=closed)
        [agency_total] = stats.closed_on_time(agency_code, overdue=late_open, closed=closed)
        by_person = stats.tasks_on_time(agency_code, hall_code)
        backlog = stats.backlog(agency_code, hall_code)
        counts = stats.opened_and_closed(agency_code, hall_code, mondays)
        overdue = [row for row in stats.limits_at_risk_rows(agency_code, hall_code, now, overdue_limit + 1)
                   if row.due_at < now]  # past due is sooner than not yet due: the overdue lead the list
    hall_names = {hall.code: hall.name for hall in agency.halls} if agency else {}
    seen, overdue_cases = set(), []
    for row in overdue:  # soonest due first: a case once, with its longest-overdue limit
        if row.case_id not in seen and len(seen) < overdue_limit:
            seen.add(row.case_id)
            overdue_cases.append(OverdueCase(row.number, row.item_name, row.stage, row, due_label(row)))
    return Statistics(
        agency_code=agency_code, hall_code=hall_code, hall_names=hall_names,
        by_item=[Rate(*row) for row in by_item],
        by_hall=[Rate(code, hall_names.get(code, code), total, punctual) for code, _, total, punctual in by_hall],
        by_person=[Rate(*row) for row in by_person],
        hall_total=Rate(hall_code, hall_names.get(hall_code, hall_code), hall_total[2], hall_total[3]),
        agency_total=Rate(agency_code, agency.name if agency else agency_code, agency_total[2], agency_total[3]),
        backlog=[StageBacklog(*row) for row in backlog],
        weeks=[WeekCount(day, *figures) for day, figures in zip(mondays, counts)],
        overdue=overdue_cases, hall_overdue=sum(row[-1] for row in late_open if row[0] == hall_code),
        agency_overdue=sum(row[-1] for row in late_open), now=now)
