"""SpiffWorkflow behind a small interface: start a case's workflow, resume it, complete a task, store it.

A workflow is serialized once per command, without its process spec: the spec is parsed once per process version
and cached, and the stored state refers to it (less than half the size, and faster, than embedding it).
"""
from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from types import MappingProxyType
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timers
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.task import TaskState

from handlers import HANDLERS, HandlerContext
from handlers.gateways import EscalationDesk, NationalPlatform, Notifier, PaymentGateway
from workflows.domain.errors import Conflict, NotFound
from workflows.domain.model import SUPERVISION_STAGE

from .bpmn_parsing import HandlerServiceTask, ProcessDefinition, TaskDefinition, parse_process
from .scripting import RestrictedScriptEngine

log = logging.getLogger(__name__)
LIMIT_TIMER_FUNCTIONS = ("deadline(", "warning_time(")  # timers that follow the case's limits as they move

# SpiffWorkflow's timers read the wall clock (datetime.now in its timer module). A case runs on the clock of the
# service instead, so that tests and the demo can move time forward: the timer module gets a datetime whose now()
# is the clock of the case being run (a context variable: each thread and command has its own).
_case_clock: ContextVar = ContextVar("case_clock", default=None)


class _CaseClockDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        clock = _case_clock.get()
        moment = clock() if clock else datetime.now(timezone.utc)
        return moment.astimezone(tz) if tz else moment.astimezone().replace(tzinfo=None)


spiff_timers.datetime = _CaseClockDatetime


def is_internal(spec_name: str) -> bool:
    """SpiffWorkflow's own tasks (Start, Root, a process's EndJoin, a task's BoundaryEventSplit …), not diagram's."""
    return "." in spec_name or spec_name in ("Start", "End", "Root")


class WorkflowByReferenceConverter(BpmnWorkflowConverter):
    """Serializes a workflow without its spec; restoring takes the cached spec as an argument."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _serializer() -> BpmnWorkflowSerializer:
    config = deepcopy(CAMUNDA_CONFIG)
    config[BpmnWorkflow] = WorkflowByReferenceConverter
    registry = BpmnWorkflowSerializer.configure(config)
    # Form values are typed: money as Decimal, dates as date.
    registry.register(Decimal, lambda value: {"value": str(value)}, lambda dct: Decimal(dct["value"]))
    registry.register(date, lambda value: {"value": value.isoformat()}, lambda dct: date.fromisoformat(dct["value"]))
    return BpmnWorkflowSerializer(registry)


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


class CaseScriptEngine(RestrictedScriptEngine):
    """The sandboxed script engine of one case, which also runs its service tasks' handlers."""

    def __init__(self, bindings: CaseBindings):
        super().__init__(bindings.functions)
        self.bindings = bindings

    def run_handler(self, task, topic: str) -> bool:
        bindings = self.bindings
        params = dict(task.task_spec.extensions or {})
        context = HandlerContext(bindings.case_number, bindings.agency_code, bindings.item_code,
                                 bindings.item_name, MappingProxyType(bindings.applicant),
                                 MappingProxyType(task.data), MappingProxyType(params), bindings.platform,
                                 bindings.payments, bindings.notifier, bindings.desk)
        task.data.update(HANDLERS[topic].function(context) or {})
        return True


@dataclass(frozen=True)
class ReadyTask:
    id: str
    definition: TaskDefinition


@dataclass(frozen=True)
class StepFailure:
    task_name: str
    message: str


@dataclass(frozen=True)
class AutomaticStep:
    """A step the engine did by itself (a handler ran, a message went out, the case ended), for the history."""

    kind: str  # service | message | end
    name: str
    stage: str | None


