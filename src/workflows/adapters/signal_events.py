"""Signal events: thrown by a case (an intermediate or end throw event), caught within it by SpiffWorkflow
(intermediate catch, boundary, event-based gateway, the start of an event sub-process), and, as Camunda 7
broadcasts a signal to every instance waiting for it, by the other cases of the agency waiting for it
(services/signals.py, after the thrower's commit).

Between cases a signal carries no data: SpiffWorkflow would copy the thrower's whole case data into the catcher's
(another applicant's ID number, bank account …). Within a case it keeps SpiffWorkflow's behaviour.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.parser.event_parsers import (CANCEL_EVENT_XPATH, ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH,
                                                     MESSAGE_EVENT_XPATH, SIGNAL_EVENT_XPATH, TERMINATION_EVENT_XPATH)
from SpiffWorkflow.camunda.parser.event_parsers import CamundaEndEventParser
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.util.task import TaskState


def _definitions(spec) -> list:
    definition = getattr(spec, "event_definition", None)
    return list(getattr(definition, "event_definitions", [definition]))


def thrown_signal(task) -> str | None:
    """The name of the signal `task` (just completed) threw, if it is a signal throw event."""
    if isinstance(task.task_spec, ThrowingEvent):
        signal = next((d for d in _definitions(task.task_spec) if isinstance(d, SignalEventDefinition)), None)
        return signal.name if signal else None
    return None


def caught_signal(task) -> str | None:
    """The name of the signal `task` (just completed) caught, if it is a signal catch event."""
    if isinstance(task.task_spec, CatchingEvent) and not isinstance(task.task_spec, ThrowingEvent):
        signal = next((d for d in _definitions(task.task_spec) if isinstance(d, SignalEventDefinition)), None)
        return signal.name if signal else None
    return None


def waiting_signals(workflow) -> list[str]:
    """The names of the signals the case waits for now: its waiting catch events (boundary, intermediate, an
    event-based gateway's), and the start events of its signal event sub-processes while the case runs."""
    if workflow.completed:
        return []
    specs = [task.task_spec for task in workflow.get_tasks(state=TaskState.WAITING)]
    for name in workflow.spec.start.trigger_specs:
        sub_process = workflow.subprocess_specs.get(name)
        specs += list(sub_process.bpmn_start_events) if sub_process is not None else []
    return list(dict.fromkeys(d.name for spec in specs for d in _definitions(spec)
                              if isinstance(d, SignalEventDefinition) and d.name))


def catch_signal(workflow, name: str) -> bool:
    """Let the case catch signal `name` from outside it, with no data; False when nothing of it waits for it."""
    if name not in waiting_signals(workflow):
        return False
    workflow.catch(BpmnEvent(SignalEventDefinition(name)))
    return True


class EndEventParser(CamundaEndEventParser):
    """An end event, a signal end event included: SpiffWorkflow 3.2.0 reads a signal end event as a none end
    event, which would end the path without throwing its signal."""

    def create_task(self):
        definition = self.get_event_definition([MESSAGE_EVENT_XPATH, CANCEL_EVENT_XPATH, ERROR_EVENT_XPATH,
                                                ESCALATION_EVENT_XPATH, TERMINATION_EVENT_XPATH, SIGNAL_EVENT_XPATH])
        task = self._create_task(definition)
        task.connect(self.spec.end)
        return task
