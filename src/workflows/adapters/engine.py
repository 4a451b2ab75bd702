"""SpiffWorkflow behind a small interface: start a case's workflow, resume it, complete a task, store it.

A workflow is serialized once per command, without its process spec: the spec is parsed once per process version
and cached, and the stored state refers to it (less than half the size, and faster, than embedding it).
"""
from __future__ import annotations

import json
import logging
import time
from contextlib import contextmanager
from contextvars import ContextVar
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType
from typing import Callable, Mapping
from uuid import UUID, uuid4

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (BpmnSubWorkflowConverter, BpmnWorkflowConverter,
                                                            TaskConverter, WorkflowConverter)
from SpiffWorkflow.bpmn.serializer.helpers import DefaultRegistry
from SpiffWorkflow.bpmn.specs.bpmn_task_spec import BpmnTaskSpec
from SpiffWorkflow.bpmn.specs.control import BoundaryEventJoin, BoundaryEventSplit, SimpleBpmnTask, _EndJoin
from SpiffWorkflow.bpmn.specs.defaults import CallActivity, EndEvent, EventBasedGateway, StartEvent
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timers
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition, EscalationEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import CancelEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.exceptions import TaskNotFoundException, WorkflowException
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow import task as spiff_task, workflow as spiff_workflow
from SpiffWorkflow.task import Task, TaskState
from SpiffWorkflow.util.deep_merge import DeepMerge

from handlers import HANDLERS, HandlerContext
from handlers.gateways import EscalationDesk, NationalPlatform, Notifier, PaymentGateway
from workflows.domain.amounts import PaymentPolicy
from workflows.domain.assignment import Assignment
from workflows.domain.case_states import result_of_end
from workflows.domain.errors import Conflict, NotFound
from workflows.domain.model import SUPERVISION_STAGE

from .bpmn_elements import EventSubProcess, OfflineTask, PassThroughTask, TimerStartEvent, interrupts
from .bpmn_parsing import DecisionTask, HandlerServiceTask, ProcessDefinition, TaskDefinition, parse_process
from .dmn_parsing import read_decisions
from .error_events import bpmn_error, catch_error, catch_escalation
from .kept_workflows import KeptWorkflows, faithful
from .limits import DiagramLimits, LimitExceeded, check_timer
from .multi_instance import instance_label
from .signal_events import catch_signal, caught_signal, thrown_signal, waiting_signals
from .scripting import RestrictedEnvironment, RestrictedScriptEngine, check_command_time, command_budget
from .task_assignment import resolve as resolve_assignment

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
        moment = moment.astimezone(tz) if tz else moment.astimezone().replace(tzinfo=None)
        return _DueNow.combine(moment.date(), moment.timetz())


class _DueNow(_CaseClockDatetime):
    """The timer module's now. SpiffWorkflow fires a timer once `due < now`; the timer table selects it once
    `due_at <= now` (as Camunda fires): compared with a due moment, now counts as come when equal, so a timer due
    exactly now fires in the round that selects it, not one round later. Python asks the subclass first
    (its reflected __gt__ for `due < now`); the due moments themselves are computed unchanged."""

    def __gt__(self, other):
        return datetime.__ge__(self, other)


spiff_timers.datetime = _CaseClockDatetime


def _set_state(self, value: int) -> None:
    """SpiffWorkflow 3.2.0's Task._set_state, with two changes that leave what it does as it was.

    It builds the extras of its log record (a dict, the state's name, the parent looked up) on every state change,
    even when its logger drops the record, as ours does below WARNING (entrypoints/logs.py): they are built only
    for a record that is kept. And it tells a case's workflow (CaseWorkflow.census), which then knows without
    walking its tree when no automatic step is ready, and when the tasks a walk found are still those it would."""
    before = self._state
    if value != before:
        elapsed = time.time() - self.last_state_change
        self.last_state_change = time.time()
        self._state = value
        if spiff_task.logger.isEnabledFor(logging.INFO):
            spiff_task.logger.info(f"State changed to {TaskState.get_name(value)}",
                                   extra=self.collect_log_extras({"elapsed": elapsed}))
    elif spiff_task.logger.isEnabledFor(logging.DEBUG):
        spiff_task.logger.debug(f"State set to {TaskState.get_name(value)}", extra=self.collect_log_extras())
    census = _census(self)
    if census is not None:
        census.note(self, before, value)


