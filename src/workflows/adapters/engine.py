"""SpiffWorkflow behind a small interface: start a case's workflow, resume it, complete a task, store it.

A case runs as a CaseWorkflow (case_workflow.py: the library as a case runs it), in a sandboxed script engine that
also runs its service tasks' handlers (CaseScriptEngine); a command's run of it is a CaseRun, which tells the service
layer what happened (steps, open tasks, timers, waits) in terms of the case. A workflow is stored once per command,
without its process spec (workflow_state.py).
"""
from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Callable, Mapping
from uuid import UUID, uuid4

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.control import BoundaryEventJoin, BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.defaults import EndEvent, EventBasedGateway
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timers
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition, EscalationEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import CancelEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.exceptions import TaskNotFoundException, WorkflowException
from SpiffWorkflow.task import Task, TaskState

from handlers import HANDLERS, HandlerContext
from handlers.gateways import EscalationDesk, NationalPlatform, Notifier, PaymentGateway
from workflows.domain.amounts import PaymentPolicy
from workflows.domain.assignment import Assignment
from workflows.domain.case_states import result_of_end
from workflows.domain.errors import Conflict, NotFound
from workflows.domain.model import SUPERVISION_STAGE

from .bpmn_elements import EventSubProcess, OfflineTask, interrupts
from .bpmn_parsing import DecisionTask, HandlerServiceTask, ProcessDefinition, TaskDefinition, parse_process
from .case_workflow import CaseWorkflow, case_clock, is_internal
from .dmn_parsing import read_decisions
from .error_events import bpmn_error, catch_error, catch_escalation
from .kept_workflows import KeptWorkflows, faithful
from .limits import DiagramLimits, LimitExceeded, check_timer
from .multi_instance import instance_label
from .signal_events import catch_signal, caught_signal, thrown_signal, waiting_signals
from .scripting import RestrictedEnvironment, RestrictedScriptEngine, check_command_time, command_budget
from .task_assignment import resolve as resolve_assignment
from .workflow_state import serializer, stored_task_data

log = logging.getLogger(__name__)
LIMIT_TIMER_FUNCTIONS = ("deadline(", "warning_time(")  # timers that follow the case's limits as they move



def _wall_clock() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class CaseBindings:
    """What a case's diagram and handlers may know of it, and the outside systems they may reach."""

    case_number: str
    agency_code: str
    item_code: str
    item_name: str
    applicant: dict
    platform: NationalPlatform
    payments: PaymentGateway
    notifier: Notifier
    desk: EscalationDesk | None = None
    clock: object = _wall_clock  # () -> aware datetime
    functions: dict = field(default_factory=dict)  # what timer expressions may call: deadline(), working_days() …
    policy: PaymentPolicy | None = None  # the agency's payment policy for the item (catalog payment_policy)
    # element id -> what answers for that service task instead of its topic's handler (a designer's test run)
    stubs: Mapping[str, Callable[[HandlerContext], dict | None]] = field(default_factory=dict)


class CaseScriptEngine(RestrictedScriptEngine):
    """The sandboxed script engine of one case, which also runs its service tasks' handlers. Besides the case data
    and the clock's functions, diagrams and decision tables may ask `case_agency()`: the code of the agency that
    handles the case (a 禁办 rule applies where that agency's catalog lists it); a script may end its task with
    `bpmn_error(code, message)`, for the task's error boundary event (error_events.py)."""

    def __init__(self, bindings: CaseBindings, limits: DiagramLimits):
        super().__init__({**bindings.functions, "case_agency": lambda: bindings.agency_code,
                          "bpmn_error": bpmn_error}, limits,
                         clock=bindings.clock)
        self.bindings = bindings
        self.results: dict = {}  # task id -> what its handler returned in this command (for the history)

    def evaluate(self, task, expression, external_context=None):
        """A timer's value is checked before SpiffWorkflow reads it (P99999999999Y would loop over every month)."""
        value = super().evaluate(task, expression, external_context)
        kind = _timer_kind(task, expression)
        if kind:
            try:
                check_timer(kind, value, self.bindings.clock(), self.environment.limits)
            except LimitExceeded as err:
                raise WorkflowTaskException(str(err), task=task, exception=err) from err
        return value

    def run_handler(self, task, topic: str) -> bool:
        bindings = self.bindings
        params = dict(task.task_spec.extensions or {})
        context = HandlerContext(bindings.case_number, bindings.agency_code, bindings.item_code,
                                 bindings.item_name, MappingProxyType(bindings.applicant),
                                 MappingProxyType(task.data), MappingProxyType(params), bindings.platform,
                                 bindings.payments, bindings.notifier, bindings.desk, bindings.policy)
        function = bindings.stubs.get(task.task_spec.name) or HANDLERS[topic].function
        result = function(context) or {}
        self.results[task.id] = result
        task.data.update(result)
        return True


