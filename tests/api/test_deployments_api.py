"""Deployments of several files and messages by name, as a designer from the Camunda Modeler uses them
(tests/fixtures/conformance/deployments/): a call activity into a process of another file, running cases pinned
to the deployment they started on, a collaboration whose pools each become a process, a case started by a
message start event, and messages routed by correlation properties to the one waiting case."""
from __future__ import annotations

import io

from support.http import error_of, json_of

from api.test_api import case_of, complete, deploy, inbox, versions_of
from api.test_conformance_api import AGENCY, APPLICANT, CLERK, FIXTURES, ITEM, PROCESS, diagram

DEPLOYMENTS = FIXTURES / "deployments"
PARTNER_ITEM = "002036002003"
PARTNER = f"item_{PARTNER_ITEM}"


def fixture(name: str, renames: tuple[tuple[str, str], ...] = ()) -> bytes:
    xml = (DEPLOYMENTS / name).read_bytes().replace(b'"Process_conformance"', f'"{PROCESS}"'.encode())
    xml = xml.replace(b'"Process_partner"', f'"{PARTNER}"'.encode())
    for old, new in renames:
        xml = xml.replace(old.encode(), new.encode())
    return xml


def deploy_files(client, headers, files: dict[str, bytes], status: int = 201) -> dict:
    data = {"files": [(io.BytesIO(xml), name) for name, xml in files.items()]}
    return json_of(client.post("/api/deployments", headers=headers, data=data, content_type="multipart/form-data"),
                   status)


def open_case(client, clerk, data: dict | None = None, item: str = ITEM) -> str:
    return json_of(client.post("/api/cases", headers=clerk, json={"item_code": item, "applicant": APPLICANT,
                                                                  "data": data or {}}), 201)["number"]


def tasks_of(client, clerk, number: str) -> list[dict]:
    return [task for task in inbox(client, clerk) if task["case_number"] == number]


def work(client, clerk, number: str) -> list[str]:
    """Complete the case's open tasks; the names of those completed."""
    tasks = tasks_of(client, clerk, number)
    for task in tasks:
        json_of(complete(client, clerk, task["id"]))
    return [task["name"] for task in tasks]


def post_message(client, headers, name: str, payload):
    return client.post(f"/api/agencies/{AGENCY}/messages", headers=headers, json={"name": name, "payload": payload})


def test_a_call_activity_runs_the_process_of_another_file_of_the_deployment(client, auth):
    clerk = auth(CLERK)
    deployed = deploy_files(client, auth("sheji"), {"main.bpmn": fixture("main_calls_recheck.bpmn"),
                                                    "recheck.bpmn": fixture("recheck.bpmn")})
    assert [(p["process_key"], p["called_files"]) for p in deployed["processes"]] == [(PROCESS, ["recheck.bpmn"])]
    assert deployed["files"] == ["main.bpmn", "recheck.bpmn"]

    number = open_case(client, clerk)
    assert work(client, clerk, number) == ["受理"]
    assert work(client, clerk, number) == ["复核"]
    assert case_of(client, clerk, number)["result"] == "办结"


def test_a_running_case_keeps_the_called_process_of_its_deployment(client, auth):
    clerk, designer = auth(CLERK), auth("sheji")
    first = deploy_files(client, designer, {"main.bpmn": fixture("main_calls_recheck.bpmn"),
                                            "recheck.bpmn": fixture("recheck.bpmn")})
    running = open_case(client, clerk)
    renamed = fixture("recheck.bpmn", (('name="复核" camunda:candidateGroups', 'name="二次复核" camunda:candidateGroups'),))
    later = deploy_files(client, designer, {"main.bpmn": fixture("main_calls_recheck.bpmn"), "recheck.bpmn": renamed})
    assert later["id"] != first["id"] and later["processes"][0]["version"] == 3
    fresh = open_case(client, clerk)

    assert work(client, clerk, running) == ["受理"] and work(client, clerk, running) == ["复核"]
    assert work(client, clerk, fresh) == ["受理"] and work(client, clerk, fresh) == ["二次复核"]
    assert versions_of(client, designer, PROCESS) == [3, 2, 1]


def test_a_call_into_a_process_no_file_of_the_deployment_holds_is_refused_naming_the_call(client, auth):
    designer = auth("sheji")
    error = error_of(client.post("/api/deployments", headers=designer, data={
        "files": [(io.BytesIO(fixture("main_calls_recheck.bpmn")), "main.bpmn")]},
        content_type="multipart/form-data"), 422, "invalid_process")
    assert error["element_id"] == "Call_recheck" and "Process_recheck" in error["message"]
    twice = deploy_files(client, designer, {"a.bpmn": fixture("recheck.bpmn"), "b.bpmn": fixture("recheck.bpmn")},
                         422)
    assert "Process_recheck" in twice["error"]["message"] and "重复" in twice["error"]["message"]
    assert versions_of(client, designer, PROCESS) == [1]


