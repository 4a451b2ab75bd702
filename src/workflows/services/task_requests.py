"""What a task's requests (委派, 加签, 督办) ask of its completion and of its changing hands: the rules are
domain/case.py's TaskParts, asked by tasks.complete_task on the case it loaded for update and here by a release, a
改派 and task_operations; a completion held for signers is kept here; the operations that make the requests are
task_operations.py."""
from __future__ import annotations

from functools import partial

from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain.case import CaseAggregate, TaskParts
from workflows.domain.errors import Conflict
from workflows.domain.events import StaffNotified
from workflows.domain.model import (AFTER, DISAGREE, DONE, PARALLEL, PENDING, WITHDRAWN, Case, CaseTask,
                                    TaskRequest, TaskSubmission, User)

from .context import Context, jsonable
from .history import add_history


def hold_submission(uow: UnitOfWork, ctx: Context, actor: User, aggregate: CaseAggregate, cleaned: dict,
                    submitted: dict) -> bool:
    """后加签/并行: while after- or parallel signers have not signed, keep the holder's submission (as sent) and say
    so; after-signers who said 不同意 to an earlier submission are asked again. True if held (never without
    requests)."""
    task, case, requests = aggregate.task, aggregate.case, aggregate.parts.requests
    if not requests:
        return False
    at = ctx.now()
    latest = {r.assignee: r for r in requests if r.kind == AFTER and r.status != WITHDRAWN}
    again = [new_request(uow, task, AFTER, actor, uow.users.get(r.assignee), "重新提交，请再次签署", None, at)
             for r in latest.values() if r.status == DONE and r.decision == DISAGREE]
    waiting = [r for r in requests + again if r.status == PENDING and r.kind in (AFTER, PARALLEL)]
    if not waiting:
        return False
    if task.assignee is None and not uow.tasks.set_assignee(task.id, actor.username, None, at):
        raise Conflict(f"任务已由{task.assignee}认领")
    uow.task_requests.add_submission(TaskSubmission(task_id=task.id, case_id=case.id, submitted_by=actor.username,
                                                    data=jsonable(submitted), submitted_at=at))
    message = (f"{actor.full_name}提交“{task.name}”，"
               f"待{TaskParts(requests=waiting).pending_names(names_of(uow), AFTER, PARALLEL)}签署后流转")
    add_history(uow, case, at, actor.username, "submitted", message, stage=task.stage, task_name=task.name,
                detail={"data": jsonable(cleaned), "waiting": [r.assignee for r in waiting]})
    tell(uow, case, [r.assignee for r in waiting if r.kind == AFTER], "signer_added",
          f"{actor.full_name}已提交“{task.name}”，请后加签签署", at)
    return True


def new_request(uow: UnitOfWork, task: CaseTask, kind: str, actor: User, target: User, reason: str, note, at
             ) -> TaskRequest:
    request = TaskRequest(task_id=task.id, case_id=task.case_id, kind=kind, requested_by=actor.username,
                          assignee=target.username, reason=reason, substitute_note=note, status=PENDING,
                          decision=None, opinion=None, requested_at=at, done_at=None, withdrawn_by=None)
    uow.task_requests.add(request)
    uow.flush()
    return request


def tell(uow: UnitOfWork, case: Case, usernames, kind: str, message: str, at) -> None:
    """The people named are told, by the bus's StaffNotified handler (services/notifications.py) at commit."""
    uow.publish(StaffNotified(case.id, tuple(usernames), kind, message, at))


def name_of(uow: UnitOfWork, username: str | None) -> str:
    user = uow.users.get(username) if username else None
    return user.full_name if user else (username or "")


def names_of(uow: UnitOfWork):
    """name_of for the domain's rules, which read no users themselves."""
    return partial(name_of, uow)