_LONG_AGO = "2000-01-01T00:00:00+08:00"  # a due moment every clock has passed: the timer goes off at once
_TIMER_KINDS = {spiff_timers.TimeDateEventDefinition: "date", spiff_timers.DurationTimerEventDefinition: "duration",
                spiff_timers.CycleTimerEventDefinition: "cycle"}


def _timer_kind(task, expression: str) -> str | None:
    """date, duration or cycle when `expression` is one of the timers `task` waits on."""
    definition = getattr(task.task_spec, "event_definition", None)
    for timer in getattr(definition, "event_definitions", [definition]):
        if isinstance(timer, TimerEventDefinition) and timer.expression == expression:
            return _TIMER_KINDS.get(type(timer))
    return None


@dataclass(frozen=True)
class ReadyTask:
    id: str
    definition: TaskDefinition
    instance: str | None = None  # the element of a multi-instance task's collection this one is for

    @property
    def name(self) -> str:
        """The task's name in the inbox and the history: 会签（医疗保障科） for an instance."""
        return self.named(self.definition.name)

    def named(self, base: str) -> str:
        """`base` (the name, or its template rendered for the case) with the instance it is for."""
        return f"{base}（{self.instance}）" if self.instance else base


@dataclass(frozen=True)
class StepFailure:
    task_name: str
    message: str
    element_id: str | None = None


@dataclass(frozen=True)
class ExternalStep:
    """An external service task waiting for a worker (its topic has no in-process handler)."""

    id: str
    activity_id: str
    name: str
    topic: str
    priority: int
    stage: str | None


@dataclass(frozen=True)
class PassedStep:
    """A user task the case went through on its way to an open task, and the steps with outside effects done
    after it (拨付资金, 参保登记信息写入, a message sent to another agency …), latest first."""

    id: str
    definition: TaskDefinition
    effects_since: tuple[str, ...]


@dataclass(frozen=True)
class AutomaticStep:
    """A step the engine did by itself (a handler ran, a decision table was applied, a message went out, the case
    ended), for the history."""

    kind: str  # service | rule | manual | message | caught (an error or escalation boundary event) | end
    name: str
    stage: str | None
    outputs: dict = field(default_factory=dict)  # rule: what the decision table decided (None: no rule matched);
    # service: what the handler returned


