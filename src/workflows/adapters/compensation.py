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
loop back) is compensated twice; a completion already compensated (by a sub-process's compensation end event, say)
is not compensated again by a later throw. An `activityRef` names an activity of the throw's own scope (a sub-process's
inner activity is compensated through the sub-process, never alone: adapters/bpmn_elements.py refuses it).

A sub-process may hold its compensation handler as a compensation event sub-process (a compensation start event):
compensating the sub-process runs it, beside the throw like any handler, and a compensation throw event in it
compensates the completed sub-process's activities (its `activityRef`: one of them), not its own.

The compensation activities have no incoming flow, so SpiffWorkflow's parser never reaches them: ProcessParser
parses them beside the path, those of its nested sub-processes too (the throw event runs them as its children,
in its own scope: the case has one scope of data), and leaves the compensation boundary events out (they catch
nothing there).
"""
from __future__ import annotations

from uuid import UUID

from SpiffWorkflow.bpmn.parser.ProcessParser import ProcessParser
from SpiffWorkflow.bpmn.specs.defaults import EndEvent, IntermediateThrowEvent
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.camunda.parser.event_parsers import CamundaIntermediateThrowEventParser
from SpiffWorkflow.util.task import TaskState

from .signal_events import EndEventParser

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN_NS}
_STATE = "compensation"  # the throw event's internal data: the handlers still to run, the one running
_COMPENSATED = "compensates"  # a handler's internal data: the id of the task it compensates


def handlers_of(scope) -> dict[str, str]:
    """activity id -> the id of its compensation handler, for the activities of `scope` (a process or sub-process
    element) and of its nested sub-processes: the compensation activity a compensation boundary event of the
    activity is associated with, or for a sub-process, its compensation event sub-process."""
    targets = {assoc.get("sourceRef"): assoc.get("targetRef")
               for assoc in scope.getroottree().getroot().iterfind(".//bpmn:association", NS)}
    handlers = {event.get("attachedToRef"): targets[event.get("id")]
                for event in scope.iterfind(".//bpmn:boundaryEvent", NS)
                if event.find("bpmn:compensateEventDefinition", NS) is not None and event.get("id") in targets}
    return handlers | {node.getparent().get("id"): node.get("id") for node in _compensation_event_sub_processes(scope)}


def is_compensation_boundary(node) -> bool:
    return node.find("bpmn:compensateEventDefinition", NS) is not None


def is_compensation_event_sub_process(node) -> bool:
    """An event sub-process started by a compensation start event: its sub-process's compensation handler."""
    return node.get("triggeredByEvent") == "true" and \
        node.find("bpmn:startEvent/bpmn:compensateEventDefinition", NS) is not None


def _compensation_event_sub_processes(scope) -> list:
    return [node for node in scope.iterfind(".//bpmn:subProcess[@triggeredByEvent='true']", NS)
            if is_compensation_event_sub_process(node)]


class CompensationProcessParser(ProcessParser):
    """A process (or sub-process) whose compensation activities are parsed beside its path."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.boundary_events_by_attached = {
            ref: [event for event in events if not is_compensation_boundary(event)]
            for ref, events in self.boundary_events_by_attached.items()}

    def xpath(self, xpath):
        found = super().xpath(xpath)
        if xpath == "./bpmn:subProcess[@triggeredByEvent='true']":  # (ProcessParser.add_tasks: what events start)
            return [node for node in found if not is_compensation_event_sub_process(node)]
        return found

    def add_tasks(self):
        super().add_tasks()
        # A compensation event sub-process compensates its parent's activities: it holds the parent's handlers.
        own = self.node.getparent() if is_compensation_event_sub_process(self.node) else self.node
        beside = [*own.iterfind(".//bpmn:*[@isForCompensation='true']", NS), *_compensation_event_sub_processes(own)]
        for node in beside:
            # Reached from no flow, but SpiffWorkflow runs no task without an input: it hangs off the start.
            self.parse_node(node).inputs = [self.spec.start]


class _Compensating:
    """A compensation throw event: it runs the compensation activities, then goes on."""

    handlers: dict[str, str]
    sub_processes: frozenset[str]  # the ids of the embedded sub-processes in the scope, at any depth
    activity: str | None  # activityRef: compensate only this one
    in_handler: bool  # in a compensation event sub-process: it compensates the completed sub-process it handles

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
            entry = state["todo"].pop(0)
            handler, compensated = (entry, None) if isinstance(entry, str) else entry  # (a list kept by 0045's code)
            child = my_task._add_child(my_task.workflow.spec.task_specs[handler], TaskState.FUTURE)
            child.triggered = True  # (not one of the event's outputs: kept when its own path is added)
            child.internal_data[_COMPENSATED] = compensated
            state["current"] = str(child.id)
            child.task_spec._update(child)
            my_task._set_state(TaskState.WAITING)
            return False
        return True

    def _to_compensate(self, my_task) -> list[list[str]]:
        scope = my_task.workflow
        top = scope.top_workflow
        if self.in_handler:  # the sub-process whose compensation handler (event sub-process) this one runs in
            scope = top.subprocesses[UUID(top.get_task_from_id(scope.parent_task_id).internal_data[_COMPENSATED])]
        return self._handlers_in(scope, _compensated_before(top), self.activity)

    def _handlers_in(self, scope, compensated: set[str], activity: str | None = None) -> list[list[str]]:
        """[handler, the id of the task it compensates] for `scope` (a workflow or sub-workflow), the latest
        completed activity first; a completed sub-process without a handler of its own stands for its inner ones.
        What an earlier throw compensated is left out: a completion is compensated once."""
        done = sorted((task for task in scope.tasks.values() if task.state == TaskState.COMPLETED
                       and str(task.id) not in compensated
                       and (activity is None or task.task_spec.name == activity)),
                      key=lambda task: task.last_state_change, reverse=True)
        todo = []
        for task in done:
            inner = scope.top_workflow.subprocesses.get(task.id)
            if task.task_spec.name in self.handlers:
                todo.append([self.handlers[task.task_spec.name], str(task.id)])
            elif inner is not None and task.task_spec.name in self.sub_processes:  # (a call activity: not ours)
                todo.extend(self._handlers_in(inner, compensated))
        return todo


def _compensated_before(top) -> set[str]:
    """The ids of the tasks a compensation handler of the case has run (or is running) for."""
    scopes = [top, *top.subprocesses.values()]
    return {task.internal_data[_COMPENSATED] for scope in scopes for task in scope.tasks.values()
            if task.internal_data.get(_COMPENSATED)}


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
    task.in_handler = is_compensation_event_sub_process(scope)
    if task.in_handler:
        scope = scope.getparent()
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
