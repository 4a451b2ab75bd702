"""Workflows kept in this process between the commands on a case, so that the next command need not restore one.

Restoring a stored workflow (JSON, then SpiffWorkflow's objects) is a tenth of a command's engine time; most
commands on a case follow one another in the same process. A workflow is kept only once the state it was saved as
is committed (Engine.keep, after the commit), under that very state text: a command takes it (Engine.resume) only
when the case's row, as it has just read it, holds exactly that state and the case runs on the same process spec.
So a state another process wrote, a concurrent command's, or an older one is never matched by a workflow kept
here; a command that fails or rolls back keeps nothing, and the workflow it took is gone (taking removes it: one
workflow serves one command). A forked process starts with none (os.register_at_fork): it sees only the database.

Only a workflow whose data JSON gives back as it is gets kept (`faithful`): a tuple, a set, a key that is no text,
a time zone other than a fixed offset, a value JSON cannot hold, would come back otherwise from the database, and
the next command must not depend on which process runs it. A value a task's parent holds equal but not the same
(True where the parent has 1, Decimal("1.00") where it has Decimal("1.0")) comes back as it is, for the engine's
serializer stores it (workflow_state.TypeStrictDeltaConverter): nothing to check here.
"""
from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Iterable
from uuid import UUID

KEPT = 64  # workflows per process (a few hundred KB each): the cases being worked right now
_SCALARS = frozenset({str, int, float, bool, type(None), Decimal, date, timedelta, UUID})


class KeptWorkflows:
    """Stored state text -> (process spec, the workflow that state was saved from), the latest `size` of them."""

    def __init__(self, size: int = KEPT):
        self._size = size
        self._entries: OrderedDict[str, tuple[object, object]] = OrderedDict()
        self._lock = threading.Lock()
        _ALL.add(self)

    def put(self, state: str, spec, workflow) -> None:
        with self._lock:
            self._entries[state] = (spec, workflow)
            self._entries.move_to_end(state)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def take(self, state: str, spec):
        """The workflow kept under exactly `state` for `spec`, which is kept no more; None when there is none."""
        with self._lock:
            entry = self._entries.pop(state, None)
        return entry[1] if entry is not None and entry[0] is spec else None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, state: str) -> bool:
        return state in self._entries


_ALL: weakref.WeakSet[KeptWorkflows] = weakref.WeakSet()
os.register_at_fork(after_in_child=lambda: [kept.clear() for kept in list(_ALL)])


def faithful(workflow, stored_task_data: Iterable[dict]) -> bool:
    """Whether the workflow's data, with what SpiffWorkflow keeps beside it (timers' values, events' payloads,
    correlations), comes back from its JSON as it is now. `stored_task_data`: what its state text holds of each
    task's data (workflow_state.stored_task_data): a root task's data whole, another task's values that differ from its
    parent's. The others are its parent's values (== and of the same type, scale and offset all through:
    workflow_state._same), which are checked where they are stored, up to the root, so they come back as they are too:
    each value is checked once, where it is stored, not once more in each task that inherited it."""
    workflows = [workflow, *workflow.subprocesses.values()]
    return (all(_faithful(data) for data in stored_task_data)
            and all(_faithful(internal) for flow in workflows for task in flow.tasks.values()
                    if (internal := task.internal_data) or type(internal) is not dict)  # (most: {}, faithful)
            and all(_faithful(flow.data) and _faithful(flow.correlations) for flow in workflows)
            and all(_faithful(event.payload) for event in workflow.bpmn_events))


def _faithful(value) -> bool:
    """(A scalar item is told apart where it is met, not by a call of its own: most values are.)"""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is dict:  # (a key "typename" would be read back as a serialized object)
        return "typename" not in value and all(type(key) is str and (type(item) in _SCALARS or _faithful(item))
                                               for key, item in value.items())
    if kind is list:
        return all(type(item) in _SCALARS or _faithful(item) for item in value)
    if kind is datetime:
        return value.tzinfo is None or type(value.tzinfo) is timezone
    return False
