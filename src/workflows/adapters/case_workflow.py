"""SpiffWorkflow 3.2.0 as a case runs it: its timers on the case's clock, the patches of its tasks' state changes
and of its end join, and CaseWorkflow, the workflow whose task queries walk the tree in a plain loop and mostly not at
all (its census of the tasks' states tells when a walk would find nothing, or what it found last).

What the patches replace is the library's own code, kept to what it did; each says why it is replaced.
"""
from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from datetime import datetime, timezone
from functools import lru_cache

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.bpmn_task_spec import BpmnTaskSpec
from SpiffWorkflow.bpmn.specs.control import _EndJoin
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timers
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow import task as spiff_task, workflow as spiff_workflow
from SpiffWorkflow.task import Task, TaskState

# SpiffWorkflow's timers read the wall clock (datetime.now in its timer module). A case runs on the clock of the
# service instead, so that tests and the demo can move time forward: the timer module gets a datetime whose now()
# is the clock of the case being run (a context variable: each thread and command has its own).
case_clock: ContextVar = ContextVar("case_clock", default=None)


class _CaseClockDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        clock = case_clock.get()
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
