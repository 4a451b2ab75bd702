"""Task operations between people: 转办, 委派, 加签/减签, 催办, 督办 with its reply.

The holder of a task is its assignee; a holder's operation on an unclaimed task claims it first. Every operation
locks the case row (one operation on a case at a time, whatever the database), then reads what it acts on afresh,
writes a line of the case's history and tells whoever must act now. A task given to someone away goes to their
substitute (substitutes.resolve_assignee), and the history says so.

- 转办: the holder hands the task to a person of the hall with its role, who holds and decides it from then on.
- 委派: the holder asks a person of the hall to handle it; the delegate answers with an opinion (办理意见), which
  returns it to the holder, who decides. The holder may recall the delegation until it is answered.
- 加签: the holder asks a person of the hall to sign (同意/不同意, with an opinion) before the holder (前加签: the holder
  cannot complete until they signed), after the holder (后加签: the holder's submission is held and completes when
  they all signed 同意; a 不同意 returns the step to the holder, and a new submission asks them again) or beside
  the holder (并行: the step completes when the holder and they all have acted). 减签: the holder or a supervisor
  removes a signer who has not signed.
- 催办: a supervisor, or a 受理员 answering an applicant, reminds whoever handles the task now.
- 督办: a supervisor's written instruction; the handler must reply before completing the task.

tasks.complete_task asks the case aggregate first (domain/case.py `refuse_delegate`, `require_completable`: a
delegate only answers; a held submission, a delegation, a 前加签 or an unreplied 督办 blocks completion), then
task_requests.hold_submission; a held submission completes through tasks.finish_task, as its holder, in the
transaction of whoever removed the last obstacle (the last signature, a 减签, the 督办 reply).
"""
from __future__ import annotations

from dataclasses import dataclass

from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain import pages
from workflows.domain.case import CaseAggregate
from workflows.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.domain.model import (AFTER, BEFORE, DELEGATE, DISAGREE, DONE, PARALLEL, PENDING, READY,
                                    REQUEST_KINDS, SIGN_DECISIONS, WITHDRAWN, CaseTask, TaskRequest,
                                    TaskSubmission, TaskSupervision, User)
from workflows.domain.roles import TASK_ROLES, role_name, worked_roles
from workflows.domain.variables import held_parts

from . import tasks
from .access import require_role, require_task_role, require_task_visible
from .case_operations import require_not_suspended
from .context import Context
from .history import add_history
from .progress import CaseCommand, Progress
from .substitutes import resolve_assignee
from .retries import retried
from .task_requests import name_of, names_of, new_request, tell

SIGN_KINDS = (BEFORE, AFTER, PARALLEL)
MAX_TEXT = 500
URGE_DEFAULT = "请尽快办理"


@dataclass(frozen=True)
class Outcome:
    """A request or 督办 as an action left it, and the step's completion if the action released a held
    submission (else None)."""

    record: TaskRequest | TaskSupervision
    progress: Progress | None


# --- reading -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TaskOperations:
    """A task's 委派, 加签, held submission and 督办 as its page shows them, and what the viewer may do there."""

    task: CaseTask
    requests: list[TaskRequest]
    supervisions: list[TaskSupervision]
    submission: TaskSubmission | None
    names: dict[str, str]  # username -> full name, for everyone of the hall
    candidates: list[User]  # the hall's people who work tasks: delegates and signers (transfer: those with the role)
    holds: bool  # the viewer holds the task, or may take it (unclaimed, of the viewer's role): answers its 督办
    may_urge: bool
    may_supervise: bool

    @property
    def delegation(self) -> TaskRequest | None:
        """The pending delegation, if any."""
        return next((r for r in self.requests if r.kind == DELEGATE and r.status == PENDING), None)

    @property
    def signers(self) -> list[TaskRequest]:
        return [r for r in self.requests if r.kind in SIGN_KINDS]

    @property
    def transfer_candidates(self) -> list[User]:
        return [user for user in self.candidates if user.has_role(self.task.role)]


