"""A BPMN error (or escalation) thrown at a task, caught by an error (escalation) boundary event on it.

Three things throw one: an external worker's bpmnError (services/external_tasks.py), an in-process handler's
HandlerError with a code (handlers/registry.py), and a script task's `bpmn_error("CODE", "message")` (the
Python counterpart of Camunda's `throw new BpmnError("CODE")`). SpiffWorkflow only throws errors from error end
events; here the task's own boundary events are asked, the one for the error's code or the one for any error.
A clerk may also escalate on a user task (POST /api/tasks/<id>/escalation: 上报科长 while the task goes on, with a
non-interrupting escalation boundary event), which SpiffWorkflow only knows from a sub-process's escalation events.
"""
from __future__ import annotations

from copy import deepcopy

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.defaults import ScriptTask
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition, EscalationEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.camunda.parser.task_spec import ScriptTaskParser as CamundaScriptTaskParser

from .multi_instance import CamundaMultiInstance

_CODE_LENGTH = 100


def catch_error(task, code: str) -> bool:
    """Let the first error boundary event of `task` that catches `code` take its path (it interrupts the task);
    False when none does."""
    return _catch(task, ErrorEventDefinition(code, code=code))


def catch_escalation(task, code: str) -> bool:
    """Let the first escalation boundary event of `task` that catches `code` take its path (interrupting the task
    or not, as it is drawn); False when none does."""
    return _catch(task, EscalationEventDefinition(code, code=code))


def _catch(task, definition) -> bool:
    event = BpmnEvent(definition, payload=deepcopy(task.data), target=task.workflow)
    catchers = [sibling for sibling in (task.parent.children if task.parent else [])
                if isinstance(sibling.task_spec, BoundaryEvent) and sibling.task_spec.catches(sibling, event)]
    if not catchers:
        return False
    catchers[0].task_spec.catch(catchers[0], event)
    catchers[0].task_spec._update(catchers[0])
    return True


class BpmnErrorRaised(Exception):
    """What `bpmn_error(code, message)` raises in a script: a business error, for the task's boundary event."""

    def __init__(self, code: str, message: str = ""):
        super().__init__(message or code)
        self.code = code


def bpmn_error(code, message="") -> None:
    """A script's BPMN error (exposed to scripts): the script task ends by its error boundary event for `code`."""
    if not isinstance(code, str) or not code.strip() or len(code) > _CODE_LENGTH:
        raise ValueError(f"bpmn_error 的错误代码应为不超过 {_CODE_LENGTH} 字的文本")
    raise BpmnErrorRaised(code.strip(), str(message))


class ErrorScriptTask(ScriptTask):
    """A script task whose script may end it by a BPMN error (bpmn_error): the error boundary event for the code
    takes its path, and the data the script set is dropped (as for a failed script); with none, the task fails
    naming the code."""

    def _execute(self, task):
        try:
            return super()._execute(task)
        except WorkflowTaskException as error:
            raised = _raised(error)
            if raised is None:
                raise
            if catch_error(task, raised.code):
                return None
            raise WorkflowTaskException(f"脚本抛出 BPMN 错误“{raised.code}”（{raised}），但没有捕获它的错误边界事件",
                                        task=task) from None


def _raised(error: BaseException) -> BpmnErrorRaised | None:
    cause = error
    while cause is not None and not isinstance(cause, BpmnErrorRaised):
        cause = cause.__cause__ or cause.__context__
    return cause


class ScriptTaskParser(CamundaMultiInstance, CamundaScriptTaskParser):
    """A script task, multi-instance the Camunda 7 way where it has a loop."""
