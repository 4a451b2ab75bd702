"""What a task's requests (委派, 加签, 督办) ask of its completion and of its changing hands: tasks.complete_task
and tasks' claim and 改派 ask here first; the operations that make the requests are task_operations.py."""
from __future__ import annotations

from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain.errors import Conflict, Forbidden
from workflows.domain.events import StaffNotified
from workflows.domain.model import (AFTER, BEFORE, DELEGATE, DISAGREE, DONE, PARALLEL, PENDING, WITHDRAWN, Case,
                                    CaseTask, TaskActivity, TaskRequest, TaskSubmission, User)

from .context import Context, jsonable
from .history import add_history


def refuse_delegate(uow: UnitOfWork, actor: User, task: CaseTask, activity: TaskActivity) -> None:
    """A delegate answers with an opinion; the holder decides."""
    if activity.requests and task.assignee != actor.username and any(
            r.kind == DELEGATE and r.status == PENDING and r.assignee == actor.username
            for r in uow.task_requests.for_task(task.id)):
        raise Forbidden(f"您受{name_of(uow, task.assignee)}委派，只能填写办理意见，由其办理决定")


def require_completable(uow: UnitOfWork, task: CaseTask, activity: TaskActivity) -> None:
    """Refuse (409) while someone must act first: a held submission's signers, the delegate, 前加签 signers, or
    the handler's reply to a 督办 (`activity`: what to look at; nothing when nobody else has a part)."""
    if not activity.any:
        return
    pending = [r for r in uow.task_requests.for_task(task.id) if r.status == PENDING] if activity.requests else []
    if activity.submission:
        raise Conflict(f"已提交，待{pending_names(uow, pending, AFTER, PARALLEL)}签署后流转")
    delegation = next((r for r in pending if r.kind == DELEGATE), None)
    if delegation:
        raise Conflict(f"任务已委派给{name_of(uow, delegation.assignee)}，待其办理意见后再办理，或先收回委派")
    if any(r.kind == BEFORE for r in pending):
        raise Conflict(f"须待{pending_names(uow, pending, BEFORE)}前加签签署后再办理")
    unreplied = next((s for s in uow.supervisions.for_task(task.id) if s.replied_at is None), None) \
        if activity.unreplied else None
    if unreplied:
        raise Conflict(f"{name_of(uow, unreplied.supervisor)}督办：“{unreplied.instruction}”，"
                       "请先回复督办意见再办理")


def hold_submission(uow: UnitOfWork, ctx: Context, actor: User, task: CaseTask, case: Case, cleaned: dict,
                    submitted: dict, activity: TaskActivity) -> bool:
    """后加签/并行: while after- or parallel signers have not signed, keep the holder's submission (as sent) and say
    so; after-signers who said 不同意 to an earlier submission are asked again. True if held (never without
    requests: `activity`)."""
    if not activity.requests:
        return False
    at = ctx.now()
    with uow.reading():  # no request of the task is pending in this unit yet; the materials just marked may wait
        requests = uow.task_requests.for_task(task.id)
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
    message = f"{actor.full_name}提交“{task.name}”，待{pending_names(uow, waiting, AFTER, PARALLEL)}签署后流转"
    add_history(uow, case, at, actor.username, "submitted", message, stage=task.stage, task_name=task.name,
                detail={"data": jsonable(cleaned), "waiting": [r.assignee for r in waiting]})
    tell(uow, case, [r.assignee for r in waiting if r.kind == AFTER], "signer_added",
          f"{actor.full_name}已提交“{task.name}”，请后加签签署", at)
    return True


def transfer_obstacle(uow: UnitOfWork, task: CaseTask) -> str | None:
    """Why an open task cannot change hands now (a supervisor's 改派 too), or None."""
    activity = uow.task_requests.activity(task.id)
    if not (activity.requests or activity.submission):
        return None
    if activity.submission:
        return "已提交，待加签人签署"
    delegation = next((r for r in uow.task_requests.for_task(task.id)
                       if r.kind == DELEGATE and r.status == PENDING), None)
    return f"已委派给{name_of(uow, delegation.assignee)}，尚未办理" if delegation else None


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


def pending_names(uow: UnitOfWork, requests: list[TaskRequest], *kinds: str) -> str:
    return "、".join(dict.fromkeys(name_of(uow, r.assignee) for r in requests
                                   if r.kind in kinds and r.status == PENDING)) or "加签人"
