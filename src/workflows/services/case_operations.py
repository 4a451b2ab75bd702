"""Operations on a case's workflow as a whole: 退回 to an earlier step, 撤回 one's own step, 撤件 (the applicant
withdraws the application), 终止 (a supervisor ends the case), 中止 that really stops the work, and the retry of a
failed service task.

Each takes a reason, checks who may, acts on the case's workflow in one transaction with the case row locked,
writes a line in the case's history and tells whoever must act next. Going back (退回, 撤回) stops at a step that
changed something outside the case (a payment made, a registration written, a document issued): undoing the
workflow would not undo that.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflows.adapters.engine import CaseRun
from workflows.domain.errors import Conflict, Forbidden, InvalidInput
from workflows.domain.text import reason_text
from workflows.domain.model import (CASE_TERMINATED, CASE_WITHDRAWN, CLOSED, COMPLETED, FAILED, READY,
                                    SUPERVISION_STAGE, Case, CasePause, CaseTask, User)

from .access import case_for_update, require_case_visible, require_role, require_task_role, require_task_visible
from .context import Context
from .history import add_history
from .progress import CaseCommand, Progress
from .public import Proof, guarded, owned_case  # the applicant proves the case is theirs as for 进度查询
from .substitutes import resolve_assignee
from .retries import retried

SUSPENSION = "suspension"  # the pause kind of 中止 (time_limits.PAUSE_KINDS)
APPLICANT = "申请人"  # the actor of the history line when the applicant withdraws on the public page


@dataclass(frozen=True)
class ReturnTarget:
    """An earlier step of the case an open task may be sent back to (退回)."""

    task_id: str  # the task of the step as last completed
    name: str
    stage: str
    completed_by: str | None
    completed_by_name: str | None
    completed_at: datetime | None
    refusal: str | None  # why the case cannot go back there (an outside effect since), or None


@dataclass(frozen=True)
class CaseOperations:
    """What the signed-in user may do on a case's workflow now, for the page of the case or of one of its tasks."""

    number: str
    is_open: bool
    suspension: CasePause | None  # the open 中止, if the case is suspended
    failure: str | None  # what went wrong, while the case is failed
    return_targets: list[ReturnTarget]  # on the page of a task the user holds: where it may be sent back to
    withdrawable: list[CaseTask]  # the user's own completed tasks of the case that may still be taken back
    can_withdraw_case: bool  # 撤件 (受理员)
    can_terminate: bool  # 终止 (科室负责人)
    can_suspend: bool
    can_resume: bool
    can_retry: bool  # 科室负责人 or 系统管理员, while the case is failed


# --- 中止 ------------------------------------------------------------------------------------------------------

def suspension(uow, case: Case) -> CasePause | None:
    return next((p for p in uow.deadlines.pauses(case.id) if p.ended_at is None and p.kind == SUSPENSION), None)


def require_not_suspended(uow, case: Case, doing: str = "办理") -> None:
    """While a case is suspended (中止) nothing moves it on: its tasks wait until a supervisor resumes it."""
    pause = suspension(uow, case)
    if pause is not None:
        raise Conflict(f"案件已中止（{pause.reason}），恢复后才能{doing}")


def is_suspended(ctx: Context, actor: User, number: str) -> bool:
    with ctx.uow(write=False) as uow:
        return suspension(uow, require_case_visible(actor, uow.cases.get(number))) is not None


# --- 退回 --------------------------------------------------------------------------------------------------------

def return_targets(ctx: Context, actor: User, task_id: str) -> list[ReturnTarget]:
    """The earlier steps the holder of an open task may send the case back to, the latest first."""
    with ctx.uow(write=False) as uow:
        task, case = _held_task(uow, actor, task_id)
        return _targets(uow, CaseCommand(uow, ctx, case).resume(), task)


