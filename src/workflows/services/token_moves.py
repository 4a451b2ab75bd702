"""跳转: a 科室负责人 or an administrator moves a case's token (issue 13): the open task, waiting event or failed
step is cancelled and another element of the same version activated (a user task, or where a stage begins), with a
written reason. A move that would skip a step with outside effects not done (a payment), or redo one done, needs
the user's compensation note (domain/case_migration.py). The limits follow the stage the case is now in, as after
any step; the history keeps who moved it from where to where, and why."""
from __future__ import annotations

from dataclasses import dataclass

from workflows.adapters.workflow_migration import TokenMove
from workflows.domain import case_migration as rules
from workflows.domain.case_migration import MoveTarget
from workflows.domain.errors import Conflict, InvalidInput
from workflows.domain.model import CLOSED, User

from .access import require_case_visible
from .case_operations import require_not_suspended
from .context import Context
from .history import add_history
from .progress import CaseCommand, Progress
from .retries import retried


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
        found = require_case_visible(actor, uow.cases.get(number) if isinstance(number, str) else None)
        case = uow.cases.get_by_id(found.id, lock=True)
        uow.refresh(case)
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
        add_history(uow, case, ctx.now(), actor.username, "token_moved", message, stage=case.stage,
                    detail={"from": source, "to": target, "reason": text, "effects": list(chosen.effects),
                            "compensation_note": note})
        progress = command.record(move.run)
        uow.commit()
        return progress
