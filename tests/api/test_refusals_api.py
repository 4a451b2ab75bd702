"""Refusals through the REST API: each refusing decision (不予受理, 审核不通过, 验收不通过, 不予签订, 认定不通过) is
refused without a written reason (422 naming `opinion`), and with one closes the case with its 决定书."""
from __future__ import annotations

import pytest

from services.test_item_processes import clerk_for
from services.test_refusals import REFUSALS, task_at
from support.http import error_of, json_of


@pytest.mark.parametrize("agency_code, item_code, step, decision, result, title", REFUSALS)
def test_a_refusal_needs_its_reason(client, auth, ctx, staff, agency_code, item_code, step, decision, result,
                                    title):
    clerk = clerk_for(staff, agency_code, item_code)
    task, number = task_at(ctx, clerk, item_code, step)
    headers, complete = auth(clerk.username), f"/api/tasks/{task.id}/complete"
    error = error_of(client.post(complete, headers=headers, json={"data": {"decision": decision, "opinion": " "}}),
                     422, "invalid_input")
    assert list(error["fields"]) == ["opinion"] and "理由" in error["message"]
    assert json_of(client.get(f"/api/cases/{number}", headers=headers))["status"] == "open"

    refusal = {"data": {"decision": decision, "opinion": "场地与申报不符"}}
    preview = json_of(client.post(f"/api/tasks/{task.id}/preview", headers=headers, json=refusal))["document"]
    assert preview["title"] == title and "理由：场地与申报不符" in preview["paragraphs"]
    assert title not in [d["title"] for d in json_of(client.get(f"/api/cases/{number}/documents", headers=headers))]

    closed = json_of(client.post(complete, headers=headers, json=refusal))
    assert (closed["status"], closed["result"]) == ("closed", result)
    issued = json_of(client.get(f"/api/cases/{number}/documents", headers=headers))
    assert title in [d["title"] for d in issued]
