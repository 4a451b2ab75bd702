"""The case clock's loading and saving: for one command on one case, inside its transaction, it loads the case's
limits, pauses and extensions with the agency's calendar and office hours into the domain's CaseLimits (which
decides: domain/case_limits.py), stores the rows and pauses it started, and re-arms the workflow's timers when a
limit moved. The diagram's timer expressions ask it for those moments.
"""
from __future__ import annotations

from workflows.adapters.limits import NEVER
from workflows.adapters.engine import CaseRun
from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain import case_limits
from workflows.domain.acceptance import DEFAULT_WAIVER_PERIOD
from workflows.domain.calendar import OfficeHours
from workflows.domain.case_limits import PROMISED, CaseLimits
from workflows.domain.catalog import StageLimit
from workflows.domain.model import Case, CaseDeadline, CasePause, CaseTask

from .calendar import working_calendar
from .context import Context

FAR_FUTURE = NEVER  # what a timer waits for while its limit has not started or is paused


class CaseClock:
    """Loads a case's limits into CaseLimits, asks it, and stores what it decided."""

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
        moment = self.limits.due_moment(kind)
        return moment.isoformat() if moment else FAR_FUTURE

    def warning_time(self, kind: str = PROMISED) -> str:
        moment = self.limits.warning_moment(kind)
        return moment.isoformat() if moment else FAR_FUTURE

    def working_days(self, count) -> str:
        return self.limits.working_days_from(self.ctx.today(), count).isoformat()

    def running(self, kind: str) -> CaseDeadline | None:
        return self.limits.running(kind)

    def case_limit(self) -> CaseDeadline | None:
        return self.limits.case_limit()

    # --- keeping the limits current ------------------------------------------------------------------------

    def after_step(self, previous_stage: str, run: CaseRun) -> None:
        """Start, meet and move limits as the case moved from `previous_stage`; re-arm timers if anything moved."""
        now = self.ctx.now()
        started = self.limits.moved_on(previous_stage, [step.stage for step in run.steps], now)
        waiver = self.limits.follow_waiver(previous_stage, self._pauses, self.waiver_period, now)
        self._store(flush=waiver)  # a pause started or ended: a concurrent change to it shows here
        if started or waiver:
            self.refresh(run)

    def deem_accepted(self, run: CaseRun) -> None:
        """行政许可法 §32: a case neither decided at 受理 nor given a 一次性告知书 in time counts as accepted on the
        day of receipt; its limits run from then, while the 受理 task stays with the clerk."""
        started = self.limits.accept(self.case.opened_at)
        self._store()
        if started:
            self.refresh(run)

    def start_on_receipt(self, limit: StageLimit | None) -> None:
        """A partner's case (转移接续's 转出地): its clock starts as the message that opened it arrives."""
        started = self.limits.receive(limit, self.ctx.now())
        self._store()
        if started:
            self.refresh()

    def pause(self, kind: str, reason: str, by: str) -> CasePause:
        """Stop the clock now (refused while it is stopped)."""
        pause = self.limits.pause(self._pauses(), kind, reason, by, self.ctx.now())
        self._store(flush=True)
        return pause

    def resumable(self) -> CasePause:
        """The pause a person may end now (refused for none, or 容缺补正's)."""
        return self.limits.resumable(self._pauses())

    def end_pause(self, pause: CasePause | None, by: str) -> None:
        if self.limits.end_pause(pause, by, self.ctx.now()):
            self.uow.flush()

    def refresh(self, run: CaseRun | None = None) -> list[tuple[str, str, str]]:
        """Compute every running limit again; return (limit, old label, new label) of those that moved."""
        extension = case_limits.approved_extension_days(self.uow.deadlines.extensions(self.case.id))
        moved = self.limits.recompute(self._pauses(), extension)
        if run is not None and moved:
            run.reset_timers()
        return moved

    def task_level(self, task: CaseTask, at) -> str:
        return case_limits.task_level(task, self._pauses(), at)

    def open_pause(self) -> CasePause | None:
        return case_limits.open_pause(self._pauses())

    def require_started(self) -> None:
        self.limits.require_started()

    def _pauses(self) -> list[CasePause]:
        return self.uow.deadlines.pauses(self.case.id)

    def _store(self, flush: bool = False) -> None:
        """Add the rows and pauses the limits started."""
        for row in self.limits.added:
            self.uow.deadlines.add(row)
        for pause in self.limits.added_pauses:
            self.uow.deadlines.add_pause(pause)
        self.limits.added.clear()
        self.limits.added_pauses.clear()
        if flush:
            self.uow.flush()
