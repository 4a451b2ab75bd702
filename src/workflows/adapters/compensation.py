"""Compensation, which SpiffWorkflow 3.2.0 does not run: a compensation boundary event on an activity, associated
with its compensation activity (isForCompensation: 撤销拨付 for 拨付), and a compensation throw event (intermediate
or end) that undoes what was done.

When a case reaches the throw event, each activity of the same scope (the process, or the sub-process the event
is in) that has completed and has a compensation handler is compensated, one after another, the latest completed
first (BPMN 2.0 §10.5.6, §13.5.5); with `activityRef`, only that activity. An activity's handler is the
compensation activity its compensation boundary event is associated with; a completed embedded sub-process
without one of its own is compensated by default: its own completed activities with handlers, the latest first,
and so on down its nested sub-processes. A compensation user task lands in the inbox like any other. The throw
event waits until they are done, then the path goes on (an end event ends it: a compensation end event in a
sub-process compensates the sub-process's activities, then the sub-process ends). An activity completed twice (a
loop back) is compensated twice. An `activityRef` names an activity of the throw's own scope (a sub-process's
inner activity is compensated through the sub-process, never alone); a compensation event sub-process is refused
at deploy (adapters/bpmn_elements.py).

The compensation activities have no incoming flow, so SpiffWorkflow's parser never reaches them: ProcessParser
parses them beside the path, those of its nested sub-processes too (the throw event runs them as its children,
in its own scope: the case has one scope of data), and leaves the compensation boundary events out (they catch
nothing there).
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.parser.ProcessParser import ProcessParser
from SpiffWorkflow.bpmn.specs.defaults import EndEvent, IntermediateThrowEvent
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.camunda.parser.event_parsers import CamundaIntermediateThrowEventParser
from SpiffWorkflow.util.task import TaskState

from .signal_events import EndEventParser

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN_NS}
_STATE = "compensation"  # the throw event's internal data: the handlers still to run, the one running


def handlers_of(scope) -> dict[str, str]:
    """activity id -> the id of its compensation activity, for the activities of `scope` (a process or
    sub-process element) and of its nested sub-processes with a compensation boundary event associated with one."""
    targets = {assoc.get("sourceRef"): assoc.get("targetRef")
               for assoc in scope.getroottree().getroot().iterfind(".//bpmn:association", NS)}
    return {event.get("attachedToRef"): targets[event.get("id")]
            for event in scope.iterfind(".//bpmn:boundaryEvent", NS)
            if event.find("bpmn:compensateEventDefinition", NS) is not None and event.get("id") in targets}


def is_compensation_boundary(node) -> bool:
    return node.find("bpmn:compensateEventDefinition", NS) is not None


class CompensationProcessParser(ProcessParser):
    """A process (or sub-process) whose compensation activities are parsed beside its path."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.boundary_events_by_attached = {
            ref: [event for event in events if not is_compensation_boundary(event)]
            for ref, events in self.boundary_events_by_attached.items()}

    def add_tasks(self):
        super().add_tasks()
        for node in self.node.iterfind(".//bpmn:*[@isForCompensation='true']", NS):
            # Reached from no flow, but SpiffWorkflow runs no task without an input: it hangs off the start.
            self.parse_node(node).inputs = [self.spec.start]


class _Compensating:
    """A compensation throw event: it runs the compensation activities, then goes on."""

    handlers: dict[str, str]
    sub_processes: frozenset[str]  # the ids of the embedded sub-processes in the scope, at any depth
    activity: str | None  # activityRef: compensate only this one

    def _update_hook(self, my_task):
        state = my_task.internal_data.get(_STATE)
        if state is None:
            super()._update_hook(my_task)  # the data of the path, as any task gets it
            state = my_task.internal_data[_STATE] = {"todo": self._to_compensate(my_task), "current": None}
        current = next((child for child in my_task.children if str(child.id) == state["current"]), None)
        if current is not None and not current.has_state(TaskState.FINISHED_MASK):
            my_task._set_state(TaskState.WAITING)
            return False
        if current is not None:
            my_task.data.update(current.data)
            state["current"] = None
        if state["todo"]:
            child = my_task._add_child(my_task.workflow.spec.task_specs[state["todo"].pop(0)], TaskState.FUTURE)
            child.triggered = True  # (not one of the event's outputs: kept when its own path is added)
            state["current"] = str(child.id)
            child.task_spec._update(child)
            my_task._set_state(TaskState.WAITING)
            return False
        return True

    def _to_compensate(self, my_task) -> list[str]:
        return self._handlers_in(my_task.workflow, self.activity)

    def _handlers_in(self, scope, activity: str | None = None) -> list[str]:
        """The compensation activities to run for `scope` (a workflow or sub-workflow), the latest completed
        activity first; a completed sub-process without a handler of its own stands for its inner ones."""
        done = sorted((task for task in scope.tasks.values() if task.state == TaskState.COMPLETED
                       and (activity is None or task.task_spec.name == activity)),
                      key=lambda task: task.last_state_change, reverse=True)
        todo = []
        for task in done:
            inner = scope.top_workflow.subprocesses.get(task.id)
            if task.task_spec.name in self.handlers:
                todo.append(self.handlers[task.task_spec.name])
            elif inner is not None and task.task_spec.name in self.sub_processes:  # (a call activity: not ours)
                todo.extend(self._handlers_in(inner))
        return todo


class CompensationThrowEvent(_Compensating, IntermediateThrowEvent):
    pass


class CompensationEndEvent(_Compensating, EndEvent):
    pass


def _compensating(parser, spec_class, fallback):
    definition = parser.node.find("bpmn:compensateEventDefinition", NS)
    if definition is None:
        return fallback()
    task = spec_class(parser.spec, parser.bpmn_id, event_definition=NoneEventDefinition(),
                      **parser.bpmn_attributes)
    scope = parser.node.getparent()
    task.handlers = handlers_of(scope)
    task.sub_processes = frozenset(node.get("id") for kind in ("subProcess", "transaction")
                                   for node in scope.iterfind(f".//bpmn:{kind}", NS))
    task.activity = definition.get("activityRef")
    return task


class IntermediateThrowEventParser(CamundaIntermediateThrowEventParser):
    def create_task(self):
        return _compensating(self, CompensationThrowEvent, super().create_task)


class CompensationEndEventParser(EndEventParser):
    def create_task(self):
        def end():
            return super(CompensationEndEventParser, self).create_task()
        if self.node.find("bpmn:compensateEventDefinition", NS) is None:
            return end()
        task = _compensating(self, CompensationEndEvent, end)
        task.connect(self.spec.end)
        return task