class CaseRun:
    """One case's workflow, loaded for one command."""

    def __init__(self, definition: ProcessDefinition, workflow: BpmnWorkflow):
        self.definition = definition
        self.workflow = workflow
        self.failure: StepFailure | None = None
        self.steps: list[AutomaticStep] = []
        self._main_end = None  # the end event of the case's own path, when this command reaches it

    @contextmanager
    def _on_case_clock(self):
        token = _case_clock.set(self.workflow.script_engine.bindings.clock)
        try:
            yield
        finally:
            _case_clock.reset(token)

    def advance(self) -> None:
        """Run automatic steps (gateways, scripts, handlers, due timers) until people or events must act."""
        try:
            with self._on_case_clock():
                # do_engine_steps checks timers only at its end: run again while a timer that went off left
                # automatic steps ready (the escalation branch of a boundary timer).
                while True:
                    self.workflow.do_engine_steps(did_complete_task=self._note_step)
                    if not any(not task.task_spec.manual
                               for task in self.workflow.get_tasks(state=TaskState.READY)):
                        break
            self._finish_when_main_path_ends()
        except Exception as error:  # a handler or script failed: the case waits for a fix and a retry
            failed = self.workflow.get_tasks(state=TaskState.ERROR)
            name = failed[0].task_spec.bpmn_name or failed[0].task_spec.name if failed else "引擎"
            log.warning("step %s failed: %s", name, error, exc_info=True)
            self.failure = StepFailure(name, str(error) or type(error).__name__)

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
        supervise, and is cancelled with it. Anything else still open (a parallel branch) keeps the case going."""
        if self._main_end is None or self.workflow.completed:
            return
        unfinished = self.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)
        if all(self.definition.stages.get(task.task_spec.name) == SUPERVISION_STAGE
               for task in unfinished if not is_internal(task.task_spec.name)):
            self.workflow.cancel()
            self.workflow.success = True
            self.workflow.data = dict(self._main_end.data)

    def _note_step(self, task) -> None:
        spec = task.task_spec
        if spec.name in self.definition.escalation_ends:
            return  # the end of a warning branch is no step of the case
        if isinstance(spec, EndEvent) and task.workflow is self.workflow:
            self._main_end = task
        kind = ("service" if isinstance(spec, HandlerServiceTask) else "end" if isinstance(spec, EndEvent)
                else "message" if isinstance(getattr(spec, "event_definition", None), MessageEventDefinition)
                else None)
        if kind:
            self.steps.append(AutomaticStep(kind, spec.bpmn_name or spec.name, self.definition.stages.get(spec.name)))

    def stage_waiting(self) -> str | None:
        """The stage of what the case waits for when no person has a task: a message, a timer."""
        waiting = self.workflow.get_tasks(state=TaskState.WAITING)
        return next((self.definition.stages[t.task_spec.name] for t in waiting
                     if t.task_spec.name in self.definition.stages), None)

    def _waiting_timers(self):
        return [task for task in self.workflow.get_tasks(state=TaskState.WAITING)
                if isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition)]

    def pending_timers(self) -> list[tuple[str, datetime]]:
        """(task id, due moment) of every timer the case waits on, for the scheduler's table."""
        pending = []
        for task in self._waiting_timers():
            value = task.internal_data.get("event_value")
            if isinstance(value, str):
                pending.append((str(task.id), TimerEventDefinition.get_datetime(value)))
        return pending

    def reset_timers(self) -> None:
        """Make the timers of the case's limits evaluate again (a deadline moved: pause, extension, calendar).
        Timers of a designer's own duration, such as working_days(3), keep counting from when they started."""
        for task in self._waiting_timers():
            if any(name in task.task_spec.event_definition.expression for name in LIMIT_TIMER_FUNCTIONS):
                task.internal_data.pop("event_value", None)
                task.internal_data.pop("event_fired", None)
        self.advance()

    def ready_tasks(self) -> list[ReadyTask]:
        tasks = self.workflow.get_tasks(state=TaskState.READY, manual=True)
        return [ReadyTask(str(task.id), self.definition.user_tasks[task.task_spec.name]) for task in tasks]

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

    def deliver_message(self, name: str, payload: dict) -> None:
        # Camunda message events carry {"payload", "result_var"}: the catching event's resultVariable names
        # the data key the payload lands in.
        waiting = [t.task_spec.event_definition for t in self.workflow.get_tasks(state=TaskState.WAITING)
                   if getattr(t.task_spec, "event_definition", None) is not None
                   and getattr(t.task_spec.event_definition, "name", None) == name]
        result_var = getattr(waiting[0], "result_var", None) if waiting else None
        event = BpmnEvent(MessageEventDefinition(name), {"payload": payload, "result_var": result_var})
        try:
            self.workflow.send_event(event)
        except WorkflowException:
            raise Conflict(f"案件当前不在等待“{name}”") from None
        self.advance()

    def thrown_messages(self) -> list[tuple[str, object]]:
        return [(event.event_definition.name, (event.payload or {}).get("payload"))
                for event in self.workflow.get_events() if isinstance(event.event_definition, MessageEventDefinition)]

    @property
    def completed(self) -> bool:
        return self.workflow.completed

    @property
    def result(self) -> str | None:
        """The name of the end event the case reached: 办结, 不予受理, 审核不通过 …"""
        final = self._final_end()
        return (final.task_spec.bpmn_name or "办结") if final else None

    @property
    def data(self) -> dict:
        """The case data as the workflow holds it now."""
        if self.workflow.completed:
            return self.workflow.data
        waiting = self.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.ERROR)
        source = waiting[0] if waiting else self.workflow.last_task or self.workflow.task_tree
        return source.data


class Engine:
    """Parses process versions once and runs case workflows on them."""

    def __init__(self):
        self._serializer = _serializer()
        self._definitions: dict[str, ProcessDefinition] = {}

    def definition(self, bpmn_xml: str, file_name: str = "process.bpmn") -> ProcessDefinition:
        """The parsed process of a deployed version; versions never change, so the parse is cached by content."""
        definition = self._definitions.get(bpmn_xml)
        if definition is None:
            definition = parse_process(bpmn_xml.encode("utf-8"), file_name)
            self._definitions[bpmn_xml] = definition
        return definition

    def start(self, definition: ProcessDefinition, data: dict, bindings: CaseBindings) -> CaseRun:
        workflow = BpmnWorkflow(definition.spec, definition.subprocess_specs,
                                script_engine=CaseScriptEngine(bindings))
        workflow.task_tree.data.update(data)
        run = CaseRun(definition, workflow)
        run.advance()
        return run

    def resume(self, definition: ProcessDefinition, state: str, bindings: CaseBindings) -> CaseRun:
        dct = json.loads(state)
        self._serializer.migrate(dct)
        workflow = self._serializer.registry.restore(dct, spec=definition.spec,
                                                     subprocess_specs=definition.subprocess_specs)
        workflow.script_engine = CaseScriptEngine(bindings)
        return CaseRun(definition, workflow)

    @staticmethod
    def path(state: str) -> tuple[list[str], list[str]]:
        """The element ids a stored case has passed and those it stands at now, read from its stored state without
        restoring the workflow (for drawing the path on the diagram)."""
        tasks = [t for t in (json.loads(state).get("tasks", {}).values() if state else [])
                 if not is_internal(t["task_spec"])]
        completed = [t["task_spec"] for t in tasks if t["state"] == TaskState.COMPLETED]
        current = [t["task_spec"] for t in tasks if t["state"] in (TaskState.READY, TaskState.STARTED,
                                                                    TaskState.ERROR)]
        return completed, current

    def dump(self, run: CaseRun) -> str:
        return self._serializer.serialize_json(run.workflow)
