"""A BPMN error thrown at a service task, caught by an error boundary event on it.

Two things throw one: an external worker's bpmnError (services/external_tasks.py) and an in-process handler's
HandlerError with a code (handlers/registry.py). SpiffWorkflow only throws errors from error end events; here the
task's own boundary events are asked, the one for the error's code or the one for any error.
"""
from __future__ import annotations

from copy import deepcopy

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent


def catch_error(task, code: str) -> bool:
    """Let the first error boundary event of `task` that catches `code` take its path (it interrupts the task);
    False when none does."""
    event = BpmnEvent(ErrorEventDefinition(code, code=code), payload=deepcopy(task.data), target=task.workflow)
    catchers = [sibling for sibling in (task.parent.children if task.parent else [])
                if isinstance(sibling.task_spec, BoundaryEvent) and sibling.task_spec.catches(sibling, event)]
    if not catchers:
        return False
    catchers[0].task_spec.catch(catchers[0], event)
    catchers[0].task_spec._update(catchers[0])
    return True
