"""Every command on a case runs the same way: load its workflow with the case's clock and outside systems, act,
then bring the case row, its limits, its inbox tasks, its timers and its history in line with the workflow.

All of it is written in the command's one transaction, so an inbox never shows a task the workflow does not have.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from handlers.gateways import LocalNationalPlatform, LocalPaymentGateway
from workflows.adapters.engine import AutomaticStep, CaseBindings, CaseRun
from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain.amounts import PROPOSAL, yuan
from workflows.domain.acceptance import WAIVER_STAGE
from workflows.domain.case_limits import ACCEPTANCE_STAGE
from workflows.domain.case_states import COMPLETED
from workflows.domain.events import CaseAccepted, CaseClosed, IncidentRaised, SignalThrown
from workflows.domain.external_tasks import ExternalTask
from workflows.domain.identity import eligibility_finding
from workflows.domain.model import (CANCELLED, CLOSED, FAILED, OPEN, READY, SUPERVISION_STAGE, Case, CaseTask,
                                    ExternalCall)

from . import thrown_messages
from .applicant_notices import OutboxNotifier
from .clock import CaseClock
from .context import Context, jsonable
from .escalations import CaseDesk
from .history import SYSTEM, add_history
from .task_assignment import apply_assignment

FINAL_STAGE = "办结"
_STEP_MESSAGES = {"service": "系统完成“{name}”", "manual": "线下办理“{name}”（手工任务，系统记录后继续）",
                  "message": "系统：{name}", "end": "办理结束：{name}",
                  "caught": "捕获“{name}”，按其后的流程继续办理"}
PROHIBITED_RULE = "prohibited_rule"  # what a 禁办情形 table decides: the catalog's words of the rule that matched


@dataclass(frozen=True)
class Progress:
    """Where a case stands after a command: the case, the tasks now waiting for people, and what the person who
    gave the command must be told (a 禁办情形 found)."""

    case: Case
    open_tasks: list[CaseTask]
    notices: tuple[str, ...] = ()


class CaseCommand:
    """One command on one case, inside one unit of work: its clock, and its workflow started or resumed."""

    def __init__(self, uow: UnitOfWork, ctx: Context, case: Case):
        self.uow, self.ctx, self.case = uow, ctx, case
        self.clock = CaseClock(uow, ctx, case)
        self.definition = ctx.definition(uow, case.process_version_id)

    def bindings(self) -> CaseBindings:
        uow, ctx, case = self.uow, self.ctx, self.case

        def record(system: str, operation: str, request: dict, response: dict) -> None:
            uow.external.record(ExternalCall(case_id=case.id, system=system, operation=operation,
                                             request=jsonable(request), response=jsonable(response), at=ctx.now()))

        return CaseBindings(case.number, case.agency_code, case.item_code, case.item_name, dict(case.applicant),
                            LocalNationalPlatform(uow.external.person, record), LocalPaymentGateway(record),
                            OutboxNotifier(uow, case), CaseDesk(uow, ctx, case, self.clock), ctx.clock,
                            self.clock.functions(), policy=self._payment_policy())

    def _payment_policy(self):
        agency = self.ctx.catalog(self.uow).agency(self.case.agency_code)
        item = agency.item(self.case.item_code) if agency else None
        return item.payment_policy if item else None

    def start(self, data: dict) -> CaseRun:
        """Start the case's workflow on `data`; the start event's camunda:initiator variable, when it names one,
        holds who opened the case (a diagram may then give a task to `${initiator}`)."""
        self.uow.tasks.none_yet(self.case.id)
        if self.definition.initiator:
            data = {**data, self.definition.initiator: self.case.opened_by}
        return self.ctx.engine.start(self.definition, data, self.bindings())

    def resume(self) -> CaseRun:
        return self.ctx.engine.resume(self.definition, self.case.workflow_state, self.bindings())

    def record(self, run: CaseRun) -> Progress:
        return record_progress(self.uow, self.ctx, self.case, run, self.clock)


def record_progress(uow: UnitOfWork, ctx: Context, case: Case, run: CaseRun, clock: CaseClock) -> Progress:
    at = ctx.now()
    previous_stage, was_open, was_failed = case.stage, case.status != CLOSED, case.status == FAILED
    _update_status(case, run, at)
    clock.after_step(previous_stage, run)  # may re-arm timers, which may run escalation steps
    notices = []
    for step in run.steps:
        if step.kind == "end" and (finding := eligibility_finding(run.data)):  # refused by 身份及参保核验: say why
            notices.append(f"身份及参保核验未通过：{finding}")
            add_history(uow, case, at, SYSTEM, "service", notices[-1], stage=step.stage, task_name=step.name)
        message = _STEP_MESSAGES[step.kind].format(name=step.name) if step.kind != "rule" else _rule_message(step)
        amounts = amount_note(step.outputs) if step.kind == "service" else ""
        add_history(uow, case, at, SYSTEM, step.kind, message + amounts, stage=step.stage, task_name=step.name,
                    detail={"outputs": jsonable(step.outputs)} if step.kind == "rule" or amounts else None)
        if step.outputs.get(PROHIBITED_RULE):
            notices.append(message)
    run.steps.clear()
    for name, payload in run.thrown_messages():
        add_history(uow, case, at, SYSTEM, "message_sent", f"发出消息“{name}”",
                    detail={"name": name, "payload": jsonable(payload)})
        thrown_messages.record_thrown(uow, ctx, case, name, payload)
    _record_signals(uow, case, run, at)
    if run.failure:
        add_history(uow, case, at, SYSTEM, "failed", f"“{run.failure.task_name}”出错：{run.failure.message}",
                    task_name=run.failure.task_name)
        if not was_failed:  # a new incident: the hall's supervisors are told after the commit (services/incidents)
            uow.publish(IncidentRaised(case.id, f"“{run.failure.task_name}”", run.failure.message[:500]))
    ready = _sync_tasks(uow, case, run, at, clock)
    if run.definition.has_external_tasks:
        uow.external_tasks.sync(case.id, _external_tasks(case, run, at))
    case.data = jsonable(run.data)
    case.workflow_state = ctx.engine.dump(run)
    uow.after_commit(lambda: ctx.engine.keep(run))  # the next command on the case takes it, unrestored
    _index_waits(uow, case, run, was_open, was_failed)
    _publish_moves(uow, case, previous_stage, was_open)
    return Progress(case, ready, tuple(notices))


def _publish_moves(uow: UnitOfWork, case: Case, previous_stage: str, was_open: bool) -> None:
    """What the command did to the case that others act on (its documents: 受理通知书, 决定书, 办结通知书 …)."""
    accepted = case.accepted_at is not None and (case.status != CLOSED or case.result == COMPLETED)
    if previous_stage == ACCEPTANCE_STAGE and case.stage not in (ACCEPTANCE_STAGE, WAIVER_STAGE) and accepted:
        uow.publish(CaseAccepted(case.id))
    if was_open and case.status == CLOSED:
        uow.publish(CaseClosed(case.id, case.result))


def _record_signals(uow: UnitOfWork, case: Case, run: CaseRun, at: datetime) -> None:
    """The signals the case threw: in its history, and for the agency's other waiting cases after the commit."""
    for name in run.signals:
        add_history(uow, case, at, SYSTEM, "signal_sent", f"发出信号“{name}”", detail={"name": name})
        uow.publish(SignalThrown(case.agency_code, name, case.id, case.number))
    run.signals.clear()