class CaseRun:
    """One case's workflow, loaded for one command."""

    def __init__(self, definition: ProcessDefinition, workflow: BpmnWorkflow):
        self.definition = definition
        self.workflow = workflow
        self.failure: StepFailure | None = None
        self.steps: list[AutomaticStep] = []
        self.signals: list[str] = []  # the signals the case threw in this command, for the agency's other cases
        self._main_end = None  # the end event of the case's own path, when this command reaches it
        self._closed_as: str | None = None  # the result of a case ended by an operation (撤件, 终止)
        # The timers, message and signal waits the case's index rows hold (those of the workflow as it was loaded; none for
        # a new one), so that only changes are written; None: not known.
        self.stored_timers: list[tuple[str, datetime]] | None = None
        self.stored_waits: list[tuple[str, dict]] | None = None
        self.stored_signals: list[str] | None = None
        self.dumped: str | None = None  # the state Engine.dump gave last (what Engine.keep keeps the workflow under)
        self.dumped_from: dict | None = None  # the dict it was written from

    @contextmanager
    def _on_case_clock(self):
        """The case's clock, and the CPU-time budget of the command for all the diagram code it runs."""
        engine = self.workflow.script_engine
        token = case_clock.set(engine.bindings.clock)
        try:
            with command_budget(engine.environment.limits):
                yield
        finally:
            case_clock.reset(token)

    def advance(self) -> None:
        """Run automatic steps (gateways, scripts, handlers, due timers) until people or events must act."""
        try:
            with self._on_case_clock():
                # do_engine_steps checks timers only at its end: run again while a timer that went off left
                # automatic steps ready (the escalation branch of a boundary timer).
                while True:
                    self.workflow.do_engine_steps(did_complete_task=self._note_step)
                    if not self.workflow.has_automatic_ready():
                        break
            self._finish_when_main_path_ends()
        except Exception as error:  # a handler or script failed: the case waits for a fix and a retry
            failed = self.workflow.get_tasks(state=TaskState.ERROR) or [getattr(error, "task", None)]
            name = (failed[0].task_spec.bpmn_name or failed[0].task_spec.name) if failed[0] else "引擎"
            log.warning("step %s failed: %s", name, error, exc_info=True)
            self.failure = StepFailure(name, str(error) or type(error).__name__,
                                       failed[0].task_spec.name if failed[0] else None)

    def _final_end(self):
        """The end event of the case's own path, once reached (escalation branches end elsewhere)."""
        if self._main_end is None and self.workflow.completed:  # reached in an earlier command
            ends = [t for t in self.workflow.get_tasks(state=TaskState.COMPLETED)
                    if isinstance(t.task_spec, EndEvent) and t.workflow is self.workflow
                    and t.task_spec.name not in self.definition.escalation_ends]
            self._main_end = max(ends, key=lambda task: task.last_state_change) if ends else None
        return self._main_end

    def _finish_when_main_path_ends(self) -> None:
        """The case ends when its own path does: a supervisor's 督办 still open beside it has nothing left to
        supervise, and is cancelled with it, as are the event sub-processes still waiting for their timers. Anything
        else still open (a parallel branch, a step of a fired event sub-process) keeps the case going."""
        if self._main_end is None or self.workflow.completed:
            return
        unfinished = self.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)
        beside = self.definition.limit_watchers
        if all(self.definition.stages.get(task.task_spec.name) == SUPERVISION_STAGE or task.task_spec.name in beside
               for task in unfinished if not is_internal(task.task_spec.name)):
            self.workflow.cancel()
            self.workflow.success = True
            self.workflow.data = dict(self._main_end.data)

    def _note_step(self, task) -> None:
        check_command_time(self.workflow.script_engine.environment.limits)
        spec = task.task_spec
        if spec.name in self.definition.escalation_ends:
            return  # the end of a warning branch is no step of the case
        if isinstance(spec, EndEvent) and (task.workflow is self.workflow or interrupts(task.workflow)):
            self._main_end = task  # (an interrupting event sub-process ended the case's path: its end is the case's)
        kind = ("service" if isinstance(spec, HandlerServiceTask) else "end" if isinstance(spec, EndEvent)
                else "rule" if isinstance(spec, DecisionTask) else "manual" if isinstance(spec, OfflineTask)
                else "caught" if isinstance(spec, BoundaryEvent) and isinstance(
                    getattr(spec, "event_definition", None),
                    (ErrorEventDefinition, EscalationEventDefinition, CancelEventDefinition))
                or caught_signal(task)
                else "message" if isinstance(getattr(spec, "event_definition", None), MessageEventDefinition)
                else None)
        if signal := thrown_signal(task):
            self.signals.append(signal)
        if kind:
            outputs = ({name: task.data.get(name) for name in spec.decision_outputs} if kind == "rule"
                       else self.workflow.script_engine.results.pop(task.id, {}) if kind == "service" else {})
            self.steps.append(AutomaticStep(kind, spec.bpmn_name or spec.name, self.definition.stages.get(spec.name),
                                            outputs))

    def stage_waiting(self) -> str | None:
        """The stage of what the case waits for when no person has a task: a message, a timer, an external
        worker."""
        waiting = self.workflow.get_tasks(state=TaskState.WAITING | TaskState.STARTED)
        return next((self.definition.stages[t.task_spec.name] for t in waiting
                     if t.task_spec.name in self.definition.stages), None)

    def _waiting_timers(self) -> list[tuple[Task, TimerEventDefinition]]:
        """Each waiting task with its timer: a timer event's own, or the one an event-based gateway waits on beside
        a message (容缺补正: the materials arrive, or the 补正期限 ends)."""
        waiting = []
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            definition = getattr(task.task_spec, "event_definition", None)
            waiting += [(task, timer) for timer in getattr(definition, "event_definitions", [definition])
                        if isinstance(timer, TimerEventDefinition)]
        return waiting

    def pending_timers(self) -> list[tuple[str, datetime]]:
        """(task id, due moment) of every timer the case waits on, for the scheduler's table."""
        pending = []
        for task, _ in self._waiting_timers():
            value = task.internal_data.get("event_value")
            if isinstance(value, dict) and value.get("cycles"):  # a cycle: its next occurrence, while any is left
                value = value["next"]
            if isinstance(value, str):
                pending.append((str(task.id), TimerEventDefinition.get_datetime(value)))
        return pending

    def reset_timers(self) -> None:
        """Make the timers of the case's limits evaluate again (a deadline moved: pause, extension, calendar).
        Timers of a designer's own duration, such as working_days(3), keep counting from when they started."""
        for task, timer in self._waiting_timers():
            if any(name in timer.expression for name in LIMIT_TIMER_FUNCTIONS):
                task.internal_data.pop("event_value", None)
                task.internal_data.pop("event_fired", None)
        self.advance()

    def assignment(self, task_id: str) -> Assignment:
        """Who the open task `task_id` is for and when, as its diagram's attributes say for this case (their
        expressions evaluated over the task's data, on the case's clock)."""
        task = self._find(task_id)
        definition = self.definition.user_tasks[task.task_spec.name]
        environment = self.workflow.script_engine.environment
        with self._on_case_clock():
            return resolve_assignment(definition.assignment, lambda source: environment.evaluate(source, task.data),
                                      self.workflow.script_engine.bindings.clock())

    def task_text(self, task_id: str, expression: str, written: str) -> str:
        """A template text of the open task (its name) for this case, over the task's data on the case's clock;
        as `written` in the diagram where it fails here (a name the case lacks): the task still opens."""
        task = self._find(task_id)
        try:
            with self._on_case_clock():
                return str(self.workflow.script_engine.environment.evaluate(expression, dict(task.data)))
        except Exception:  # noqa: BLE001 - a text to show, not a step of the case
            log.info("text template of task %s failed", task_id, exc_info=True)
            return written

    def ready_tasks(self) -> list[ReadyTask]:
        tasks = self.workflow.get_tasks(state=TaskState.READY, manual=True)
        return [ReadyTask(str(task.id), self.definition.user_tasks[task.task_spec.name], instance_label(task))
                for task in tasks]

    def complete(self, task_id: str, values: dict) -> None:
        task = self.workflow.get_task_from_id(UUID(task_id))
        if task is None:
            raise NotFound("任务不存在")
        if not task.has_state(TaskState.READY):
            raise Conflict("任务已办理或已取消")
        task.data.update(values)
        with self._on_case_clock():
            task.run()
        self.advance()

    # --- what a designer's test run reads and does (services/process_tests.py) -------------------------------

    def fire_timer(self, element_id: str) -> bool:
        """Make the timer `element_id` go off now, whenever it was due (a boundary or intermediate timer, an
        event sub-process's timer start, or the timer an event-based gateway waits on); False when the case does
        not wait on it."""
        for task, _ in self._waiting_timers():
            spec = task.task_spec
            if spec.name == element_id or element_id in (output.name for output in spec.outputs
                                                         if isinstance(spec, EventBasedGateway)):
                task.internal_data["event_value"] = _LONG_AGO
                self.advance()
                return True
        return False

    def waiting_elements(self) -> list[str]:
        """The element ids the case stands at: open user tasks, the events and external tasks it waits on, failed
        steps (the limits' event sub-processes, waiting beside the path all along, left out)."""
        tasks = self.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED
                                        | TaskState.ERROR)
        return list(dict.fromkeys(t.task_spec.name for t in tasks if not is_internal(t.task_spec.name)
                                  and t.task_spec.name not in self.definition.limit_watchers
                                  and not isinstance(t.task_spec, EventSubProcess)))

    def passed_pairs(self) -> set[tuple[str, str]]:
        """(source, target) element ids of every step the case went from one element to the next, read from the
        task tree (SpiffWorkflow's own tasks between them skipped): the sequence flows it took."""
        pairs = set()
        for task in self.workflow.get_tasks(state=TaskState.FINISHED_MASK | TaskState.READY | TaskState.WAITING
                                            | TaskState.STARTED | TaskState.ERROR):
            if task.has_state(TaskState.CANCELLED) or is_internal(task.task_spec.name):
                continue
            source = task.parent
            while source is not None and is_internal(source.task_spec.name):
                source = source.parent
            if source is not None and source.has_state(TaskState.COMPLETED):
                pairs.add((source.task_spec.name, task.task_spec.name))
        return pairs

    def completed_elements(self) -> list[str]:
        """The element ids the case has passed, in the order it passed them."""
        done = sorted((t for t in self.workflow.get_tasks(state=TaskState.COMPLETED)
                       if not is_internal(t.task_spec.name)), key=lambda t: t.last_state_change)
        return list(dict.fromkeys(t.task_spec.name for t in done))

    # --- external tasks: done by workers through the external-task API ----------------------------------------

    def external_tasks(self) -> list[ExternalStep]:
        """The external service tasks waiting for a worker now."""
        return [ExternalStep(str(task.id), task.task_spec.name, task.task_spec.bpmn_name or task.task_spec.name,
                             task.task_spec.topic, task.task_spec.priority,
                             self.definition.stages.get(task.task_spec.name))
                for task in self.workflow.get_tasks(state=TaskState.STARTED)
                if isinstance(task.task_spec, HandlerServiceTask) and task.task_spec.external]

    def _external(self, task_id: str) -> Task:
        task = self._find(task_id)
        if task is None or not isinstance(task.task_spec, HandlerServiceTask) or not task.task_spec.external:
            raise NotFound("外部任务不存在")
        if not task.has_state(TaskState.STARTED):
            raise Conflict("外部任务已完成或已取消")
        return task

    def complete_external(self, task_id: str, variables: dict) -> None:
        """A worker completed the task: its variables join the case data and the case moves on."""
        task = self._external(task_id)
        task.data.update(variables)
        with self._on_case_clock():
            task.complete()
        self.advance()

    def fail_external(self, task_id: str, message: str) -> None:
        """An incident: the task goes to ERROR as a failed handler does, so that the case's retry (retry())
        makes it wait for a worker again."""
        task = self._external(task_id)
        task.error()
        self.failure = StepFailure(task.task_spec.bpmn_name or task.task_spec.name, message)

    def throw_external_error(self, task_id: str, code: str, variables: dict) -> bool:
        """A worker's BPMN error: caught by an error boundary event on the task for `code` (or for any error),
        whose path the case then takes; False when the diagram has none (the caller makes it an incident)."""
        task = self._external(task_id)
        task.data.update(variables)
        return self._take_error_path(task, code)

    def throw_task_error(self, task_id: str, code: str) -> bool:
        """A clerk's BPMN error on the open user task `task_id` (Camunda's bpmnError on a task: 未参保 found at
        受理): caught by the task's error boundary event for `code` (or for any error); False when it has none."""
        return self._take_error_path(self._open_step(task_id), code)

    def throw_task_escalation(self, task_id: str, code: str) -> bool:
        """A clerk's escalation on the open user task `task_id` (上报): caught by the task's escalation boundary
        event for `code` (or for any); False when it has none."""
        return self._take_error_path(self._open_step(task_id), code, catch_escalation)

    def _open_step(self, task_id: str) -> Task:
        task = self._find(task_id)
        if task is None or not self._is_step(task) or not task.has_state(TaskState.READY):
            raise Conflict("任务已办理或已取消")
        return task

    def _take_error_path(self, task, code: str, catch=catch_error) -> bool:
        with self._on_case_clock():
            caught = catch(task, code)
        if caught:
            self.advance()
        return caught

    # --- operations on the workflow as a whole: back to an earlier step, retry, close ------------------------

    def _find(self, task_id: str) -> Task | None:
        try:
            return self.workflow.get_task_from_id(UUID(task_id))
        except (TaskNotFoundException, ValueError, TypeError):
            return None

    def _is_step(self, task) -> bool:
        """A user task of the case's own path (a supervisor's 督办 beside it is none)."""
        definition = self.definition.user_tasks.get(task.task_spec.name)
        return definition is not None and definition.stage != SUPERVISION_STAGE

    @staticmethod
    def _outside_effect(task) -> str | None:
        """The name of a completed step that changed something outside the case, which going back cannot undo:
        a handler registered with changes_outside, or a message thrown to another party."""
        spec = task.task_spec
        if not task.has_state(TaskState.COMPLETED):
            return None
        changes = isinstance(spec, HandlerServiceTask) and (spec.external or HANDLERS[spec.topic].changes_outside)
        sends = isinstance(spec, ThrowingEvent) and isinstance(getattr(spec, "event_definition", None),
                                                               MessageEventDefinition)
        return (spec.bpmn_name or spec.name) if changes or sends else None

    def passed_steps(self, task_id: str) -> list[PassedStep]:
        """The completed user tasks on the path that led to the open task `task_id`, the latest first."""
        task = self._find(task_id)
        steps, effects = [], []
        ancestor = task.parent if task is not None else None
        while ancestor is not None:
            if self._is_step(ancestor) and ancestor.has_state(TaskState.COMPLETED):
                steps.append(PassedStep(str(ancestor.id), self.definition.user_tasks[ancestor.task_spec.name],
                                        tuple(effects)))
            elif effect := self._outside_effect(ancestor):
                effects.append(effect)
            ancestor = ancestor.parent
        return steps

    def completed_step(self, task_id: str) -> Task | None:
        """The completed user task `task_id` if it is still on the case's path (not undone by a 退回)."""
        task = self._find(task_id)
        return task if task is not None and self._is_step(task) and task.has_state(TaskState.COMPLETED) else None

    def after(self, task_id: str) -> tuple[list[str], list[str], list[str]]:
        """What followed the completed user task `task_id` on its path: (ids of the user tasks open now, names of
        those completed, names of the steps with outside effects done)."""
        task = self._find(task_id)
        later = [t for t in task if t is not task] if task is not None else []
        open_now = [str(t.id) for t in later if self._is_step(t) and t.has_state(TaskState.READY)]
        done = [self.definition.user_tasks[t.task_spec.name].name for t in later
                if self._is_step(t) and t.has_state(TaskState.COMPLETED)]
        return open_now, done, [effect for t in later if (effect := self._outside_effect(t))]

    def reset_to(self, task_id: str) -> str:
        """Take the case back to the completed user task `task_id`: it is open again, and what came after it is
        undone; returns its id now. The task gets a new id, so that the inbox keeps the row of its earlier
        completion beside the new one.

        SpiffWorkflow's reset drops the whole subtree, boundary branches included. A supervisor's 督办 still open
        there was raised by a limit that has not stopped being late: its branch is moved out first and stays
        open. The reset task's own boundary timers are armed afresh, so they follow the case's limits as they
        are now (a limit escalated before does not escalate twice: the desk knows it)."""
        target = self._find(task_id)
        split = target.parent if isinstance(target.parent.task_spec, BoundaryEventSplit) else None
        top = split or target
        for branch in self._open_supervision_branches(top):
            self._keep_branch(branch, top.parent, split)
        self._reset(target)
        new_id = self._renew_id(target)
        self.advance()
        return new_id

    def _reset(self, task) -> None:
        with self._on_case_clock():
            self.workflow.reset_from_task_id(task.id)
        # SpiffWorkflow 3.2.0 leaves the timers it dropped among the events it waits for (and then fails on their
        # missing parent when it next refreshes timers): forget them.
        events = self.workflow.event_manager.tasks
        for key, waiting in list(events.items()):
            if waiting.workflow.tasks.get(waiting.id) is not waiting:
                del events[key]

    def _open_supervision_branches(self, top) -> list:
        branches = []
        for task in top:
            if (task.has_state(TaskState.READY | TaskState.WAITING | TaskState.STARTED)
                    and self.definition.stages.get(task.task_spec.name) == SUPERVISION_STAGE):
                branch = task
                while branch is not top and not isinstance(branch.task_spec, BoundaryEvent):
                    branch = branch.parent
                if branch is not top and branch not in branches:  # (a 督办 on the path itself is reset with it)
                    branches.append(branch)
        return branches

    def _keep_branch(self, branch, anchor, split) -> None:
        """Move a fired boundary event's branch under `anchor`, which the reset leaves alone. Its wait for the
        task it was attached to ends (that task is being undone); if that task is the one reset, a fresh
        boundary event takes the branch's place there, to be armed by the reset."""
        for join in branch.children:
            if isinstance(join.task_spec, BoundaryEventJoin) and not join.has_state(TaskState.FINISHED_MASK):
                join._drop_children(force=True)
                join._set_state(TaskState.CANCELLED)
        self.workflow.moved()
        parent = branch.parent
        parent._children.remove(branch.id)
        if parent is split:
            Task(self.workflow, branch.task_spec, parent=split, state=TaskState.FUTURE)
        branch._parent = anchor.id
        anchor._children.append(branch.id)

    def _renew_id(self, task) -> str:
        old, new = task.id, uuid4()
        # In its place: the serializer stores each task's data as a change from its parent's, and restores the
        # tasks in this order, so a parent must come before its children.
        tasks = task.workflow.tasks
        renamed = [(new if key == old else key, value) for key, value in tasks.items()]
        tasks.clear()
        tasks.update(renamed)
        task.id = new
        task.parent._children = [new if child == old else child for child in task.parent._children]
        for child in task.children:
            child._parent = new
        self.workflow.moved()
        return str(new)

    def retry(self) -> list[str]:
        """Run the failed steps again (the cause fixed); returns their names. Success moves the case on; another
        failure leaves it failed, with the new reason in `failure`."""
        failed = self.workflow.get_tasks(state=TaskState.ERROR)
        names = [task.task_spec.bpmn_name or task.task_spec.name for task in failed]
        for task in failed:
            self._reset(task)
        self.advance()
        return names

    def close(self, result: str) -> None:
        """End the case before its path does (撤件, 终止): every open task and timer is cancelled, the data kept."""
        data = dict(self.data)
        self.workflow.cancel()
        self.workflow.data = data
        self._closed_as = result

    def deliver_message(self, name: str, payload: dict) -> None:
        # Camunda message events carry {"payload", "result_var"}: the catching event's resultVariable names
        # the data key the payload lands in. An event-based gateway holds the events it waits for (容缺补正).
        events = [getattr(t.task_spec, "event_definition", None)
                  for t in self.workflow.get_tasks(state=TaskState.WAITING)]
        waiting = [definition for event in events for definition in getattr(event, "event_definitions", [event])
                   if getattr(definition, "name", None) == name]
        result_var = getattr(waiting[0], "result_var", None) if waiting else None
        event = BpmnEvent(MessageEventDefinition(name), {"payload": payload, "result_var": result_var})
        try:
            with self._on_case_clock():  # (an event-based gateway's timer beside the message reads the clock)
                self.workflow.send_event(event)
        except WorkflowException:
            raise Conflict(f"案件当前不在等待“{name}”") from None
        self.advance()

    def waiting_signals(self) -> list[str]:
        return waiting_signals(self.workflow)

    def receive_signal(self, name: str) -> None:
        """Another case of the agency, or someone through the API, sent signal `name`: the case catches it."""
        with self._on_case_clock():
            caught = catch_signal(self.workflow, name)
        if not caught:
            raise Conflict(f"案件当前不在等待信号“{name}”")
        self.advance()

    def waiting_messages(self) -> list[tuple[str, dict]]:
        """(name, correlation values over the case data) of each message the case waits for now: a catch event,
        a receive task, an event-based gateway's message."""
        found = []
        events = [getattr(task.task_spec, "event_definition", None)
                  for task in self.workflow.get_tasks(state=TaskState.WAITING)]
        for event in events + self._event_sub_process_starts():
            for definition in getattr(event, "event_definitions", [event]):
                if isinstance(definition, MessageEventDefinition) and definition.name:
                    limits = self.workflow.script_engine.environment.limits
                    found.append((definition.name, correlation_values(self.definition, definition.name,
                                                                      self.data, limits)))
        return found

    def _event_sub_process_starts(self) -> list:
        """The start events of the event sub-processes a message starts: SpiffWorkflow starts one when the case
        catches its message (each time: a non-interrupting one runs once per message), none waits before."""
        if self.workflow.completed:
            return []
        specs = [self.workflow.subprocess_specs.get(name) for name in self.workflow.spec.start.trigger_specs]
        return [start.event_definition for spec in specs if spec is not None for start in spec.bpmn_start_events]

    def thrown_messages(self) -> list[tuple[str, object]]:
        return [(event.event_definition.name, (event.payload or {}).get("payload"))
                for event in self.workflow.get_events() if isinstance(event.event_definition, MessageEventDefinition)]

    @property
    def completed(self) -> bool:
        return self.workflow.completed

    @property
    def end_element(self) -> str | None:
        """The element id of the end event the case's own path reached (None while it runs)."""
        final = None if self._closed_as else self._final_end()
        return final.task_spec.name if final else None

    @property
    def result(self) -> str | None:
        """The name of the end event the case reached: 办结, 不予受理, 审核不通过 …, or why it was ended."""
        if self._closed_as:
            return self._closed_as
        final = self._final_end()
        return result_of_end(final.task_spec.bpmn_name) if final else None

    @property
    def data(self) -> dict:
        """The case data as the workflow holds it now."""
        if self.workflow.completed:
            return self.workflow.data
        waiting = self.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.ERROR)
        source = waiting[0] if waiting else self.workflow.last_task or self.workflow.task_tree
        return source.data


