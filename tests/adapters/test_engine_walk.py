"""The engine finds a case's tasks by its own walk of the task tree (adapters/case_workflow.py, CaseWorkflow), for
speed: at every step of real cases it must give exactly the tasks, in exactly the order, SpiffWorkflow's iterators
give, whatever is asked (ready, waiting, finished, predicted …), in the case's tree and in each of its sub-processes."""
from __future__ import annotations

from copy import deepcopy
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import _EndJoin
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.task import TaskState
from SpiffWorkflow.util.task import TaskIterator

from handlers.gateways import LocalNationalPlatform, LocalPaymentGateway, LocalSmsNotifier
from workflows.adapters.catalog_files import load_catalog
from workflows.adapters.dmn_parsing import decision_files
from workflows.adapters import case_workflow
from workflows.adapters.case_workflow import CaseWorkflow, TaskCensus, _walk
from workflows.adapters.engine import CaseBindings, Engine
from workflows.adapters.limits import NEVER
from workflows.services.process_tests import run_test_file

from support.paths import BPMN_DIR, CATALOG_DIR, ROOT
from support.process_driver import PERSON_ID

MASKS = (TaskState.READY, TaskState.WAITING, TaskState.READY | TaskState.WAITING | TaskState.ERROR,
         TaskState.COMPLETED, TaskState.FINISHED_MASK, TaskState.NOT_FINISHED_MASK, TaskState.PREDICTED_MASK,
         TaskState.ANY_MASK)
DECISIONS = {"受理": "accept", "审核": "approve", "拨付": "pay"}
LONG_AGO = "2000-01-01T00:00:00+08:00"


class Desk:
    """The supervisors' desk: every 黄牌/红牌 is a new one."""

    def raise_escalation(self, level: str, limit: str, stage: str | None) -> bool:
        return True


def _bindings(due: str) -> CaseBindings:
    person = {"name": "张伟", "status": "参保缴费", "arrears": "0.00", "account_balance": "2360.00"}
    functions = {"deadline": lambda kind="promised": due, "warning_time": lambda kind="promised": due,
                 "working_days": lambda days: due}
    return CaseBindings("210400-20261123-00001", "210400", "002036006001", "门诊费用报销",
                        {"name": "张伟", "id_number": PERSON_ID}, LocalNationalPlatform({PERSON_ID: person}.get,
                                                                                         lambda *call: None),
                        LocalPaymentGateway(lambda *call: None), LocalSmsNotifier(lambda *call: None), Desk(),
                        functions=functions,
                        policy=load_catalog(CATALOG_DIR).agency("210400").item("002036006001").payment_policy)


def _same_as_spiffworkflow(workflow) -> int:
    """Compare every mask in the case's tree and its sub-processes' trees; return how many trees were compared."""
    trees = [workflow, *workflow.subprocesses.values()]
    for tree in trees:
        for mask in MASKS:
            assert list(_walk(tree, mask)) == list(BpmnTaskIterator(tree.task_tree, state=mask)), mask
            assert list(_walk(tree, mask, manual=True)) == list(BpmnTaskIterator(tree.task_tree, state=mask,
                                                                                 manual=True)), mask
            assert list(_walk(tree, mask, into_subprocesses=False)) == list(TaskIterator(tree.task_tree,
                                                                                         state=mask)), mask
        assert tree.get_tasks(state=TaskState.READY) == list(BpmnTaskIterator(tree.task_tree,
                                                                              state=TaskState.READY))
    return len(trees)