def task_operations(ctx: Context, actor: User, task_id: str) -> TaskOperations:
    with ctx.uow(write=False) as uow:
        task = require_task_visible(actor, uow.tasks.get(task_id))
        hall = uow.users.in_hall(task.agency_code, task.hall_code)
        is_open = task.state == READY
        handles = is_open and actor.has_role(task.role) and task.assignee in (None, actor.username)
        return TaskOperations(
            task, uow.task_requests.for_task(task.id), uow.supervisions.for_task(task.id),
            uow.task_requests.submission(task.id), {user.username: user.full_name for user in hall},
            [user for user in hall if user.username != actor.username and set(user.roles) & TASK_ROLES],
            handles, is_open and _may_urge(actor), is_open and actor.has_role("supervisor"))


@dataclass(frozen=True)
class Awaiting:
    """What a person must act on besides their inbox's tasks: delegations and signatures asked of them, and the
    督办 of tasks they handle, each with its open task."""

    requests: list[tuple[TaskRequest, CaseTask]]
    supervisions: list[tuple[TaskSupervision, CaseTask]]
    names: dict[str, str]

    def __len__(self) -> int:
        return len(self.requests) + len(self.supervisions)


def awaiting(ctx: Context, actor: User) -> Awaiting:
    with ctx.uow(write=False) as uow:
        roles = worked_roles(actor)
        requests = [(request, task) for request, task in uow.task_requests.pending_for(actor.username)
                    if request.kind != AFTER or uow.task_requests.submission(task.id) is not None]  # signable now
        return Awaiting(requests,
                        uow.supervisions.awaiting_reply(actor.agency_code, actor.hall_code, actor.username, roles),
                        _names(uow, actor))


def hall_supervisions(ctx: Context, actor: User, limit: int = 100, offset: int = 0) -> Awaiting:
    """A page of the supervisor desk's list: the hall's 督办, unreplied first, then the newest, with their replies
    (the desk's own query, DeskQueries.supervision_page)."""
    require_role(actor, "supervisor")
    with ctx.uow(write=False) as uow:
        found, _, _ = uow.statistics.supervision_page(actor.agency_code, actor.hall_code,
                                                      min(limit, pages.MAX_PAGE), offset)
        return Awaiting([], found, _names(uow, actor))


def _names(uow: UnitOfWork, actor: User) -> dict[str, str]:
    return {user.username: user.full_name for user in uow.users.in_hall(actor.agency_code, actor.hall_code)}


# --- 转办, 委派 ------------------------------------------------------------------------------------------------------

@retried
def transfer_task(ctx: Context, actor: User, task_id: str, assignee: str, reason: str) -> CaseTask:
    """转办: the holder hands the task to a person of the hall with its role, who holds it from now on."""
    reason = _text(reason, "reason", "转办理由")
    with ctx.uow() as uow:
        aggregate = _held_task(uow, ctx, actor, task_id)
        task, case = aggregate.task, aggregate.case
        _require_free(uow, aggregate, "转办")
        at = ctx.now()
        target, note = _give(uow, actor, assignee, "assignee", at, role=task.role)
        if not uow.tasks.set_assignee(task.id, target.username, actor.username, at):
            raise Conflict("任务已被他人改派，请刷新后重试")
        message = f"{actor.full_name}将“{task.name}”转办给{target.full_name}：{reason}" + _noted(note)
        add_history(uow, case, at, actor.username, "transferred", message, stage=task.stage, task_name=task.name,
                    detail={"from": actor.username, "to": target.username, "reason": reason,
                            "substitute_note": note})
        tell(uow, case, [target.username], "transferred", message, at)
        uow.commit()
        return task


@retried
def delegate_task(ctx: Context, actor: User, task_id: str, delegate: str, reason: str) -> TaskRequest:
    """委派: the holder asks a person of the hall to handle the task and answer with an opinion."""
    reason = _text(reason, "reason", "委派事项")
    with ctx.uow() as uow:
        aggregate = _held_task(uow, ctx, actor, task_id)
        task, case = aggregate.task, aggregate.case
        _require_free(uow, aggregate, "委派")
        at = ctx.now()
        target, note = _give(uow, actor, delegate, "delegate", at)
        request = new_request(uow, task, DELEGATE, actor, target, reason, note, at)
        message = f"{actor.full_name}将“{task.name}”委派给{target.full_name}：{reason}" + _noted(note)
        add_history(uow, case, at, actor.username, "delegated", message, stage=task.stage, task_name=task.name,
                    detail={"to": target.username, "reason": reason, "substitute_note": note})
        tell(uow, case, [target.username], "delegated", f"{message}，请提出办理意见", at)
        uow.commit()
        return request


