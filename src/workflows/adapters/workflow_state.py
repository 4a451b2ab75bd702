"""A case's workflow as it is stored (cases.workflow_state): SpiffWorkflow 3.2.0's JSON, without the process spec
(the stored state refers to the spec, which is parsed once per process version and cached: less than half the size,
and faster, than embedding it), each task's data kept as what changed from its parent's, exactly (a bool stays a
bool, an amount keeps its scale), and its ids written and parsed once per dump and restore.
"""
from __future__ import annotations

import json
from copy import deepcopy
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (BpmnSubWorkflowConverter, BpmnWorkflowConverter,
                                                            TaskConverter, WorkflowConverter)
from SpiffWorkflow.bpmn.serializer.helpers import DefaultRegistry
from SpiffWorkflow.bpmn.specs.control import SimpleBpmnTask
from SpiffWorkflow.bpmn.specs.defaults import CallActivity, StartEvent
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.task import Task, TaskState
from SpiffWorkflow.util.deep_merge import DeepMerge

from .bpmn_elements import EventSubProcess, OfflineTask, PassThroughTask, TimerStartEvent
from .case_workflow import CaseWorkflow


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


def serializer() -> CaseSerializer:
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