def _index_waits(uow: UnitOfWork, case: Case, run: CaseRun, was_open: bool, was_failed: bool) -> None:
    """The case's rows of timers, message and signal waits (what the scheduler and deliveries read) as its workflow
    waits now, written only where they changed since the rows were last written: a closed case has none, and a
    case set aside as failed by the scheduler (services/scheduler.py) lost its timer rows."""
    timers = [] if case.status == CLOSED else run.pending_timers()
    waits = [] if case.status == CLOSED else run.waiting_messages()
    signals = [] if case.status == CLOSED else run.waiting_signals()
    stored_timers = None if was_failed else run.stored_timers if was_open else []
    stored_waits = None if was_failed else run.stored_waits if was_open else []
    stored_signals = None if was_failed else run.stored_signals if was_open else []
    uow.timers.replace(case.id, timers, stored_timers)
    uow.message_waits.replace(case, waits, stored_waits)
    uow.signal_waits.replace(case.id, case.agency_code, signals, stored_signals)
    # a second record of the run compares with these
    run.stored_timers, run.stored_waits, run.stored_signals = timers, waits, signals


def _external_tasks(case: Case, run: CaseRun, at: datetime) -> list[ExternalTask]:
    """The external service tasks the case waits on now, as rows for workers to fetch (services/external_tasks)."""
    return [ExternalTask(id=step.id, case_id=case.id, case_number=case.number, agency_code=case.agency_code,
                         process_key=run.definition.key, process_version_id=case.process_version_id,
                         activity_id=step.activity_id, name=step.name, topic=step.topic, priority=step.priority,
                         worker_id=None, lock_expires_at=None, retries=None, retry_at=None, error_message=None,
                         error_details=None, created_at=at)
            for step in run.external_tasks()]