@retried
def resolve_delegation(ctx: Context, actor: User, request_id: int, opinion: str) -> TaskRequest:
    """The delegate's 办理意见: the delegation is answered and the task back with its holder, who decides."""
    opinion = _text(opinion, "opinion", "办理意见")
    with ctx.uow() as uow:
        request, aggregate = _request_of(uow, actor, request_id, (DELEGATE,))
        task, case = aggregate.task, aggregate.case
        if request.assignee != actor.username:
            raise Forbidden("只有受委派人可以填写办理意见")
        _require_pending(request, "该委派已办理", "该委派已收回")
        at = ctx.now()
        request.status, request.opinion, request.done_at = DONE, opinion, at
        message = f"{actor.full_name}办理委派“{task.name}”，办理意见：{opinion}"
        add_history(uow, case, at, actor.username, "delegation_resolved", message, stage=task.stage,
                    task_name=task.name, detail={"request": request.id, "opinion": opinion})
        tell(uow, case, [request.requested_by], "delegation_resolved", f"{message}，请办理", at)
        uow.commit()
        return request


@retried
def recall_delegation(ctx: Context, actor: User, request_id: int, reason: str = "") -> TaskRequest:
    """The holder takes a delegation back before it is answered."""
    reason = _text(reason, "reason", "收回理由", required=False)
    with ctx.uow() as uow:
        request, aggregate = _request_of(uow, actor, request_id, (DELEGATE,))
        task, case = aggregate.task, aggregate.case
        if task.assignee != actor.username:
            raise Forbidden("只有任务的办理人可以收回委派")
        _require_pending(request, "该委派已办理，不能收回", "该委派已收回")
        at = ctx.now()
        request.withdraw(actor.username, at)
        message = f"{actor.full_name}收回对{name_of(uow, request.assignee)}的委派“{task.name}”" + _because(reason)
        add_history(uow, case, at, actor.username, "delegation_recalled", message, stage=task.stage,
                    task_name=task.name, detail={"request": request.id, "reason": reason})
        tell(uow, case, [request.assignee], "delegation_recalled", message, at)
        uow.commit()
        return request


# --- 加签, 减签, signing --------------------------------------------------------------------------------------------

@retried
def add_signer(ctx: Context, actor: User, task_id: str, signer: str, kind: str, reason: str) -> TaskRequest:
    """加签: the holder asks a person of the hall to sign the step before, after or beside the holder."""
    if kind not in SIGN_KINDS:
        raise InvalidInput("加签方式有误", {"kind": "请选择前加签、后加签或并行加签"})
    reason = _text(reason, "reason", "加签事由")
    with ctx.uow() as uow:
        aggregate = _held_task(uow, ctx, actor, task_id)
        task, case = aggregate.task, aggregate.case
        submitted = aggregate.parts.activity.submission
        if kind == BEFORE and submitted:
            raise Conflict("已提交办理意见，不能再前加签")
        at = ctx.now()
        target, note = _give(uow, actor, signer, "signer", at)
        if any(r.assignee == target.username for r in aggregate.parts.pending(*SIGN_KINDS)):
            raise InvalidInput("加签人有误", {"signer": f"{target.full_name}已在加签名单中，尚未签署"})
        request = new_request(uow, task, kind, actor, target, reason, note, at)
        message = f"{actor.full_name}为“{task.name}”{REQUEST_KINDS[kind]}{target.full_name}：{reason}" + _noted(note)
        add_history(uow, case, at, actor.username, "signer_added", message, stage=task.stage, task_name=task.name,
                    detail={"request": request.id, "kind": kind, "signer": target.username, "reason": reason,
                            "substitute_note": note})
        waits = kind == AFTER and not submitted
        tell(uow, case, [target.username], "signer_added",
              message + ("，待其提交后请签署" if waits else "，请签署"), at)
        uow.commit()
        return request


