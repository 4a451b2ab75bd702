"""Camunda 7's REST API for user tasks and process instances, driven with plain HTTP requests shaped as Camunda's
documentation says (docs.camunda.org, reference/rest: task get-query, complete, form-variables; process-definition
start-process-instance; process-instance variables) against a real server on a loopback port, on diagrams as the
Camunda Modeler 5 writes them (tests/fixtures/conformance/form_defaults.bpmn, form_constraints.bpmn) and the real
门诊费用报销 process. The rules are those of our own API: the form's checks, claims, amounts, roles, masking."""
from __future__ import annotations

import pytest
import requests

from support.http import json_of
from support.process_driver import PERSON_ID
from workflows.domain import pages
from workflows.services import users

from api.test_api import case_of, complete, deploy, inbox, open_case, ready_task
from api.test_conformance_api import CLERK, PROCESS, diagram
from api.test_external_tasks_api import server  # noqa: F401 - the fixture: the app on a loopback port

pytestmark = pytest.mark.both_databases

PASSWORD = "password123"
APPLICANT = {"name": "张伟", "id_number": PERSON_ID, "phone": "13804130001"}
TYPED_APPLICANT = {"value": APPLICANT, "type": "Json"}


def as_clerk(username: str = CLERK, password: str = PASSWORD) -> requests.Session:
    session = requests.Session()
    session.auth = (username, password)  # HTTP Basic, as Camunda's REST clients send it
    return session


@pytest.fixture
def deployed(client, auth):
    json_of(deploy(client, auth("sheji"), diagram("form_defaults.bpmn"), "form_defaults.bpmn"), 201)


def start(server, body: dict, session=None):
    return (session or as_clerk()).post(f"{server}/engine-rest/process-definition/key/{PROCESS}/start", json=body)


def started(server, **variables) -> str:
    answer = start(server, {"businessKey": "HIS-2026-0001",
                            "variables": {"applicant": TYPED_APPLICANT, **variables}})
    assert answer.status_code == 200, answer.text
    return answer.json()["id"]


def test_a_case_starts_with_typed_variables_and_its_variables_come_back_typed(server, deployed, client, auth):
    answer = start(server, {"businessKey": "HIS-2026-0001", "withVariablesInReturn": True, "variables": {
        "applicant": TYPED_APPLICANT, "referral": {"value": True, "type": "Boolean"},
        "visits_reported": {"value": 2, "type": "Integer"}}})

    assert answer.status_code == 200, answer.text
    instance = answer.json()
    assert (instance["businessKey"], instance["ended"]) == ("HIS-2026-0001", False)
    data = case_of(client, auth(CLERK), instance["id"])["data"]
    assert (data["referral"], data["visits_reported"], data["businessKey"]) == (True, 2, "HIS-2026-0001")
    variables = as_clerk().get(f"{server}/engine-rest/process-instance/{instance['id']}/variables").json()
    assert variables["visits_reported"] == {"type": "Integer", "value": 2, "valueInfo": {}}
    assert variables["registered_unit"] == {"type": "String", "value": "抚顺市第一人民医院", "valueInfo": {}}
    assert instance["variables"]["referral"]["value"] is True


def test_the_task_query_filters_as_camunda_does(server, deployed):
    number = started(server)
    other = started(server)
    session = as_clerk()

    [task] = session.get(f"{server}/engine-rest/task", params={"processInstanceId": number}).json()
    assert (task["name"], task["taskDefinitionKey"], task["processInstanceId"], task["assignee"]) == (
        "受理张伟的报销申请", "Task_accept", number, None)
    assert session.get(f"{server}/engine-rest/task", params={"processInstanceId": number,
                                                             "taskDefinitionKey": "Task_review"}).json() == []
    assert {t["processInstanceId"] for t in session.get(f"{server}/engine-rest/task",
                                                         params={"candidateGroup": "acceptor"}).json()} >= {
        number, other}
    assert session.get(f"{server}/engine-rest/task", params={"assignee": CLERK}).json() == []


def test_the_task_query_finds_and_pages_the_matches_past_a_page_of_the_inbox(server, deployed, client, auth,
                                                                              monkeypatch):
    numbers = [started(server) for _ in range(5)]
    for number in numbers[2:]:  # the clerk's: behind the inbox's first page of two
        json_of(client.post(f"/api/tasks/{ready_task(client, auth(CLERK), number)['id']}/claim", headers=auth(CLERK)))
    session = as_clerk()
    monkeypatch.setattr(pages, "MAX_PAGE", 2)  # a page of two stands for one of 500

    def page(first: int, **filters) -> list[str]:
        answer = session.get(f"{server}/engine-rest/task", params={"firstResult": first, "maxResults": 2, **filters})
        assert answer.status_code == 200, answer.text
        return [task["processInstanceId"] for task in answer.json()]

    assert sorted(page(0, assignee=CLERK) + page(2, assignee=CLERK)) == numbers[2:]  # each once
    assert page(4, assignee=CLERK) == []
    assert page(0, processInstanceId=numbers[4], taskDefinitionKey="Task_accept") == [numbers[4]]
    assert sorted(page(0, taskDefinitionKey="Task_accept") + page(2, taskDefinitionKey="Task_accept")
                  + page(4, taskDefinitionKey="Task_accept")) == numbers
    assert session.get(f"{server}/engine-rest/task", params={"maxResults": 3}).status_code == 422


