"""Moving a running case's workflow onto another version of its process, with SpiffWorkflow's own diff
(SpiffWorkflow/bpmn/util/diff.py: SpecDiff aligns the old version's elements with the new one's by id, then
tries to match the rest by their neighbours; migrate_workflow points each task at its new spec and predicts the
open tasks' paths afresh).

An element is taken to correspond only by its id or by the mapping the user gives: the library's alignment by
neighbours is offered as a suggestion, never applied unasked, so that no case moves somewhere nobody chose. Each
task of the case (open, waiting, done) must have a counterpart, else the case is refused with the reason: the
stored state refers to its specs by name, and a task left without one could not be restored.
"""
from __future__ import annotations

from collections import deque

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import DurationTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task, TaskState

from handlers import HANDLERS
from workflows.domain.case_migration import MigrationCheck, MoveTarget, Unmatched
from workflows.domain.errors import Conflict, NotFound
from workflows.domain.model import SUPERVISION_STAGE

from .bpmn_parsing import HandlerServiceTask, ProcessDefinition
from .case_workflow import is_internal
from .engine import CaseRun

ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
PREDICTED = TaskState.PREDICTED_MASK | TaskState.FUTURE


class _SpecComparer:
    """What SpecDiff compares of two specs (its `registry.convert`): the serializer stores this project's specs by
    reference and has no converter for them, so the attributes that matter to a case are read directly."""

    @staticmethod
    def convert(spec) -> dict:
        return {"typename": type(spec).__name__, "bpmn_name": getattr(spec, "bpmn_name", None),
                "lane": getattr(spec, "lane", None), "manual": spec.manual,
                "outputs": sorted(output.name for output in spec.outputs)}


def _label(spec) -> str:
    return getattr(spec, "bpmn_name", None) or spec.name


def _element(name: str) -> str:
    """The diagram element of a spec name: SpiffWorkflow's own specs beside a task carry its id before a dot."""
    return name.split(".", 1)[0]


