"""Use cases of clerks on their tasks: the inbox, claim, release, complete; a supervisor's bulk reassignment."""
from __future__ import annotations

from dataclasses import dataclass, field

from workflows.adapters.bpmn_parsing import TaskDefinition
from workflows.domain import pages
from workflows.domain import privacy as personal_data
from workflows.domain.amounts import (APPROVED, PaymentSummary, Proposal, approval_note, approved_values,
                                      review_errors)
from workflows.domain.case_states import CaseState
from workflows.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.domain.case import CaseAggregate
from workflows.domain.forms import Form, validate_form
from workflows.domain.variables import (WITH_COMPLETION, held_with, require_variable_source, split_variables,
                                        undeclared_errors)
from workflows.domain.model import COMPLETED, READY, Case, CaseTask, User
from workflows.domain.documents import RenderedDocument
from workflows.domain.refusals import END, REASON_FIELD, require_reason
from workflows.domain.roles import TASK_ROLES, role_name, worked_roles

from . import documents, forms, materials, payments, privacy, task_requests
from .forms import with_defaults
from .access import require_candidate, require_case_visible, require_role, require_task_role, require_task_visible
from .case_operations import require_not_suspended
from .case_states import state_of
from .context import Context
from .history import add_history
from .progress import CaseCommand, Progress
from .substitutes import resolve_assignee
from .retries import retried

LEVELS = ("normal", "yellow", "red", "paused")  # a task's case: 正常, 黄牌 (warned), 红牌 (past due), 暂停


@dataclass(frozen=True)
class TaskDetails:
    task: CaseTask
    case: Case
    definition: TaskDefinition
    application: Form  # the item's application form (start event), to show the case data by its labels
    state: CaseState  # the case's: 办理中, 暂停（补正）, 不予受理 …
    payment: PaymentSummary | None = None  # a paying case: claim, proposal, approval, account
    defaults: dict = field(default_factory=dict)  # the form's defaults for this case (defaultValue, JUEL evaluated)
    documentation: str = ""  # the step's bpmn:documentation, its JUEL rendered for this case


def list_tasks(ctx: Context, actor: User, role: str | None = None, mine: bool = False, state: str = READY,
               item_code: str | None = None, limit: int = 100, offset: int = 0, stage: str | None = None,
               search: str | None = None, level: str | None = None, spec_id: str | None = None,
               assignee: str | None = None, case_number: str | None = None) -> list[CaseTask]:
    """The tasks of the actor's hall for the actor's roles (or one of them); `mine`: those the actor holds (else
    `assignee`: those that person holds); `level`: only those whose case is normal, yellow (黄牌) or red (红牌) now;
    `spec_id`: those of one step of the diagram; `case_number`: those of one case."""
    if role is not None and not actor.has_role(role):
        raise Forbidden("只能查看本人岗位的任务")
    if level not in (None, *LEVELS):
        raise InvalidInput("时限状态只能是 正常、黄牌、红牌 或 暂停", {"level": "normal | yellow | red | paused"})
    roles, limit = [role] if role else worked_roles(actor), min(limit, pages.MAX_PAGE)
    with ctx.uow(write=False) as uow:
        if state == COMPLETED:
            return uow.tasks.inbox(actor.agency_code, actor.hall_code, None, COMPLETED, None, item_code,
                                   limit, offset, completed_by=actor.username, stage=stage, search=search,
                                   spec_id=spec_id, case_number=case_number)
        return uow.tasks.inbox(actor.agency_code, actor.hall_code, roles, state,
                               actor.username if mine else assignee, item_code, limit, offset, stage=stage,
                               search=search, level=level, now=ctx.now(), offered_to=actor.username,
                               spec_id=spec_id, case_number=case_number)


def next_task(ctx: Context, actor: User, task_id: str) -> CaseTask | None:
    """The task after `task_id` in the actor's 待办 (by the inbox's order), else its first other one: the clerk goes
    on from a task page without going back to the list."""
    with ctx.uow(write=False) as uow:
        return uow.tasks.next_in_inbox(actor.agency_code, actor.hall_code, worked_roles(actor), actor.username,
                                       task_id)


