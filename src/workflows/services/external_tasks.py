"""Use cases of external workers (the Camunda 7 external-task API, entrypoints/engine_rest.py): fetch and lock,
complete, report a failure or a BPMN error, extend or give up a lock. One use case per operation, one transaction.

A worker signs in as a user with the role 外部系统 (integrator) of one agency and sees only that agency's tasks.
Completing a task moves its case on as a clerk's completion does (the same command path, services/progress.py),
and every report goes into the case's history beside the in-process steps.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import timedelta

from workflows.domain import privacy as personal_data
from workflows.domain.amounts import APPROVED, PROPOSAL, REASON as REDUCTION
from workflows.domain.errors import Conflict, InvalidInput, NotFound
from workflows.domain.external_tasks import ExternalTask, FetchRequest, to_typed
from workflows.domain.model import Case, PersonalDataRead, User
from workflows.domain.refusals import REASON_FIELD

from .access import require_role
from .case_operations import require_not_suspended
from .context import Context
from .history import add_history
from .progress import PROHIBITED_RULE, CaseCommand, Progress
from .retries import retried

INTEGRATOR = "integrator"
POLL_SECONDS = 0.25  # how often a long poll looks again
APPLICANT = "applicant"  # the applicant's data, given to a worker only when it names this variable


@dataclass(frozen=True)
class LockedTask:
    """A task a worker has just locked, with the case variables it asked for and the task's Camunda properties."""

    task: ExternalTask
    variables: dict  # typed, as Camunda gives them
    properties: dict


def max_wait_setting() -> float:
    """The longest a fetch waits for a task (WORKFLOWS_EXTERNAL_TASK_MAX_WAIT seconds, default 20): a waiting
    fetch holds a server thread (`workflows serve --threads`), and gunicorn's worker timeout is 30 s; a client
    asking for longer is answered (empty) sooner and simply asks again, as Camunda's clients do."""
    return float(os.environ.get("WORKFLOWS_EXTERNAL_TASK_MAX_WAIT", "20") or 20)


def fetch_and_lock(ctx: Context, actor: User, request: FetchRequest, sleep=time.sleep) -> list[LockedTask]:
    """Lock up to maxTasks free tasks of the request's topics for the worker, each for its topic's lockDuration;
    with asyncResponseTimeout, wait (polling) until there is one or the time is up."""
    require_role(actor, INTEGRATOR)
    deadline = time.monotonic() + min(request.wait_ms / 1000, max_wait_setting())
    while True:
        locked = _fetch_once(ctx, actor, request) if request.max_tasks else []
        left = deadline - time.monotonic()
        if locked or left <= 0:
            return locked
        sleep(min(POLL_SECONDS, left))


@retried  # on SQLite a fetch overtaken by another's locks runs again (adapters/write_lock.py)
def _fetch_once(ctx: Context, actor: User, request: FetchRequest) -> list[LockedTask]:
    with ctx.uow(write=False) as uow:  # a long poll looks without taking SQLite's write lock
        if not uow.external_tasks.fetchable(actor.agency_code, request, ctx.now(), lock=False):
            return []
    with ctx.uow() as uow:
        now, topics = ctx.now(), {topic.name: topic for topic in request.topics}
        locked = []
        for row in uow.external_tasks.fetchable(actor.agency_code, request, now):
            topic = topics[row.topic]
            row.lock(request.worker_id, topic.lock, now)
            case = uow.cases.get_by_id(row.case_id)
            properties = ctx.definition(uow, row.process_version_id).properties.get(row.activity_id, {})
            locked.append(LockedTask(row, _variables(uow, ctx, actor, case, topic.variables), dict(properties)))
        uow.commit()
    return locked


