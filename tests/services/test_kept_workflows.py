"""The workflows a process keeps between commands (adapters/kept_workflows.py) never stand in for another state
than the one the case's row holds: another process's command, a concurrent one and a rolled-back one each leave
the next command working on what the database says."""
from __future__ import annotations

import multiprocessing

import pytest

from workflows.adapters.engine import Engine
from workflows.bootstrap import bootstrap
from workflows.domain.errors import Conflict
from workflows.domain.model import Case
from workflows.services import cases, documents, tasks

from support.cases import APPLICANT, DATA, OUTPATIENT

both_databases = pytest.mark.both_databases  # what the other process or command wrote is in the database


@pytest.fixture
def taken(ctx, monkeypatch):
    """What each resume of this process found kept: True (taken, not restored) or False."""
    kept, found = ctx.engine._kept, []
    original = kept.take

    def take(state, spec):
        workflow = original(state, spec)
        found.append(workflow is not None)
        return workflow

    monkeypatch.setattr(kept, "take", take)
    return found


def other_process(ctx, database_url):
    """What a second process has: the database, its own engine (and nothing this process keeps)."""
    return bootstrap(database_url, engine=Engine(), clock=ctx.clock)


def open_task(ctx, staff, user, number):
    [task] = [t for t in tasks.list_tasks(ctx, staff[user]) if t.case_number == number and t.stage != "督办"]
    return task


def completions(ctx, staff, number) -> list[str]:
    return [entry.stage for entry in cases.case_details(ctx, staff["shouli"], number).history
            if entry.action == "completed"]


@both_databases
def test_the_next_command_of_this_process_takes_the_workflow_it_committed(ctx, staff, taken):
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"})
    number = progress.case.number
    tasks.complete_task(ctx, staff["shenhe"], open_task(ctx, staff, "shenhe", number).id, {"decision": "approve"})
    done = tasks.complete_task(ctx, staff["caiwu"], open_task(ctx, staff, "caiwu", number).id, {"decision": "pay"})

    assert done.case.result == "办结"
    assert completions(ctx, staff, number) == ["受理", "审核", "拨付"]
    assert taken and all(taken)  # no command restored what this process had just committed


@both_databases
def test_a_state_another_process_wrote_is_restored_not_taken(ctx, staff, database_url, taken):
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    number = progress.case.number
    tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"})  # kept here
    elsewhere = other_process(ctx, database_url)
    tasks.complete_task(elsewhere, staff["shenhe"], open_task(elsewhere, staff, "shenhe", number).id,
                        {"decision": "approve"})
    taken.clear()

    # this process kept the case at 审核; the row holds it at 拨付, as the other process left it
    done = tasks.complete_task(ctx, staff["caiwu"], open_task(ctx, staff, "caiwu", number).id, {"decision": "pay"})

    assert taken == [False]
    assert done.case.result == "办结"
    assert completions(ctx, staff, number) == ["受理", "审核", "拨付"]


def test_a_command_overtaken_by_a_concurrent_one_keeps_nothing(ctx, staff, database_url, taken, monkeypatch):
    """On SQLite a command computes without the write lock, and another may commit meanwhile (PostgreSQL locks the
    case's row for the command: the other waits, and then reads what this one committed, as above)."""
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    number = progress.case.number
    tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"})
    review = open_task(ctx, staff, "shenhe", number)
    elsewhere = other_process(ctx, database_url)
    original, overtaken, dumped = Engine.dump, [], []

    def dump(engine, run):  # while this command computes, another one completes the same task and commits
        if engine is ctx.engine and not overtaken:
            overtaken.append(tasks.complete_task(elsewhere, staff["shenhe"], review.id,
                                                 {"decision": "reject", "opinion": "票据与清单不符"}))
            dumped.append(original(engine, run))
            return dumped[-1]
        return original(engine, run)

    monkeypatch.setattr(Engine, "dump", dump)
    with pytest.raises(Conflict):
        tasks.complete_task(ctx, staff["shenhe"], review.id, {"decision": "approve"})

    assert overtaken[0].case.result == "审核不通过"
    details = cases.case_details(ctx, staff["shouli"], number)
    assert (details.case.result, completions(ctx, staff, number)) == ("审核不通过", ["受理", "审核"])
    assert dumped[0] not in ctx.engine._kept  # the overtaken command's workflow is not kept
    stored = ctx.session_factory().get(Case, details.case.id).workflow_state
    assert stored not in ctx.engine._kept  # nor is anything for the other process's state, here


@both_databases
def test_a_command_rolled_back_leaves_the_next_one_the_committed_state(ctx, staff, taken, monkeypatch):
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    number = progress.case.number
    original = documents.on_case_accepted

    def fail(*args):  # after the workflow was saved in the command's transaction: it rolls back
        raise RuntimeError("文书模板读取失败")

    monkeypatch.setattr(documents, "on_case_accepted", fail)
    with pytest.raises(RuntimeError):
        tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"})
    monkeypatch.setattr(documents, "on_case_accepted", original)
    taken.clear()

    accepted = tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"})

    assert taken == [False]  # the workflow the failed command took and moved on is gone with it
    assert accepted.case.stage == "审核"
    assert completions(ctx, staff, number) == ["受理"]
    assert [d.kind for d in documents.list_documents(ctx, staff["shouli"], number)] == ["acceptance_notice"]


def _kept_in_child(engine, answer) -> None:
    answer.send(len(engine._kept))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork here")
def test_a_forked_process_starts_with_nothing_kept(ctx, staff):
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"})
    assert len(ctx.engine._kept) >= 1
    receiving, sending = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(target=_kept_in_child, args=(ctx.engine, sending))
    child.start()
    child.join(30)

    assert receiving.recv() == 0
