"""The supervisors' desk (督办台): escalations raised by time-limit timers, and what supervisors do with them."""
from __future__ import annotations

from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain.model import Case, Escalation

from .clock import CaseClock, due_label, limit_name
from .context import Context
from .history import SYSTEM, add_history

LEVEL_NAMES = {"yellow": "黄牌预警", "red": "红牌超期"}


class CaseDesk:
    """The EscalationDesk a case's `escalate` handler talks to: our own tables, in the command's transaction."""

    def __init__(self, uow: UnitOfWork, ctx: Context, case: Case, clock: CaseClock):
        self.uow, self.ctx, self.case, self.clock = uow, ctx, case, clock

    def raise_escalation(self, level: str, limit: str, stage: str | None) -> bool:
        case, uow = self.case, self.uow
        if uow.escalations.find(case.id, limit, level) is not None:
            return False  # each limit warns once and goes red once, however many tasks carry its timer
        at = self.ctx.now()
        uow.escalations.add(Escalation(case_id=case.id, case_number=case.number, agency_code=case.agency_code,
                                       hall_code=case.hall_code, item_name=case.item_name, limit_kind=limit,
                                       level=level, stage=stage, raised_at=at, status="open", handled_by=None,
                                       handled_at=None, action=None, note=None))
        row = self.clock._running(limit)
        when = due_label(row) if row else "（未计时）"
        message = (f"{LEVEL_NAMES[level]}：{case.item_name} {case.number} 的{limit_name(limit)}"
                   f"{'将于' if level == 'yellow' else '已于'} {when} {'到期' if level == 'yellow' else '届满'}")
        for username in self._recipients():
            uow.notifications.add(username, f"escalation_{level}", message, at, case)
        add_history(uow, case, at, SYSTEM, f"escalation_{level}", message, stage=stage,
                    detail={"limit": limit, "level": level})
        return True

    def _recipients(self) -> list[str]:
        """The people handling the case now (or the last who did), and the supervisors of its hall."""
        tasks = self.uow.tasks.for_case(self.case.id)
        handlers = {t.assignee for t in tasks if t.state == "ready" and t.assignee}
        if not handlers:
            done = [t for t in tasks if t.completed_by]
            handlers = {done[-1].completed_by if done else self.case.opened_by}
        supervisors = {u.username for u in self.uow.users.in_hall(self.case.agency_code, self.case.hall_code)
                       if u.has_role("supervisor")}
        return sorted(handlers | supervisors)