def list_hall_tasks(ctx: Context, actor: User, item_code: str | None = None, stage: str | None = None,
                    search: str | None = None, limit: int = 100, offset: int = 0,
                    level: str | None = None) -> list[CaseTask]:
    """A supervisor's view of the hall: every open task, whatever its role (to reassign them)."""
    require_role(actor, "supervisor")
    with ctx.uow(write=False) as uow:
        return uow.tasks.inbox(actor.agency_code, actor.hall_code, None, READY, None, item_code,
                               min(limit, pages.MAX_PAGE), offset, stage=stage, search=search, level=level,
                               now=ctx.now())


def reassign_candidates(ctx: Context, actor: User) -> list[User]:
    """Whom a supervisor may hand tasks to: the people of the hall who work tasks."""
    require_role(actor, "supervisor")
    with ctx.uow(write=False) as uow:
        return [user for user in uow.users.in_hall(actor.agency_code, actor.hall_code)
                if any(role in TASK_ROLES for role in user.roles)]


@retried
def reassign_tasks(ctx: Context, actor: User, task_ids: list[str], assignee: str) -> tuple[list[CaseTask], list[str]]:
    """改派: a supervisor hands open tasks of the hall to one person of the hall. A task that person cannot work
    (not their role), or that is gone, done or of another hall, is reported and left alone; the others are
    reassigned, each with a line in its case's history. Returns (the reassigned tasks, why each other was not)."""
    require_role(actor, "supervisor")
    if not isinstance(assignee, str) or not assignee:
        raise InvalidInput("改派对象有误", {"assignee": "请选择改派给谁"})
    if not task_ids:
        raise InvalidInput("请选择要改派的任务", {"task_id": "请选择要改派的任务"})
    done, refused = [], []
    with ctx.uow() as uow:
        user = uow.users.get(assignee)
        if user is None or (user.agency_code, user.hall_code) != (actor.agency_code, actor.hall_code):
            raise InvalidInput("改派对象有误", {"assignee": "只能改派给本大厅的人员"})
        at = ctx.now()
        for task_id in dict.fromkeys(task_ids):  # each once, in the order given
            aggregate = _task_with_case(uow, task_id, lock=False)
            try:
                task = require_task_visible(actor, aggregate and aggregate.task)
            except NotFound as error:
                refused.append(f"{task_id}：{error}")
                continue
            label = f"{task.case_number}“{task.name}”"
            busy = aggregate.parts.transfer_obstacle(task_requests.names_of(uow)) if task.state == READY else None
            if task.state != READY:
                refused.append(f"{label}：任务已办理或已取消")
            elif not user.has_role(task.role):
                refused.append(f"{label}：{user.full_name}不具备{role_name(task.role)}岗位，未改派")
            elif busy:
                refused.append(f"{label}：{busy}，未改派")
            else:
                previous = task.assignee
                username, note = resolve_assignee(uow, user.username, at, role=task.role)
                task.assignee, task.claimed_at = username, at
                case = aggregate.case
                message = (f"{actor.full_name}将“{task.name}”改派给{user.full_name}"
                           + (f"（原认领人 {previous}）" if previous and previous != user.username else "")
                           + (f"；{note}" if note else ""))
                add_history(uow, case, at, actor.username, "reassigned", message, stage=task.stage,
                            task_name=task.name, detail={"from": previous, "to": username, "substitute_note": note})
                uow.notifications.add(username, "reassigned", f"{message}：{case.item_name} {case.number}",
                                      at, case)
                done.append(task)
        uow.commit()
    return done, refused


def task_details(ctx: Context, actor: User, task_id: str) -> TaskDetails:
    """The task with its case, personal data the actor's roles do not need masked (a read in full audited). A task
    naming its candidate users is shown to them, and to the hall's supervisors (who may reassign it)."""
    with ctx.uow(write=False) as uow:
        task = require_task_visible(actor, uow.tasks.get(task_id))
        if not actor.has_role("supervisor"):
            require_candidate(actor, task)
        case = uow.cases.get_by_id(task.case_id)
        definition = ctx.definition(uow, case.process_version_id)
        shown = privacy.shown_kinds(uow, actor, case)
        state = state_of(uow, ctx, case)
        approval = payments.latest_approval(uow, case)
    privacy.audit_read(ctx, actor, case, personal_data.revealed([case.applicant, case.data], shown), "task")
    privacy.mask_case(case, shown)
    step = definition.user_tasks[task.spec_id]
    return TaskDetails(task, case, step, definition.start_form, state, PaymentSummary.of(case.data, approval),
                       forms.defaults(step.form, case.data, ctx.now, ctx.engine.limits),  # over what the actor sees
                       forms.documentation(ctx, step, case.data))


