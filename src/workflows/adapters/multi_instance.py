"""Multi-instance activities as Camunda 7 runs them: user tasks (多科室会签, 逐级审核), and service tasks, script
tasks and embedded sub-processes (one 核验 per family member, one 复核 sub-process per invoice).

A `multiInstanceLoopCharacteristics` on a user task makes one inbox task (on another activity, one run) per element of `camunda:collection` (an
expression over the case data, `${reviewers}` or `reviewers`), each with the element in its `camunda:elementVariable`,
or `loopCardinality` tasks; all at once (parallel) or one after another (isSequential). After each instance the
`completionCondition` may end the others, with Camunda's variables: nrOfInstances, nrOfCompletedInstances,
nrOfActiveInstances, loopCounter.

SpiffWorkflow 3.2.0's Camunda flavour of these tasks writes the collection's name into the shared task spec while a
case runs (every case of the version would see it), keeps the element variable in the case data after the task (the
next instance then fails: "input item already exists"), evaluates the collection afresh for each sequential instance
and knows none of Camunda's variables. Here the collection is evaluated once when the task starts and kept with it,
the element variable and loopCounter stay local to their instance, and what the instances' forms set is merged into
the case data in the order they were completed.
"""
from __future__ import annotations

import json

from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.defaults import ParallelMultiInstanceTask, SequentialMultiInstanceTask
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.bpmn.exceptions import WorkflowDataException
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS, UserTaskParser
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

MAX_INSTANCES = 100  # a collection or cardinality beyond this is a diagram's mistake, not 10⁶ inbox tasks
LOOP_COUNTER = "loopCounter"
_ITEMS = "instance_items"  # where the MI task keeps its evaluated collection (internal data, stored with the case)
_LABEL_LENGTH = 40


class InstanceItems:
    """The elements a multi-instance task runs over: its collection expression or its cardinality, evaluated once
    when the task starts (as Camunda 7 does) and kept in the task's internal data. SpiffWorkflow reads it as the
    task's data input; a cardinality gives the items 0 … n−1, each instance then having only its loopCounter."""

    def __init__(self, expression: str, cardinality: bool):
        self.bpmn_id = expression
        self.expression = expression
        self.cardinality = cardinality

    def exists(self, my_task) -> bool:
        return True

    def get(self, my_task) -> list:
        if _ITEMS not in my_task.internal_data:
            my_task.internal_data[_ITEMS] = self._evaluate(my_task)
        return my_task.internal_data[_ITEMS]

    def _evaluate(self, my_task) -> list:
        value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
        if self.cardinality:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INSTANCES:
                raise WorkflowDataException(f"多实例任务的实例数（loopCardinality）应为 0–{MAX_INSTANCES} 的整数，"
                                            f"实际为 {value!r}", my_task)
            return list(range(value))
        if not isinstance(value, (list, tuple)) or len(value) > MAX_INSTANCES:
            raise WorkflowDataException(f"多实例任务的集合（camunda:collection）“{self.expression}”应为至多 "
                                        f"{MAX_INSTANCES} 项的列表，实际为 {type(value).__name__}"
                                        f"{f'（{len(value)} 项）' if isinstance(value, (list, tuple)) else ''}",
                                        my_task)
        return list(value)


class _CamundaInstances(MultiInstanceTask):
    """What parallel and sequential instances share: local element variables, Camunda's counters."""

    def create_child(self, my_task, item, key_or_index=None):
        super().create_child(my_task, item, key_or_index)
        instance = list(self._instances(my_task))[-1]
        instance.data[LOOP_COUNTER] = key_or_index

    def merge_child(self, workflow, child):
        """The instance's data joins the task's, but for the variables local to it."""
        local = {LOOP_COUNTER, *([self.input_item.bpmn_id] if self.input_item else [])}
        DeepMerge.merge(child.parent.data, {name: value for name, value in child.data.items() if name not in local})
        child.parent.internal_data["merged"].append(str(child.id))

    def check_completion_condition(self, my_task):
        merged = my_task.internal_data.get("merged", [])
        if not merged or self.condition is None:
            return False
        last = next(child for child in my_task.children if str(child.id) == merged[-1])
        return my_task.workflow.script_engine.evaluate(last, self.condition, self.counters(my_task, last))

    def counters(self, my_task, instance) -> dict:
        active = [c for c in self._instances(my_task) if not c.has_state(TaskState.FINISHED_MASK)]
        return {"nrOfInstances": len(self.data_input.get(my_task)),
                "nrOfCompletedInstances": len(my_task.internal_data.get("merged", [])),
                "nrOfActiveInstances": len(active), LOOP_COUNTER: instance.internal_data.get("key_or_index")}


class ParallelInstances(ParallelMultiInstanceTask, _CamundaInstances):
    """All instances at once; the completion condition cancels those still open."""


class SequentialInstances(SequentialMultiInstanceTask, _CamundaInstances):
    """One instance after another, in the collection's order."""


def instances_spec_name(task_spec) -> str | None:
    """The name of the task spec each instance of a multi-instance task runs (None for other tasks)."""
    return task_spec.task_spec if isinstance(task_spec, _CamundaInstances) else None


def instance_label(task) -> str | None:
    """How an instance is named beside its task: the collection's element (a name, or a short text of it), or
    第 n 份 for a cardinality; None for a task that is no instance."""
    spec = task.parent.task_spec if task.parent is not None else None
    if not isinstance(spec, _CamundaInstances):
        return None
    index = task.internal_data.get("key_or_index")
    if spec.data_input.cardinality:
        return f"第 {index + 1} 份"
    item = spec.data_input.get(task.parent)[index]
    if isinstance(item, dict):
        item = next((item[key] for key in ("name", "label", "title", "id") if item.get(key) is not None), item)
    text = item if isinstance(item, str) else json.dumps(item, ensure_ascii=False, default=str)
    return text if len(text) <= _LABEL_LENGTH else text[:_LABEL_LENGTH - 1] + "…"


class CamundaMultiInstance:
    """For a task parser: the activity's multi-instance loop read the Camunda 7 way (bpmn_elements checks it
    first)."""

    def _add_multiinstance_task(self, loop_characteristics):
        collection = loop_characteristics.get(f"{{{CAMUNDA_MODEL_NS}}}collection")
        element = loop_characteristics.get(f"{{{CAMUNDA_MODEL_NS}}}elementVariable")
        cardinality = self.xpath("./bpmn:multiInstanceLoopCharacteristics/bpmn:loopCardinality")
        condition = self.xpath("./bpmn:multiInstanceLoopCharacteristics/bpmn:completionCondition")
        items = (InstanceItems(collection, cardinality=False) if collection
                 else InstanceItems(cardinality[0].text.strip(), cardinality=True))
        original = self.spec.task_specs.pop(self.task.name)
        kind = SequentialInstances if loop_characteristics.get("isSequential") == "true" else ParallelInstances
        self.task = kind(self.spec, original.name, task_spec="", data_input=items, bpmn_name=original.bpmn_name,
                         lane=original.lane,
                         input_item=TaskDataReference(element) if element and collection else None,
                         condition=condition[0].text.strip() if condition and (condition[0].text or "").strip()
                         else None)
        self.task.extensions = original.extensions  # its stage, as the case's stage while instances are open
        self._copy_task_attrs(original, loop_characteristics)
        # SpiffWorkflow connects this when it restores a serialized spec; specs parsed here are never serialized.
        original.completed_event.connect(self.task.merge_child)


class MultiInstanceUserTaskParser(CamundaMultiInstance, UserTaskParser):
    """A user task, multi-instance the Camunda 7 way."""
