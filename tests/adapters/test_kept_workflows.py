"""The engine keeps a committed workflow for the next command on the case (adapters/kept_workflows.py): taken for
exactly the state it was saved as and the same process spec, once; restored otherwise; never kept when its data
would come back from JSON as something else."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest

from workflows.adapters.engine import Engine
from workflows.adapters.workflow_state import stored_task_data
from workflows.adapters.kept_workflows import KeptWorkflows, _faithful, faithful

from adapters.test_engine import _definition, bindings, calls, clocked, limits  # noqa: F401 - fixtures

OUTPATIENT = "item_002036006001"


def _accepted(engine, bindings, data=None):
    run = engine.start(_definition(engine, OUTPATIENT), {"applicant": dict(bindings.applicant),
                                                        "expense_total": "800.00", **(data or {})}, bindings)
    [task] = run.ready_tasks()
    run.complete(task.id, {"decision": "accept"})
    return run


def test_a_kept_workflow_is_taken_for_its_state_once(clocked):
    engine = Engine()
    run = _accepted(engine, clocked)
    workflow, state = run.workflow, engine.dump(run)
    engine.keep(run)

    assert run.workflow is None  # the run has handed it on: nothing may change it after the commit
    taken = engine.resume(run.definition, state, clocked)
    assert taken.workflow is workflow
    assert [task.definition.stage for task in taken.ready_tasks()] == ["审核"]
    again = engine.resume(run.definition, state, clocked)
    assert again.workflow is not workflow  # one workflow serves one command: the second is restored
    assert engine.dump(again) == state


def test_another_state_or_process_spec_is_restored(clocked):
    engine = Engine()
    run = _accepted(engine, clocked)
    state = engine.dump(run)
    engine.keep(run)
    other = _accepted(engine, clocked)  # dumped, never committed: not kept

    assert engine.resume(other.definition, engine.dump(other), clocked).workflow is not other.workflow
    assert state in engine._kept
    assert engine._kept.take(state, object()) is None  # asked for with another process spec: not taken
    assert state not in engine._kept


def test_data_json_gives_back_otherwise_is_not_kept(clocked):
    engine = Engine()
    for data in ({"ranks": (1, 2)}, {"by_year": {2026: "1.00"}}, {"tags": {"门诊"}}, {"note": {"typename": "x"}}):
        run = _accepted(engine, clocked, data)
        state = engine.dump(run)
        workflow = run.workflow
        engine.keep(run)

        assert state not in engine._kept and run.workflow is workflow, data


def test_nothing_is_kept_without_a_dump(clocked):
    engine = Engine()
    run = _accepted(engine, clocked)
    engine.keep(run)

    assert len(engine._kept) == 0 and run.workflow is not None


def test_the_latest_are_kept():
    kept = KeptWorkflows(size=2)
    for state in ("a", "b", "c"):
        kept.put(state, "spec", object())

    assert "a" not in kept and len(kept) == 2  # the oldest goes first
    assert kept.take("b", "spec") is not None and kept.take("b", "spec") is None


def test_a_value_equal_to_its_parents_but_of_another_type_or_scale_is_kept_and_restored_alike(clocked):
    # The serializer stores a task's data as what changed from its parent's: 1 == True and Decimal("1.0") ==
    # Decimal("1.00"), yet a bool may decide a gateway otherwise and an amount's scale is printed in the 文书.
    engine = Engine()
    run = engine.start(_definition(engine, OUTPATIENT), {"applicant": dict(clocked.applicant), "expense_total":
                                                        "800.00", "approved_amount": Decimal("430.0"),
                                                        "urgent": 1, "fees": {"self_paid": Decimal("0")},
                                                        "received_at": datetime(2026, 11, 23, 1, tzinfo=timezone.utc)},
                       clocked)
    [task] = run.ready_tasks()
    typed = {"approved_amount": Decimal("430.00"), "urgent": True, "fees": {"self_paid": Decimal("0.00")},
             "received_at": datetime(2026, 11, 23, 9, tzinfo=timezone(timedelta(hours=8)))}
    run.complete(task.id, {"decision": "accept", **typed})
    state = engine.dump(run)
    engine.keep(run)

    kept = engine.resume(run.definition, state, clocked).data
    restored = engine.resume(run.definition, state, clocked).data
    for data in (kept, restored):
        assert {key: repr(data[key]) for key in typed} == {key: repr(value) for key, value in typed.items()}


class Key(str):
    """A text that is not a plain str: JSON gives back a str."""


def _completed(run, spec_id: str):
    return next(task for task in run.workflow.get_tasks() if task.task_spec.name == spec_id)


def _every_task_faithful(workflow) -> bool:
    """The check as it was before it read only what the state stores: every task's data, whole."""
    flows = [workflow, *workflow.subprocesses.values()]
    return all(_faithful(task.data) for flow in flows for task in flow.tasks.values())