@retried
def remove_signer(ctx: Context, actor: User, request_id: int, reason: str = "") -> Outcome:
    """减签: the holder or a supervisor removes a signer who has not signed. If the held submission waited only
    for them, the step completes now."""
    reason = _text(reason, "reason", "减签理由", required=False)
    with ctx.uow() as uow:
        request, aggregate = _request_of(uow, actor, request_id, SIGN_KINDS)
        task, case = aggregate.task, aggregate.case
        if task.assignee != actor.username and not actor.has_role("supervisor"):
            raise Forbidden("只有任务的办理人或科室负责人可以减签")
        _require_pending(request, f"{name_of(uow, request.assignee)}已签署，不能减签", "该加签人已被减签")
        at = ctx.now()
        request.withdraw(actor.username, at)
        message = (f"{actor.full_name}减签{name_of(uow, request.assignee)}（{REQUEST_KINDS[request.kind]}"
                   f"“{task.name}”）" + _because(reason))
        add_history(uow, case, at, actor.username, "signer_removed", message, stage=task.stage,
                    task_name=task.name, detail={"request": request.id, "reason": reason})
        tell(uow, case, [request.assignee], "signer_removed", message, at)
        progress = _release_if_ready(uow, ctx, aggregate)
        uow.commit()
        return Outcome(request, progress)


@retried
def sign(ctx: Context, actor: User, request_id: int, decision: str, opinion: str) -> Outcome:
    """A signer signs 同意 or 不同意 with an opinion, once. An after-signer's 不同意 returns the held submission to
    the holder; the last signature the held submission waited for completes the step."""
    errors = {}
    if decision not in SIGN_DECISIONS:
        errors["decision"] = "请选择同意或不同意"
    opinion = _text(opinion, "opinion", "签署意见", errors=errors)
    if errors:
        raise InvalidInput("签署内容有误", errors)
    with ctx.uow() as uow:
        request, aggregate = _request_of(uow, actor, request_id, SIGN_KINDS)
        task, case = aggregate.task, aggregate.case
        if request.assignee != actor.username:
            raise Forbidden("只有加签人本人可以签署")
        _require_pending(request, "您已签署，不能重复签署", "您已被减签，无需签署")
        submission = uow.task_requests.submission(task.id) if aggregate.parts.activity.submission else None
        if request.kind == AFTER and submission is None:
            raise Conflict(f"后加签须待{name_of(uow, task.assignee)}提交办理意见后再签署")
        at = ctx.now()
        request.status, request.decision, request.opinion, request.done_at = DONE, decision, opinion, at
        message = (f"{actor.full_name}{REQUEST_KINDS[request.kind]}签署“{task.name}”："
                   f"{SIGN_DECISIONS[decision]}（{opinion}）")
        add_history(uow, case, at, actor.username, "signed", message, stage=task.stage, task_name=task.name,
                    detail={"request": request.id, "kind": request.kind, "decision": decision, "opinion": opinion})
        tell(uow, case, [task.assignee], "signed", message, at)
        if request.kind == AFTER and decision == DISAGREE:
            uow.task_requests.drop_submission(submission)
            returned = f"{actor.full_name}不同意，“{task.name}”退回{name_of(uow, task.assignee)}重新办理"
            add_history(uow, case, at, actor.username, "submission_returned", returned, stage=task.stage,
                        task_name=task.name, detail={"request": request.id})
            tell(uow, case, [task.assignee], "submission_returned", returned, at)
            progress = None
        else:
            progress = _release_if_ready(uow, ctx, aggregate)
        uow.commit()
        return Outcome(request, progress)


# --- 催办, 督办 ------------------------------------------------------------------------------------------------------

@retried
def urge_task(ctx: Context, actor: User, task_id: str, message: str = "") -> list[str]:
    """催办: remind whoever handles the task now (its holder, or the hall's people of its role while unclaimed);
    returns whom. For supervisors, and for 受理员 answering an applicant who asks."""
    message = _text(message, "message", "催办内容", required=False) or URGE_DEFAULT
    with ctx.uow() as uow:
        aggregate = _locked_task(uow, actor, task_id)
        task, case = aggregate.task, aggregate.case
        require_role(actor, "supervisor", "acceptor")
        at = ctx.now()
        handlers = _handlers(uow, task)
        text = f"{actor.full_name}催办“{task.name}”：{message}"
        add_history(uow, case, at, actor.username, "urged", text, stage=task.stage, task_name=task.name,
                    detail={"to": handlers, "message": message})
        tell(uow, case, handlers, "urge", text, at)
        uow.commit()
        return handlers