def _child_added_notify(self, child) -> None:
    """SpiffWorkflow 3.2.0's (a new task tells its parent), which also tells the case's census: a task can be
    created WAITING (a multi-instance task's instances), without a state change."""
    self._children.append(child.id)
    census = _census(child)
    if census is not None:
        census.note(child, TaskState.MAYBE, child._state)


def _census(task):
    return getattr(getattr(task.workflow, "top_workflow", None), "census", None)


class TaskCensus:
    """What a case's workflow knows of its tasks without walking its tree, kept by _set_state and
    _child_added_notify (and taken afresh by CaseWorkflow.recount).

    `automatic_ready`: [in its sub-processes, in its own tree] how many automatic (not manual) tasks may be READY;
    a task set READY again while it is READY (SpiffWorkflow does so as it adds a child in READY) counts once more.
    `waiting`: how many tasks of its own tree may be WAITING. Both may be above the truth (a task removed as it
    is), never below. `changes`: moves with every state set. `automatic`: id(task) -> each of those automatic tasks
    that may be READY (CaseWorkflow.automatic_ready_alone), and those removed as they were."""

    __slots__ = ("automatic_ready", "waiting", "changes", "automatic")

    def __init__(self):
        self.automatic_ready, self.waiting, self.changes, self.automatic = [0, 0], 0, 0, {}

    def note(self, task, before: int, after: int) -> None:
        self.changes += 1
        own = task.workflow is task.workflow.top_workflow
        if (after == TaskState.READY or before == TaskState.READY) and not task.task_spec.manual:
            self.automatic_ready[own] += 1 if after == TaskState.READY else -1
            if after == TaskState.READY:
                self.automatic[id(task)] = task  # (held here, so that no other task takes its id())
            else:
                self.automatic.pop(id(task), None)
        if own and (after == TaskState.WAITING) != (before == TaskState.WAITING):
            self.waiting += 1 if after == TaskState.WAITING else -1


Task._set_state = _set_state
Task._child_added_notify = _child_added_notify


def _end_join_may_fire(self, my_task) -> bool:
    """SpiffWorkflow 3.2.0's _EndJoin._check_threshold_unstructured: whether no task of the workflow's tree but the
    end join's own is unfinished, the tree below an end join of this spec left out; by a plain walk (the order
    the library's iterator takes does not change the answer; nor does its depth limit, 1000 levels, reached by no
    case): its generic iterator, at the end of the case's process and of each sub-process, was the most of what a
    case still walked by it."""
    tasks, pending = my_task.workflow.tasks, [my_task.workflow.task_tree]
    while pending:
        task = pending.pop()
        if task._state & TaskState.NOT_FINISHED_MASK and task is not my_task:
            return False
        if task.task_spec.name != self.name:
            pending.extend([tasks.get(child) for child in task._children])
    return True


_EndJoin._check_threshold_unstructured = _end_join_may_fire


def _workflow_log_extras(self, dct=None):
    """SpiffWorkflow 3.2.0's Workflow.collect_log_extras (with the ids of all its tasks, by its slow generic walk,
    for a logger below INFO: each sub-process's start and each cancel asked for them) for a record its logger,
    the only one that takes them, keeps; for one it drops, the extras are never read."""
    if not spiff_workflow.logger.isEnabledFor(logging.INFO):
        return dct or {}
    return _stock_workflow_log_extras(self, dct)


_stock_workflow_log_extras = spiff_workflow.Workflow.collect_log_extras
spiff_workflow.Workflow.collect_log_extras = _workflow_log_extras


