"""Escalations (黄牌, 红牌) as a case's limit timers raise them: the desk a case's `escalate` handler talks to, in
the command's transaction. What supervisors then do with them is services/desk.py."""
from __future__ import annotations

from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain.deadlines import escalation_wording, overdue_working_days
from workflows.domain.events import EscalationRaised
from workflows.domain.model import SUPERVISION_STAGE, Case, Escalation

from workflows.domain.case_limits import due_label, limit_name

from .clock import CaseClock
from .context import Context
from .history import SYSTEM, add_history

LEVEL_NAMES = {"yellow": "黄牌预警", "red": "红牌超期"}
REPLACED = "replaced"  # a 黄牌 whose limit went red: the 红牌 is the desk's entry for that limit


class CaseDesk:
    """The EscalationDesk a case's `escalate` handler talks to: our own tables, in the command's transaction."""

    def __init__(self, uow: UnitOfWork, ctx: Context, case: Case, clock: CaseClock):
        self.uow, self.ctx, self.case, self.clock = uow, ctx, case, clock

    def raise_escalation(self, level: str, limit: str, stage: str | None) -> bool:
        """One desk entry per case and limit: a 红牌 replaces the limit's 黄牌, and a 黄牌 whose limit is already
        past due (both timers went off in one pass, the red one right after) is not raised at all. A limit's timer
        watches the whole case (an event sub-process): the card names the stage the case stands at (a diagram with
        a timer on every task names the task's)."""
        case, uow, at = self.case, self.uow, self.ctx.now()
        stage = stage or case.stage
        row = self.clock.running(limit)
        if uow.escalations.find(case.id, limit, level) is not None:
            return False  # each limit warns once and goes red once, however many tasks carry its timer
        if level == "yellow" and (uow.escalations.find(case.id, limit, "red") is not None
                                  or (row is not None and row.due_at is not None and at > row.due_at)):
            return False
        if level == "red":
            self._replace_warning(limit, at)
        uow.escalations.add(Escalation(case_id=case.id, case_number=case.number, agency_code=case.agency_code,
                                       hall_code=case.hall_code, item_name=case.item_name, limit_kind=limit,
                                       level=level, stage=stage, raised_at=at, status="open", handled_by=None,
                                       handled_at=None, action=None, note=None))
        late = overdue_working_days(self.clock.calendar, row.due_at, at) if row and row.due_at else 0
        message = (f"{LEVEL_NAMES[level]}：{case.item_name} {case.number} 的{limit_name(limit)}"
                   + escalation_wording(level, due_label(row) if row else "（未计时）", late))
        uow.publish(EscalationRaised(case.id, level, message, at))  # its handler tells the people concerned
        add_history(uow, case, at, SYSTEM, f"escalation_{level}", message, stage=stage,
                    detail={"limit": limit, "level": level})
        return True

    def _replace_warning(self, limit: str, at) -> None:
        """The limit's open 黄牌 leaves the desk: its 红牌 is the entry now."""
        warning = self.uow.escalations.find(self.case.id, limit, "yellow")
        if warning is not None and warning.status == "open":
            warning.status, warning.handled_by, warning.handled_at = REPLACED, SYSTEM, at
            warning.action, warning.note = REPLACED, "已转为红牌"


def notify_escalation(uow: UnitOfWork, event: EscalationRaised) -> None:
    """The bus's handler of EscalationRaised: the people handling the case now (or the last who did) and the
    supervisors of its hall are told, in the transaction that raised it."""
    case = uow.cases.get_by_id(event.case_id)
    supervisors = {u.username for u in uow.users.in_hall(case.agency_code, case.hall_code)
                   if u.has_role("supervisor")}
    for username in sorted(handlers_of(uow, case) | supervisors):
        uow.notifications.add(username, f"escalation_{event.level}", event.message, event.at, case)


def handlers_of(uow: UnitOfWork, case: Case) -> set[str]:
    """Who handles the case now: the holders of its open tasks, else the last person who completed one."""
    tasks = uow.tasks.for_case(case.id)
    handlers = {t.assignee for t in tasks if t.state == "ready" and t.assignee and t.stage != SUPERVISION_STAGE}
    if handlers:
        return handlers
    done = [t for t in tasks if t.completed_by]
    return {done[-1].completed_by if done else case.opened_by}