def test_files_as_a_json_list_and_a_malformed_entry_named(client, auth):
    designer = auth("sheji")
    files = [{"name": "main.bpmn", "xml": fixture("main_calls_recheck.bpmn").decode()},
             {"name": "recheck.bpmn", "xml": fixture("recheck.bpmn").decode()}]
    deployed = json_of(client.post("/api/deployments", headers=designer, json={"files": files}), 201)
    assert deployed["processes"][0]["version"] == 2
    error = error_of(client.post("/api/deployments", headers=designer, json={"files": [{"name": "x.bpmn"}]}), 422,
                     "invalid_input")
    assert "files[0].xml" in error["fields"]
    error = error_of(client.post("/api/deployments", headers=designer, json={"files": []}), 422, "invalid_input")
    assert "files" in error["fields"]


def test_each_executable_pool_of_a_collaboration_is_a_process_and_a_message_starts_a_case(client, auth):
    clerk = auth(CLERK)
    deployed = deploy_files(client, auth("sheji"), {"collaboration.bpmn": fixture("collaboration.bpmn")})
    assert [p["process_key"] for p in deployed["processes"]] == [PROCESS, PARTNER]

    started = json_of(post_message(client, clerk, "网上申请", {"applicant": APPLICANT, "channel": "网厅"}), 201)
    assert started["item_code"] == PARTNER_ITEM and [t["name"] for t in started["open_tasks"]] == ["审核"]
    assert work(client, clerk, started["number"]) == ["审核"]
    case = case_of(client, clerk, started["number"])
    assert case["result"] == "办结" and case["data"]["StartEvent_online_Response"]["channel"] == "网厅"
    assert "channel" not in case["data"]  # only declared form fields are case data
    assert [m["direction"] for m in json_of(client.get(f"/api/cases/{started['number']}/messages",
                                                       headers=clerk))] == ["received"]
    assert work(client, clerk, open_case(client, clerk)) == ["受理"]  # the item's own pool, opened at the window
    at_window = client.post("/api/cases", headers=clerk, json={"item_code": PARTNER_ITEM, "applicant": APPLICANT})
    assert "网上申请" in error_of(at_window, 422, "invalid_input")["fields"]["item_code"]


def test_a_message_start_without_its_applicant_is_refused_naming_what_is_missing(client, auth):
    clerk = auth(CLERK)
    deploy_files(client, auth("sheji"), {"collaboration.bpmn": fixture("collaboration.bpmn")})
    error = error_of(post_message(client, clerk, "网上申请", {"channel": "网厅"}), 422, "invalid_input")
    assert "payload.applicant.name" in error["fields"]
    error = error_of(post_message(client, clerk, "网上申请", "一句话"), 422, "invalid_input")
    assert "payload" in error["fields"]
    error = error_of(post_message(client, clerk, "", {}), 422, "invalid_input")
    assert "name" in error["fields"]
    error_of(post_message(client, clerk, "无人等待的消息", {}), 404, "not_found")


def test_correlation_properties_route_a_message_to_the_one_waiting_case(client, auth):
    clerk = auth(CLERK)
    json_of(deploy(client, auth("sheji"), fixture("correlated_receipt.bpmn"), "receipt.bpmn"), 201)
    first, second = open_case(client, clerk, {"order_no": "ZF001"}), open_case(client, clerk, {"order_no": "ZF002"})
    for number in (first, second):
        assert work(client, clerk, number) == ["受理"]

    delivered = json_of(post_message(client, clerk, "银行回执", {"order_no": "ZF002", "status": "已入账"}))
    assert delivered["number"] == second and delivered["status"] == "closed"
    assert case_of(client, clerk, second)["data"]["Task_receipt_Response"]["status"] == "已入账"
    assert case_of(client, clerk, first)["status"] == "open"

    error_of(post_message(client, clerk, "银行回执", {"order_no": "ZF999"}), 404, "not_found")
    missing = error_of(post_message(client, clerk, "银行回执", {"status": "已入账"}), 422, "invalid_input")
    assert "payload.Property_order_no" in missing["fields"]


def test_a_message_several_cases_wait_for_without_correlation_is_refused_naming_them(client, auth):
    clerk = auth(CLERK)
    json_of(deploy(client, auth("sheji"), diagram("receive_task.bpmn"), "receive_task.bpmn"), 201)
    numbers = [open_case(client, clerk) for _ in range(2)]
    for number in numbers:
        work(client, clerk, number)
    error = error_of(post_message(client, clerk, "回函", 7), 409, "conflict")
    assert all(number in error["message"] for number in numbers)
    json_of(client.post(f"/api/cases/{numbers[0]}/messages", headers=clerk, json={"name": "回函", "payload": 7}))
    assert case_of(client, clerk, numbers[0])["data"]["Activity_middle_Response"] == 7
    assert json_of(post_message(client, clerk, "回函", "到"))["number"] == numbers[1]


def test_a_message_for_another_agency_is_not_found(client, auth):
    error_of(post_message_to(client, auth(CLERK), "231025", "回函"), 404, "not_found")


def post_message_to(client, headers, agency: str, name: str):
    return client.post(f"/api/agencies/{agency}/messages", headers=headers, json={"name": name, "payload": {}})