def claim_task(ctx: Context, actor: User, task_id: str) -> CaseTask:
    return _change_assignee(ctx, actor, task_id, claim=True)


def release_task(ctx: Context, actor: User, task_id: str) -> CaseTask:
    return _change_assignee(ctx, actor, task_id, claim=False)


def _task_with_case(uow, task_id, lock: bool) -> CaseAggregate | None:
    """The task with its case and who else has a part in it, in one load (domain/case.py); with `lock`, for
    update. None for no such task."""
    return uow.cases.get_for_update(task_id, lock) if isinstance(task_id, str) else None


def _open_task(actor: User, task: CaseTask | None) -> CaseTask:
    """The task, if the actor may see it and act on it and it is still open."""
    task = require_task_visible(actor, task)
    require_task_role(actor, task)
    require_candidate(actor, task)
    if task.state != READY:
        raise Conflict("任务已办理或已取消")
    return task


@retried
def _change_assignee(ctx: Context, actor: User, task_id: str, claim: bool) -> CaseTask:
    with ctx.uow() as uow:  # nothing locked: the change of hands is a conditional update of the task
        aggregate = _task_with_case(uow, task_id, lock=False)
        task = _open_task(actor, aggregate and aggregate.task)
        busy = None if claim else aggregate.parts.transfer_obstacle(task_requests.names_of(uow))
        if busy:
            raise Conflict(f"任务{busy}，不能退回认领")
        expected, new = (None, actor.username) if claim else (actor.username, None)
        if not uow.tasks.set_assignee(task.id, new, expected, ctx.now() if claim else None):
            raise Conflict(f"任务已由{task.assignee}认领" if claim else "只能退回本人认领的任务")
        add_history(uow, aggregate.case, ctx.now(), actor.username, "claimed" if claim else "released",
                    f"{actor.full_name}{'认领' if claim else '退回'}“{task.name}”", stage=task.stage,
                    task_name=task.name)
        uow.commit()
        return uow.tasks.get(task_id)


@retried
def complete_task(ctx: Context, actor: User, task_id: str, values: dict, variables: dict | None = None) -> Progress:
    """Complete a task with its form data and process `variables` (domain/variables.py); the workflow moves on in
    the same transaction.

    Not while someone must act first (a delegation, a 前加签, an unreplied 督办: 409), and never by a delegate (403).
    While after- or parallel signers have not signed, the submission is held and the task stays open: it completes
    when they have (task_operations), through `finish_task` below."""
    with ctx.uow() as uow:
        aggregate = _completable(uow, actor, task_id)
        task, case = aggregate.task, aggregate.case
        require_variable_source(actor, task.role, variables)
        command = CaseCommand(uow, ctx, case)
        cleaned = valid_values(ctx, case, command.definition, task, values, variables)
        materials.with_completion(uow, ctx, actor, case, command.definition.user_tasks[task.spec_id],
                                  cleaned.get("decision"), values or {})  # the marks sent with it, 受理's rule
        if task_requests.hold_submission(uow, ctx, actor, aggregate, cleaned, held_with(values or {}, variables)):
            uow.commit()
            return Progress(case, uow.tasks.open_for_case(case.id))
        progress = finish_task(uow, ctx, command, actor, task, cleaned, values or {}, aggregate)
        uow.commit()
        return progress


def report_task_error(ctx: Context, actor: User, task_id: str, code: str, message: str | None) -> Progress:
    """A business error the clerk found working the task (Camunda's bpmnError on a user task): the case takes the
    path of the task's error boundary event for the code, and the task ends with it; 422 on `code` when the
    diagram has none (nothing in it says what to do)."""
    return _thrown_at_task(ctx, actor, task_id, code, message, _ERROR)