def _variables(uow, ctx: Context, actor: User, case: Case, names: tuple[str, ...] | None) -> dict:
    """The case data the worker asked for (all of it when it names none); the applicant only when named, and a
    read in full of an ID number or a bank account is audited as a person's is (domain.privacy)."""
    data = dict(case.data or {})
    if names is not None and APPLICANT in names:
        data[APPLICANT] = dict(case.applicant)
    chosen = data if names is None else {name: data[name] for name in names if name in data}
    kinds = personal_data.revealed(chosen, personal_data.AUDITED)
    if kinds:
        uow.personal_data_reads.add(PersonalDataRead(
            case_id=case.id, case_number=case.number, agency_code=case.agency_code, actor=actor.username,
            kinds=",".join(sorted(kinds)), purpose="external_task", at=ctx.now()))
    return to_typed(chosen, None)


def _held(uow, ctx: Context, actor: User, task_id: str, worker_id: str | None, doing: str) -> tuple[ExternalTask, Case]:
    """The task and its case (locked), when the actor's agency has it and, with `worker_id`, that worker holds it."""
    require_role(actor, INTEGRATOR)
    row = uow.external_tasks.get(task_id)
    if row is None or row.agency_code != actor.agency_code:
        raise NotFound(f"外部任务 {task_id} 不存在")
    case = uow.cases.get_by_id(row.case_id, lock=True)
    row = uow.external_tasks.get(task_id, lock=True)  # as it is now that the case is ours
    if row is None:
        raise NotFound(f"外部任务 {task_id} 不存在（已完成或已取消）")
    if worker_id is not None:
        row.require_worker(worker_id, ctx.now(), doing)
    return row, case


def complete(ctx: Context, actor: User, task_id: str, worker_id: str, variables: dict) -> Progress:
    """The worker's result: its variables join the case data and the case moves on, in one transaction."""
    with ctx.uow() as uow:
        row, case = _held(uow, ctx, actor, task_id, worker_id, "完成")
        require_not_suspended(uow, case)
        command = CaseCommand(uow, ctx, case)
        _refuse_governed(command.definition, variables)
        run = command.resume()
        run.complete_external(row.id, variables)
        add_history(uow, case, ctx.now(), actor.username, "external_completed",
                    f"外部任务“{row.name}”由工作者“{worker_id}”完成（主题 {row.topic}）", stage=case.stage,
                    task_name=row.name, detail={"worker_id": worker_id, "topic": row.topic, "variables": variables})
        progress = command.record(run)
        uow.commit()
        return progress


def _refuse_governed(definition, variables: dict) -> None:
    """A worker adds data; it does not overwrite what a form or a platform rule governs (a 核定金额 is held to the
    claim and the proposal, a 禁办 finding comes from its table, a decision from a person): those keep their one way
    in, checked there."""
    governed = {PROPOSAL, APPROVED, REDUCTION, REASON_FIELD, PROHIBITED_RULE, "decision", APPLICANT}
    governed |= {field.id for field in definition.start_form.fields}
    governed |= {field.id for task in definition.user_tasks.values() for field in task.form.fields}
    refused = sorted(set(variables) & governed)
    if refused:
        raise InvalidInput("外部任务不能改写表单或平台规则设置的数据",
                           {f"variables.{name}": "由表单或平台规则设置，外部任务不能改写" for name in refused})


def report_failure(ctx: Context, actor: User, task_id: str, worker_id: str, message: str, details: str | None,
                   retries: int, retry_timeout: timedelta) -> None:
    """A worker could not do the task: with retries left it is unlocked (fetchable again after retryTimeout); at 0
    the case gets an incident (故障待处理) with the error, which a 科室负责人 retries once the cause is fixed."""
    with ctx.uow() as uow:
        row, case = _held(uow, ctx, actor, task_id, worker_id, "报告失败")
        at = ctx.now()
        if retries > 0:
            row.unlock()
            row.retries, row.error_message, row.error_details = retries, message, details
            row.retry_at = at + retry_timeout if retry_timeout else None
            add_history(uow, case, at, actor.username, "external_failed",
                        f"外部任务“{row.name}”失败（工作者“{worker_id}”）：{message}；还可重试 {retries} 次",
                        stage=case.stage, task_name=row.name, detail={"worker_id": worker_id, "retries": retries})
        else:
            _incident(uow, ctx, actor, case, row, f"外部任务失败：{message}", {"details": details})
        uow.commit()