class CaseWorkflow(BpmnWorkflow):
    """A BpmnWorkflow whose usual task queries (by state, by manual) walk the task tree in a plain loop.

    SpiffWorkflow's task iterators are generic (depth bookkeeping, a filter object, list copies per task), and
    the engine asks them for the ready tasks after every step it runs and for the waiting ones after every task
    that completes: most of the engine's time went there. The walk below gives the same tasks in the same order
    (depth first; a sub-process's own tree before the task's children; subtrees of merely predicted tasks skipped
    unless predicted ones are asked for), as lazily (a task's children are taken when the walk reaches it).
    Most walks are not needed at all: its census (TaskCensus) tells when one would find nothing, or what it found
    last on a tree that has not changed since."""

    def __init__(self, *args, **kwargs):
        self.census = TaskCensus()
        self._found: dict[tuple, tuple] = {}  # a walk's _path -> (the tree's mark, the tasks it passed then)
        super().__init__(*args, **kwargs)

    def recount(self) -> None:
        """Count afresh: a restored workflow's tasks were given their stored states directly, and a migration (a
        task's spec) or a 退回 (its place) changes what counts without a change of state."""
        counts, automatic = [0, 0], {}
        for flow in [self, *self.subprocesses.values()]:
            ready = [task for task in flow.tasks.values()
                     if task._state == TaskState.READY and not task.task_spec.manual]
            counts[flow is self] += len(ready)
            automatic.update((id(task), task) for task in ready)
        self.census.automatic_ready, self.census.automatic = counts, automatic
        self.census.waiting = sum(1 for task in self.tasks.values() if task._state == TaskState.WAITING)

    def may_have_automatic_ready(self, workflow=None) -> bool:
        """False when no automatic task is READY in `workflow` (the case's, with its sub-processes, by default) or
        in any of the sub-processes, if it is one."""
        counts = self.census.automatic_ready
        return bool(counts[0] if workflow not in (None, self) else any(counts))

    def automatic_ready_alone(self, workflow) -> list | None:
        """The automatic READY tasks _walk(workflow, TaskState.READY) gives, when there is at most one (the census
        knows them; as the walk does, without one); None when there are more, whose order is the walk's."""
        found = [task for task in self.census.automatic.values()
                 if task._state == TaskState.READY and not task.task_spec.manual and _reached(task, workflow)]
        return found if len(found) <= 1 else None

    def has_automatic_ready(self) -> bool:
        return self.may_have_automatic_ready() and any(not task.task_spec.manual
                                                       for task in _walk(self, TaskState.READY))

    def do_engine_steps(self, will_complete_task=None, did_complete_task=None):
        """SpiffWorkflow 3.2.0's: rounds of automatic steps (_do_engine_steps) until one runs nothing, then the
        timers; but the round that could only find that nothing is left to run (settled) is left out."""
        self.recount()
        while self._do_engine_steps(will_complete_task, did_complete_task) and not self.settled():
            pass
        self.refresh_timers()

    def settled(self) -> bool:
        """Whether another round of _do_engine_steps would run nothing and change nothing: no automatic task is
        READY, and the task of each running sub-process only waits on it (waits_on)."""
        return not self.may_have_automatic_ready() and all(self.waits_on(_task_of(self, sub.parent_task_id), sub)
                                                           for sub in self.get_active_subprocesses())

    def waits_on(self, task, subprocess) -> bool:
        """Whether SpiffWorkflow's _update of `task`, the task of `subprocess`, would do nothing: its spec's _update
        and _update_hook are the library's own for a sub-process's task (the hook then only answers whether the
        sub-process has completed), it is not predicted (_update would predict it afresh), and the sub-process,
        still the task's, runs on. The engine's rounds update every running sub-process's task (some 66 times a
        case in the bench's flow, for its limits' event sub-processes) to find it still waiting."""
        spec = type(task.task_spec) if task is not None else None
        return (spec is not None and spec._update is TaskSpec._update
                and spec._update_hook is SubWorkflowTask._update_hook
                and not task._state & TaskState.PREDICTED_MASK and not subprocess.completed
                and self.subprocesses.get(task.id) is subprocess)

    def get_tasks(self, first_task=None, **kwargs):
        """The engine asks several things of an unchanged tree (a command's timers, message and signal waits, its
        open tasks, its data): the tasks passed by one walk are filtered for each question while the tree's mark
        has not moved. Walks for different states take the same path through the tree when they go down from the
        same states (_path): READY, WAITING and READY | WAITING | ERROR share one walk."""
        if first_task is not None or not kwargs.keys() <= {"state", "manual"}:
            return super().get_tasks(first_task, **kwargs)
        state, manual, mark = kwargs.get("state", TaskState.ANY_MASK), kwargs.get("manual"), self._mark()
        path = _path(state)
        found = self._found.get(path)
        if found is None or found[0] != mark:
            found = self._found[path] = (mark, list(_walk(self, TaskState.ANY_MASK, path_of=state)))
        return [task for task in found[1]
                if task._state & state and (manual is None or task.task_spec.manual == manual)]

    def _mark(self) -> tuple:
        """Moves with everything a walk could see change: a task's state, a task added or removed (the trees'
        sizes), a task moved (moved()), the specs (a migration)."""
        return (self.census.changes, id(self.spec), id(self.subprocess_specs), len(self.tasks),
                *[len(sub.tasks) for sub in self.subprocesses.values()])

    def moved(self) -> None:
        """A task changed its place in the tree (or its id) without changing state."""
        self.census.changes += 1

    def refresh_timers(self) -> None:
        """SpiffWorkflow 3.2.0's: each waiting timer is updated (and goes off if it is due), but one whose update
        would only find it not due yet is left as it is (still_waits): the engine refreshes timers at the end of
        every round of steps, and the library's update merged the parent's data into the timer's again each time."""
        for task in list(self.event_manager.tasks.values()):
            if (isinstance(task.task_spec.event_definition, (TimerEventDefinition, MultipleEventDefinition))
                    and not still_waits(task)):
                task.task_spec._update(task)

    def cancel(self, workflow=None):
        """SpiffWorkflow 3.2.0's BpmnWorkflow.cancel (with Workflow.cancel for `workflow`, the case's by default),
        its unfinished tasks found by _walk, and the sub-processes of those it cancelled by a set of their ids'
        int: the library's generic iterator was about half of the cancel that ends each case, and its list of
        ids compared each sub-process's id with them by a Python call each."""
        flow = workflow or self
        flow.success, flow.completed = False, True
        spiff_workflow.logger.info("Workflow cancelled", extra=flow.collect_log_extras())
        cancelled = list(_walk(flow, TaskState.NOT_FINISHED_MASK, into_subprocesses=False))
        for task in cancelled:
            task.cancel()
        ids = {task.id.int for task in cancelled}
        for subprocess in [sub for key, sub in self.subprocesses.items() if key.int in ids]:
            cancelled.extend(self.cancel(subprocess))
        return cancelled

    def update_waiting_tasks(self) -> None:
        if not self.census.waiting:
            return  # (SpiffWorkflow asks after every task it completes; the case's own tree mostly has none)
        for task in _walk(self, TaskState.WAITING, into_subprocesses=False):
            task.task_spec._update(task)

    def _do_engine_steps(self, will_complete_task=None, did_complete_task=None):
        """SpiffWorkflow 3.2.0's own, with its walks for ready tasks (of each active sub-process, innermost
        first, then of the whole tree) done by _walk, and left out where no automatic task can be READY: most of
        them, as each round ends with walks that find nothing to run; and a sub-process's task updated only where
        the update could change something (waits_on)."""

        def update_workflow(workflow) -> int:
            count = 0
            if not self.may_have_automatic_ready(workflow):
                return count  # (the walk would find no task to run)
            alone = self.automatic_ready_alone(workflow)
            for task in alone if alone is not None else list(_walk(workflow, TaskState.READY)):
                if not task.task_spec.manual:
                    if will_complete_task is not None:
                        will_complete_task(task)
                    task.run()
                    count += 1
                    if did_complete_task is not None:
                        did_complete_task(task)
            return count

        active_subprocesses = self.get_active_subprocesses()
        for subprocess in sorted(active_subprocesses, key=lambda v: v.depth, reverse=True):
            while update_workflow(subprocess) > 0:
                pass
            if subprocess.parent_task_id is not None:
                task = self.get_task_from_id(subprocess.parent_task_id)
                if not self.waits_on(task, subprocess):
                    task.task_spec._update(task)
        count = update_workflow(self)
        return count > 0 or len(self.get_active_subprocesses()) > len(active_subprocesses)


