"""The limits of one case (承诺时限, 法定时限, a stage's own limit, the 补正期限) as pure rules over its deadline rows:
which limit runs, which start and which are met as the case moves on, where each running one's due and warning
moments fall after its pauses and extensions. No SQL and no clock of its own: `now` is passed in, and
services/clock.py loads the rows, asks here and stores what was decided (new rows are returned for it to add)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .acceptance import WAIVER_STAGE
from .calendar import CHINA, OfficeHours, WorkingCalendar
from .case_states import COMPLETED
from .catalog import AgencyItem, TimeLimit
from .deadlines import Deadline, Pause, WarningPolicy, compute_deadline
from .model import CLOSED, Case, CaseDeadline, CasePause

ACCEPTANCE_STAGE = "受理"
PROMISED, STATUTORY = "promised", "statutory"
LIMIT_NAMES = {PROMISED: "承诺时限", STATUTORY: "法定时限"}
WAIVER_PAUSE = "waiver"  # 容缺补正: the case's limits stop while the applicant brings the waived materials
NOT_STARTED = "not_started"  # a stage limit whose `from` stage has not ended yet


def limit_name(kind: str) -> str:
    return LIMIT_NAMES.get(kind) or ("容缺补正期限" if kind == WAIVER_STAGE else f"{kind}环节时限")


@dataclass
class CaseLimits:
    """A case's deadline rows with the item's limits and the agency's calendar they are counted in."""

    case: Case
    rows: list[CaseDeadline]
    item: AgencyItem | None
    calendar: WorkingCalendar
    hours: OfficeHours
    added: list[CaseDeadline] = field(default_factory=list)  # started by this command: for the service to store

    def running(self, kind: str) -> CaseDeadline | None:
        return next((row for row in self.rows if row.kind == kind and row.met_at is None), None)

    def case_limit(self) -> CaseDeadline | None:
        """The limit an inbox sorts by: the promised one while it runs, else the statutory one, else a stage's
        (a partner's case, such as 转移接续's 转出地, owes only a stage limit)."""
        return self.running(PROMISED) or self.running(STATUTORY) or next(
            (row for row in self.rows if row.met_at is None), None)

    def start(self, kind: str, limit: TimeLimit | None, now: datetime) -> bool:
        """Start the limit `kind` at `now`, once per case; False when it has none or started before."""
        if limit is None or any(row.kind == kind for row in self.rows):
            return False
        row = CaseDeadline(case_id=self.case.id, kind=kind, limit_value=limit.value, limit_unit=limit.unit,
                           starts_at=now, due_at=None, warning_at=None, provisional=False, paused=False,
                           extension_days=0, paused_days=0, met_at=None)
        self.rows.append(row)
        self.added.append(row)
        return True

    def accept(self, at: datetime) -> bool:
        """The case is accepted at `at`: its promised and statutory limits start from then."""
        self.case.accepted_at = at
        promised = self.start(PROMISED, self.item.promised_limit if self.item else None, at)
        return self.start(STATUTORY, self.item.statutory_limit if self.item else None, at) or promised

    def moved_on(self, previous_stage: str, step_stages, now: datetime) -> bool:
        """The case moved from `previous_stage` through the automatic steps' `step_stages`: accept it (left 受理
        other than closed, or closed by 办结 there), start the stage limits of the stages it left, meet the limits
        of those stages (all of them once closed). Returns whether a limit started."""
        case = self.case
        left = case.stage != previous_stage or case.status == CLOSED
        started = False
        # Closed straight from 受理 (不予受理, 禁止办理 …) is no acceptance, unless the item ends there (办结).
        if (case.accepted_at is None and previous_stage == ACCEPTANCE_STAGE and left
                and (case.status != CLOSED or case.result == COMPLETED)):
            started |= self.accept(now)
        # The stages left: the one the case was at and those its automatic steps went through on the way (转入地's
        # 联系函 is issued and sent in the command that completes 审核).
        passed = {previous_stage, *(stage for stage in step_stages if stage)} - {case.stage} if left else set()
        if case.accepted_at is not None:
            for stage_limit in (self.item.stage_limits if self.item else ()):
                if stage_limit.starts_at in passed:
                    started |= self.start(stage_limit.stage, stage_limit.limit, now)
        for row in self.rows:
            if row.met_at is None and left and (row.kind in passed or case.status == CLOSED):
                row.met_at = now
        return started

    def recompute(self, pauses: list[CasePause], extension_days: int) -> list[tuple[str, str, str]]:
        """Compute every running limit again over the case's pauses (a waiver pause stops all but the 补正期限)
        and its approved extension days (承诺 and 法定 only); return (limit, old label, new label) of those that
        moved."""
        warning = self.item.warning if self.item else WarningPolicy()
        moved = []
        for row in self.rows:
            if row.met_at is not None:
                continue
            before = due_label(row)
            days = extension_days if row.kind in LIMIT_NAMES else 0
            stops = [Pause(p.started_at, p.ended_at, p.reason) for p in pauses
                     if _overlaps(p, row.starts_at) and not (p.kind == WAIVER_PAUSE and row.kind == WAIVER_STAGE)]
            computed = compute_deadline(self.calendar, self.hours, TimeLimit(row.limit_value, row.limit_unit),
                                        row.starts_at, stops, days, warning)
            row.due_at, row.warning_at = computed.due_at, computed.warning_at
            row.provisional, row.paused = computed.provisional, computed.paused
            row.extension_days, row.paused_days = computed.extension_days, computed.paused_days
            if due_label(row) != before:
                moved.append((limit_name(row.kind), before, due_label(row)))
        return moved


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