@retried
def supervise_task(ctx: Context, actor: User, task_id: str, instruction: str) -> TaskSupervision:
    """督办: a supervisor's written instruction on a task; its handler must reply before completing it."""
    require_role(actor, "supervisor")
    instruction = _text(instruction, "instruction", "督办意见")
    with ctx.uow() as uow:
        aggregate = _locked_task(uow, actor, task_id)
        task, case = aggregate.task, aggregate.case
        at = ctx.now()
        supervision = TaskSupervision(task_id=task.id, case_id=case.id, case_number=case.number,
                                      agency_code=case.agency_code, hall_code=case.hall_code,
                                      supervisor=actor.username, instruction=instruction, created_at=at, reply=None,
                                      replied_by=None, replied_at=None)
        uow.supervisions.add(supervision)
        uow.flush()
        text = f"{actor.full_name}督办“{task.name}”：{instruction}"
        add_history(uow, case, at, actor.username, "supervised", text, stage=task.stage, task_name=task.name,
                    detail={"supervision": supervision.id, "instruction": instruction})
        tell(uow, case, _handlers(uow, task), "supervised", f"{text}（请回复督办意见后再办理）", at)
        uow.commit()
        return supervision


@retried
def reply_supervision(ctx: Context, actor: User, supervision_id: int, reply: str) -> Outcome:
    """The handler's written reply to a 督办; the supervisor is told. If a held submission waited only for it, the
    step completes now."""
    reply = _text(reply, "reply", "回复")
    with ctx.uow() as uow:
        task_id = uow.supervisions.task_of(supervision_id)
        aggregate = uow.cases.get_for_update(task_id) if task_id else None
        task, case = require_task_visible(actor, aggregate and aggregate.task), aggregate.case
        if not (task.assignee == actor.username or (task.assignee is None and actor.has_role(task.role))):
            raise Forbidden("只有当前办理人可以回复督办")
        supervision = next((s for s in aggregate.parts.supervisions if s.id == supervision_id), None)
        if supervision is None:  # it exists (its task was found), but is no longer among the unreplied
            raise Conflict("该督办已回复")
        if task.state != READY:
            raise Conflict("任务已办理或已取消")
        at = ctx.now()
        supervision.reply, supervision.replied_by, supervision.replied_at = reply, actor.username, at
        text = f"{actor.full_name}回复{name_of(uow, supervision.supervisor)}的督办“{task.name}”：{reply}"
        add_history(uow, case, at, actor.username, "supervision_replied", text, stage=task.stage,
                    task_name=task.name, detail={"supervision": supervision.id, "reply": reply})
        tell(uow, case, [supervision.supervisor], "supervision_replied", text, at)
        progress = _release_if_ready(uow, ctx, aggregate)
        uow.commit()
        return Outcome(supervision, progress)


def _release_if_ready(uow: UnitOfWork, ctx: Context, aggregate: CaseAggregate) -> Progress | None:
    """Complete the held submission, as its holder, once nobody is left to act before it (not while the case is
    suspended: the action that would move it is refused until it is resumed). Who is left is read from the
    aggregate's parts, as the action just changed them."""
    task, case, parts = aggregate.task, aggregate.case, aggregate.parts
    if not parts.activity.submission or task.state != READY or parts.pending(AFTER, PARALLEL):
        return None
    if any(s.replied_at is None for s in parts.supervisions):
        return None
    require_not_suspended(uow, case, "流转")
    submission = uow.task_requests.submission(task.id)
    holder = uow.users.get(submission.submitted_by)
    uow.task_requests.drop_submission(submission)
    command = CaseCommand(uow, ctx, case)
    values, variables = held_parts(submission.data)
    cleaned = tasks.valid_values(ctx, case, command.definition, task, values, variables)
    return tasks.finish_task(uow, ctx, command, holder, task, cleaned, values)


# --- helpers -----------------------------------------------------------------------------------------------------

def _locked_task(uow: UnitOfWork, actor: User, task_id: str) -> CaseAggregate:
    """The open task of the actor's hall with its case and who else has a part in it, in the one load for update
    (domain/case.py: the case's row locked first, the task read afresh after)."""
    aggregate = uow.cases.get_for_update(task_id) if isinstance(task_id, str) else None
    task = require_task_visible(actor, aggregate and aggregate.task)
    if task.state != READY:
        raise Conflict("任务已办理或已取消")
    return aggregate