def still_waits(task) -> bool:
    """Whether SpiffWorkflow 3.2.0's update of the waiting timer `task` would change nothing: its spec updates as
    the library's catching events do (no data inputs to copy in, no one told of the update), its timer is a date
    or a duration (whose has_fired is the library's) with its due moment computed, not fired and not due now, and
    its data holds its parent's already (the update's DeepMerge would add nothing and change nothing)."""
    spec, internal = task.task_spec, task.internal_data
    due = _DUE.get(type(spec.event_definition))
    value = internal.get("event_value")
    if (due is None or task._state != TaskState.WAITING or type(value) is not str or internal.get("event_fired")
            or not _updates_as_library(type(spec)) or spec.data_input_associations
            or spec.io_specification is not None and spec.io_specification.data_inputs
            or spec.update_event.n_subscribers()
            or task.workflow.top_workflow.event_manager.tasks.get(task.id) is not task):
        return False
    parent = task.parent
    if parent is None or not parent.data.items() <= task.data.items():
        return False
    try:
        moment = due(value)
    except Exception:  # noqa: BLE001 - a value the library's update fails on: it fails there, its own way
        return False
    return isinstance(moment, datetime) and not moment < spiff_timers.datetime.now(timezone.utc)


# How each timer's has_fired reads its due moment from its event_value.
_DUE = {spiff_timers.TimeDateEventDefinition: TimerEventDefinition.parse_time_or_duration,
        spiff_timers.DurationTimerEventDefinition: TimerEventDefinition.get_datetime}