class WorkflowMigration:
    """One case's workflow and the target version: check, then apply."""

    def __init__(self, run: CaseRun, target: ProcessDefinition, mapping: dict[str, str]):
        self.run, self.target, self.mapping = run, target, dict(mapping)
        self._suggested: dict[str, str] = {}  # element -> the target element SpecDiff matched by neighbours
        self._diffs = [(workflow, self._spec_diff(workflow.spec, new_spec))
                       for workflow, new_spec in self._workflows()]

    def _workflows(self):
        """The case's workflow and each sub-process it runs, with their specs in the target (None: none there)."""
        top = self.run.workflow
        yield top, self.target.spec
        for sub in top.subprocesses.values():
            yield sub, self.target.subprocess_specs.get(sub.spec.name)

    def _spec_diff(self, original, new) -> SpecDiff | None:
        if new is None:
            return None
        diff = SpecDiff(_SpecComparer(), original, new)
        for spec, aligned in list(diff.alignment.items()):
            if spec is None:
                continue
            mapped = self._mapped(spec.name, new)
            if mapped is not None:
                diff.alignment[spec] = mapped
            elif aligned is not None and aligned.name != spec.name:  # matched by neighbours: only a suggestion
                self._suggested[_element(spec.name)] = _element(aligned.name)
                diff.alignment[spec] = None
        return diff

    def _mapped(self, name: str, new):
        """The target spec the user's mapping gives for spec `name` (and for the library's specs beside it)."""
        element = _element(name)
        if element not in self.mapping:
            return None
        return new.task_specs.get(self.mapping[element] + name[len(element):])

    def check(self) -> MigrationCheck:
        unmatched, active = {}, []
        failed = False
        for workflow, diff in self._diffs:
            for task in workflow.get_tasks(skip_subprocesses=True):
                is_active = task.has_state(ACTIVE)
                failed = failed or task.has_state(TaskState.ERROR)
                if is_active and not is_internal(task.task_spec.name):
                    active.append(task.task_spec.name)
                aligned = diff.alignment.get(task.task_spec) if diff else None
                if aligned is None and not task.has_state(PREDICTED | TaskState.CANCELLED):
                    element = _element(task.task_spec.name)
                    known = unmatched.get(element)
                    unmatched[element] = Unmatched(element, _label(task.task_spec) if element == task.task_spec.name
                                                   else element, is_active or bool(known and known.active),
                                                   self._suggested.get(element))
        return MigrationCheck(tuple(dict.fromkeys(active)),
                              tuple(sorted(unmatched.values(), key=lambda u: (not u.active, u.element_id))),
                              failed, self._renamed())

    def _renamed(self) -> dict[str, tuple[str, str]]:
        renamed = {}
        for _, diff in self._diffs:
            for spec, new in (diff.alignment.items() if diff else ()):
                if spec is not None and new is not None and not is_internal(spec.name) \
                        and _label(spec) != _label(new):
                    renamed[spec.name] = (_label(spec), _label(new))
        return renamed

    def apply(self) -> None:
        """Point the case's workflow at the target version (check() must have found it movable): every task at
        its counterpart, the predicted paths dropped where the target has no such element, the open and waiting
        tasks' paths predicted afresh (their ids kept: the inbox rows stay theirs)."""
        top = self.run.workflow
        for workflow, diff in self._diffs:
            new_spec = self.target.spec if workflow is top else self.target.subprocess_specs[workflow.spec.name]
            for task in list(workflow.get_tasks(skip_subprocesses=True, state=PREDICTED | TaskState.CANCELLED)):
                if task.id in workflow.tasks and diff.alignment.get(task.task_spec) is None:
                    workflow._remove_task(task.id)
            started = _started_timers(workflow)
            migrate_workflow(WorkflowDiff(workflow, diff), workflow, new_spec)
            self._keep_timers(workflow, started)
        top.subprocess_specs = self.target.subprocess_specs
        self.run.definition = self.target
        forget_dropped_events(top)

    def _keep_timers(self, workflow, started: dict) -> None:
        """SpiffWorkflow's migration resets the waiting tasks, and with them their timers' due moments: a task's own
        timer (3 days after it opened) would count again from the migration. Each keeps the moment it had, unless
        the target changed its duration: then the new duration runs from when the timer started."""
        engine = workflow.script_engine
        for task_id, (timer, value) in started.items():
            task = workflow.tasks.get(task_id)
            new = _timer(task) if task is not None and task.has_state(TaskState.WAITING) else None
            if new is None:
                continue
            if type(new) is type(timer) and new.expression == timer.expression:
                task.internal_data.update(value)
            elif isinstance(timer, DurationTimerEventDefinition) and isinstance(new, DurationTimerEventDefinition):
                old, length = (TimerEventDefinition.parse_iso_duration(engine.evaluate(task, t.expression))
                               for t in (timer, new))  # a duration's text ("P3D"), whatever the moment
                due = TimerEventDefinition.get_datetime(value["event_value"])
                start = due - TimerEventDefinition.get_timedelta_from_end(old, due)
                task.internal_data.pop("event_fired", None)
                task.internal_data["event_value"] = (
                    start + TimerEventDefinition.get_timedelta_from_start(length, start)).isoformat()


def _timer(task) -> TimerEventDefinition | None:
    """The task's timer: a timer event's own, or the one an event-based gateway waits on (容缺补正's 补正期限)."""
    definition = getattr(task.task_spec, "event_definition", None)
    return next((timer for timer in getattr(definition, "event_definitions", [definition])
                 if isinstance(timer, TimerEventDefinition)), None)


def _started_timers(workflow) -> dict:
    """Task id -> (timer, its stored due moment) of each timer the workflow waits on."""
    return {task.id: (timer, {key: task.internal_data[key] for key in ("event_value", "event_fired")
                              if key in task.internal_data})
            for task in workflow.get_tasks(state=TaskState.WAITING, skip_subprocesses=True)
            if (timer := _timer(task)) is not None and "event_value" in task.internal_data}


def forget_dropped_events(workflow) -> None:
    """SpiffWorkflow 3.2.0 keeps the catching events of tasks a reset dropped among those it waits for (and then
    fails on them when it next refreshes timers): forget them (as engine.CaseRun._reset does)."""
    events = workflow.event_manager.tasks
    for key, waiting in list(events.items()):
        if waiting.workflow.tasks.get(waiting.id) is not waiting:
            del events[key]


# --- moving the token within one version ----------------------------------------------------------------------

def _changes_outside(spec) -> bool:
    """A step whose effect outside the case a move cannot undo nor replay for free: a handler registered with
    changes_outside (拨付资金 …), an external worker's task, a message thrown to another party (what
    engine.CaseRun._outside_effect counts once done, here for a step not done yet)."""
    if isinstance(spec, HandlerServiceTask):
        return spec.external or HANDLERS[spec.topic].changes_outside
    return isinstance(spec, ThrowingEvent) and isinstance(getattr(spec, "event_definition", None),
                                                          MessageEventDefinition)