@retried
def return_task(ctx: Context, actor: User, task_id: str, target_task_id: str, reason: str) -> Progress:
    """退回/驳回: the holder of an open task sends the case back to an earlier step of its path. The workflow
    resumes from there; the step's task goes to whoever completed it last (or their substitute), told why."""
    with ctx.uow() as uow:
        task, case = _held_task(uow, actor, task_id, lock=True)
        require_not_suspended(uow, case, "退回")
        text = _reason(reason, "退回")
        command = CaseCommand(uow, ctx, case)
        run = command.resume()
        target = next((t for t in _targets(uow, run, task) if t.task_id == target_task_id), None)
        if target is None:
            raise InvalidInput("只能退回到本案已经办理过的环节",
                               {"target_task_id": "请选择本案已经办理过的环节"})
        if target.refusal:
            raise Conflict(target.refusal)
        reopened = run.reset_to(target.task_id)
        at = ctx.now()
        message = f"{actor.full_name}将案件从“{task.name}”退回到“{target.name}”：{text}"
        add_history(uow, case, at, actor.username, "returned", message, stage=task.stage, task_name=task.name,
                    detail={"to": target.name, "reason": text})
        progress = command.record(run)
        _hand_back(uow, case, progress, reopened, target.completed_by, at, message, "returned")
        uow.commit()
        return progress


def _held_task(uow, actor: User, task_id: str, lock: bool = False) -> tuple[CaseTask, Case]:
    """An open task of the case's own path that the actor holds (claimed, or unclaimed and of their role)."""
    task = require_task_visible(actor, uow.tasks.get(task_id) if isinstance(task_id, str) else None)
    case = require_case_visible(actor, uow.cases.get_by_id(task.case_id, lock=lock))
    if lock:
        uow.refresh(task)  # as it is now that the case is ours
    require_task_role(actor, task)
    if task.state != READY:
        raise Conflict("任务已办理或已取消")
    if task.assignee not in (None, actor.username):
        raise Forbidden(f"任务已由{task.assignee}认领，只有认领人可以退回")
    if task.stage == SUPERVISION_STAGE:
        raise Conflict("督办任务不在案件的办理路径上，不能退回")
    return task, case


def _targets(uow, run: CaseRun, task: CaseTask) -> list[ReturnTarget]:
    targets = []
    for step in run.passed_steps(task.id):
        row = uow.tasks.get(step.id)
        refusal = None
        if step.effects_since:
            done = "、".join(f"“{name}”" for name in reversed(step.effects_since))
            refusal = f"{done}已对外办理，退回不能撤销，不能退回到“{step.definition.name}”"
        by = uow.users.get(row.completed_by) if row and row.completed_by else None
        targets.append(ReturnTarget(step.id, step.definition.name, step.definition.stage,
                                    row.completed_by if row else None, by.full_name if by else None,
                                    row.completed_at if row else None, refusal))
    return targets


def _hand_back(uow, case: Case, progress: Progress, task_id: str, username: str | None, at: datetime,
               message: str, kind: str) -> None:
    """Give the reopened task to `username` (or their substitute while away) and tell them why."""
    row = next((task for task in progress.open_tasks if task.id == task_id), None)
    user = uow.users.get(username) if username else None
    if row is None or user is None or not user.has_role(row.role):
        return  # nobody to give it to: it waits in the hall's inbox for anyone of its role
    assignee, note = resolve_assignee(uow, user.username, at, role=row.role)
    row.assignee, row.claimed_at = assignee, at
    if note:
        add_history(uow, case, at, user.username, "substituted", note, stage=row.stage, task_name=row.name)
    uow.notifications.add(assignee, kind, f"{message}，请重新办理“{row.name}”：{case.item_name} {case.number}",
                          at, case)


# --- 撤回 --------------------------------------------------------------------------------------------------------

