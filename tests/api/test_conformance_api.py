"""BPMN elements as the Camunda Modeler 5 writes them (tests/fixtures/conformance/): each accepted diagram deploys
through the API and a real case is driven through it to its expected end, with no answer an HTTP 500; each
refused one is refused at deploy (422) with the element's id and name and the reason."""
from __future__ import annotations

import pytest
import yaml

from support.http import error_of, json_of
from support.paths import ROOT
from support.process_driver import PERSON_ID
from workflows.services.scheduler import fire_due_timers

from api.test_api import case_of, complete, deploy, inbox, versions_of

FIXTURES = ROOT / "tests" / "fixtures" / "conformance"
ITEM = "002036002002"
PROCESS = f"item_{ITEM}"
AGENCY = "210400"
CLERK = "clerk_210400_01"  # every task role in hall 210400-01
APPLICANT = {"name": "张伟", "id_number": PERSON_ID, "phone": "13804130001"}

EXPECTED = yaml.safe_load((FIXTURES / "expected.yaml").read_text(encoding="utf-8"))
ACCEPTED, REFUSED = EXPECTED["accepted"], EXPECTED["refused"]


def diagram(file_name: str) -> bytes:
    """The fixture as the process of the item the test opens a case for."""
    return (FIXTURES / file_name).read_bytes().replace(b'"Process_conformance"', f'"{PROCESS}"'.encode())


def test_every_fixture_is_either_accepted_or_refused_here():
    assert {path.name for path in FIXTURES.glob("*.bpmn")} == \
        {scenario["diagram"] for scenario in ACCEPTED.values()} | set(REFUSED) | set(EXPECTED["external"])


@pytest.mark.parametrize("scenario", ACCEPTED)
def test_an_accepted_diagram_deploys_and_a_case_runs_to_its_expected_end(client, auth, ctx, clock, scenario):
    expected = ACCEPTED[scenario]
    file_name, values = expected["diagram"], expected.get("values", {})
    clerk = auth(CLERK)
    assert json_of(deploy(client, auth("sheji"), diagram(file_name), file_name), 201)["version"] > 1

    opened = json_of(client.post("/api/cases", headers=clerk,
                                 json={"item_code": ITEM, "applicant": APPLICANT, "data": {}}), 201)
    number = opened["number"]
    for names in expected["rounds"]:
        names = names if isinstance(names, dict) else {"open": names, "complete": names}
        tasks = {task["name"]: task for task in inbox(client, clerk) if task["case_number"] == number}
        assert sorted(tasks) == sorted(names["open"])
        for hours in names.get("hours", []):
            clock.advance(hours=hours)
            fire_due_timers(ctx)
            assert fire_due_timers(ctx) == 0
        for message in names.get("messages", []):
            json_of(client.post(f"/api/agencies/{AGENCY}/messages", headers=clerk, json=message), 200)
        for name, code in names.get("escalations", {}).items():
            json_of(client.post(f"/api/tasks/{tasks[name]['id']}/escalation", headers=clerk,
                                json={"code": code, "message": "需科长知悉"}))
        for signal in names.get("signals", []):
            json_of(client.post("/api/signals", headers=clerk, json={"name": signal}), 202)
        for name, code in names.get("errors", {}).items():
            json_of(client.post(f"/api/tasks/{tasks[name]['id']}/bpmn-error", headers=clerk,
                                json={"code": code, "message": "经核查未参保"}))
        for name in names["complete"]:
            json_of(complete(client, clerk, tasks[name]["id"], **values.get(name, {})))
    for message in expected.get("messages", []):
        json_of(client.post(f"/api/agencies/{AGENCY}/messages", headers=clerk, json=message), 200)

    case = case_of(client, clerk, number)
    assert (case["status"], case["result"]) == ("closed", "办结")
    assert [task for task in inbox(client, clerk) if task["case_number"] == number] == []
    assert expected.get("data", {}).items() <= case["data"].items()
    messages = [entry["message"] for entry in case["history"]]
    assert {line: messages.count(line) for line in expected.get("counted", {})} == expected.get("counted", {})
    if "history" in expected:
        assert expected["history"] in messages
    if "thrown" in expected:
        sent = json_of(client.get(f"/api/cases/{number}/messages", headers=clerk))
        assert {m["name"]: m["payload"] for m in sent if m["direction"] == "sent"} == expected["thrown"]


@pytest.mark.parametrize("file_name", REFUSED)
def test_a_diagram_with_an_element_the_engine_cannot_run_is_refused_naming_it(client, auth, file_name):
    expected = REFUSED[file_name]
    designer = auth("sheji")

    error = error_of(deploy(client, designer, diagram(file_name), file_name), 422, "invalid_process")

    assert error["element_id"] == expected["element"]
    assert f"“{expected['name']}”" in error["message"] and expected["reason"] in error["message"]
    assert versions_of(client, designer, PROCESS) == [1]


def at_error_boundary_task(client, auth) -> tuple[dict, str, dict]:
    """The clerk's headers, the case and its 受理 task, whose error boundary event catches NOT_INSURED."""
    clerk = auth(CLERK)
    json_of(deploy(client, auth("sheji"), diagram("error_boundary_user_task.bpmn"), "error_boundary_user_task.bpmn"),
            201)
    number = json_of(client.post("/api/cases", headers=clerk,
                                 json={"item_code": ITEM, "applicant": APPLICANT, "data": {}}), 201)["number"]
    [task] = [task for task in inbox(client, clerk) if task["case_number"] == number]
    return clerk, number, task


def test_a_bpmn_error_no_boundary_event_of_the_task_catches_is_refused_naming_the_code(client, auth):
    clerk, number, task = at_error_boundary_task(client, auth)

    error = error_of(client.post(f"/api/tasks/{task['id']}/bpmn-error", headers=clerk, json={"code": "NO_SUCH"}),
                     422, "invalid_input")

    assert "NO_SUCH" in error["message"] and "code" in error["fields"]
    assert [t["name"] for t in inbox(client, clerk) if t["case_number"] == number] == ["受理"]


@pytest.mark.parametrize("body, field", [({"code": "NO_SUCH"}, "code"), ({"code": " "}, "code"),
                                         ({"code": "REPORT", "message": 5}, "message")])
def test_an_escalation_no_boundary_event_of_the_task_catches_or_without_a_code_is_refused(client, auth, body, field):
    clerk = auth(CLERK)
    json_of(deploy(client, auth("sheji"), diagram("escalation_user_task.bpmn"), "escalation_user_task.bpmn"), 201)
    number = json_of(client.post("/api/cases", headers=clerk,
                                 json={"item_code": ITEM, "applicant": APPLICANT, "data": {}}), 201)["number"]
    [task] = [task for task in inbox(client, clerk) if task["case_number"] == number]

    error = error_of(client.post(f"/api/tasks/{task['id']}/escalation", headers=clerk, json=body), 422, "invalid_input")

    assert field in error["fields"]
    assert [t["name"] for t in inbox(client, clerk) if t["case_number"] == number] == ["受理"]