def _reach(start, forward: bool = True) -> set:
    """Every spec reachable from `start` along the sequence flows (`forward` False: every spec reaching it)."""
    seen, queue = set(), deque([start])
    while queue:
        spec = queue.popleft()
        for near in (spec.outputs if forward else spec.inputs):
            if near not in seen:
                seen.add(near)
                queue.append(near)
    return seen


class TokenMove:
    """Cancel what a case stands at (an open user task or a waiting event) and activate another element of the
    same version: a user task, or the first element of a stage."""

    def __init__(self, run: CaseRun):
        self.run = run
        self.workflow = run.workflow
        self.specs = run.workflow.spec.task_specs

    def active(self) -> list[Task]:
        """The open user tasks, waiting events and failed steps of the case's own path (督办, the limits'
        watchers and the library's own tasks left out)."""
        definition = self.run.definition
        return [task for task in self.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING
                                                         | TaskState.ERROR, skip_subprocesses=True)
                if not is_internal(task.task_spec.name) and task.task_spec.name not in definition.limit_watchers
                and definition.stages.get(task.task_spec.name) != SUPERVISION_STAGE
                and (task.has_state(TaskState.WAITING | TaskState.ERROR) or task.task_spec.manual)]

    def targets(self, element_id: str) -> list[MoveTarget]:
        """Where the token at `element_id` may go, each with the outside effects the move would pass."""
        source = self.specs[element_id]
        definition, found = self.run.definition, {}
        for name in [*definition.user_tasks, *self._stage_starts()]:
            spec = self.specs.get(name)
            if spec is None or name == element_id or definition.stages.get(name) == SUPERVISION_STAGE:
                continue
            found[name] = MoveTarget(name, getattr(spec, "bpmn_name", None) or name, definition.stages.get(name),
                                     self._effects_between(source, spec))
        return list(found.values())

    def _stage_starts(self) -> list[str]:
        """The steps where a stage begins: the nearest elements before them that name a stage (gateways and the
        library's own specs passed over) name another one, or there are none (the process starts there). Events
        are left out: a case put to wait for one (容缺补正's materials) would wait for what nobody sends."""
        stages = self.run.definition.stages
        return [name for name, stage in stages.items() if name in self.specs and stage != SUPERVISION_STAGE
                and not isinstance(self.specs[name], CatchingEvent)
                and (not (before := self._stages_before(self.specs[name])) or before - {stage})]

    def _stages_before(self, spec) -> set[str]:
        stages, found, seen = self.run.definition.stages, set(), set()
        queue = deque(spec.inputs)
        while queue:
            near = queue.popleft()
            if near in seen:
                continue
            seen.add(near)
            element = _element(near.name)
            if element != spec.name and stages.get(element):
                found.add(stages[element])
            else:
                queue.extend(near.inputs)
        return found

    def _effects_between(self, source, target) -> tuple[str, ...]:
        """Steps with outside effects a move from `source` to `target` skips (ahead: the step left, too) or
        redoes (back: those done, the target too)."""
        ahead = (_reach(source) & _reach(target, forward=False)) | {source} if target in _reach(source) else set()
        back = (_reach(target) & _reach(source, forward=False)) | {target} if source in _reach(target) else set()
        done = {task.task_spec for task in self.workflow.get_tasks(state=TaskState.COMPLETED,
                                                                   skip_subprocesses=True)}
        steps = [spec for spec in ahead if _changes_outside(spec) and spec not in done]
        steps += [spec for spec in back if _changes_outside(spec) and spec in done and spec not in steps]
        return tuple(sorted(getattr(spec, "bpmn_name", None) or spec.name for spec in steps))

    def move(self, element_id: str, target_id: str) -> None:
        """Cancel the task at `element_id` (with its boundary events) and start `target_id` where it stood."""
        task = next((t for t in self.active() if t.task_spec.name == element_id), None)
        if task is None:
            raise Conflict("案件当前不在该环节，请刷新后重试")
        target = self.specs.get(target_id)
        if target is None:
            raise NotFound(f"流程中没有元素“{target_id}”")
        node = task.parent if isinstance(task.parent.task_spec, BoundaryEventSplit) else task
        anchor = node.parent
        for pending in ([*node.children] if node is not task else [task]):
            pending.cancel()
        entry = self.specs.get(f"{target_id}.BoundaryEventSplit", target)
        moved = Task(self.workflow, entry, parent=anchor, state=TaskState.FUTURE)
        entry._predict(moved, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)
        entry._update(moved)
        forget_dropped_events(self.workflow)
        self.run.advance()
