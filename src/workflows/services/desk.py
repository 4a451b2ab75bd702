"""The supervisors' desk (督办台): what supervisors do with the escalations the time-limit timers raised
(services/escalations.py)."""
from __future__ import annotations

from workflows.domain import pages
from workflows.domain.errors import Conflict, InvalidInput, NotFound
from workflows.domain.model import COMPLETED, SUPERVISION_STAGE, Case, Escalation

from .access import require_role
from .context import Context
from .escalations import handlers_of
from .history import add_history
from .progress import CaseCommand
from .substitutes import resolve_assignee
from .retries import retried
from .time_limits import MAX_EXTENSION_DAYS, grant_extension, record_moves, valid_extension_days

ACTIONS = {"urge": "催办", "reassign": "改派", "extend": "延期", "note": "记录督办意见"}


def list_escalations(ctx: Context, actor, status: str | None = "open", limit: int = 200,
                     offset: int = 0) -> list[Escalation]:
    """The escalations of the supervisor's hall: red before yellow, the oldest first."""
    require_role(actor, "supervisor")
    with ctx.uow(write=False) as uow:
        return uow.escalations.desk(actor.agency_code, actor.hall_code, status, min(limit, pages.MAX_PAGE), offset)


@retried
def handle_escalation(ctx: Context, actor, escalation_id: int, action: str, note: str,
                      assignee: str | None = None, days: int | None = None) -> Escalation:
    """督办: a supervisor urges the handler, reassigns the case's task, extends the limit, or notes; the
    escalation is then handled, and the case history says who did what."""
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
    for username in handlers_of(uow, case):
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
