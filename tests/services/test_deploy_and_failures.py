"""Deploying new versions while cases run, and a handler that fails."""
from __future__ import annotations

import pytest

from workflows.domain.errors import Forbidden, InvalidProcess
from workflows.domain.model import CLOSED, FAILED
from workflows.services import cases, processes, tasks

from support.paths import BPMN_DIR
from support.process_driver import PERSON_ID

OUTPATIENT = "002036006001"
APPLICANT = {"name": "张伟", "id_number": PERSON_ID, "phone": "13804130001"}
DATA = {"expense_total": "800.00", "bank_account": "6222020712001234567"}
DIAGRAM = BPMN_DIR / f"item_{OUTPATIENT}.bpmn"


def _deploy(ctx, staff, xml: str):
    return processes.deploy_process(ctx, staff["sheji"], xml.encode("utf-8"), DIAGRAM.name)


def _run_to_end(ctx, staff, progress):
    decisions = {"受理": ("shouli", "accept"), "审核": ("shenhe", "approve"), "拨付": ("caiwu", "pay")}
    while progress.open_tasks:
        task = progress.open_tasks[0]
        who, decision = decisions[task.stage]
        progress = tasks.complete_task(ctx, staff[who], task.id, {"decision": decision})
    return progress.case


def test_a_new_version_leaves_running_cases_on_theirs(ctx, staff):
    running = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    version = _deploy(ctx, staff, DIAGRAM.read_text().replace('name="审核"', 'name="初审"'))
    assert version.version == 2

    fresh = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    tasks.complete_task(ctx, staff["shouli"], fresh.open_tasks[0].id, {"decision": "accept"})
    tasks.complete_task(ctx, staff["shouli"], running.open_tasks[0].id, {"decision": "accept"})

    names = {task.case_number: task.name for task in tasks.list_tasks(ctx, staff["shenhe"])}
    assert names == {running.case.number: "审核", fresh.case.number: "初审"}
    assert _run_to_end(ctx, staff, cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)).status \
        == CLOSED


def test_only_designers_deploy(ctx, staff):
    with pytest.raises(Forbidden):
        processes.deploy_process(ctx, staff["shouli"], DIAGRAM.read_bytes(), DIAGRAM.name)


def test_an_invalid_diagram_is_refused_and_the_current_version_stays(ctx, staff):
    broken = DIAGRAM.read_text().replace('camunda:topic="payment"', 'camunda:topic="pay everyone"')
    with pytest.raises(InvalidProcess) as refused:
        _deploy(ctx, staff, broken)
    assert "pay everyone" in str(refused.value) and refused.value.element_id == "Task_payment"
    assert [v.version for v in processes.process_versions(ctx, f"item_{OUTPATIENT}")] == [1]


def test_a_failing_handler_marks_the_case_failed_and_keeps_everything(ctx, staff):
    _deploy(ctx, staff, DIAGRAM.read_text().replace('value="outpatient"', 'value="outpatiant"'))
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)

    failed = tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"}).case

    assert failed.status == FAILED
    details = cases.case_details(ctx, staff["shouli"], failed.number)
    assert details.history[-1].action == "failed"
    assert "未知的核算政策 outpatiant" in details.history[-1].message
    assert details.case.data["expense_total"] == "800.00" and details.case.data["decision"] == "accept"
    assert [task.state for task in details.tasks] == ["completed"]