_CATCHING_UPDATE = [CatchingEvent, BpmnTaskSpec, TaskSpec]


@lru_cache(maxsize=None)
def _updates_as_library(kind: type) -> bool:
    """Whether a spec of class `kind` updates a task by the library's TaskSpec._update and the _update_hooks of
    CatchingEvent, BpmnTaskSpec and TaskSpec alone, in that order (no class of ours or another mixin between)."""
    return ([klass for klass in kind.__mro__ if "_update" in vars(klass)] == [TaskSpec]
            and [klass for klass in kind.__mro__ if "_update_hook" in vars(klass)] == _CATCHING_UPDATE)


def _walk(workflow, state: int, manual: bool | None = None, into_subprocesses: bool = True,
          path_of: int | None = None):
    """The tasks BpmnTaskIterator(workflow.task_tree, state=state, manual=manual) gives, or with
    `into_subprocesses` False those of the plain TaskIterator (see CaseWorkflow); `workflow`: the case's or one of
    its sub-processes'. `path_of`: another state whose walk's path through the tree is taken (ANY_MASK on the path
    of READY: every task the walk for READY passes)."""
    min_state, finished_only = _path(state if path_of is None else path_of)
    # The sub-processes by their task ids' int, which is what a UUID hashes and compares by: hashing the UUID
    # itself is a Python call, once for every task walked.
    subprocesses = ({key.int: sub for key, sub in workflow.top_workflow.subprocesses.items()}
                    if into_subprocesses else None)
    pending = [workflow.task_tree]
    while pending:
        task = pending.pop()
        task_state = task._state
        subprocess = subprocesses.get(task.id.int) if subprocesses else None
        if task._children and (task_state >= min_state or subprocess is not None):
            tasks = task.workflow.tasks
            pending.extend([tasks.get(child) for child in reversed(task._children)])
        if subprocess is not None and not (task_state >= TaskState.FINISHED_MASK and finished_only):
            pending.append(subprocess.task_tree)
        if task_state & state and (manual is None or task.task_spec.manual == manual):
            yield task


