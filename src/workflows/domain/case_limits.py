"""The limits of one case (承诺时限, 法定时限, a stage's own limit, the 补正期限) as pure rules over its deadline rows
and pauses: which limit runs, which start and which are met as the case moves on, when the clock stops and runs
again (补正, 容缺补正, 中止), where each running one's due and warning moments fall after its pauses and extensions,
what a task's level is, what a diagram's timer may ask. No SQL and no clock of its own: `now` is passed in, and
services/clock.py loads the rows, asks here and stores what was decided (new rows and pauses are kept in `added`
and `added_pauses` for it to add)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable

from .acceptance import WAIVER_STAGE
from .calendar import CHINA, OfficeHours, WorkingCalendar
from .case_states import COMPLETED
from .catalog import AgencyItem, StageLimit, TimeLimit
from .deadlines import Deadline, Pause, WarningPolicy, compute_deadline, level_at
from .errors import Conflict, InvalidInput
from .model import APPROVED, CLOSED, Case, CaseDeadline, CasePause, CaseTask, ExtensionRequest

ACCEPTANCE_STAGE = "受理"
PROMISED, STATUTORY = "promised", "statutory"
LIMIT_NAMES = {PROMISED: "承诺时限", STATUTORY: "法定时限"}
WAIVER_PAUSE = "waiver"  # 容缺补正: the case's limits stop while the applicant brings the waived materials
NOT_STARTED = "not_started"  # a stage limit whose `from` stage has not ended yet
SYSTEM = "system"  # who starts and ends the pauses the case's own moves bring (容缺补正)
WAIVER_REASON = "容缺受理，等待申请人补齐容缺材料"
MAX_TIMER_DAYS = 3650  # the most working days a diagram's timer may ask for


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
    added_pauses: list[CasePause] = field(default_factory=list)  # the same for the pauses it started

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

    def receive(self, limit: StageLimit | None, at: datetime) -> bool:
        """A partner's case (转移接续's 转出地) has no 受理: its clock starts when the message that opened it
        arrives, with the stage limit it owes from then, if any. Returns whether a limit started."""
        self.case.accepted_at = at
        return limit is not None and self.start(limit.stage, limit.limit, at)

    def follow_waiver(self, previous_stage: str, pauses: Callable[[], list[CasePause]], period: TimeLimit,
                      now: datetime) -> bool:
        """容缺补正: entering it starts the 补正期限 (again, after a return to 受理 and a new 容缺受理) and stops the
        case's own limits with a waiver pause; leaving it, the materials supplied or the case closed (补正超时),
        ends that pause. `pauses` gives the case's pauses, asked only when leaving (a read most commands spare).
        Returns whether anything changed."""
        waiting = self.case.stage == WAIVER_STAGE and self.case.status != CLOSED
        if waiting and previous_stage != WAIVER_STAGE:
            earlier = next((row for row in self.rows if row.kind == WAIVER_STAGE), None)
            if earlier is None:
                self.start(WAIVER_STAGE, period, now)
            else:
                earlier.starts_at, earlier.met_at = now, None
            self.added_pauses.append(CasePause(case_id=self.case.id, kind=WAIVER_PAUSE, started_at=now,
                                               reason=WAIVER_REASON, started_by=SYSTEM, ended_at=None,
                                               ended_by=None))
            return True
        if previous_stage != WAIVER_STAGE or waiting:
            return False
        pause = open_pause(pauses())
        return pause is not None and pause.kind == WAIVER_PAUSE and self.end_pause(pause, SYSTEM, now)

    def pause(self, pauses: list[CasePause], kind: str, reason: str, by: str, now: datetime) -> CasePause:
        """Stop the clock (补正, 中止 …) from `now`; refused while it is stopped already."""
        if open_pause(pauses) is not None:
            raise Conflict("计时已暂停")
        pause = CasePause(case_id=self.case.id, kind=kind, reason=reason.strip(), started_at=now, started_by=by,
                          ended_at=None, ended_by=None)
        self.added_pauses.append(pause)
        return pause

    def resumable(self, pauses: list[CasePause]) -> CasePause:
        """The pause a person may end now (恢复计时): not none, and not 容缺补正's, which ends by itself."""
        pause = open_pause(pauses)
        if pause is None:
            raise Conflict("计时没有暂停")
        if pause.kind == WAIVER_PAUSE:
            raise Conflict("容缺补正中的计时在容缺材料补齐或补正期限届满时自动恢复")
        return pause

    @staticmethod
    def end_pause(pause: CasePause | None, by: str, now: datetime) -> bool:
        """The clock runs again from `now` (a person resumed it, or the case closed while stopped)."""
        if pause is None or pause.ended_at is not None:
            return False
        pause.ended_at, pause.ended_by = now, by
        return True

    def require_started(self) -> None:
        """Moving or extending limits needs limits that run: an accepted, open case."""
        if self.case.accepted_at is None or self.case.status == CLOSED:
            raise InvalidInput("案件尚未受理或已办结，没有在计的时限")

    def due_moment(self, kind: str = PROMISED) -> datetime | None:
        """What a diagram's deadline(kind) waits for: the running limit's due moment, None while it does not run."""
        row = self.running(kind)
        return row.due_at.astimezone(CHINA) if row and row.due_at else None

    def warning_moment(self, kind: str = PROMISED) -> datetime | None:
        row = self.running(kind)
        return row.warning_at.astimezone(CHINA) if row and row.warning_at else None

    def working_days_from(self, today: date, count) -> datetime:
        """What a diagram's working_days(count) waits for: the close of office `count` working days after today."""
        if not isinstance(count, int) or not 0 <= count <= MAX_TIMER_DAYS:
            raise ValueError(f"working_days() 需要 0 到 {MAX_TIMER_DAYS} 之间的整数")
        return self.hours.close_of(self.calendar.add_working_days(today, count), CHINA)

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


def open_pause(pauses: list[CasePause]) -> CasePause | None:
    """The pause that stops the case's clock now, if any (one at a time)."""
    return next((pause for pause in pauses if pause.ended_at is None), None)


def task_level(task: CaseTask, pauses: list[CasePause], at: datetime) -> str:
    """Where the limit a task carries stands at `at`: normal, yellow, red, or paused while the clock is stopped
    (kept when the task is completed, so 已办 shows the level it had then, not today's)."""
    if task.due_at is None and open_pause(pauses) is not None:
        return "paused"
    return level_at(task.due_at, task.warning_at, at)


def approved_extension_days(extensions: list[ExtensionRequest]) -> int:
    """The working days the approved extension requests add to the 承诺 and 法定 limits."""
    return sum(request.days for request in extensions if request.status == APPROVED)


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