@pytest.mark.parametrize("change", ["given at a later step", "changed in place in a step passed",
                                    "a key equal to the parent's but no str"])
def test_a_value_json_gives_back_otherwise_is_found_in_whichever_task_holds_it(clocked, change):
    # Only what the state stores is checked (a root's data, the other tasks' changes from their parents'): each
    # value that JSON would give back otherwise must be among it, wherever in the tree it sits.
    engine = Engine()
    run = _accepted(engine, clocked, {"fees": {"self_paid": "0.00"}})
    if change == "given at a later step":
        [review] = run.ready_tasks()
        run.workflow.get_task_from_id(UUID(review.id)).data["ranks"] = (1, 2)
    elif change == "changed in place in a step passed":
        _completed(run, "Task_accept").data["applicant"]["tags"] = {"门诊"}
    else:
        _completed(run, "Task_accept").data["fees"] = {Key("self_paid"): "0.00"}  # == the start's
    state, workflow = engine.dump(run), run.workflow
    engine.keep(run)

    assert state not in engine._kept and run.workflow is workflow
    assert not faithful(workflow, stored_task_data(run.dumped_from))
    assert not _every_task_faithful(workflow)


def test_at_every_step_what_the_state_stores_is_faithful_where_every_task_is(clocked):
    engine = Engine()
    run = engine.start(_definition(engine, OUTPATIENT), {"applicant": dict(clocked.applicant), "expense_total":
                                                        "800.00", "bank_account": "6222020712001234567"}, clocked)
    found = []
    for decision, values in (("accept", {}), ("approve", {"ranks": (1, 2)}), ("pay", {}), (None, None)):
        engine.dump(run)
        found.append(faithful(run.workflow, stored_task_data(run.dumped_from)))
        assert found[-1] is _every_task_faithful(run.workflow)
        if decision:
            [task] = run.ready_tasks()
            run.complete(task.id, {"decision": decision, **values})
    assert run.result == "办结" and found == [True, True, False, False]


def test_a_dict_equal_to_its_parents_in_another_order_is_restored_in_its_own(clocked):
    engine = Engine()
    run = _accepted(engine, clocked, {"fees": {"self_paid": "0.00", "total": "800.00"}})
    _completed(run, "Task_accept").data["fees"] = {"total": "800.00", "self_paid": "0.00"}
    [review] = run.ready_tasks()
    run.workflow.get_task_from_id(UUID(review.id)).data["fees"] = {"total": "800.00", "self_paid": "0.00"}
    state = engine.dump(run)
    engine.keep(run)

    kept = engine.resume(run.definition, state, clocked).data
    restored = engine.resume(run.definition, state, clocked).data
    assert list(kept["fees"]) == list(restored["fees"]) == ["total", "self_paid"]


def test_a_duration_is_restored_to_its_microsecond_as_it_is_kept(clocked):
    # A script's `now() - received_at` is a timedelta to the microsecond; SpiffWorkflow stored only its days and
    # seconds, so the next command read another duration from the database than from a workflow kept here.
    engine = Engine()
    waited = {"waited": timedelta(hours=26, microseconds=250_001), "early": -timedelta(microseconds=1)}
    run = _accepted(engine, clocked, {"fees": {"checked_in": timedelta(seconds=3.5)}})
    [review] = run.ready_tasks()
    run.complete(review.id, {"decision": "approve", **waited})
    state = engine.dump(run)
    engine.keep(run)

    assert state in engine._kept  # a timedelta counts as safe: it must come back as it is
    kept = engine.resume(run.definition, state, clocked).data
    restored = engine.resume(run.definition, state, clocked).data
    for data in (kept, restored):
        assert {key: data[key] for key in waited} == waited
        assert data["fees"]["checked_in"] == timedelta(seconds=3.5)


def test_a_duration_stored_without_microseconds_still_restores(clocked):
    # States written before the microseconds were kept hold a timedelta as its days and seconds only.
    engine = Engine()
    run = _accepted(engine, clocked)
    [review] = run.ready_tasks()
    run.complete(review.id, {"decision": "approve", "waited": timedelta(days=1, seconds=7200, microseconds=5)})
    state = engine.dump(run).replace(', "microseconds": 5', "")

    assert '"days": 1, "seconds": 7200, "typename": "timedelta"}' in state  # as SpiffWorkflow wrote it
    assert engine.resume(run.definition, state, clocked).data["waited"] == timedelta(days=1, hours=2)