def correlation_values(definition: ProcessDefinition, name: str, data, limits: DiagramLimits) -> dict:
    """Each correlation property of message `name` -> its retrieval expression's value over `data` (None where it
    cannot be read there: a payload that is no object, a name the data lacks), as JSON holds it."""
    values = {}
    context = data if isinstance(data, dict) else {}
    environment = RestrictedEnvironment(limits=limits)
    for prop, expression in definition.correlations.get(name, ()):
        try:
            with command_budget(limits):
                value = environment.evaluate(expression, dict(context))
        except Exception:  # a missing name or a failing expression: this side gives no value
            value = None
        values[prop] = value if value is None or isinstance(value, (str, int, float, bool)) else str(value)
    return values


class Engine:
    """Parses process versions once and runs case workflows on them."""

    def __init__(self, limits: DiagramLimits | None = None):
        self._serializer = serializer()
        self._definitions: dict[tuple, ProcessDefinition] = {}
        self._kept = KeptWorkflows()
        self.limits = limits or DiagramLimits.from_environment()

    def definition(self, bpmn_xml: str, file_name: str = "process.bpmn",
                   decisions: dict[str, str] | None = None, called_files: dict[str, str] | None = None,
                   process_key: str | None = None) -> ProcessDefinition:
        """The parsed process of a deployed version, with the decision tables (DMN file name -> XML) and the other
        BPMN files of its deployment (file name -> XML) it carries; `process_key`: which executable process of
        its file (a collaboration holds several). Versions never change, so the parse is cached by content."""
        key = (bpmn_xml, tuple(sorted((decisions or {}).items())), tuple(sorted((called_files or {}).items())),
               process_key)
        definition = self._definitions.get(key)
        if definition is None:
            called = {name: xml.encode("utf-8") for name, xml in (called_files or {}).items()}
            definition = parse_process(bpmn_xml.encode("utf-8"), file_name, read_decisions(decisions or {}),
                                       process_key, called)
            self._definitions[key] = definition
        return definition

    def correlation(self, definition: ProcessDefinition, name: str, data) -> dict:
        """The values of the correlation properties of message `name` over `data` (a payload, or case data)."""
        return correlation_values(definition, name, data, self.limits)

    def start(self, definition: ProcessDefinition, data: dict, bindings: CaseBindings) -> CaseRun:
        workflow = CaseWorkflow(definition.spec, definition.subprocess_specs,
                                script_engine=CaseScriptEngine(bindings, self.limits))
        workflow.task_tree.data.update(data)
        run = CaseRun(definition, workflow)
        run.stored_timers, run.stored_waits, run.stored_signals = [], [], []
        run.advance()
        return run

    def resume(self, definition: ProcessDefinition, state: str, bindings: CaseBindings) -> CaseRun:
        """The case's workflow as `state` (its row's) stores it: the workflow kept for exactly that state, if this
        process committed it last (keep), else restored from it."""
        workflow = self._kept.take(state, definition.spec)
        if workflow is None:
            dct = json.loads(state)
            self._serializer.migrate(dct)
            workflow = self._serializer.registry.restore(dct, spec=definition.spec,
                                                         subprocess_specs=definition.subprocess_specs)
        workflow.script_engine = CaseScriptEngine(bindings, self.limits)
        run = CaseRun(definition, workflow)
        if not workflow.completed:
            run.stored_timers, run.stored_waits = run.pending_timers(), run.waiting_messages()
            run.stored_signals = run.waiting_signals()
        return run

    @staticmethod
    def path(state: str) -> tuple[list[str], list[str]]:
        """The element ids a stored case has passed and those it stands at now, read from its stored state without
        restoring the workflow (for drawing the path on the diagram). A sub-process's own steps are drawn, not
        the sub-process while it runs (a limit's event sub-process runs, waiting for its timer, all along)."""
        stored = json.loads(state) if state else {}
        subprocesses = stored.get("subprocesses", {})
        tasks = [(task_id, t) for workflow in [stored, *subprocesses.values()]
                 for task_id, t in workflow.get("tasks", {}).items() if not is_internal(t["task_spec"])]
        completed = [t["task_spec"] for _, t in tasks if t["state"] == TaskState.COMPLETED]
        current = [t["task_spec"] for task_id, t in tasks if task_id not in subprocesses
                   and t["state"] in (TaskState.READY, TaskState.STARTED, TaskState.ERROR)]
        return completed, current

    def dump(self, run: CaseRun) -> str:
        run.dumped, run.dumped_from = self._serializer.dump(run.workflow)
        return run.dumped

    def keep(self, run: CaseRun) -> None:
        """The state dump(run) gave is committed as the case's: keep the workflow for the next command on the case
        in this process (kept_workflows.py). Call it after the commit, and leave the run alone after it: its
        workflow is the next command's now."""
        if (run.workflow is not None and run.dumped is not None
                and faithful(run.workflow, stored_task_data(run.dumped_from))):
            self._kept.put(run.dumped, run.definition.spec, run.workflow)
            run.workflow = None
