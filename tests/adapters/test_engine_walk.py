"""The engine finds a case's tasks by its own walk of the task tree (adapters/engine.py, CaseWorkflow), for speed:
at every step of real cases it must give exactly the tasks, in exactly the order, SpiffWorkflow's iterators give,
whatever is asked (ready, waiting, finished, predicted …), in the case's tree and in each of its sub-processes."""
from __future__ import annotations

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.task import TaskState
from SpiffWorkflow.util.task import TaskIterator

from handlers.gateways import LocalNationalPlatform, LocalPaymentGateway, LocalSmsNotifier
from workflows.adapters.catalog_files import load_catalog
from workflows.adapters.dmn_parsing import decision_files
from workflows.adapters.engine import CaseBindings, CaseWorkflow, Engine, TaskCensus, _walk
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
        run = engine.resume(definition, engine.dump(run), _bindings(due))  # each step on a restored tree
        compared += _same_as_spiffworkflow(run.workflow)
        task = next(task for task in run.ready_tasks() if task.definition.stage in DECISIONS)
        stages.append(task.definition.stage)
        run.complete(task.id, {"decision": DECISIONS[task.definition.stage]})
        compared += _same_as_spiffworkflow(run.workflow)
    assert stages == ["受理", "审核", "拨付"] and run.result == "办结"
    assert compared > 1 + 2 * len(stages)  # the limits' event sub-processes were walked too


def _ready_automatic(workflow) -> list:
    return [task for task in _walk(workflow, TaskState.READY) if not task.task_spec.manual]


@pytest.mark.parametrize("bpmn", sorted(BPMN_DIR.glob("*.bpmn")), ids=lambda path: path.stem)
def test_the_engine_leaves_out_only_walks_whose_tasks_it_knows(bpmn, monkeypatch):
    """Every diagram's tests run with the engine's shortcuts checked against real walks: where the count of READY
    automatic tasks says there is none, a walk finds none (in the tree skipped and in the whole case), where the
    count of WAITING ones says so, none waits in the case's own tree, the tasks a query gives again are those
    a walk gives now, the READY automatic task the census gives alone is the one a walk finds, a sub-process's
    task whose update is left out is left as it is by SpiffWorkflow's update, and where the engine's rounds stop
    sooner, SpiffWorkflow's next round runs nothing and changes nothing."""
    skipped, given, alone, waited, settled = [], [], [], [], []
    may_have, get_tasks = CaseWorkflow.may_have_automatic_ready, CaseWorkflow.get_tasks
    update_waiting, automatic_ready_alone = CaseWorkflow.update_waiting_tasks, CaseWorkflow.automatic_ready_alone
    waits_on, is_settled = CaseWorkflow.waits_on, CaseWorkflow.settled

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

    monkeypatch.setattr(CaseWorkflow, "waits_on", checking_waits_on)
    monkeypatch.setattr(CaseWorkflow, "settled", checking_settled)
    monkeypatch.setattr(CaseWorkflow, "may_have_automatic_ready", checking_count)
    monkeypatch.setattr(CaseWorkflow, "automatic_ready_alone", checking_alone)
    monkeypatch.setattr(CaseWorkflow, "get_tasks", checking_query)
    monkeypatch.setattr(CaseWorkflow, "update_waiting_tasks", checking_waits)
    _, report = run_test_file(Engine(), load_catalog(CATALOG_DIR), bpmn)
    assert report.failure is None, report.failure.summary()
    assert any(skipped) and given and any(alone) and any(settled) and (any(waited) or not waited)


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