@pytest.mark.parametrize("due", [NEVER, LONG_AGO], ids=["on time", "limits passed"])
def test_the_engine_finds_the_tasks_spiffworkflow_would_at_every_step(due):
    engine = Engine()
    definition = engine.definition((BPMN_DIR / "item_002036006001.bpmn").read_text(), "item_002036006001.bpmn",
                                   {name: xml.decode("utf-8")
                                    for name, xml in decision_files(BPMN_DIR / "decisions").items()})
    run = engine.start(definition, {"applicant": {"name": "张伟", "id_number": PERSON_ID},
                                    "expense_total": "1860.00", "self_pay_total": "120.00",
                                    "bank_account": "6222020712001234567"}, _bindings(due))
    compared, stages = _same_as_spiffworkflow(run.workflow), []
    while not run.completed:
        state = engine.dump(run)
        _cancels_as_spiffworkflow(engine, definition, state, _bindings(due))
        run = engine.resume(definition, state, _bindings(due))  # each step on a restored tree
        compared += _same_as_spiffworkflow(run.workflow)
        task = next(task for task in run.ready_tasks() if task.definition.stage in DECISIONS)
        stages.append(task.definition.stage)
        run.complete(task.id, {"decision": DECISIONS[task.definition.stage]})
        compared += _same_as_spiffworkflow(run.workflow)
    assert stages == ["受理", "审核", "拨付"] and run.result == "办结"
    assert compared > 1 + 2 * len(stages)  # the limits' event sub-processes were walked too


def _cancels_as_spiffworkflow(engine, definition, state: str, bindings) -> None:
    """The case's workflow restored from `state` twice, one cancelled by the engine, one by SpiffWorkflow: the same
    tasks cancelled in the same order, and every task of every tree left in the same state."""
    ours, theirs = (engine.resume(definition, state, bindings).workflow for _ in range(2))
    cancelled = [task.id for task in ours.cancel()], [task.id for task in BpmnWorkflow.cancel(theirs)]
    assert cancelled[0] == cancelled[1] and cancelled[0]
    assert [(flow.completed, flow.success, [(task.id, task._state) for task in flow.tasks.values()])
            for flow in [ours, *ours.subprocesses.values()]] == [
        (flow.completed, flow.success, [(task.id, task._state) for task in flow.tasks.values()])
        for flow in [theirs, *theirs.subprocesses.values()]]


def _ready_automatic(workflow) -> list:
    return [task for task in _walk(workflow, TaskState.READY) if not task.task_spec.manual]


@pytest.mark.parametrize("bpmn", sorted(BPMN_DIR.glob("*.bpmn")), ids=lambda path: path.stem)
def test_the_engine_leaves_out_only_walks_whose_tasks_it_knows(bpmn, monkeypatch):
    """Every diagram's tests run with the engine's shortcuts checked against real walks: where the count of READY
    automatic tasks says there is none, a walk finds none (in the tree skipped and in the whole case), where the
    count of WAITING ones says so, none waits in the case's own tree, the tasks a query gives again are those
    a walk gives now, the READY automatic task the census gives alone is the one a walk finds, a sub-process's
    task whose update is left out is left as it is by SpiffWorkflow's update, and so is a timer the refresh of
    timers leaves out, where the engine's rounds stop sooner, SpiffWorkflow's next round runs nothing and changes
    nothing, a workflow cancelled (the case's or a sub-process's) cancels the tasks the library's iterator
    finds, and an end join fires where the library's would."""
    _checked_run(bpmn, monkeypatch)