def report_bpmn_error(ctx: Context, actor: User, task_id: str, worker_id: str, code: str, message: str | None,
                      variables: dict) -> Progress:
    """A business error the worker found (未参保 …): the case takes the path of the task's error boundary event
    for that code; a diagram without one gets an incident, since nothing in it says what to do."""
    with ctx.uow() as uow:
        row, case = _held(uow, ctx, actor, task_id, worker_id, "报告 BPMN 错误")
        require_not_suspended(uow, case)
        command = CaseCommand(uow, ctx, case)
        _refuse_governed(command.definition, variables)
        run = command.resume()
        said = f"“{code}”" + (f"（{message}）" if message else "")
        if run.throw_external_error(row.id, code, variables):
            add_history(uow, case, ctx.now(), actor.username, "external_error",
                        f"外部任务“{row.name}”报告 BPMN 错误{said}（工作者“{worker_id}”），按错误边界事件继续办理",
                        stage=case.stage, task_name=row.name,
                        detail={"worker_id": worker_id, "code": code, "variables": variables})
            progress = command.record(run)
        else:
            progress = _incident(uow, ctx, actor, case, row,
                                 f"外部任务报告 BPMN 错误{said}，流程图中没有捕获它的错误边界事件", {"code": code},
                                 command)
        uow.commit()
        return progress


def _incident(uow, ctx: Context, actor: User, case: Case, row: ExternalTask, message: str, detail: dict,
              command: CaseCommand | None = None) -> Progress:
    command = command or CaseCommand(uow, ctx, case)
    run = command.resume()
    run.fail_external(row.id, message)
    add_history(uow, case, ctx.now(), actor.username, "external_failed",
                f"外部任务“{row.name}”无法完成（工作者“{row.worker_id}”），转为故障待处理", stage=case.stage,
                task_name=row.name, detail={"topic": row.topic, **detail})
    return command.record(run)


def extend_lock(ctx: Context, actor: User, task_id: str, worker_id: str, duration: timedelta) -> None:
    """The worker needs longer: its lock now runs `duration` from now."""
    with ctx.uow() as uow:
        row, _ = _held(uow, ctx, actor, task_id, worker_id, "延长锁定")
        row.lock(worker_id, duration, ctx.now())
        uow.commit()


def lock(ctx: Context, actor: User, task_id: str, worker_id: str, duration: timedelta) -> None:
    """Lock one task by its id (a worker that learnt of it otherwise): not while another worker's lock lives."""
    with ctx.uow() as uow:
        row, _ = _held(uow, ctx, actor, task_id, None, "锁定")
        now = ctx.now()
        if row.is_locked(now) and row.worker_id != worker_id:
            raise Conflict(f"外部任务“{row.name}”已由工作者“{row.worker_id}”锁定")
        if not row.is_fetchable(now) and not row.is_locked(now):
            raise Conflict(f"外部任务“{row.name}”失败后须等到重试时间（retryTimeout）才能再锁定")
        row.lock(worker_id, duration, now)
        uow.commit()


def unlock(ctx: Context, actor: User, task_id: str) -> None:
    """Give the task up: any worker of the agency may fetch it at once."""
    with ctx.uow() as uow:
        row, _ = _held(uow, ctx, actor, task_id, None, "解除锁定")
        row.unlock()
        uow.commit()


def for_case(ctx: Context, case_id: int) -> list[ExternalTask]:
    """What a case waits on from workers, for its page."""
    with ctx.uow(write=False) as uow:
        return uow.external_tasks.for_case(case_id)
