"""A diagram drawn in the Camunda Modeler (no lanes, roles by camunda:candidateGroups) deploys, runs and shows its
forms in the inbox."""
from __future__ import annotations

import pytest

from handlers.gateways import LocalNationalPlatform, LocalPaymentGateway, LocalSmsNotifier
from workflows.adapters.bpmn_parsing import parse_process
from workflows.adapters.engine import CaseBindings, Engine

from support.paths import ROOT
from support.process_driver import PERSON_ID

pytestmark = pytest.mark.both_databases  # the database matters here: SQLite and PostgreSQL

FIXTURE = ROOT / "tests" / "fixtures" / "camunda" / "camunda_modeler_reimbursement.bpmn"
XML = FIXTURE.read_text(encoding="utf-8")
ITEM = "002036002002"
APPLICANT = {"name": "张伟", "id_number": PERSON_ID, "phone": "13804130001"}
DATA = {"invoice_count": 3, "bank_account": "6222020712001234567"}


@pytest.fixture
def calls():
    return []


@pytest.fixture
def bindings(calls):
    def record(*call):
        calls.append(call)

    return CaseBindings("210400-20261123-00001", "210400", ITEM, "费用报销", APPLICANT,
                        LocalNationalPlatform({}.get, record), LocalPaymentGateway(record), LocalSmsNotifier(record))


def test_the_modeler_diagram_parses_with_roles_from_candidate_groups():
    definition = parse_process(FIXTURE.read_bytes(), FIXTURE.name)

    assert definition.key == "camunda_reimbursement"
    assert [(f.id, f.type, f.required) for f in definition.start_form.fields] == \
        [("invoice_count", "long", False), ("bank_account", "string", True)]
    check, review = definition.user_tasks["Task_check"], definition.user_tasks["Task_review"]
    assert (check.role, check.stage) == ("acceptor", "受理")  # no stage property: the task's name
    assert (review.role, review.stage) == ("reviewer", "审核")  # candidateGroups="审核员"
    assert [f.id for f in check.form.fields] == ["decision", "opinion"]
    decision = check.form.fields[0]
    assert decision.type == "enum" and decision.required
    assert decision.options == (("accept", "受理"), ("reject", "不予受理"))
    assert review.form.fields[0].options == (("approve", "审核通过"),)
    assert definition.escalation_ends == {"EndEvent_reminded"}


@pytest.mark.parametrize("groups, role", [("reviewer", "reviewer"), ("审核员", "reviewer"),
                                          ("designer, 财务, reviewer", "finance"), (" supervisor ", "supervisor")])
def test_candidate_groups_name_a_task_role_by_code_or_chinese_name(groups, role):
    xml = XML.replace('camunda:candidateGroups="acceptor"', f'camunda:candidateGroups="{groups}"')
    assert parse_process(xml.encode("utf-8")).user_tasks["Task_check"].role == role


@pytest.mark.parametrize("replacement", ["", 'camunda:candidateGroups="admin,designer"'])
def test_a_user_task_without_lane_or_task_role_group_goes_to_any_role_of_the_hall(replacement):
    xml = XML.replace('camunda:candidateGroups="acceptor"', replacement)
    assert parse_process(xml.encode("utf-8"), "no_role.bpmn").user_tasks["Task_check"].role == "any"


def test_accepted_application_runs_through_review_and_notification_to_its_end(bindings, calls):
    engine = Engine()
    run = engine.start(engine.definition(XML, FIXTURE.name), dict(DATA), bindings)

    [check] = run.ready_tasks()
    assert check.definition.spec_id == "Task_check" and check.definition.role == "acceptor"
    run.complete(check.id, {"decision": "accept", "opinion": "材料齐全"})
    [review] = run.ready_tasks()
    assert review.definition.role == "reviewer"
    run.complete(review.id, {"decision": "approve"})

    assert run.completed and run.result == "办结"
    assert run.data["applicant_notified"] is True
    assert [(system, operation, payload["phone"]) for system, operation, payload, *_ in calls] == \
        [("sms", "send", "13804130001")]


def test_rejected_application_ends_at_the_refusal(bindings):
    engine = Engine()
    run = engine.start(engine.definition(XML, FIXTURE.name), dict(DATA), bindings)

    [check] = run.ready_tasks()
    run.complete(check.id, {"decision": "reject"})

    assert run.completed and run.result == "不予受理"


def test_the_modeler_diagram_deploys_as_an_items_process_and_its_forms_reach_the_inbox(ctx, staff):
    from workflows.services import cases, processes, tasks

    xml = XML.replace("camunda_reimbursement", f"item_{ITEM}")
    version = processes.deploy_process(ctx, staff["sheji"], xml.encode("utf-8"), f"item_{ITEM}.bpmn")
    assert version.version > 1

    progress = cases.open_case(ctx, staff["shouli"], ITEM, APPLICANT, {"invoice_count": "3",
                                                                        "bank_account": "6222020712001234567"})
    [task] = [t for t in tasks.list_tasks(ctx, staff["shouli"]) if t.case_number == progress.case.number]
    assert (task.name, task.stage, task.role) == ("受理", "受理", "acceptor")
    details = tasks.task_details(ctx, staff["shouli"], task.id)
    assert [f.id for f in details.definition.form.fields] == ["decision", "opinion"]
    assert details.definition.form.fields[0].options == (("accept", "受理"), ("reject", "不予受理"))
    assert [f.id for f in details.application.fields] == ["invoice_count", "bank_account"]

    progress = tasks.complete_task(ctx, staff["shouli"], task.id, {"decision": "accept"})
    [review] = progress.open_tasks
    assert review.role == "reviewer"
    done = tasks.complete_task(ctx, staff["shenhe"], review.id, {"decision": "approve"}).case
    assert done.result == "办结"


def _with_lane(name: str) -> bytes:
    lanes = (f'<bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_1" name="{name}">'
             '<bpmn:flowNodeRef>Task_check</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>')
    return XML.replace('camunda:historyTimeToLive="180">', f'camunda:historyTimeToLive="180">{lanes}').encode("utf-8")


def test_a_lane_decides_over_candidate_groups_and_a_lane_not_named_after_a_role_leaves_them_to_decide():
    assert parse_process(_with_lane("财务")).user_tasks["Task_check"].role == "finance"
    assert parse_process(_with_lane("窗口")).user_tasks["Task_check"].role == "acceptor"


def test_a_user_task_of_a_called_process_reaches_the_inbox_and_the_case_resumes_after_it(bindings):
    xml = (FIXTURE.parent / "call_activity.bpmn").read_bytes()
    definition = parse_process(xml, "call_activity.bpmn")
    assert {spec_id: task.role for spec_id, task in definition.user_tasks.items()} == {
        "Task_accept": "acceptor", "Task_recheck": "reviewer"}

    engine = Engine()
    run = engine.start(definition, {}, bindings)
    [accept] = run.ready_tasks()
    run.complete(accept.id, {"decision": "accept"})
    stored = engine.dump(run)  # the called process's state is stored and restored with the case
    run = engine.resume(definition, stored, bindings)
    [recheck] = run.ready_tasks()
    assert recheck.definition.name == "复核" and recheck.definition.role == "reviewer"
    run.complete(recheck.id, {"decision": "approve"})
    assert run.completed and run.result == "办结"