def test_form_variables_give_each_field_its_value_or_its_default_typed(server, deployed):
    number = started(server)
    session = as_clerk()
    [task] = session.get(f"{server}/engine-rest/task", params={"processInstanceId": number}).json()

    form = session.get(f"{server}/engine-rest/task/{task['id']}/form-variables").json()

    assert form["payee"] == {"type": "String", "value": "张伟", "valueInfo": {}}
    assert form["visit_count"] == {"type": "Long", "value": 4, "valueInfo": {}}
    assert form["invoice_no"] == {"type": "Null", "value": None, "valueInfo": {}}
    assert set(session.get(f"{server}/engine-rest/task/{task['id']}/form-variables",
                           params={"variableNames": "payee,urgent"}).json()) == {"payee", "urgent"}


def test_a_completion_with_typed_variables_is_checked_as_the_form_and_then_moves_the_case(server, deployed, client,
                                                                                          auth):
    number = started(server)
    session = as_clerk()
    [task] = session.get(f"{server}/engine-rest/task", params={"processInstanceId": number}).json()
    url = f"{server}/engine-rest/task/{task['id']}/complete"

    refused = session.post(url, json={"variables": {"invoice_no": {"value": "FP2026", "type": "String"},
                                                    "visit_count": {"value": 31, "type": "Long"}}})
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"] == {"visit_count": "就诊次数不得大于30"}
    overwrite = session.post(url, json={"variables": {"invoice_no": {"value": "FP2026"},
                                                      "registered_unit": {"value": "别处", "type": "String"}}})
    assert overwrite.json()["error"]["fields"] == {"variables.registered_unit": "案件已有变量 registered_unit，不能覆盖"}
    mistyped = session.post(url, json={"variables": {"invoice_no": {"value": 2026, "type": "String"}}})
    assert mistyped.json()["error"]["fields"] == {"variables.invoice_no": "值与类型 string 不符"}

    done = session.post(url, json={"variables": {"invoice_no": {"value": "FP2026", "type": "String"},
                                                 "checked_at_window": {"value": True, "type": "Boolean"}}})

    assert done.status_code == 204, done.text
    case = case_of(client, auth(CLERK), number)
    assert (case["status"], case["data"]["invoice_no"], case["data"]["checked_at_window"]) == ("closed", "FP2026", True)
    assert case["data"]["visit_count"] == 4  # left out: its default
    assert session.post(url, json={}).status_code == 409  # done: no longer open, as on our API


def test_a_task_claimed_by_someone_else_cannot_be_completed_here(server, deployed, client, auth, ctx):
    users.save_user(ctx, "clerk_b", "另一受理员", PASSWORD, "210400", "210400-01", ["acceptor"])
    number = started(server)
    [task] = [t for t in inbox(client, auth(CLERK)) if t["case_number"] == number]
    json_of(client.post(f"/api/tasks/{task['id']}/claim", headers=auth(CLERK)))

    answer = as_clerk("clerk_b").post(f"{server}/engine-rest/task/{task['id']}/complete",
                                      json={"variables": {"invoice_no": {"value": "FP2026"}}})

    assert answer.status_code == 403
    assert answer.json()["message"] == f"任务已由{CLERK}认领"


def test_an_integrator_may_not_do_a_clerks_task_nor_open_a_case(server, deployed, ctx):
    users.save_user(ctx, "jiekou", "医保信息平台接口", PASSWORD, "210400", "210400-01", ["integrator"])
    number = started(server)
    [task] = as_clerk().get(f"{server}/engine-rest/task", params={"processInstanceId": number}).json()
    system = as_clerk("jiekou")

    assert system.post(f"{server}/engine-rest/task/{task['id']}/complete",
                       json={"variables": {"invoice_no": {"value": "FP2026"}}}).status_code == 403
    assert start(server, {"variables": {"applicant": TYPED_APPLICANT}}, system).status_code == 403


def test_a_start_without_an_applicant_or_for_an_unknown_process_is_refused(server, deployed):
    missing = start(server, {"variables": {"referral": {"value": True}}})
    assert missing.status_code == 422
    assert "variables.applicant" in missing.json()["error"]["fields"]
    unknown = as_clerk().post(f"{server}/engine-rest/process-definition/key/item_999/start",
                              json={"variables": {"applicant": TYPED_APPLICANT}})
    assert unknown.status_code == 404
    wrong = start(server, {"variables": {"applicant": TYPED_APPLICANT, "invoice_no": {"value": "FP1"}}})
    assert wrong.json()["error"]["fields"] == {
        "variables.invoice_no": "变量 invoice_no 是流程中另一步骤的表单字段，只能在该步骤的表单中填写"}
    assert requests.post(f"{server}/engine-rest/process-definition/key/{PROCESS}/start", json={}).status_code == 401


