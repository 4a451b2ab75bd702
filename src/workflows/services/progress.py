"""After every command on a case: bring its row, its inbox tasks and its history in line with the workflow.

All of it is written in the command's one transaction, so an inbox never shows a task the workflow does not have.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from handlers.gateways import LocalNationalPlatform, LocalPaymentGateway, LocalSmsNotifier
from workflows.adapters.engine import CaseBindings, CaseRun
from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain.model import (CANCELLED, CLOSED, FAILED, OPEN, READY, Case, CaseTask, ExternalCall,
                                    HistoryEntry)

from .context import Context, jsonable

SYSTEM = "system"
FINAL_STAGE = "办结"
_STEP_MESSAGES = {"service": "系统完成“{name}”", "message": "系统：{name}", "end": "办理结束：{name}"}


def bindings_for(uow: UnitOfWork, ctx: Context, case: Case) -> CaseBindings:
    """The case's view of outside systems: the local stand-ins, recording every call with the case."""

    def record(system: str, operation: str, request: dict, response: dict) -> None:
        uow.external.record(ExternalCall(case_id=case.id, system=system, operation=operation,
                                         request=jsonable(request), response=jsonable(response), at=ctx.now()))

    return CaseBindings(case.number, case.agency_code, case.item_code, case.item_name, dict(case.applicant),
                        LocalNationalPlatform(uow.external.person, record), LocalPaymentGateway(record),
                        LocalSmsNotifier(record))


def add_history(uow: UnitOfWork, case: Case, at: datetime, actor: str, action: str, message: str,
                stage: str | None = None, task_name: str | None = None, detail: dict | None = None) -> None:
    uow.history.add(HistoryEntry(case_id=case.id, at=at, actor=actor, action=action, stage=stage,
                                 task_name=task_name, message=message, detail=jsonable(detail or {})))


@dataclass(frozen=True)
class Progress:
    """Where a case stands after a command: the case, and the tasks now waiting for people."""

    case: Case
    open_tasks: list[CaseTask]


def record_progress(uow: UnitOfWork, ctx: Context, case: Case, run: CaseRun) -> Progress:
    at = ctx.now()
    for step in run.steps:
        add_history(uow, case, at, SYSTEM, step.kind, _STEP_MESSAGES[step.kind].format(name=step.name),
                    stage=step.stage, task_name=step.name)
    for name, payload in run.thrown_messages():
        add_history(uow, case, at, SYSTEM, "message_sent", f"发出消息“{name}”", detail={"payload": payload})
    ready = _sync_tasks(uow, case, run, at)
    case.data = jsonable(run.data)
    case.workflow_state = ctx.engine.dump(run)
    if run.failure:
        case.status = FAILED
        add_history(uow, case, at, SYSTEM, "failed", f"“{run.failure.task_name}”出错：{run.failure.message}",
                    task_name=run.failure.task_name)
    elif run.completed:
        case.status, case.result, case.closed_at, case.stage = CLOSED, run.result, at, FINAL_STAGE
    else:
        case.status = OPEN
        case.stage = ready[0].stage if ready else (run.stage_waiting() or case.stage)
    return Progress(case, ready)


def _sync_tasks(uow: UnitOfWork, case: Case, run: CaseRun, at: datetime) -> list[CaseTask]:
    """Add inbox rows for newly ready tasks, cancel rows whose task the workflow dropped; return the open ones."""
    open_rows = {row.id: row for row in uow.tasks.open_for_case(case.id)}
    ready = []
    for task in run.ready_tasks():
        row = open_rows.pop(task.id, None)
        if row is None:
            definition = task.definition
            row = CaseTask(id=task.id, case_id=case.id, case_number=case.number, agency_code=case.agency_code,
                           hall_code=case.hall_code, item_code=case.item_code, item_name=case.item_name,
                           spec_id=definition.spec_id, name=definition.name, stage=definition.stage,
                           role=definition.role, state=READY, assignee=None, created_at=at, claimed_at=None,
                           completed_at=None, completed_by=None, decision=None, due_at=None)
            uow.tasks.add(row)
        ready.append(row)
    for row in open_rows.values():
        row.state = CANCELLED
    return ready