@retried
def withdraw_task(ctx: Context, actor: User, task_id: str, reason: str) -> Progress:
    """撤回: who completed a task takes it back while the next handler has not acted on it (not claimed, not
    completed) and nothing was done outside since. The task is theirs again."""
    with ctx.uow() as uow:
        row = require_task_visible(actor, uow.tasks.get(task_id) if isinstance(task_id, str) else None)
        case = require_case_visible(actor, uow.cases.get_by_id(row.case_id, lock=True))
        uow.refresh(row)
        if row.completed_by != actor.username:
            raise Forbidden("只能撤回本人办理的任务")
        if case.status == CLOSED:
            raise Conflict("案件已办结，不能撤回")
        require_not_suspended(uow, case, "撤回")
        text = _reason(reason, "撤回")
        command = CaseCommand(uow, ctx, case)
        run = command.resume()
        obstacle = _withdraw_obstacle(uow, run, row)
        if obstacle:
            raise Conflict(obstacle)
        reopened = run.reset_to(row.id)
        at = ctx.now()
        add_history(uow, case, at, actor.username, "withdrawn", f"{actor.full_name}撤回已办理的“{row.name}”：{text}",
                    stage=row.stage, task_name=row.name, detail={"reason": text})
        progress = command.record(run)
        mine = next(task for task in progress.open_tasks if task.id == reopened)
        mine.assignee, mine.claimed_at = actor.username, at
        uow.commit()
        return progress


def _withdraw_obstacle(uow, run: CaseRun, row: CaseTask) -> str | None:
    """Why the completed task `row` cannot be taken back now, or None."""
    if row.state != COMPLETED or run.completed_step(row.id) is None:
        return "该任务已被退回或重新办理，不能撤回"
    open_now, done, effects = run.after(row.id)
    if done:
        return f"下一环节“{done[0]}”已办理，不能撤回"
    if effects:
        return f"“{effects[0]}”已对外办理，撤回不能撤销，不能撤回"
    claimed = [task for task in (uow.tasks.get(task_id) for task_id in open_now) if task and task.assignee]
    if claimed:
        holder = uow.users.get(claimed[0].assignee)
        return (f"下一环节“{claimed[0].name}”已由{holder.full_name if holder else claimed[0].assignee}认领，"
                "不能撤回")
    return None


# --- 撤件, 终止 ----------------------------------------------------------------------------------------------------

@retried
def withdraw_case(ctx: Context, actor: User, number: str, reason: str) -> Progress:
    """撤件 at the window: a 受理员 records that the applicant withdraws the application (e.g. in writing)."""
    require_role(actor, "acceptor")
    with ctx.uow() as uow:
        case = case_for_update(uow, actor, number)
        text = _reason(reason, "撤件")
        progress = _close(uow, ctx, case, actor.username, CASE_WITHDRAWN, f"{actor.full_name}登记撤件：{text}", text)
        uow.commit()
        return progress


def withdraw_by_applicant(ctx: Context, proof: Proof, address: str | None, reason: str) -> Progress:
    """撤件 on the public progress page: the case number, the applicant's ID number and phone together prove it
    is theirs; whatever does not match gets the progress query's one neutral answer (NotFound), counted and
    throttled as the query is."""
    return guarded(ctx, proof, address, lambda: _withdraw(ctx, proof, reason))


@retried
def _withdraw(ctx: Context, proof: Proof, reason: str) -> Progress:
    with ctx.uow() as uow:
        case = owned_case(uow, proof, lock=True)
        text = _reason(reason, "撤件")
        progress = _close(uow, ctx, case, APPLICANT, CASE_WITHDRAWN, f"申请人在网上申请撤件：{text}", text)
        uow.commit()
        return progress


@retried
def terminate_case(ctx: Context, actor: User, number: str, reason: str) -> Progress:
    """终止: a 科室负责人 ends a case (the applicant died, the matter became moot …)."""
    require_role(actor, "supervisor")
    with ctx.uow() as uow:
        case = case_for_update(uow, actor, number)
        text = _reason(reason, "终止")
        progress = _close(uow, ctx, case, actor.username, CASE_TERMINATED, f"{actor.full_name}终止办理：{text}", text)
        uow.commit()
        return progress


