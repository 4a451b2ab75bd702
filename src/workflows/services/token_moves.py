"""跳转: a 科室负责人 or an administrator moves a case's token (issue 13): the open task, waiting event or failed
step is cancelled and another element of the same version activated (a user task, or where a stage begins), with a
written reason. A move that would skip a step with outside effects not done (a payment), or redo one done, needs
the user's compensation note (domain/case_migration.py). The limits follow the stage the case is now in, as after
any step; the history keeps who moved it from where to where, and why.

The 委派 and 加签 still open on the task a move cancels are closed with it (withdrawn by the mover, a history line,
the people asked told): a 科室负责人 moves a token to get a stuck case going, and would otherwise have to find the
holder to recall each request first — a delegation only its holder may recall — while those asked would go on
seeing a request on a task no longer anyone's. A submission held for after-signers goes too: the step it would
complete is cancelled."""
from __future__ import annotations

from dataclasses import dataclass

from workflows.adapters.workflow_migration import TokenMove
from workflows.domain import case_migration as rules
from workflows.domain.case_migration import MoveTarget
from workflows.domain.errors import Conflict, InvalidInput
from workflows.domain.model import CLOSED, PENDING, REQUEST_KINDS, Case, User

from .access import case_for_update, require_case_visible
from .case_operations import require_not_suspended
from .context import Context
from .history import add_history
from .progress import CaseCommand, Progress
from .retries import retried
from .task_requests import name_of, tell


@dataclass(frozen=True)
class MoveSource:
    """Where the case stands, and where its token may go from there."""

    element_id: str
    name: str
    targets: list[MoveTarget]


def move_options(ctx: Context, actor: User, number: str) -> list[MoveSource]:
    rules.require_may_move(actor)
    with ctx.uow(write=False) as uow:
        case = require_case_visible(actor, uow.cases.get(number))
        if case.status == CLOSED:
            return []
        move = TokenMove(CaseCommand(uow, ctx, case).resume())
        return [MoveSource(task.task_spec.name, task.task_spec.bpmn_name or task.task_spec.name,
                           move.targets(task.task_spec.name)) for task in move.active()]


@retried
def move_token(ctx: Context, actor: User, number: str, source: str, target: str, reason,
               compensation_note=None) -> Progress:
    rules.require_may_move(actor)
    text = rules.clean_reason(reason, "跳转")
    with ctx.uow() as uow:
        case = case_for_update(uow, actor, number)
        if case.status == CLOSED:
            raise Conflict("案件已办结，不能跳转")
        require_not_suspended(uow, case, "跳转")
        command = CaseCommand(uow, ctx, case)
        move = TokenMove(command.resume())
        here = next((t for t in move.active() if t.task_spec.name == source), None)
        if here is None:
            raise InvalidInput("案件当前不在该环节", {"from": "请选择案件当前所在的环节"})
        chosen = next((t for t in move.targets(source) if t.element_id == target), None)
        if chosen is None:
            raise InvalidInput("只能跳转到本流程版本的用户任务或环节起点", {"to": "请选择可跳转的环节"})
        note = rules.clean_compensation(chosen, compensation_note)
        move.move(source, target)
        from_name = here.task_spec.bpmn_name or source
        message = f"{actor.full_name}将案件从“{from_name}”跳转到“{chosen.name}”：{text}"
        if note:
            message += f"（越过{'、'.join(chosen.effects)}，补偿说明：{note}）"
        at = ctx.now()
        add_history(uow, case, at, actor.username, "token_moved", message, stage=case.stage,
                    detail={"from": source, "to": target, "reason": text, "effects": list(chosen.effects),
                            "compensation_note": note})
        _close_requests(uow, case, actor, str(here.id), from_name, at)
        progress = command.record(move.run)
        uow.commit()
        return progress


def _close_requests(uow, case: Case, actor: User, task_id: str, name: str, at) -> None:
    """The open 委派 and 加签 of the cancelled task `task_id` (and a submission held for its signers) end with it."""
    activity = uow.task_requests.activity(task_id)
    if not (activity.requests or activity.submission):
        return
    submission = uow.task_requests.submission(task_id) if activity.submission else None
    if submission is not None:
        uow.task_requests.drop_submission(submission)
    pending = [r for r in uow.task_requests.for_task(task_id) if r.status == PENDING]
    for request in pending:
        request.withdraw(actor.username, at)
    if not pending:
        return
    asked = "、".join(f"{name_of(uow, r.assignee)}的{REQUEST_KINDS[r.kind]}" for r in pending)
    message = f"“{name}”已因跳转取消，{asked}随之撤销"
    add_history(uow, case, at, actor.username, "requests_closed", message, stage=case.stage, task_name=name,
                detail={"task": task_id, "requests": [r.id for r in pending],
                        "submission_dropped": submission is not None})
    tell(uow, case, [r.assignee for r in pending], "requests_closed", message, at)