def _path(state: int) -> tuple[int, bool]:
    """Where the library's iterator for `state` goes down the tree: (from which state on it takes a task's
    children, whether it leaves out a finished sub-process's tree)."""
    min_state = (TaskState.MAYBE if state & TaskState.PREDICTED_MASK
                 else TaskState.FUTURE if state & TaskState.DEFINITE_MASK else TaskState.COMPLETED)
    return min_state, state <= TaskState.FINISHED_MASK


def _reached(task, workflow) -> bool:
    """Whether _walk(workflow, TaskState.READY) comes to `task`: each task above it up to its tree's root lists the
    one below among its children (a task removed is no longer listed) and is at least FUTURE or has a sub-process
    (the walk goes down from those alone), and the tree is `workflow`'s, or that of a sub-process of the case whose
    task the walk comes to in turn."""
    top = workflow.top_workflow
    while True:
        flow = task.workflow
        if flow is not top and top.subprocesses.get(flow.parent_task_id) is not flow:
            return False  # (a sub-process deleted)
        tasks = flow.tasks
        while task is not flow.task_tree:
            parent = tasks.get(task._parent)
            if (parent is None or task.id not in parent._children
                    or parent._state < TaskState.FUTURE and parent.id not in top.subprocesses):
                return False
            task = parent
        if flow is workflow or flow is top:
            return flow is workflow
        task = _task_of(top, flow.parent_task_id)
        if task is None:
            return False


def _task_of(top, task_id):
    """The task `task_id` of the case's tree or of a sub-process's; None when there is none."""
    for flow in [top, *top.subprocesses.values()]:
        task = flow.tasks.get(task_id)
        if task is not None:
            return task
    return None


def is_internal(spec_name: str) -> bool:
    """SpiffWorkflow's own tasks (Start, Root, a process's EndJoin, a task's BoundaryEventSplit …), not diagram's."""
    return "." in spec_name or spec_name in ("Start", "End", "Root")


class _IdTexts(dict):
    """str(a task id) by the id's int, remembered: every dump writes each task's id as its key, as its own, as its
    parent's and among its children's (some 500 a case, Python code each); the text of a UUID is that of its value,
    its int. By the int, not the UUID: a UUID hashes by a Python call, an int does not. The latest few thousand
    ids are kept: those of the cases being worked come back at once."""

    KEPT = 1 << 14

    def __missing__(self, number: int) -> str:
        if len(self) >= self.KEPT:
            self.clear()
        text = self[number] = str(UUID(int=number))
        return text


_ID_TEXTS = _IdTexts()


class _TasksByIdText:
    """What the converters of a case's workflow and of its sub-processes do with their tasks' ids: written from
    _ID_TEXTS, and each parsed once per restore (SpiffWorkflow parsed a task's id as its key and again as its own,
    its parent's as often as it has children, and then the engine made the copies one object: _walk and every
    step from a task to its parent or children look tasks up by id, by identity when it is the same object)."""

    def mapping_to_dict(self, mapping, **kwargs):
        """A task by its converter's to_dict (TypeStrictDeltaConverter), what the registry would find for it by
        its type, through three calls more (every task of the case, four dumps a case); anything else by the
        registry."""
        convert, task_to_dict = self.registry.convert, self.registry.task_to_dict
        return {_ID_TEXTS[key.int]: task_to_dict(value) if type(value) is Task else convert(value, **kwargs)
                for key, value in mapping.items()}

    def tasks_from_dict(self, dct: dict, workflow) -> None:
        ids = {text: UUID(text) for text in dct["tasks"]}
        workflow.tasks = {ids[text]: self.registry.restore(task, workflow=workflow, ids=ids)
                          for text, task in dct["tasks"].items()}
        workflow.task_tree = workflow.tasks.get(ids.get(dct["root"]))


