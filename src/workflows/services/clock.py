"""The case clock: it starts at acceptance (受理), keeps each limit's due and warning moments current through
pauses, extensions and calendar changes, and gives the diagram's timer expressions those moments.

One CaseClock lives for one command on one case, inside that command's transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflows.adapters.limits import NEVER
from workflows.adapters.engine import CaseRun
from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain.acceptance import DEFAULT_WAIVER_PERIOD, WAIVER_STAGE
from workflows.domain.calendar import OfficeHours
from workflows.domain.case_states import COMPLETED
from workflows.domain.catalog import StageLimit, TimeLimit
from workflows.domain.deadlines import Deadline, Pause, WarningPolicy, compute_deadline, level_at
from workflows.domain.errors import InvalidInput
from workflows.domain.model import APPROVED, CLOSED, Case, CaseDeadline, CasePause, CaseTask

from .calendar import working_calendar
from .context import CHINA, Context
from .history import SYSTEM

ACCEPTANCE_STAGE = "受理"
PROMISED, STATUTORY = "promised", "statutory"
LIMIT_NAMES = {PROMISED: "承诺时限", STATUTORY: "法定时限"}
WAIVER_PAUSE = "waiver"  # 容缺补正: the case's limits stop while the applicant brings the waived materials
FAR_FUTURE = NEVER  # what a timer waits for while its limit has not started or is paused
MAX_TIMER_DAYS = 3650
NOT_STARTED = "not_started"  # a stage limit whose `from` stage has not ended yet


def limit_name(kind: str) -> str:
    return LIMIT_NAMES.get(kind) or ("容缺补正期限" if kind == WAIVER_STAGE else f"{kind}环节时限")


class CaseClock:
    def __init__(self, uow: UnitOfWork, ctx: Context, case: Case):
        self.uow, self.ctx, self.case = uow, ctx, case
        agency = ctx.catalog(uow).agency(case.agency_code)
        self.item = agency.item(case.item_code) if agency else None
        self.waiver_period = (agency.waiver_period if agency else None) or DEFAULT_WAIVER_PERIOD
        periods = agency.office_hours if agency and agency.office_hours else None
        self.hours = OfficeHours(periods) if periods else OfficeHours()
        self.calendar = working_calendar(ctx, uow)
        self.rows: list[CaseDeadline] = (uow.deadlines.for_case(case.id) if case.accepted_at
                                         else uow.deadlines.none_yet(case.id))

    # --- what the diagram's timer expressions may call -------------------------------------------------------

    def functions(self) -> dict:
        return {"deadline": self.deadline, "warning_time": self.warning_time, "working_days": self.working_days}

    def deadline(self, kind: str = PROMISED) -> str:
        row = self.running(kind)
        return row.due_at.astimezone(CHINA).isoformat() if row and row.due_at else FAR_FUTURE

    def warning_time(self, kind: str = PROMISED) -> str:
        row = self.running(kind)
        return row.warning_at.astimezone(CHINA).isoformat() if row and row.warning_at else FAR_FUTURE

    def working_days(self, count) -> str:
        if not isinstance(count, int) or not 0 <= count <= MAX_TIMER_DAYS:
            raise ValueError(f"working_days() 需要 0 到 {MAX_TIMER_DAYS} 之间的整数")
        today = self.ctx.now().astimezone(CHINA).date()
        return self.hours.close_of(self.calendar.add_working_days(today, count), CHINA).isoformat()

    def running(self, kind: str) -> CaseDeadline | None:
        return next((row for row in self.rows if row.kind == kind and row.met_at is None), None)

    # --- keeping the limits current ------------------------------------------------------------------------

    def after_step(self, previous_stage: str, run: CaseRun) -> None:
        """Start, meet and move limits as the case moved from `previous_stage`; re-arm timers if anything moved."""
        now, case = self.ctx.now(), self.case
        left = case.stage != previous_stage or case.status == CLOSED
        started = False
        # Closed straight from 受理 (不予受理, 禁止办理 …) is no acceptance, unless the item ends there (办结).
        if (case.accepted_at is None and previous_stage == ACCEPTANCE_STAGE and left
                and (case.status != CLOSED or case.result == COMPLETED)):
            started |= self._accept(now)
        # The stages left: the one the case was at and those its automatic steps went through on the way (转入地's
        # 联系函 is issued and sent in the command that completes 审核).
        passed = {previous_stage, *(step.stage for step in run.steps if step.stage)} - {case.stage} if left else set()
        if case.accepted_at is not None:
            for stage_limit in (self.item.stage_limits if self.item else ()):
                if stage_limit.starts_at in passed:
                    started |= self._start(stage_limit.stage, stage_limit.limit, now)
        for row in self.rows:
            if row.met_at is None and left and (row.kind in passed or case.status == CLOSED):
                row.met_at = now
        started |= self._follow_waiver(previous_stage, now)
        if started:
            self.refresh(run)

    def _follow_waiver(self, previous_stage: str, now: datetime) -> bool:
        """容缺补正: entering it starts the 补正期限 and stops the case's own limits; leaving it, the materials
        supplied or the case closed (补正超时), lets them run on. Returns whether anything changed."""
        waiting = self.case.stage == WAIVER_STAGE and self.case.status != CLOSED
        if waiting and previous_stage != WAIVER_STAGE:
            earlier = next((row for row in self.rows if row.kind == WAIVER_STAGE), None)
            if earlier is None:
                self._start(WAIVER_STAGE, self.waiver_period, now)
            else:  # sent back to 受理 and accepted with 容缺 again: a new 补正期限
                earlier.starts_at, earlier.met_at = now, None
            self.uow.deadlines.add_pause(CasePause(case_id=self.case.id, kind=WAIVER_PAUSE, started_at=now,
                                                   reason="容缺受理，等待申请人补齐容缺材料", started_by=SYSTEM,
                                                   ended_at=None, ended_by=None))
            self.uow.flush()
            return True
        if previous_stage != WAIVER_STAGE or waiting:
            return False
        pause = self.open_pause()
        if pause is not None and pause.kind == WAIVER_PAUSE:
            pause.ended_at, pause.ended_by = now, SYSTEM
            self.uow.flush()
            return True
        return False

    def _accept(self, at: datetime) -> bool:
        """The case is accepted at `at`: its promised and statutory limits start from then."""
        self.case.accepted_at = at
        promised = self._start(PROMISED, self.item.promised_limit if self.item else None, at)
        return self._start(STATUTORY, self.item.statutory_limit if self.item else None, at) or promised

    def deem_accepted(self, run: CaseRun) -> None:
        """行政许可法 §32: a case neither decided at 受理 nor given a 一次性告知书 in time counts as accepted on the
        day of receipt; its limits run from then, while the 受理 task stays with the clerk."""
        if self._accept(self.case.opened_at):
            self.refresh(run)

    def _start(self, kind: str, limit: TimeLimit | None, now: datetime) -> bool:
        if limit is None or any(row.kind == kind for row in self.rows):
            return False
        row = CaseDeadline(case_id=self.case.id, kind=kind, limit_value=limit.value, limit_unit=limit.unit,
                           starts_at=now, due_at=None, warning_at=None, provisional=False, paused=False,
                           extension_days=0, paused_days=0, met_at=None)
        self.uow.deadlines.add(row)
        self.rows.append(row)
        return True

    def refresh(self, run: CaseRun | None = None) -> list[tuple[str, str, str]]:
        """Compute every running limit again; return (limit, old label, new label) of those that moved."""
        pauses = self.uow.deadlines.pauses(self.case.id)
        extension = sum(r.days for r in self.uow.deadlines.extensions(self.case.id) if r.status == APPROVED)
        moved = []
        for row in self.rows:
            if row.met_at is not None:
                continue
            before = due_label(row)
            days = extension if row.kind in LIMIT_NAMES else 0
            stops = [Pause(p.started_at, p.ended_at, p.reason) for p in pauses
                     if _overlaps(p, row.starts_at) and not (p.kind == WAIVER_PAUSE and row.kind == WAIVER_STAGE)]
            computed = compute_deadline(self.calendar, self.hours, TimeLimit(row.limit_value, row.limit_unit),
                                        row.starts_at, stops, days, self.item.warning if self.item else WarningPolicy())
            row.due_at, row.warning_at = computed.due_at, computed.warning_at
            row.provisional, row.paused = computed.provisional, computed.paused
            row.extension_days, row.paused_days = computed.extension_days, computed.paused_days
            if due_label(row) != before:
                moved.append((limit_name(row.kind), before, due_label(row)))
        if run is not None and moved:
            run.reset_timers()
        return moved

    def case_limit(self) -> CaseDeadline | None:
        """The limit an inbox sorts by: the promised one while it runs, else the statutory one, else a stage's
        (a partner's case, such as 转移接续's 转出地, owes only a stage limit)."""
        return self.running(PROMISED) or self.running(STATUTORY) or next(
            (row for row in self.rows if row.met_at is None), None)

    def start_on_receipt(self, limit: StageLimit | None) -> None:
        """A partner's case (转移接续's 转出地) has no 受理: its clock starts when the message that opened it
        arrives, with the stage limit it owes from then (信息表) where the catalog sets one."""
        self.case.accepted_at = self.ctx.now()
        if limit is not None and self._start(limit.stage, limit.limit, self.case.accepted_at):
            self.refresh()

    def task_level(self, task: CaseTask, at: datetime) -> str:
        """Where the limit a task carries stands at `at`: normal, yellow, red, or paused while the clock is stopped
        (stored when the task is completed, so 已办 shows the level it had then, not today's)."""
        if task.due_at is None and self.open_pause() is not None:
            return "paused"
        return level_at(task.due_at, task.warning_at, at)

    def open_pause(self):
        return next((p for p in self.uow.deadlines.pauses(self.case.id) if p.ended_at is None), None)

    def require_started(self) -> None:
        if self.case.accepted_at is None or self.case.status == CLOSED:
            raise InvalidInput("案件尚未受理或已办结，没有在计的时限")


@dataclass(frozen=True)
class LimitLine:
    """A limit of a case as its page and the API list it: started (its row), or a stage limit still waiting for
    its `from` stage to end."""
    kind: str
    starts_after: str  # 受理, or the stage limit's `from`
    limit: TimeLimit
    row: CaseDeadline | None  # None: not started yet

    @property
    def name(self) -> str:
        return limit_name(self.kind)

    def level(self, now: datetime) -> str:
        return level_of(self.row, now) if self.row else NOT_STARTED

    def label(self) -> str:
        return due_label(self.row) if self.row else f"{self.starts_after}结束后起算（{self.limit.label}）"


def limit_lines(case: Case, rows: list[CaseDeadline], stage_limits) -> list[LimitLine]:
    """The case's started limits, each with the stage it counts from, then (while the case is open) the item's
    stage limits not started yet."""
    sources = {s.stage: s.starts_at for s in stage_limits}
    lines = [LimitLine(row.kind, sources.get(row.kind, ACCEPTANCE_STAGE), TimeLimit(row.limit_value, row.limit_unit),
                       row) for row in rows]
    started = {row.kind for row in rows}
    if case.is_open:
        lines += [LimitLine(s.stage, s.starts_at, s.limit, None) for s in stage_limits if s.stage not in started]
    return lines


def _overlaps(pause: Pause, since: datetime) -> bool:
    return pause.ended_at is None or pause.ended_at > since


def as_deadline(row: CaseDeadline) -> Deadline:
    return Deadline(TimeLimit(row.limit_value, row.limit_unit), row.due_at and row.due_at.astimezone(CHINA),
                    row.warning_at and row.warning_at.astimezone(CHINA), row.provisional, row.paused,
                    row.extension_days, row.paused_days)


def due_label(row: CaseDeadline) -> str:
    return as_deadline(row).label()


def level_of(row: CaseDeadline, now: datetime) -> str:
    """normal | yellow | red | paused | met — what a clerk's or supervisor's list shows at a glance."""
    return "met" if row.met_at is not None else as_deadline(row).level(now)
