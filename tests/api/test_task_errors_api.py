"""报告业务错误 through the API: the code and the note are checked by the service (the web dialog's refusals are the
same, tests/browser/test_task_error_flow.py); the task keeps waiting after each refusal."""
from __future__ import annotations

import pytest

from support.http import error_of, json_of

from api.test_api import deploy, inbox
from api.test_conformance_api import APPLICANT, CLERK, ITEM, diagram


@pytest.mark.parametrize("body, field", [({"code": "  "}, "code"), ({"code": "x" * 101}, "code"),
                                          ({"code": "NOT_INSURED", "message": "长" * 501}, "message")])
def test_a_bpmn_error_without_a_code_or_with_too_long_a_note_is_refused(client, auth, body, field):
    clerk = auth(CLERK)
    json_of(deploy(client, auth("sheji"), diagram("error_boundary_user_task.bpmn"), "error_boundary_user_task.bpmn"),
            201)
    number = json_of(client.post("/api/cases", headers=clerk,
                                 json={"item_code": ITEM, "applicant": APPLICANT, "data": {}}), 201)["number"]
    [task] = [task for task in inbox(client, clerk) if task["case_number"] == number]

    error = error_of(client.post(f"/api/tasks/{task['id']}/bpmn-error", headers=clerk, json=body), 422, "invalid_input")

    assert field in error["fields"]
    assert [t["name"] for t in inbox(client, clerk) if t["case_number"] == number] == ["受理"]
