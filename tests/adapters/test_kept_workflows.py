"""The engine keeps a committed workflow for the next command on the case (adapters/kept_workflows.py): taken for
exactly the state it was saved as and the same process spec, once; restored otherwise; never kept when its data
would come back from JSON as something else."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from workflows.adapters.engine import Engine
from workflows.adapters.kept_workflows import KeptWorkflows

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
