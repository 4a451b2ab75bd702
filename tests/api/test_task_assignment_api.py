"""Camunda task attributes as the inbox and the task API honour them, with the conformance diagrams
(tests/fixtures/conformance/) deployed through the API: who sees and may take a task, and in which order."""
from __future__ import annotations

from datetime import datetime, timedelta

from support.http import error_of, json_of

from api.test_api import complete, deploy, inbox
from api.test_conformance_api import APPLICANT, ITEM, diagram

CLERK = "clerk_210400_01"


def open_case(client, auth, file_name: str, bpmn: bytes | None = None) -> str:
    json_of(deploy(client, auth("sheji"), bpmn or diagram(file_name), file_name), 201)
    opened = json_of(client.post("/api/cases", headers=auth(CLERK),
                                 json={"item_code": ITEM, "applicant": APPLICANT, "data": {}}), 201)
    return opened["number"]


def tasks_of(client, headers, number: str) -> list[dict]:
    return [task for task in inbox(client, headers) if task["case_number"] == number]


def test_the_assignee_priority_due_and_follow_up_dates_of_the_diagram_are_on_the_task(client, auth):
    number = open_case(client, auth, "task_attributes.bpmn")

    [task] = tasks_of(client, auth(CLERK), number)

    assert (task["assignee"], task["priority"]) == (CLERK, 80)
    assert task["due_date"] == "2026-12-31T17:00:00+08:00"
    opened_on = datetime.fromisoformat(task["created_at"]).date()
    assert task["follow_up_date"] == f"{opened_on + timedelta(days=2)}T23:59:59+08:00"
    assert task["due_at"] != task["due_date"]  # the case's statutory limit stays the case's
    assert [t["id"] for t in inbox(client, auth(CLERK), "?mine=true") if t["case_number"] == number] == [task["id"]]
    details = json_of(client.get(f"/api/tasks/{task['id']}", headers=auth(CLERK)))
    assert (details["priority"], details["due_date"]) == (80, "2026-12-31T17:00:00+08:00")


def test_candidate_users_alone_see_and_take_the_task(client, auth):
    number = open_case(client, auth, "candidate_users.bpmn")
    shouli, shenhe = auth("shouli"), auth("shenhe")

    assert tasks_of(client, shouli, number) == []
    [task] = tasks_of(client, shenhe, number)
    assert task["candidate_users"] == [CLERK, "shenhe"]
    error = error_of(client.post(f"/api/tasks/{task['id']}/claim", headers=shouli), 403, "forbidden")
    assert error["message"] == f"该任务只由指定人员办理：{CLERK}、shenhe"
    error_of(complete(client, shouli, task["id"]), 403, "forbidden")
    error_of(client.get(f"/api/tasks/{task['id']}", headers=shouli), 403, "forbidden")
    assert json_of(client.get(f"/api/tasks/{task['id']}", headers=auth("kezhang")))["candidate_users"] == [
        CLERK, "shenhe"]  # the hall's supervisor, who may reassign it

    assert json_of(client.post(f"/api/tasks/{task['id']}/claim", headers=shenhe))["assignee"] == "shenhe"
    json_of(complete(client, shenhe, task["id"]))
    assert json_of(client.get(f"/api/cases/{number}", headers=shenhe))["result"] == "办结"


def test_a_task_with_no_role_goes_to_every_clerk_of_the_hall_and_groups_route_the_others(client, auth):
    number = open_case(client, auth, "lanes_without_roles.bpmn")
    shouli, shenhe, caiwu = auth("shouli"), auth("shenhe"), auth("caiwu")

    [task] = tasks_of(client, caiwu, number)
    assert (task["name"], task["role"], task["role_name"]) == ("受理", "any", "大厅任一岗位")
    assert [t["id"] for t in tasks_of(client, shouli, number)] == [task["id"]]
    assert tasks_of(client, auth("shouli2"), number) == []  # another hall's clerk
    json_of(complete(client, shouli, task["id"]))

    assert tasks_of(client, shouli, number) == [] and tasks_of(client, caiwu, number) == []
    [review] = tasks_of(client, shenhe, number)
    assert (review["name"], review["role"]) == ("审核", "reviewer")


def test_an_assignee_who_is_not_of_the_hall_leaves_the_task_to_the_hall(client, auth):
    number = open_case(client, auth, "assignee_outside_hall.bpmn")

    [task] = tasks_of(client, auth("shouli"), number)

    assert task["assignee"] is None
    history = json_of(client.get(f"/api/cases/{number}", headers=auth("shouli")))["history"]
    assert "“受理”：流程指定的办理人“shouli2”不是本大厅人员，任务交由本大厅办理" in [h["message"] for h in history]


def test_the_inbox_puts_the_higher_priority_first(client, auth):
    numbers = {}
    for priority in ("20", "90", "${45 + 5}"):
        bpmn = diagram("lanes_without_roles.bpmn").replace(
            b'<bpmn:userTask id="Task_accept" name="\xe5\x8f\x97\xe7\x90\x86">',
            f'<bpmn:userTask id="Task_accept" name="受理" camunda:priority="{priority}">'.encode())
        numbers[priority] = open_case(client, auth, "priority.bpmn", bpmn)

    order = [task["case_number"] for task in inbox(client, auth("shouli")) if task["case_number"] in numbers.values()]

    assert order == [numbers["90"], numbers["${45 + 5}"], numbers["20"]]