def _checked_run(bpmn, monkeypatch) -> tuple[list[bool], list, list[bool]]:
    """Run the diagram's tests with every shortcut checked; give what still_waits answered, the flows cancelled
    and what the end joins answered."""
    skipped, given, alone, waited, settled, stayed, cancelled, joined = [], [], [], [], [], [], [], []
    may_have, get_tasks = CaseWorkflow.may_have_automatic_ready, CaseWorkflow.get_tasks
    update_waiting, automatic_ready_alone = CaseWorkflow.update_waiting_tasks, CaseWorkflow.automatic_ready_alone
    waits_on, is_settled, still_waits = CaseWorkflow.waits_on, CaseWorkflow.settled, case_workflow.still_waits
    cancel = CaseWorkflow.cancel

    def checking_waits(self):
        if not self.census.waiting:
            assert list(TaskIterator(self.task_tree, state=TaskState.WAITING)) == []
            skipped.append(True)
        update_waiting(self)

    def checking_count(self, workflow=None):
        answer = may_have(self, workflow)
        if not answer and workflow in (None, self):
            assert _ready_automatic(self) == []
        elif not answer:
            assert [task for sub in self.subprocesses.values() for task in _ready_automatic(sub)] == []
        skipped.append(not answer)
        return answer

    def checking_query(self, first_task=None, **kwargs):
        tasks = get_tasks(self, first_task, **kwargs)
        if first_task is None and kwargs.keys() <= {"state", "manual"}:
            assert tasks == list(BpmnTaskIterator(self.task_tree, state=kwargs.get("state", TaskState.ANY_MASK),
                                                  manual=kwargs.get("manual")))
            given.append(kwargs.get("state"))
        return tasks

    def checking_alone(self, workflow):
        found, walked = automatic_ready_alone(self, workflow), _ready_automatic(workflow)
        assert found == walked if found is not None else len(walked) > 1
        alone.append(found is not None)
        return found

    def unchanged(workflow) -> tuple:
        return (workflow.census.changes, len(workflow.subprocesses),
                *[(len(flow.tasks), flow.completed) for flow in [workflow, *workflow.subprocesses.values()]])

    def checking_waits_on(self, task, subprocess):
        answer = waits_on(self, task, subprocess)
        if answer:
            before, data = unchanged(self), dict(task.data)
            task.task_spec._update(task)
            assert unchanged(self) == before and task.data == data
        waited.append(answer)
        return answer

    def checking_settled(self):
        answer = is_settled(self)
        if answer:
            before = unchanged(self)
            assert not BpmnWorkflow._do_engine_steps(self) and unchanged(self) == before
        settled.append(answer)
        return answer

    def checking_still_waits(task):
        answer = still_waits(task)
        if answer:
            top = task.workflow.top_workflow
            before, data, internal = unchanged(top), task.data, deepcopy(task.internal_data)
            copied, events = deepcopy(data), dict(top.event_manager.tasks)
            task.task_spec._update(task)
            assert unchanged(top) == before and task.data is data and data == copied
            assert task.internal_data == internal and top.event_manager.tasks == events
        stayed.append(answer)
        return answer

    def checking_cancel(self, workflow=None):
        flow = workflow or self
        assert list(_walk(flow, TaskState.NOT_FINISHED_MASK, into_subprocesses=False)) == list(
            TaskIterator(flow.task_tree, state=TaskState.NOT_FINISHED_MASK))
        cancelled.append(flow)
        return cancel(self, workflow)

    _check_end_joins(monkeypatch, joined)
    monkeypatch.setattr(case_workflow, "still_waits", checking_still_waits)
    monkeypatch.setattr(CaseWorkflow, "cancel", checking_cancel)
    monkeypatch.setattr(CaseWorkflow, "waits_on", checking_waits_on)
    monkeypatch.setattr(CaseWorkflow, "settled", checking_settled)
    monkeypatch.setattr(CaseWorkflow, "may_have_automatic_ready", checking_count)
    monkeypatch.setattr(CaseWorkflow, "automatic_ready_alone", checking_alone)
    monkeypatch.setattr(CaseWorkflow, "get_tasks", checking_query)
    monkeypatch.setattr(CaseWorkflow, "update_waiting_tasks", checking_waits)
    _, report = run_test_file(Engine(), load_catalog(CATALOG_DIR), bpmn)
    assert report.failure is None, report.failure.summary()
    assert any(skipped) and given and any(alone) and any(settled) and (any(waited) or not waited)
    return stayed, cancelled, joined


def _check_end_joins(monkeypatch, answers: list[bool]) -> None:
    """Each end join's answer (does it fire) checked against the library's own, and noted in `answers`."""
    end_join_may_fire = _EndJoin._check_threshold_unstructured

    def checking(self, my_task):
        answers.append(end_join_may_fire(self, my_task))
        assert answers[-1] == _library_end_join_may_fire(self, my_task)
        return answers[-1]

    monkeypatch.setattr(_EndJoin, "_check_threshold_unstructured", checking)


def _library_end_join_may_fire(spec, my_task) -> bool:
    """SpiffWorkflow 3.2.0's _EndJoin._check_threshold_unstructured, as the library has it."""
    for task in TaskIterator(my_task.workflow.task_tree, state=TaskState.NOT_FINISHED_MASK, end_at_spec=spec.name):
        if task == my_task:
            continue
        return False
    return True


