"""报告业务错误 through the API: the code and the note are checked by the service (the web dialog's refusals are the
same, tests/browser/test_task_error_flow.py); the task keeps waiting after each refusal."""
from __future__ import annotations

import pytest

from support.http import error_of

from api.test_api import inbox
from api.test_conformance_api import at_error_boundary_task


@pytest.mark.parametrize("body, field", [({"code": "  "}, "code"), ({"code": "x" * 101}, "code"),
                                          ({"code": "NOT_INSURED", "message": "长" * 501}, "message")])
def test_a_bpmn_error_without_a_code_or_with_too_long_a_note_is_refused(client, auth, body, field):
    clerk, number, task = at_error_boundary_task(client, auth)

    error = error_of(client.post(f"/api/tasks/{task['id']}/bpmn-error", headers=clerk, json=body), 422, "invalid_input")

    assert field in error["fields"]
    assert [t["name"] for t in inbox(client, clerk) if t["case_number"] == number] == ["受理"]
