"""The supervisors' desk (督办台): escalations raised by time-limit timers, and what supervisors do with them."""
from __future__ import annotations

from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain.deadlines import escalation_wording, overdue_working_days
from workflows.domain.errors import Conflict, InvalidInput, NotFound
from workflows.domain.model import COMPLETED, SUPERVISION_STAGE, Case, Escalation

from .access import require_role
from .clock import CaseClock, due_label, limit_name
from .context import Context
from .history import SYSTEM, add_history
from .substitutes import resolve_assignee
from .retries import retried

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
        row = self.clock._running(limit)
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
        for username in self._recipients():
            uow.notifications.add(username, f"escalation_{level}", message, at, case)
        add_history(uow, case, at, SYSTEM, f"escalation_{level}", message, stage=stage,
                    detail={"limit": limit, "level": level})
        return True

    def _replace_warning(self, limit: str, at) -> None:
        """The limit's open 黄牌 leaves the desk: its 红牌 is the entry now."""
        warning = self.uow.escalations.find(self.case.id, limit, "yellow")
        if warning is not None and warning.status == "open":
            warning.status, warning.handled_by, warning.handled_at = REPLACED, SYSTEM, at
            warning.action, warning.note = REPLACED, "已转为红牌"

    def _recipients(self) -> list[str]:
        """The people handling the case now (or the last who did), and the supervisors of its hall."""
        handlers = _handlers(self.uow, self.case)
        supervisors = {u.username for u in self.uow.users.in_hall(self.case.agency_code, self.case.hall_code)
                       if u.has_role("supervisor")}
        return sorted(handlers | supervisors)


ACTIONS = {"urge": "催办", "reassign": "改派", "extend": "延期", "note": "记录督办意见"}


def list_escalations(ctx: Context, actor, status: str | None = "open", limit: int = 200,
                     offset: int = 0) -> list[Escalation]:
    """The escalations of the supervisor's hall: red before yellow, the oldest first."""
    require_role(actor, "supervisor")
    with ctx.uow(write=False) as uow:
        return uow.escalations.desk(actor.agency_code, actor.hall_code, status, min(limit, 500), offset)


@retried
def handle_escalation(ctx: Context, actor, escalation_id: int, action: str, note: str,
                      assignee: str | None = None, days: int | None = None) -> Escalation:
    """督办: a supervisor urges the handler, reassigns the case's task, extends the limit, or notes; the
    escalation is then handled, and the case history says who did what."""
    from .time_limits import MAX_EXTENSION_DAYS, valid_extension_days  # time limits use this module's desk

    require_role(actor, "supervisor")
    errors = {}
    if action not in ACTIONS:
        errors["action"] = f"应为：{'、'.join(ACTIONS.values())}"
    if not (note or "").strip():
        errors["note"] = "请填写督办意见"
    if action == "reassign" and (not isinstance(assignee, str) or not assignee):
        errors["assignee"] = "请选择改派给谁"
    if action == "extend" and not valid_extension_days(days):
        errors["days"] = f"延期天数应为 1 到 {MAX_EXTENSION_DAYS} 个工作日"
    if errors:
        raise InvalidInput("督办内容有误", errors)
    with ctx.uow() as uow:
        escalation = uow.escalations.get(escalation_id)
        if escalation is None or (escalation.agency_code, escalation.hall_code) != (actor.agency_code,
                                                                                       actor.hall_code):
            raise NotFound("督办事项不存在")
        if escalation.status != "open":
            raise Conflict("该督办事项已处理")
        case = uow.cases.get_by_id(escalation.case_id, lock=True)
        at, note = ctx.now(), note.strip()
        message = _ACTIONS[action](uow, ctx, actor, case, note, assignee, days)
        add_history(uow, case, at, actor.username, f"supervision_{action}", message, stage=case.stage,
                    detail={"escalation": escalation.id, "level": escalation.level, "limit": escalation.limit_kind})
        escalation.status, escalation.handled_by, escalation.handled_at = "handled", actor.username, at
        escalation.action, escalation.note = action, note
        if escalation.level == "red":
            _close_supervision_tasks(uow, ctx, actor, case, note)
        uow.commit()
        return escalation


def _close_supervision_tasks(uow, ctx: Context, actor, case: Case, note: str) -> None:
    """A red escalation handled on the desk is the 督办 the diagram asked for: its 督办 task is done with it, so
    the supervisor does not 督办 the same card twice."""
    from .progress import CaseCommand  # a case command uses this module's desk: import when needed

    open_tasks = [t for t in uow.tasks.open_for_case(case.id) if t.stage == SUPERVISION_STAGE]
    if not open_tasks or case.status == "closed":
        return
    command = CaseCommand(uow, ctx, case)
    run = command.resume()
    for task in open_tasks:
        run.complete(task.id, {"decision": "done", "opinion": note})
        task.completed_level = command.clock.task_level(task, ctx.now())
        task.state, task.completed_at, task.completed_by = COMPLETED, ctx.now(), actor.username
        task.assignee, task.decision = actor.username, "done"
    command.record(run)


def _urge(uow, ctx, actor, case, note, _assignee, _days) -> str:
    text = f"{actor.full_name}催办 {case.item_name} {case.number}：{note}"
    for username in _handlers(uow, case):
        uow.notifications.add(username, "urge", text, ctx.now(), case)
    return text


def _reassign(uow, ctx, actor, case, note, assignee, _days) -> str:
    user = uow.users.get(assignee)
    tasks = [t for t in uow.tasks.open_for_case(case.id) if t.stage != SUPERVISION_STAGE]
    if user is None or (user.agency_code, user.hall_code) != (case.agency_code, case.hall_code):
        raise InvalidInput("改派对象有误", {"assignee": "只能改派给本大厅的人员"})
    if not tasks or not all(user.has_role(task.role) for task in tasks):
        raise InvalidInput("改派对象有误", {"assignee": f"{user.full_name}不具备办理当前环节的岗位"})
    holder, away = resolve_assignee(uow, user.username, ctx.now())
    for task in tasks:
        task.assignee, task.claimed_at = holder, ctx.now()
    text = (f"{actor.full_name}将“{'、'.join(t.name for t in tasks)}”改派给{user.full_name}：{note}"
            + (f"（{away}）" if away else ""))
    uow.notifications.add(holder, "reassigned", text, ctx.now(), case)
    return text


def _extend(uow, ctx, actor, case, note, _assignee, days) -> str:
    from .progress import CaseCommand  # a case command uses this module's desk: import when needed
    from .time_limits import grant_extension, record_moves

    command = CaseCommand(uow, ctx, case)
    command.clock.require_started()
    run = command.resume()
    text = grant_extension(uow, ctx, actor, command, days, note)
    record_moves(uow, ctx, case, actor.username, command.clock.refresh(run))
    command.record(run)
    return text


def _note(uow, ctx, actor, case, note, _assignee, _days) -> str:
    return f"{actor.full_name}督办意见：{note}"


_ACTIONS = {"urge": _urge, "reassign": _reassign, "extend": _extend, "note": _note}


def _handlers(uow: UnitOfWork, case: Case) -> set[str]:
    """Who handles the case now: the holders of its open tasks, else the last person who completed one."""
    tasks = uow.tasks.for_case(case.id)
    handlers = {t.assignee for t in tasks if t.state == "ready" and t.assignee and t.stage != SUPERVISION_STAGE}
    if handlers:
        return handlers
    done = [t for t in tasks if t.completed_by]
    return {done[-1].completed_by if done else case.opened_by}