def _close(uow, ctx: Context, case: Case, actor: str, result: str, message: str, reason: str) -> Progress:
    """The case ends with `result`: its open tasks are cancelled, its timers gone, its limits stop (met), a
    pause of its clock ends; whoever held a task, and who registered it, is told."""
    if case.status == CLOSED:
        raise Conflict(f"案件已办结（{case.result}），不能再{result}")
    command = CaseCommand(uow, ctx, case)
    run = command.resume()
    told = {task.assignee for task in uow.tasks.open_for_case(case.id) if task.assignee} | {case.opened_by}
    run.close(result)
    at = ctx.now()
    command.clock.end_pause(command.clock.open_pause(), actor)
    add_history(uow, case, at, actor, "withdrawn_case" if result == CASE_WITHDRAWN else "terminated", message,
                stage=case.stage, detail={"result": result, "reason": reason})
    progress = command.record(run)
    for username in sorted(told - {actor}):
        uow.notifications.add(username, "case_closed", f"{case.item_name} {case.number} 已{result}（{reason}），"
                                                       "其待办任务已取消", at, case)
    return progress


# --- retry ---------------------------------------------------------------------------------------------------------

@retried
def retry_case(ctx: Context, actor: User, number: str, reason: str) -> Progress:
    """A case whose automatic step failed: once the cause is fixed (an outside system back, data corrected), a
    科室负责人 or 系统管理员 runs the failed step again. Success moves the case on; another failure keeps it
    failed, with the new reason in its history."""
    require_role(actor, "supervisor", "admin")
    with ctx.uow() as uow:
        case = case_for_update(uow, actor, number)
        if case.status != FAILED:
            raise Conflict("案件没有出错的步骤，无需重试")
        require_not_suspended(uow, case, "重试")
        text = _reason(reason, "重试")
        command = CaseCommand(uow, ctx, case)
        run = command.resume()
        names = run.retry()
        add_history(uow, case, ctx.now(), actor.username, "retried",
                    f"{actor.full_name}重试“{'、'.join(names) or '引擎'}”：{text}", stage=case.stage,
                    detail={"reason": text})
        progress = command.record(run)
        uow.commit()
        return progress


# --- what the pages offer ---------------------------------------------------------------------------------------

def available_operations(ctx: Context, actor: User, number: str, task_id: str | None = None) -> CaseOperations:
    """What `actor` may do on the case now; with `task_id`, also where that task may be sent back to."""
    with ctx.uow(write=False) as uow:
        case = require_case_visible(actor, uow.cases.get(number))
        is_open = case.status != CLOSED
        rows = uow.tasks.for_case(case.id)
        task = next((row for row in rows if row.id == task_id), None)
        holds = (is_open and task is not None and task.state == READY and actor.has_role(task.role)
                 and task.assignee in (None, actor.username) and task.stage != SUPERVISION_STAGE)
        done = [row for row in rows if row.state == COMPLETED and row.completed_by == actor.username] if is_open else []
        run = CaseCommand(uow, ctx, case).resume() if holds or done else None
        pause = next((p for p in uow.deadlines.pauses(case.id) if p.ended_at is None), None)
        supervisor = actor.has_role("supervisor")
        return CaseOperations(
            number=case.number, is_open=is_open,
            suspension=pause if pause is not None and pause.kind == SUSPENSION else None,
            failure=_failure(uow, case),
            return_targets=_targets(uow, run, task) if holds else [],
            withdrawable=[row for row in done if _withdraw_obstacle(uow, run, row) is None],
            can_withdraw_case=is_open and actor.has_role("acceptor"),
            can_terminate=is_open and supervisor,
            can_suspend=is_open and supervisor and case.accepted_at is not None and pause is None,
            can_resume=is_open and supervisor and pause is not None and pause.kind == SUSPENSION,
            can_retry=case.status == FAILED and (supervisor or actor.has_role("admin")))


def _failure(uow, case: Case) -> str | None:
    if case.status != FAILED:
        return None
    failed = [entry for entry in uow.history.for_case(case.id) if entry.action == "failed"]
    return failed[-1].message if failed else None


# --- shared --------------------------------------------------------------------------------------------------------

def _reason(reason, what: str) -> str:
    return reason_text(reason, what)