def test_an_end_join_fires_where_the_librarys_would(monkeypatch):
    """The catalog's diagrams never end by an end join (their limits' event sub-processes run beside them): these
    end the case's process and sub-processes by one, each asked at every update of an end join, as the engine
    asks, whether it fires, and answering as SpiffWorkflow's iterator would."""
    answers = []
    _check_end_joins(monkeypatch, answers)
    for diagram in ["plain_task.bpmn", "parallel_gateway.bpmn", "embedded_subprocess.bpmn",
                    "escalation_subprocess.bpmn", "multi_instance_parallel.bpmn"]:
        engine = Engine()
        xml = (ROOT / "tests" / "fixtures" / "conformance" / diagram).read_text(encoding="utf-8")
        run = engine.start(engine.definition(xml), {}, _bindings(NEVER))
        while not run.completed and run.failure is None:
            task = run.ready_tasks()[0]
            run.complete(task.id, {f"opinion_{task.definition.spec_id}": "同意"})
        assert run.completed and run.failure is None, diagram
    assert any(answers) and not all(answers)


def test_the_checks_meet_timers_left_as_they_are_and_cancelled_workflows():
    """The checks above meet timers whose refresh is left out and cancelled workflows: the bench's item (its
    limits' timers wait beside every step; its case ends by cancelling them)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        stayed, cancelled, _ = _checked_run(BPMN_DIR / "item_002036006001.bpmn", monkeypatch)
    assert any(stayed) and cancelled


OPENED = datetime(2026, 12, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def _timer_check(engine, definition, state: str, bindings, task_id, parent_data: dict) -> tuple[bool, bool]:
    """(still_waits's answer, whether SpiffWorkflow's update changes anything) for the timer `task_id` of a
    workflow restored from `state`, its parent's data updated with `parent_data` (each question on its own copy,
    so that neither sees the other's changes)."""
    answers = []
    for ask in (case_workflow.still_waits, None):
        run = engine.resume(definition, state, bindings)
        task = run.workflow.get_task_from_id(task_id)
        task.parent.data.update(parent_data)
        with run._on_case_clock():
            if ask is not None:
                answers.append(ask(task))
                continue
            before = (run.workflow.census.changes, deepcopy(task.data), deepcopy(task.internal_data))
            task.task_spec._update(task)
            answers.append((run.workflow.census.changes, task.data, task.internal_data) != before)
    return answers[0], answers[1]


def test_a_timer_is_left_as_it_is_exactly_where_the_librarys_update_changes_nothing():
    """The limits' timers of the bench's item (due an hour after the case opened), asked before they are due, when
    they are due to the microsecond and after, and with their parent's data changed since they began to wait: the
    refresh of timers leaves one out (still_waits) exactly where SpiffWorkflow's update of it changes nothing, and
    updates the others, which then go off or take their parent's data."""
    engine, clock = Engine(), [OPENED]
    due = (OPENED + timedelta(hours=1)).isoformat()
    bindings = replace(_bindings(due), clock=lambda: clock[0])
    definition = engine.definition((BPMN_DIR / "item_002036006001.bpmn").read_text(), "item_002036006001.bpmn",
                                   {name: xml.decode("utf-8")
                                    for name, xml in decision_files(BPMN_DIR / "decisions").items()})
    run = engine.start(definition, {"applicant": {"name": "张伟", "id_number": PERSON_ID},
                                    "expense_total": "1860.00"}, bindings)
    state, seen = engine.dump(run), []
    timers = list(run.workflow.event_manager.tasks)
    assert timers
    hour = timedelta(hours=1)
    for since in (timedelta(0), hour / 2, hour - timedelta(microseconds=1), hour, 2 * hour):
        clock[0] = OPENED + since
        for task_id in timers:
            for parent_data in ({}, {"expense_total": "1990.00"}, {"补正材料": ["收费票据"]}):
                left_out, changed = _timer_check(engine, definition, state, bindings, task_id, parent_data)
                assert left_out is not changed, (since, task_id, parent_data)
                seen.append(left_out)
    assert any(seen) and not all(seen)


