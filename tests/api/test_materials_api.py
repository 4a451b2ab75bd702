"""申请材料核对 through the REST API: an API client checks the materials, accepts with 容缺 and hands the waived
ones in later, as a window clerk does on the pages; and the refusals."""
from __future__ import annotations

from support.cases import APPLICANT
from support.http import error_of, json_of

MATERNITY = "002036007004"  # 抚顺 生育津贴支付; materials 5 结婚证, 6 生育登记单 and 7 医保卡复印件 may be waived
DATA = {"leave_days": "98", "average_wage": "6500.00", "bank_account": "6222020712001234567"}
CHECKED = {"0": "present", "1": "present", "2": "present", "3": "present", "4": "present", "5": "waived",
           "6": "present", "7": "present"}


def opened(client, auth) -> dict:
    return json_of(client.post("/api/cases", headers=auth("shouli"),
                               json={"item_code": MATERNITY, "applicant": APPLICANT, "data": DATA}), 201)


def test_a_client_checks_the_materials_accepts_with_waiver_and_hands_them_in_later(client, auth):
    case = opened(client, auth)
    number, clerk = case["number"], auth("shouli")
    unmarked = json_of(client.get(f"/api/cases/{number}/materials", headers=clerk))
    assert [(m["name"], m["status"], m["status_name"]) for m in unmarked][5] == ("结婚证", None, "未核对")
    assert "waived" in unmarked[5]["allowed"] and "waived" not in unmarked[1]["allowed"]

    marked = json_of(client.put(f"/api/cases/{number}/materials", headers=clerk, json={"marks": CHECKED}))
    assert [m["status"] for m in marked] == [CHECKED[str(i)] for i in range(8)]
    waiting = json_of(client.post(f"/api/tasks/{case['open_tasks'][0]['id']}/complete", headers=clerk, json={
        "data": {"decision": "waive", "opinion": "结婚证后补", "waiver_commitment": True}}))
    assert (waiting["stage"], waiting["open_tasks"]) == ("容缺补正", [])

    supplied = json_of(client.put(f"/api/cases/{number}/materials", headers=clerk, json={"marks": {"5": "present"}}))
    assert supplied[5]["status_name"] == "已提交"
    moved_on = json_of(client.get(f"/api/cases/{number}", headers=clerk))
    assert moved_on["stage"] == "审核"
    assert "容缺材料已补齐（结婚证），结束容缺补正，恢复计时" in [h["message"] for h in moved_on["history"]]


def test_marks_that_cannot_be_taken_are_refused_and_nothing_changes(client, auth):
    number, clerk = opened(client, auth)["number"], auth("shouli")
    empty = error_of(client.put(f"/api/cases/{number}/materials", headers=clerk, json={"marks": {}}), 422,
                     "invalid_input")
    assert empty["fields"] == {"marks": "形如 {\"0\": \"present\", \"2\": \"waived\"} 的对象"}
    refused = error_of(client.put(f"/api/cases/{number}/materials", headers=clerk,
                                  json={"marks": {"0": "present", "1": "waived"}}), 422, "invalid_input")
    assert "不可容缺" in refused["message"]
    assert error_of(client.put(f"/api/cases/{number}/materials", headers=auth("caiwu"),
                               json={"marks": {"0": "present"}}), 403, "forbidden")
    assert [m["status"] for m in json_of(client.get(f"/api/cases/{number}/materials", headers=clerk))] == [None] * 8


def test_complete_takes_the_marks_with_the_decision_and_refuses_acceptance_with_a_required_one_missing(client, auth):
    case = opened(client, auth)
    number, clerk, task_id = case["number"], auth("shouli"), case["open_tasks"][0]["id"]
    complete = f"/api/tasks/{task_id}/complete"
    missing = {**CHECKED, "5": "missing"}  # 结婚证: required, waivable
    error = error_of(client.post(complete, headers=clerk, json={"data": {"decision": "accept", "materials": missing}}),
                     422, "invalid_input")
    assert "缺少必要材料结婚证" in error["fields"]["materials"] and "容缺受理" in error["fields"]["materials"]
    assert [m["status"] for m in json_of(client.get(f"/api/cases/{number}/materials", headers=clerk))] == [None] * 8
    bad = error_of(client.post(complete, headers=clerk, json={"data": {"decision": "accept", "materials": ["x"]}}),
                   422, "invalid_input")
    assert bad["fields"] == {"materials": "应为对象：材料序号 -> 状态"}

    waiting = json_of(client.post(complete, headers=clerk, json={"data": {
        "decision": "waive", "opinion": "结婚证后补", "waiver_commitment": True, "materials": CHECKED}}))
    assert waiting["stage"] == "容缺补正"
    assert [m["status"] for m in json_of(client.get(f"/api/cases/{number}/materials", headers=clerk))] == [
        CHECKED[str(i)] for i in range(8)]


def test_a_refusal_through_the_api_needs_its_reason(client, auth):
    case = opened(client, auth)
    clerk, task_id = auth("shouli"), case["open_tasks"][0]["id"]
    complete = f"/api/tasks/{task_id}/complete"
    error = error_of(client.post(complete, headers=clerk, json={"data": {"decision": "refuse"}}), 422, "invalid_input")
    assert error["fields"] == {"opinion": "请填写不予受理的理由"}
    refused = json_of(client.post(complete, headers=clerk, json={"data": {"decision": "refuse",
                                                                          "opinion": "非本市参保人员"}}))
    assert (refused["status"], refused["result"]) == ("closed", "不予受理")
    documents = json_of(client.get(f"/api/cases/{case['number']}/documents", headers=clerk))
    assert [d["title"] for d in documents] == ["不予受理决定书"]