def amount_note(outputs: dict) -> str:
    """What a handler's amounts add to its line in the history: the proposal and its calculation, the payment."""
    if PROPOSAL in outputs:
        proposal = outputs[PROPOSAL]
        return f"：核算金额 {proposal['amount']} 元（{proposal['calculation']}）"
    if "paid_amount" in outputs:
        return f"：拨付 {yuan(outputs['paid_amount'])} 元（交易号 {outputs.get('payment_reference')}）"
    return ""


def _rule_message(step: AutomaticStep) -> str:
    """A decision table's verdict for the history: a 禁办情形 table's rule in the catalog's words, or its outputs."""
    if PROHIBITED_RULE in step.outputs:
        rule = step.outputs[PROHIBITED_RULE]
        return f"{step.name}：属于禁办情形“{rule}”，禁止办理" if rule else f"{step.name}：未发现禁办情形"
    return f"系统完成“{step.name}”：" + "；".join(f"{name} = {value}" for name, value in step.outputs.items())


def _update_status(case: Case, run: CaseRun, at: datetime) -> None:
    if run.failure:
        case.status = FAILED
    elif run.completed:
        case.status, case.result, case.closed_at, case.stage = CLOSED, run.result, at, FINAL_STAGE
    else:
        case.status = OPEN
        stages = [task.definition.stage for task in run.ready_tasks()
                  if task.definition.stage != SUPERVISION_STAGE]
        case.stage = stages[0] if stages else (run.stage_waiting() or case.stage)


def _task_name(run: CaseRun, task) -> str:
    """The name the new task's row keeps (inbox, task page, history): a template rendered for the case."""
    expression = task.definition.name_expression
    return task.named(run.task_text(task.id, expression, task.definition.name)) if expression else task.name


def _sync_tasks(uow: UnitOfWork, case: Case, run: CaseRun, at: datetime, clock: CaseClock) -> list[CaseTask]:
    """Add inbox rows for newly ready tasks, cancel rows whose task the workflow dropped; return the open ones."""
    open_rows = {row.id: row for row in uow.tasks.open_for_case(case.id)}
    ready = []
    for task in run.ready_tasks():
        row = open_rows.pop(task.id, None)
        if row is None:
            definition = task.definition
            row = CaseTask(id=task.id, case_id=case.id, case_number=case.number, agency_code=case.agency_code,
                           hall_code=case.hall_code, item_code=case.item_code, item_name=case.item_name,
                           spec_id=definition.spec_id, name=_task_name(run, task), stage=definition.stage,
                           role=definition.role, state=READY, assignee=None, created_at=at, claimed_at=None,
                           completed_at=None, completed_by=None, decision=None, due_at=None, warning_at=None,
                           applicant_name=case.applicant.get("name"), completed_level=None)
            apply_assignment(uow, case, row, run.assignment(task.id), at)
            uow.tasks.add(row)
        ready.append(row)
    for row in open_rows.values():
        row.state = CANCELLED
    limit = clock.case_limit()
    for row in ready:
        row.due_at, row.warning_at = (limit.due_at, limit.warning_at) if limit else (None, None)
    return ready