def _true_census(top) -> tuple[list[int], int, set[int]]:
    ready, automatic = [0, 0], set()
    for flow in [top, *top.subprocesses.values()]:
        found = [task for task in flow.tasks.values() if task._state == TaskState.READY and not task.task_spec.manual]
        ready[flow is top] += len(found)
        automatic.update(id(task) for task in found)
    return ready, sum(1 for task in top.tasks.values() if task._state == TaskState.WAITING), automatic


@pytest.mark.parametrize("diagram", ["multi_instance_parallel.bpmn", "multi_instance_sequential.bpmn"])
def test_the_counts_never_fall_below_the_tasks_even_created_waiting(diagram, monkeypatch):
    """SpiffWorkflow creates a multi-instance task's instances WAITING, with no change of state: the counts the
    engine trusts to leave out walks (and the READY automatic tasks it knows) see them all the same, at every
    change of every task."""
    note, seen = TaskCensus.note, []

    def checking(census, task, before, after):
        note(census, task, before, after)
        ready, waiting, automatic = _true_census(task.workflow.top_workflow)
        assert census.automatic_ready[0] >= ready[0] and census.automatic_ready[1] >= ready[1]
        assert census.waiting >= waiting and census.automatic.keys() >= automatic
        seen.append(waiting)

    monkeypatch.setattr(TaskCensus, "note", checking)
    engine = Engine()
    xml = (ROOT / "tests" / "fixtures" / "conformance" / diagram).read_text(encoding="utf-8")
    run = engine.start(engine.definition(xml), {}, _bindings(NEVER))
    while not run.completed and run.failure is None:
        task = run.ready_tasks()[0]
        run = engine.resume(run.definition, engine.dump(run), _bindings(NEVER))
        run.complete(task.id, {f"opinion_{task.definition.spec_id}": "同意"})
    assert run.result == "办结" and max(seen) > 0


def _automatic_alone_agrees_with_the_walk(top) -> None:
    for flow in [top, *top.subprocesses.values()]:
        found, walked = top.automatic_ready_alone(flow), _ready_automatic(flow)
        assert found == walked if found is not None else len(walked) > 1


@pytest.mark.parametrize("change", ["set READY", "then its tree's task deleted", "then dropped from its parent",
                                    "then its sub-process deleted"])
def test_the_automatic_task_the_census_gives_alone_is_the_walks_wherever_it_stands(change):
    """Each automatic task of a case (its own tree's and its sub-processes', beneath predicted tasks too) set READY
    in turn, alone or beside another, and then taken out of the tree in each way a task leaves it: the census's
    READY automatic task is the one the walk of each tree finds, or it leaves the order to the walk."""
    engine, bindings = Engine(), _bindings(NEVER)
    definition = engine.definition((BPMN_DIR / "item_002036006001.bpmn").read_text(), "item_002036006001.bpmn",
                                   {name: xml.decode("utf-8")
                                    for name, xml in decision_files(BPMN_DIR / "decisions").items()})
    run = engine.start(definition, {"applicant": {"name": "张伟", "id_number": PERSON_ID},
                                    "expense_total": "1860.00"}, bindings)
    state = engine.dump(run)
    flows = [run.workflow, *run.workflow.subprocesses.values()]
    automatic = [(i, task.id) for i, flow in enumerate(flows) for task in flow.tasks.values()
                 if not task.task_spec.manual and task.parent is not None]
    assert len(automatic) > 10 and any(i for i, _ in automatic)
    for (i, task_id), (j, other_id) in zip(automatic, automatic[1:] + automatic[:1]):
        top = engine.resume(definition, state, bindings).workflow
        trees = [top, *top.subprocesses.values()]
        task, other = trees[i].tasks[task_id], trees[j].tasks[other_id]
        task._set_state(TaskState.READY)
        _automatic_alone_agrees_with_the_walk(top)
        if change == "then its tree's task deleted":
            task.workflow._remove_task(task.id)
        elif change == "then dropped from its parent":
            task.parent._children.remove(task.id)
        elif change == "then its sub-process deleted" and i:
            top.delete_subprocess(top.get_task_from_id(task.workflow.parent_task_id))
        _automatic_alone_agrees_with_the_walk(top)
        other._set_state(TaskState.READY)
        _automatic_alone_agrees_with_the_walk(top)