def report_task_escalation(ctx: Context, actor: User, task_id: str, code: str, message: str | None) -> Progress:
    """An escalation the clerk raises on the task (上报科长): the case takes the path of the task's escalation
    boundary event for the code, beside the task (non-interrupting) or instead of it; 422 on `code` when the
    diagram has none."""
    return _thrown_at_task(ctx, actor, task_id, code, message, _ESCALATION)


@dataclass(frozen=True)
class _Thrown:
    """What a clerk throws at a task: how the engine is asked, and the words for it."""

    throw: str  # the CaseRun method
    action: str  # the history's action
    what: str  # 错误, 升级: of its code and its boundary event
    reported: str  # 业务错误, 升级: what the history says the clerk reported


_ERROR = _Thrown("throw_task_error", "task_error", "错误", "业务错误")
_ESCALATION = _Thrown("throw_task_escalation", "task_escalation", "升级", "升级")


def _thrown_at_task(ctx: Context, actor: User, task_id: str, code: str, message: str | None,
                    thrown: _Thrown) -> Progress:
    code = (code or "").strip()
    if not 0 < len(code) <= 100:
        raise InvalidInput(f"请选择{thrown.what}码", {"code": f"请选择{thrown.reported}（{thrown.what}码，1–100 个字符）"})
    if message is not None and len(message) > 500:
        raise InvalidInput("说明应为至多 500 个字符的文字", {"message": "应为至多 500 个字符的文字"})
    with ctx.uow() as uow:
        aggregate = _completable(uow, actor, task_id)
        task, case = aggregate.task, aggregate.case
        command = CaseCommand(uow, ctx, case)
        run = command.resume()
        if not getattr(run, thrown.throw)(task.id, code):
            raise InvalidInput(f"“{task.name}”没有捕获{thrown.what}码“{code}”的{thrown.what}边界事件",
                               {"code": f"流程图中此任务没有对应的{thrown.what}边界事件"})
        add_history(uow, case, ctx.now(), actor.username, thrown.action,
                    f"{actor.full_name}在“{task.name}”报告{thrown.reported}“{code}”{f'（{message}）' if message else ''}，"
                    f"按{thrown.what}边界事件继续办理", stage=task.stage, task_name=task.name,
                    detail={"code": code, "message": message})
        progress = command.record(run)
        uow.commit()
        return progress


def preview_completion(ctx: Context, actor: User, task_id: str, values: dict,
                       variables: dict | None = None) -> RenderedDocument | None:
    """The 决定书 completing the task with `values` would issue (a refusal that ends the case), exactly as it would
    be printed, checked as complete_task checks it (the reason, the form, the marks); None when it issues none.
    Nothing is completed, marked or issued."""
    with ctx.uow(write=False) as uow:
        aggregate = _completable(uow, actor, task_id, lock=False)
        task, case = aggregate.task, aggregate.case
        require_variable_source(actor, task.role, variables)
        definition = ctx.definition(uow, case.process_version_id)
        cleaned = valid_values(ctx, case, definition, task, values, variables)
        materials.check_marks(ctx, uow, case, materials.submitted_marks(values or {}))
        outcome = definition.user_tasks[task.spec_id].outcomes.get(cleaned.get("decision"))
        if outcome is None or outcome.kind != END or not outcome.is_refusal:
            return None
        return documents.preview_closing(uow, ctx, case, outcome.target, cleaned[REASON_FIELD])


def _completable(uow, actor: User, task_id: str, lock: bool = True) -> CaseAggregate:
    """The case of the task loaded for update (domain/case.py; its row locked first, so a completion or claim
    before the lock counts; not for a preview, which changes nothing), when the actor may complete the task now."""
    aggregate = _task_with_case(uow, task_id, lock)
    require_task_visible(actor, aggregate and aggregate.task)
    require_case_visible(actor, aggregate.case)
    names = task_requests.names_of(uow)
    aggregate.parts.refuse_delegate(aggregate.task, actor.username, names)
    task = _open_task(actor, aggregate.task)
    if task.assignee not in (None, actor.username):
        raise Forbidden(f"任务已由{task.assignee}认领")
    aggregate.parts.require_completable(names)
    require_not_suspended(uow, aggregate.case)  # 中止: nothing moves until resumed
    return aggregate


