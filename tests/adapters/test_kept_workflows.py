"""The engine keeps a committed workflow for the next command on the case (adapters/kept_workflows.py): taken for
exactly the state it was saved as and the same process spec, once; restored otherwise; never kept when its data
would come back from JSON as something else."""
from __future__ import annotations

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
