"""Signals between the cases of an agency, as Camunda broadcasts them: a signal one case throws reaches every other
case of the agency waiting for it (after the thrower's commit, each in its own transaction), and POST /api/signals
sends one by name. tests/fixtures/conformance/signal_*.bpmn are the diagrams (their runs within one case are in
test_conformance_api.py)."""
from __future__ import annotations

import pytest

from support.http import error_of, json_of
from workflows.services import outbox, signals

from api.test_api import case_of, complete, deploy, inbox
from api.test_conformance_api import APPLICANT, CLERK, ITEM, diagram

pytestmark = pytest.mark.both_databases


def _open_case(client, clerk) -> str:
    return json_of(client.post("/api/cases", headers=clerk,
                               json={"item_code": ITEM, "applicant": APPLICANT, "data": {}}), 201)["number"]


def _open_tasks(client, clerk, number: str) -> dict[str, list[str]]:
    tasks: dict[str, list[str]] = {}
    for task in inbox(client, clerk):
        if task["case_number"] == number:
            tasks.setdefault(task["name"], []).append(task["id"])
    return tasks


def _complete(client, clerk, number: str, name: str, **values) -> None:
    json_of(complete(client, clerk, _open_tasks(client, clerk, number)[name][0], **values))


@pytest.fixture
def signal_cases(client, auth):
    """Two cases of the signal diagram: the first waits, after 受理, for 审核完毕 beside its own 审核."""
    clerk = auth(CLERK)
    json_of(deploy(client, auth("sheji"), diagram("signal_events.bpmn"), "signal_events.bpmn"), 201)
    waiting = _open_case(client, clerk)
    _complete(client, clerk, waiting, "受理")
    return clerk, waiting


def test_a_signal_one_case_throws_reaches_the_other_cases_of_the_agency_waiting_for_it(client, signal_cases):
    clerk, waiting = signal_cases
    thrower = _open_case(client, clerk)
    _complete(client, clerk, thrower, "受理")  # throws 通知科长: the waiting case's event sub-process starts again
    assert sorted(_open_tasks(client, clerk, waiting)) == ["审核", "科长阅知"]
    assert len(_open_tasks(client, clerk, waiting)["科长阅知"]) == 2

    _complete(client, clerk, thrower, "审核", opinion_Task_review="另一申请人的审核意见")  # throws 审核完毕

    assert sorted(_open_tasks(client, clerk, waiting)) == ["审核", "拨付", "科长阅知"]  # its own 审核 still open
    case = case_of(client, clerk, waiting)
    assert f"收到信号“审核完毕”（来自办件 {thrower}）" in [entry["message"] for entry in case["history"]]
    assert "opinion_Task_review" not in case["data"]  # a signal carries no data from one case to another
    assert sorted(_open_tasks(client, clerk, thrower)) == ["拨付", "科长阅知"]  # the thrower caught its own once


def test_a_signal_sent_through_the_api_reaches_the_waiting_cases_and_says_how_many(client, auth, signal_cases):
    clerk, waiting = signal_cases
    other = _open_case(client, clerk)  # still at 受理: waits for 通知科长 (its event sub-process), not 审核完毕

    sent = json_of(client.post("/api/signals", headers=auth("kezhang"), json={"name": "审核完毕"}), 202)

    assert sent == {"name": "审核完毕", "agency_code": "210400", "waiting": 1}
    assert sorted(_open_tasks(client, clerk, waiting)) == ["审核", "拨付", "科长阅知"]
    assert sorted(_open_tasks(client, clerk, other)) == ["受理"]
    assert "收到信号“审核完毕”（经接口发送）" in [e["message"] for e in case_of(client, clerk, waiting)["history"]]


def test_a_closed_case_waits_for_no_signal(client, auth, signal_cases):
    clerk, waiting = signal_cases
    for name in ("科长阅知", "审核", "拨付"):
        _complete(client, clerk, waiting, name)
    assert case_of(client, clerk, waiting)["status"] == "closed"

    assert json_of(client.post("/api/signals", headers=auth("kezhang"), json={"name": "通知科长"}), 202)["waiting"] == 0


@pytest.mark.parametrize("body, field", [({}, "name"), ({"name": "  "}, "name"), ({"name": "信" * 101}, "name"),
                                         ({"name": 3}, "name"), ({"name": "审核完毕", "agency_code": 210400},
                                                                 "agency_code")])
def test_a_signal_without_a_proper_name_or_agency_is_refused_naming_the_field(client, auth, body, field):
    error = error_of(client.post("/api/signals", headers=auth("kezhang"), json=body), 422, "invalid_input")

    assert field in error["fields"]


def test_a_supervisor_cannot_send_a_signal_to_another_agency(client, auth):
    error = error_of(client.post("/api/signals", headers=auth("kezhang"),
                                 json={"name": "审核完毕", "agency_code": "230124"}), 404, "not_found")

    assert "230124" in error["message"]


def test_a_clerk_cannot_send_a_signal(client, auth):
    error_of(client.post("/api/signals", headers=auth("shouli"), json={"name": "审核完毕"}), 403, "forbidden")


def test_a_broadcast_that_fails_half_way_is_retried_and_each_case_catches_it_exactly_once(
        client, auth, ctx, clock, monkeypatch):
    """Three cases at 受理 wait for 通知科长 (a non-interrupting event sub-process: 科长阅知). The second fails to
    catch it once (its transaction rolls back): the others catch it at once, the outbox's retry reaches only the
    second, and no case gets a second 科长阅知."""
    clerk = auth(CLERK)
    json_of(deploy(client, auth("sheji"), diagram("signal_events.bpmn"), "signal_events.bpmn"), 201)
    numbers = [_open_case(client, clerk) for _ in range(3)]
    failing = {numbers[1]}
    real_history = signals.add_history

    def add_history(uow, case, *args, **kwargs):
        if case.number in failing:
            failing.clear()
            raise RuntimeError("数据库连接中断")
        return real_history(uow, case, *args, **kwargs)

    monkeypatch.setattr(signals, "add_history", add_history)

    json_of(client.post("/api/signals", headers=auth("kezhang"), json={"name": "通知科长"}), 202)

    caught = {number: len(_open_tasks(client, clerk, number).get("科长阅知", [])) for number in numbers}
    assert caught == {numbers[0]: 1, numbers[1]: 0, numbers[2]: 1}
    clock.advance(minutes=2)
    assert outbox.work_due(ctx) == 1  # the scheduler's round retries the broadcast

    assert {number: len(_open_tasks(client, clerk, number)["科长阅知"]) for number in numbers} == dict.fromkeys(
        numbers, 1)
    received = [[entry for entry in case_of(client, clerk, number)["history"]
                 if entry["message"] == "收到信号“通知科长”（经接口发送）"] for number in numbers]
    assert [len(entries) for entries in received] == [1, 1, 1]
    clock.advance(hours=1)
    assert outbox.work_due(ctx) == 0  # done: never delivered again