def test_the_review_amount_rules_hold_here_as_on_our_api(server, client, auth):
    """门诊费用报销: a 核定金额 above the claim is refused at review, and lower only with a reason."""
    number = open_case(client, auth("shouli"))["number"]
    complete(client, auth("shouli"), ready_task(client, auth("shouli"), number)["id"], decision="accept",
             opinion="材料齐全")
    reviewer = as_clerk("shenhe", "demo12345")
    [task] = reviewer.get(f"{server}/engine-rest/task", params={"processInstanceId": number}).json()
    url = f"{server}/engine-rest/task/{task['id']}/complete"

    above = reviewer.post(url, json={"variables": {"decision": {"value": "approve"},
                                                   "payable_amount": {"value": "99999", "type": "String"}}})
    assert above.json()["error"]["fields"] == {"payable_amount": "核定金额不得超过申报金额 1860.00 元"}
    lower = reviewer.post(url, json={"variables": {"decision": {"value": "approve"},
                                                   "payable_amount": {"value": "800.00"}}})
    assert lower.json()["error"]["fields"] == {"reduction_reason": "核定金额低于核算金额 930.00 元，请填写核减理由"}
    assert reviewer.post(url, json={"variables": {"decision": {"value": "approve"}, "opinion": {"value": "同意"}}}
                         ).status_code == 204
    masked = reviewer.get(f"{server}/engine-rest/process-instance/{number}/variables").json()
    assert masked["bank_account"]["value"] == "6222020712001234567"  # a reviewer's need: in full


def test_a_case_started_here_meets_the_prohibited_cases_table_at_acceptance(server, client, auth):
    """门诊费用报销 started through Camunda's API with its application form as variables; 受理 completed there finds
    the 禁办情形 (emergency costs that were not rescue care) and ends the case 禁止办理, as at the window."""
    window = as_clerk("shouli", "demo12345")
    answer = window.post(f"{server}/engine-rest/process-definition/key/item_002036006001/start", json={"variables": {
        "applicant": TYPED_APPLICANT, "expense_total": {"value": "1860.00"},
        "bank_account": {"value": "6222020712001234567"}, "visit_kind": {"value": "emergency"}}})
    assert answer.status_code == 200, answer.text
    number = answer.json()["id"]
    [task] = window.get(f"{server}/engine-rest/task", params={"processInstanceId": number}).json()

    done = window.post(f"{server}/engine-rest/task/{task['id']}/complete",
                       json={"variables": {"decision": {"value": "accept"}}, "withVariablesInReturn": True})

    assert done.status_code == 200
    case = case_of(client, auth("shouli"), number)
    assert (case["status"], case["result"]) == ("closed", "禁止办理")
    assert done.json()["visit_kind"]["value"] == "emergency"


def test_a_completion_held_for_an_after_signer_moves_on_with_its_variables_once_signed(server, client, auth):
    number = open_case(client, auth("shouli"))["number"]
    complete(client, auth("shouli"), ready_task(client, auth("shouli"), number)["id"], decision="accept",
             opinion="材料齐全")
    review = ready_task(client, auth("shenhe"), number)["id"]
    signer = json_of(client.post(f"/api/tasks/{review}/signers", headers=auth("shenhe"),
                                 json={"signer": "kezhang", "kind": "after", "reason": "复核"}), 201)

    held = as_clerk("shenhe", "demo12345").post(f"{server}/engine-rest/task/{review}/complete", json={"variables": {
        "decision": {"value": "approve"}, "opinion": {"value": "同意"},
        "review_channel": {"value": "engine-rest", "type": "String"}}})

    assert held.status_code == 204
    assert case_of(client, auth("shenhe"), number)["stage"] == "审核"  # held: the task waits for its signer
    signed = json_of(client.post(f"/api/task-requests/{signer['id']}/sign", headers=auth("kezhang"),
                                 json={"decision": "agree", "opinion": "同意"}))
    assert signed["completed"]["stage"] == "拨付"
    assert case_of(client, auth("shenhe"), number)["data"]["review_channel"] == "engine-rest"


def test_a_tasks_and_a_cases_process_definition_id_is_camundas_and_a_client_can_follow_it(server, deployed):
    """key:version:id, the same on the task, the started instance and the definition it names."""
    answer = start(server, {"variables": {"applicant": TYPED_APPLICANT}}).json()
    session = as_clerk()
    [task] = session.get(f"{server}/engine-rest/task", params={"processInstanceId": answer["id"]}).json()

    assert task["processDefinitionId"] == answer["definitionId"]
    key, version, _ = task["processDefinitionId"].split(":")
    definition = session.get(f"{server}/engine-rest/process-definition/{task['processDefinitionId']}").json()
    assert (definition["id"], definition["key"], definition["version"]) == (
        task["processDefinitionId"], PROCESS, int(version))
    assert key == PROCESS
    for wrong in (f"{PROCESS}:{int(version) + 1}:{task['processDefinitionId'].split(':')[2]}", "nothing",
                  f"{PROCESS}:{version}:999999"):
        missing = session.get(f"{server}/engine-rest/process-definition/{wrong}")
        assert missing.status_code == 404, wrong
        assert "不存在" in missing.json()["message"]