def _held_task(uow: UnitOfWork, ctx: Context, actor: User, task_id: str) -> CaseAggregate:
    """The open task for its holder, the case locked; the actor claims an unclaimed task first."""
    aggregate = _locked_task(uow, actor, task_id)
    task, case = aggregate.task, aggregate.case
    require_task_role(actor, task)
    if task.assignee is None:
        at = ctx.now()
        if not uow.tasks.set_assignee(task.id, actor.username, None, at):
            raise Conflict("任务已被他人认领")
        add_history(uow, case, at, actor.username, "claimed", f"{actor.full_name}认领“{task.name}”",
                    stage=task.stage, task_name=task.name)
    elif task.assignee != actor.username:
        raise Forbidden(f"任务由{name_of(uow, task.assignee)}办理，只有办理人可以转办、委派或加签")
    return aggregate


def _require_free(uow: UnitOfWork, aggregate: CaseAggregate, action: str) -> None:
    obstacle = aggregate.parts.transfer_obstacle(names_of(uow))
    if obstacle:
        raise Conflict(f"任务{obstacle}，不能{action}")


def _give(uow: UnitOfWork, actor: User, username, field: str, at, role: str | None = None) -> tuple[User, str | None]:
    """The person of the hall a task goes to — their substitute while they are away — and the history's note."""
    user = uow.users.get(username) if isinstance(username, str) and username else None
    if user is None or (user.agency_code, user.hall_code) != (actor.agency_code, actor.hall_code):
        raise InvalidInput("办理人有误", {field: "只能选择本大厅的人员"})
    if not (user.has_role(role) if role else set(user.roles) & TASK_ROLES):
        needed = role_name(role) if role else "经办"
        raise InvalidInput("办理人有误", {field: f"{user.full_name}不具备{needed}岗位"})
    if user.username == actor.username:
        raise InvalidInput("办理人有误", {field: "不能选择自己"})
    username, note = resolve_assignee(uow, user.username, at, role=role)
    if username == actor.username:
        raise InvalidInput("办理人有误", {field: f"{note}，不能交给自己"})
    return uow.users.get(username), note


def _request_of(uow: UnitOfWork, actor: User, request_id: int, kinds: tuple[str, ...]
                ) -> tuple[TaskRequest, CaseAggregate]:
    """A request of a task of the actor's hall, with its task and case in the one load for update (the case
    locked first, the request read afresh among the task's after); its task must be open."""
    task_id = uow.task_requests.task_of(request_id)
    aggregate = uow.cases.get_for_update(task_id) if task_id else None
    request = next((r for r in aggregate.parts.requests if r.id == request_id), None) if aggregate else None
    if request is None or request.kind not in kinds:
        raise NotFound("委派或加签不存在")
    task = require_task_visible(actor, aggregate.task)
    if task.state != READY:
        raise Conflict("任务已办理或已取消")
    return request, aggregate


def _require_pending(request: TaskRequest, done: str, withdrawn: str) -> None:
    if request.status == DONE:
        raise Conflict(done)
    if request.status == WITHDRAWN:
        raise Conflict(withdrawn)


def _handlers(uow: UnitOfWork, task: CaseTask) -> list[str]:
    """Who handles the task now: its holder, or while unclaimed the hall's people of its role."""
    if task.assignee:
        return [task.assignee]
    return [user.username for user in uow.users.in_hall(task.agency_code, task.hall_code) if user.has_role(task.role)]


def _may_urge(actor: User) -> bool:
    return actor.has_role("supervisor") or actor.has_role("acceptor")


def _noted(note: str | None) -> str:
    return f"（{note}）" if note else ""


def _because(reason: str) -> str:
    return f"：{reason}" if reason else ""


def _text(value, field: str, label: str, required: bool = True, errors: dict | None = None) -> str:
    """A reason, opinion or reply: trimmed, required unless said otherwise, at most MAX_TEXT characters."""
    text = value.strip() if isinstance(value, str) else ""
    problem = (f"请填写{label}" if required and not text
               else f"{label}不能超过 {MAX_TEXT} 字" if len(text) > MAX_TEXT else None)
    if problem and errors is not None:
        errors[field] = problem
    elif problem:
        raise InvalidInput(problem, {field: problem})
    return text
