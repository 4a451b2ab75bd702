"""Multi-instance user tasks in the engine adapter: each instance's element stays its own, two cases of one version
never share their collections, and a collection or cardinality that cannot be run fails the step with the reason
(the case waits for a fix, never an HTTP 500)."""
from __future__ import annotations

from uuid import UUID

import pytest

from workflows.adapters.engine import Engine

from support.paths import ROOT

from adapters.test_engine import bindings, calls  # noqa: F401 - fixtures

CONFORMANCE = ROOT / "tests" / "fixtures" / "conformance"
DEPARTMENTS = 'departments = ["医疗保障科", "基金财务科", "稽核科"]'


def _run(engine, bindings, script: str = DEPARTMENTS, diagram: str = "multi_instance_parallel.bpmn"):
    xml = (CONFORMANCE / diagram).read_text(encoding="utf-8").replace(DEPARTMENTS, script)
    run = engine.start(engine.definition(xml), {}, bindings)
    [accept] = run.ready_tasks()
    run.complete(accept.id, {"opinion_Task_accept": "材料齐全"})
    return run


def test_each_instance_has_its_element_and_the_case_data_keeps_what_the_forms_set(bindings):
    engine = Engine()
    run = _run(engine, bindings)
    instances = run.ready_tasks()
    assert [task.name for task in instances] == ["会签（医疗保障科）", "会签（基金财务科）", "会签（稽核科）"]
    assert [run.workflow.get_task_from_id(UUID(task.id)).data["department"] for task in instances] == \
        ["医疗保障科", "基金财务科", "稽核科"]

    resumed = engine.resume(run.definition, engine.dump(run), bindings)  # as the next request does
    for task, opinion in zip(resumed.ready_tasks(), ("同意", "同意", "稽核无异议")):
        resumed.complete(task.id, {"opinion_Activity_sign": opinion})

    assert resumed.completed and resumed.result == "办结"
    assert resumed.data["opinion_Activity_sign"] == "稽核无异议"
    assert "department" not in resumed.data and "loopCounter" not in resumed.data


def test_two_cases_of_one_version_each_run_over_their_own_collection(bindings):
    engine = Engine()
    first = _run(engine, bindings)
    second = _run(engine, bindings, 'departments = ["医疗保障科"]')

    assert len(first.ready_tasks()) == 3 and [task.name for task in second.ready_tasks()] == ["会签（医疗保障科）"]


@pytest.mark.parametrize("script, reason", [
    ('departments = "医疗保障科"', "应为至多 100 项的列表，实际为 str"),
    ("departments = list(range(101))", "应为至多 100 项的列表，实际为 list（101 项）"),
])
def test_a_collection_that_cannot_be_run_fails_the_step_with_the_reason(bindings, script, reason):
    run = _run(Engine(), bindings, script)

    assert run.failure is not None and run.failure.task_name == "会签" and reason in run.failure.message
    assert run.ready_tasks() == []
