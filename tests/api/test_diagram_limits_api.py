"""Hostile diagram code through the API and the pages: refused at deploy with a 422 naming the element, or failing
its own case quickly with the reason shown (JSON and the case page), never a 500."""
from __future__ import annotations

import io
import time

from support.cases import APPLICANT
from support.hostile import DIAGRAM, QUERY, hostile
from support.http import error_of, json_of
from support.web import csrf_token, html, sign_in

BILLION_STEPS = "sum(1 for a in range(10000) for b in range(10000) for c in range(10)) > 0 and decision == 'refuse'"


def deploy(client, headers, xml: str):
    return client.post("/api/processes", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(xml.encode("utf-8")), DIAGRAM.name)})


def test_a_bomb_is_refused_at_deploy_with_the_element(client, auth):
    error = error_of(deploy(client, auth("sheji"), hostile(timer="P99999999999Y")), 422, "invalid_process")
    assert "超过 3660 天" in error["message"] and error["element_id"] == "TimerEventDefinition_wait"
    error = error_of(deploy(client, auth("sheji"), hostile("x = 10**10**10")), 422, "invalid_process")
    assert "计算结果过大" in error["message"] and error["element_id"] == "Task_compute"


def test_a_runaway_condition_fails_the_case_in_the_answer_and_on_its_page(client, auth):
    json_of(deploy(client, auth("sheji"), hostile(condition=BILLION_STEPS)), 201)
    clerk = auth("shouli")
    case = json_of(client.post("/api/cases", headers=clerk, json={"item_code": QUERY, "applicant": APPLICANT,
                                                                   "data": {}}), 201)
    started = time.monotonic()
    answer = client.post(f"/api/tasks/{case['open_tasks'][0]['id']}/complete", headers=clerk,
                         json={"data": {"decision": "accept"}})
    assert time.monotonic() - started < 20
    assert json_of(answer, 200)["status"] == "failed"

    details = json_of(client.get(f"/api/cases/{case['number']}", headers=clerk))
    assert details["status"] == "failed"
    assert "运行时间上限 1 秒" in details["history"][-1]["message"]
    sign_in(client, "kezhang")
    page = html(client.get(f"/cases/{case['number']}"))
    assert "故障待处理" in page and "运行时间上限 1 秒" in page


def test_the_upload_page_refuses_a_bomb_in_chinese(client):
    sign_in(client, "sheji")
    page = html(client.get("/processes"))
    response = client.post("/processes", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(page),
        "file": (io.BytesIO(hostile(timer="P99999999999Y").encode("utf-8")), DIAGRAM.name)})
    assert response.status_code == 422
    assert "定时器时长“P99999999999Y”超过 3660 天" in html(response)