class WorkflowByReferenceConverter(_TasksByIdText, BpmnWorkflowConverter):
    """Serializes a workflow without its spec; restoring takes the cached spec as an argument."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        workflow = CaseWorkflow(spec, subprocess_specs, deserializing=True)
        self.tasks_from_dict(dct, workflow)
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        workflow.recount()
        return workflow


class SubWorkflowConverter(_TasksByIdText, BpmnSubWorkflowConverter):
    def from_dict(self, dct, task, top_workflow):
        """SpiffWorkflow 3.2.0's, with its tasks restored by tasks_from_dict."""
        spec = top_workflow.subprocess_specs.get(task.task_spec.spec)
        subprocess = self.target_class(spec, task.id, top_workflow, deserializing=True)
        self.tasks_from_dict(dct, subprocess)
        self.set_default_attributes(subprocess, dct)
        return subprocess


class TypeStrictDeltaConverter(TaskConverter):
    """Stores a task's data as SpiffWorkflow does, as what changed from its parent's, but a value the parent has
    equal (==) though not the same counts as changed: 1 == True and Decimal("1.0") == Decimal("1.00"), so the
    library left such a value out and restored the parent's in its place (a bool become 1, which a FEEL or JUEL
    comparison may read otherwise; an amount's scale, printed in the 文书), and a workflow kept in memory
    (kept_workflows.py) and one restored from the same state differed.

    The dict is SpiffWorkflow 3.2.0's TaskConverter.to_dict's, key for key, with its type-strict additions last in
    `updates`, built in one pass over the data: the library looked the parent up three times and compared the data
    in two passes, then this class in a third (a dump converts every task of the case, four dumps a case)."""

    def __init__(self, target_class, registry, typename=None):
        super().__init__(target_class, registry, typename)
        registry.task_to_dict = self.to_dict  # (for _TasksByIdText.mapping_to_dict)

    def to_dict(self, task):
        """(With the typename last, as the registry adds it to what a converter gives: it sets it once more.)"""
        parent, internal, texts = task.workflow.tasks.get(task._parent), task.internal_data, _ID_TEXTS
        return {
            "id": texts[task.id.int],
            "parent": texts[task._parent.int] if parent is not None else None,
            "children": [texts[child.int] for child in task._children],
            "last_state_change": task.last_state_change,
            "state": task._state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": self.registry.convert(internal) if internal else internal,  # (most tasks have none)
            "data": task.data if parent is None else {},
            "delta": {} if parent is None else _delta(parent.data, task.data),
            "typename": self.typename,
        }

    def from_dict(self, dct, workflow, ids):
        """SpiffWorkflow 3.2.0's, with the ids parsed once (`ids`: text -> UUID, of the tasks of `workflow`)."""
        task_spec = workflow.spec.task_specs.get(dct["task_spec"])
        task = self.target_class(workflow, task_spec, state=dct["state"], id=ids[dct["id"]])
        task._parent = (ids.get(dct["parent"]) or UUID(dct["parent"])) if dct["parent"] is not None else None
        task._children = [ids.get(child) or UUID(child) for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        task.internal_data = self.registry.restore(dct["internal_data"])
        if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            task.workflow.top_workflow.event_manager.add_task(task)
        task.data = self._data_from_dict(dct, task.parent)
        return task

    def _data_from_dict(self, dct: dict, parent) -> dict:
        delta = dct.get("delta")
        if not delta or parent is None:
            return self.registry.restore(dct["data"])
        data = DeepMerge.merge({}, parent.data)
        data.update(self.registry.restore(delta.get("updates", {})))
        for key in delta.get("deletions", {}):
            data.pop(key, None)
        return data


def _delta(before: dict, after: dict) -> dict:
    """SpiffWorkflow's delta of `after` from `before` (the keys whose value is new or unequal, in `after`'s order;
    the keys gone), then the keys whose value is equal but not the same (_same)."""
    updates, equal_not_same, kept = {}, {}, 0
    for key, value in after.items():
        if key not in before:
            updates[key] = value
            continue
        kept += 1
        old = before[key]
        if value != old:  # (as the library compares: a NaN, even the parent's very one, counts as changed)
            updates[key] = value
        elif value is not old and not _same(old, value):
            equal_not_same[key] = value
    updates.update(equal_not_same)
    deleted = [key for key in before if key not in after] if kept < len(before) else []  # (most tasks delete none)
    return {"updates": updates, "deletions": deleted}


_EXACT = frozenset({str, int, bool, type(None), date, timedelta, UUID})  # of these, equal values are the same


def _same(a, b) -> bool:
    """Whether `b`, equal to `a` (==), is the same value too: of the same type all through, with the same scale (a
    Decimal), sign (a float's zero) and offset (a datetime: one instant at two offsets is ==)."""
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is dict:  # (equal dicts have equal keys, with equal values; the same ones in one order, of one type)
        return all((key is other_key or type(key) is type(other_key) and key == other_key)
                   and (item is other or _same(item, other))
                   for (key, item), (other_key, other) in zip(a.items(), b.items()))
    if kind is list:
        return all(x is y or _same(x, y) for x, y in zip(a, b))
    return kind in _EXACT or repr(a) == repr(b)


class DumpRegistry(DefaultRegistry):
    """SpiffWorkflow 3.2.0's registry, converting always as its serialize_json has it convert: objects the
    registry knows (a workflow, a task, an event) to dicts, the data they hold left as it is, for the JSON encoder
    to convert as it writes it (the registry's encoder default). The library switches this on and off around each
    dump with a flag on the registry (`_encoder_mode`), which the threads of a worker share: one thread's dump
    ending switched it off in another's, whose data the registry then converted whole, where a set of dates cannot
    be held (a dict is no set member) and the dump failed. The engine converts nothing but its dumps."""

    convert = DefaultRegistry._convert_for_encoder


class CaseSerializer(BpmnWorkflowSerializer):
    def dump(self, workflow) -> tuple[str, dict]:
        """SpiffWorkflow 3.2.0's serialize_json (its registry a DumpRegistry), which also gives the dict the text
        was written from."""
        dct = self.to_dict(workflow)
        dct[self.VERSION_KEY] = self.VERSION
        return json.dumps(dct, cls=self._encoder_cls), dct


def stored_task_data(dct: dict):
    """What the stored workflow `dct` (CaseSerializer.dump's) holds of each task's data, in the case's tree and in
    its sub-processes': a root's data, another task's delta updates (TypeStrictDeltaConverter)."""
    for flow in [dct, *dct["subprocesses"].values()]:
        for task in flow["tasks"].values():
            yield task["delta"]["updates"] if task["delta"] else task["data"]


def _serializer() -> CaseSerializer:
    config = deepcopy(CAMUNDA_CONFIG)
    config[BpmnWorkflow] = WorkflowByReferenceConverter
    config[Task] = TypeStrictDeltaConverter
    config[BpmnSubWorkflow] = SubWorkflowConverter
    config[PassThroughTask] = config[OfflineTask] = config[SimpleBpmnTask]
    config[EventSubProcess], config[TimerStartEvent] = config[CallActivity], config[StartEvent]
    registry = BpmnWorkflowSerializer.configure(config, DumpRegistry())
    registry.typenames[CaseWorkflow] = registry.typenames[BpmnWorkflow]  # stored as the BpmnWorkflow it is
    # Form values are typed: money as Decimal, dates as date.
    registry.register(Decimal, lambda value: {"value": str(value)}, lambda dct: Decimal(dct["value"]))
    registry.register(date, lambda value: {"value": value.isoformat()}, lambda dct: date.fromisoformat(dct["value"]))
    # SpiffWorkflow stores a timedelta's days and seconds only: a script's `now() - received_at` lost its
    # microseconds (states stored without them still restore: timedelta(days=…, seconds=…)).
    registry.register(timedelta, lambda value: {"days": value.days, "seconds": value.seconds,
                                                "microseconds": value.microseconds}, lambda dct: timedelta(**dct))
    return CaseSerializer(registry)


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
        token = _case_clock.set(engine.bindings.clock)
        try:
            with command_budget(engine.environment.limits):
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
        self._serializer = _serializer()
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
