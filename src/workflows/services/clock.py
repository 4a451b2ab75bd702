"""The case clock: it starts at acceptance (受理), keeps each limit's due and warning moments current through
pauses, extensions and calendar changes, and gives the diagram's timer expressions those moments.

One CaseClock lives for one command on one case, inside that command's transaction.
"""
from __future__ import annotations

from datetime import datetime

from workflows.adapters.limits import NEVER
from workflows.adapters.engine import CaseRun
from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain.acceptance import DEFAULT_WAIVER_PERIOD, WAIVER_STAGE
from workflows.domain.calendar import OfficeHours
from workflows.domain.case_limits import PROMISED, WAIVER_PAUSE, CaseLimits
from workflows.domain.catalog import StageLimit
from workflows.domain.deadlines import level_at
from workflows.domain.errors import InvalidInput
from workflows.domain.model import APPROVED, CLOSED, Case, CaseDeadline, CasePause, CaseTask

from .calendar import working_calendar
from .context import CHINA, Context
from .history import SYSTEM

FAR_FUTURE = NEVER  # what a timer waits for while its limit has not started or is paused
MAX_TIMER_DAYS = 3650


class CaseClock:
    """The service side of a case's limits: loads its rows into the domain's CaseLimits, which decides, and stores
    what it started, the pauses of 容缺补正 and the timers to re-arm."""

    def __init__(self, uow: UnitOfWork, ctx: Context, case: Case):
        self.uow, self.ctx, self.case = uow, ctx, case
        agency = ctx.catalog(uow).agency(case.agency_code)
        self.waiver_period = (agency.waiver_period if agency else None) or DEFAULT_WAIVER_PERIOD
        periods = agency.office_hours if agency and agency.office_hours else None
        self.hours = OfficeHours(periods) if periods else OfficeHours()
        self.calendar = working_calendar(ctx, uow)
        rows = uow.deadlines.for_case(case.id) if case.accepted_at else uow.deadlines.none_yet(case.id)
        self.limits = CaseLimits(case, rows, agency.item(case.item_code) if agency else None, self.calendar,
                                 self.hours)

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
        return self.limits.running(kind)

    def case_limit(self) -> CaseDeadline | None:
        return self.limits.case_limit()

    # --- keeping the limits current ------------------------------------------------------------------------

    def after_step(self, previous_stage: str, run: CaseRun) -> None:
        """Start, meet and move limits as the case moved from `previous_stage`; re-arm timers if anything moved."""
        now = self.ctx.now()
        started = self.limits.moved_on(previous_stage, [step.stage for step in run.steps], now)
        self._store_started()
        started |= self._follow_waiver(previous_stage, now)
        if started:
            self.refresh(run)

    def _store_started(self) -> None:
        for row in self.limits.added:
            self.uow.deadlines.add(row)
        self.limits.added.clear()

    def _follow_waiver(self, previous_stage: str, now: datetime) -> bool:
        """容缺补正: entering it starts the 补正期限 and stops the case's own limits; leaving it, the materials
        supplied or the case closed (补正超时), lets them run on. Returns whether anything changed."""
        waiting = self.case.stage == WAIVER_STAGE and self.case.status != CLOSED
        if waiting and previous_stage != WAIVER_STAGE:
            earlier = next((row for row in self.limits.rows if row.kind == WAIVER_STAGE), None)
            if earlier is None:
                self.limits.start(WAIVER_STAGE, self.waiver_period, now)
                self._store_started()
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

    def deem_accepted(self, run: CaseRun) -> None:
        """行政许可法 §32: a case neither decided at 受理 nor given a 一次性告知书 in time counts as accepted on the
        day of receipt; its limits run from then, while the 受理 task stays with the clerk."""
        started = self.limits.accept(self.case.opened_at)
        self._store_started()
        if started:
            self.refresh(run)

    def refresh(self, run: CaseRun | None = None) -> list[tuple[str, str, str]]:
        """Compute every running limit again; return (limit, old label, new label) of those that moved."""
        extension = sum(r.days for r in self.uow.deadlines.extensions(self.case.id) if r.status == APPROVED)
        moved = self.limits.recompute(self.uow.deadlines.pauses(self.case.id), extension)
        if run is not None and moved:
            run.reset_timers()
        return moved

    def start_on_receipt(self, limit: StageLimit | None) -> None:
        """A partner's case (转移接续's 转出地) has no 受理: its clock starts when the message that opened it
        arrives, with the stage limit it owes from then (信息表) where the catalog sets one."""
        self.case.accepted_at = self.ctx.now()
        started = limit is not None and self.limits.start(limit.stage, limit.limit, self.case.accepted_at)
        self._store_started()
        if started:
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