def valid_values(ctx: Context, case: Case, definition, task: CaseTask, values: dict,
                 variables: dict | None = None) -> dict:
    """The task's form data, cleaned, with the process variables sent beside it (domain/variables.py); a field
    or a variable in error refuses it all. A refusal (domain/refusals.py) keeps its reason as `opinion`, also where
    the step's form has no such field. A 核定金额 is held to the case's proposal (domain.amounts: not above the
    claim, the cap or the proposal; lower only with a 核减理由) and made explicit."""
    step = definition.user_tasks[task.spec_id]
    return checked_values(step, case.data, values, ctx.max_amount, variables, definition.form_fields,
                          forms.defaults(step.form, case.data, ctx.now, ctx.engine.limits))


def checked_values(step: TaskDefinition, case_data: dict, values: dict, max_amount, variables: dict | None = None,
                   process_fields: frozenset[str] = frozenset(), defaults: dict | None = None) -> dict:
    """valid_values for the user task `step` of a case whose data is `case_data` (a designer's test run has no
    case row); `process_fields`: every form field of the process, which variables may not write; `defaults`: the
    form's defaults for the case, taken for a field left out."""
    fields, others, variable_errors = split_variables(variables or {}, step.form, case_data, process_fields)
    values = with_defaults({**(values or {}), **fields}, defaults or {})
    cleaned, errors = validate_form(step.form, values, max_amount, case_data)
    errors.update(undeclared_errors(step.form, values, WITH_COMPLETION))
    errors.update(variable_errors)
    proposal = Proposal.from_data(case_data) if any(f.id == APPROVED for f in step.form.fields) else None
    errors = {**review_errors(proposal, cleaned), **errors}
    try:
        reason = require_reason(step.outcomes, dict(step.form.decisions), {**(values or {}), **cleaned})
    except InvalidInput as refusal:
        if not errors:
            raise
        errors = {**refusal.field_errors, **errors}
    if errors:
        raise InvalidInput("表单填写有误", errors)
    if reason:
        cleaned[REASON_FIELD] = reason
    return approved_values(proposal, {**others, **cleaned})


def finish_task(uow, ctx: Context, command: CaseCommand, actor: User, task: CaseTask, cleaned: dict,
                submitted: dict, aggregate: CaseAggregate | None = None) -> Progress:
    """The completion path: `actor` completes the task with its cleaned values (`submitted`: as sent) and the
    workflow moves on, in the caller's transaction (the case locked; `aggregate`: as loaded for update, else made
    of what the transaction read of the case)."""
    if aggregate is None:
        aggregate = CaseAggregate(command.case, uow.tasks.open_for_case(command.case.id), task,
                                  pauses=uow.deadlines.pauses(command.case.id))
    run = command.resume()
    run.complete(task.id, cleaned)
    at = ctx.now()
    aggregate.complete(actor.username, cleaned, submitted, at)
    add_history(uow, command.case, at, actor.username, "completed",
                _completion_message(actor, task, command.definition, cleaned), stage=task.stage,
                task_name=task.name, detail={"data": cleaned, **_refusal_detail(command.definition, task, cleaned)})
    progress = command.record(run)
    uow.publish(*aggregate.take_events())
    return progress


def _refusal_detail(definition, task: CaseTask, cleaned: dict) -> dict:
    """A refusal's reason in the completion's history line: the 决定书 quotes it (services/documents.py)."""
    outcome = definition.user_tasks[task.spec_id].outcomes.get(cleaned.get("decision"))
    return {"refusal": cleaned[REASON_FIELD]} if outcome is not None and outcome.is_refusal else {}


def _completion_message(actor: User, task: CaseTask, definition, cleaned: dict) -> str:
    decisions = dict(definition.user_tasks[task.spec_id].form.decisions)
    message = f"{actor.full_name}完成“{task.name}”"
    if cleaned.get("decision"):
        message += f"：{decisions.get(cleaned['decision'], cleaned['decision'])}"
    if cleaned.get("opinion"):
        message += f"（{cleaned['opinion']}）"
    return message + approval_note(cleaned)
