"""Hostile diagram code, deployed by a designer: what deploy can see is refused; the rest fails its own case
visibly (an incident with the reason, retryable), within the limits, while the other cases go on."""
from __future__ import annotations

import time

import pytest

from workflows.domain.errors import InvalidProcess
from workflows.domain.model import CLOSED, FAILED, OPEN
from workflows.services import case_operations, cases, processes, tasks
from workflows.services.scheduler import fire_due_timers

from support.cases import APPLICANT, DATA, OUTPATIENT, accept
from support.hostile import DIAGRAM, QUERY, hostile

NESTED_LOOPS = "n = 0\nfor a in range(10000):\n    for b in range(10000):\n        for c in range(10000):\n            n += 1"
GROWING = "parts = []\nfor i in range(10000):\n    parts.append('x' * 1000000)"
BILLION_STEPS = "sum(1 for a in range(10000) for b in range(10000) for c in range(10)) > 0 and decision == 'refuse'"


def deploy(ctx, staff, xml: str):
    return processes.deploy_process(ctx, staff["sheji"], xml.encode("utf-8"), DIAGRAM.name)


def open_and_accept(ctx, staff):
    progress = cases.open_case(ctx, staff["shouli"], QUERY, APPLICANT, {})
    return tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"}).case


def incident(ctx, staff, number) -> str:
    details = cases.case_details(ctx, staff["shouli"], number)
    assert details.case.status == FAILED
    failed = [entry for entry in details.history if entry.action == "failed"]
    assert failed, [entry.message for entry in details.history]
    return failed[-1].message


@pytest.mark.parametrize("script, timer, kind", [
    ("x = 10**10**10", "PT1M", "timeDuration"),
    ("x = list(range(10**12))", "PT1M", "timeDuration"),
    ("x = 'x' * 10**10", "PT1M", "timeDuration"),
    ("checked = True", "P99999999999Y", "timeDuration"),
    ("checked = True", "R/PT0S", "timeCycle"),
    ("checked = True", "R1000000/PT0S", "timeCycle"),
    ("checked = True", "R5/PT1S", "timeCycle"),
    ("checked = True", "3026-01-05T09:00:00+08:00", "timeDate"),
])
def test_deploy_refuses_what_it_can_see(ctx, staff, script, timer, kind):
    with pytest.raises(InvalidProcess) as refused:
        deploy(ctx, staff, hostile(script, timer, kind))
    # a cycle is refused as an element before its value is looked at: this engine does not fire cycles
    assert refused.value.element_id in ("Task_compute", "TimerEventDefinition_wait", "Timer_wait")
    assert [v.version for v in processes.process_versions(ctx, f"item_{QUERY}")] == [1]


@pytest.mark.parametrize("script, limit", [(NESTED_LOOPS, "运行时间上限 1 秒"), (GROWING, "内存上限"),
                                           ("x = 'x' * 900000\ny = 'y' * 900000", "案件数据超过 1000 KB")])
def test_a_script_over_a_limit_fails_its_case_behind_a_timer_and_the_others_fire(ctx, staff, clock, script, limit):
    deploy(ctx, staff, hostile(script))
    hostile_case = open_and_accept(ctx, staff)
    assert hostile_case.status == OPEN and hostile_case.stage != "办结"
    others = [accept(ctx, staff, clock, "2026-10-08 10:00"), accept(ctx, staff, clock, "2026-10-09 10:00")]
    clock.now = clock.now.replace(year=2026, month=12, day=1)  # every timer above is due

    started = time.monotonic()
    fire_due_timers(ctx)
    assert time.monotonic() - started < 20  # 1 s of CPU for the script, whatever the load of the machine

    assert limit in incident(ctx, staff, hostile_case.number)
    for number in others:  # their 黄牌 and 红牌 timers fired in the same round
        messages = [entry.message for entry in cases.case_details(ctx, staff["shouli"], number).history]
        assert "系统完成“发出红牌超期”" in messages, messages
    # nothing is left to fire: the failed case is not tried again every round
    assert fire_due_timers(ctx) == 0


def test_a_huge_condition_fails_the_request_fast_and_retry_runs_it_again(ctx, staff):
    deploy(ctx, staff, hostile(condition=BILLION_STEPS))
    progress = cases.open_case(ctx, staff["shouli"], QUERY, APPLICANT, {})
    started = time.monotonic()
    failed = tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"}).case
    assert time.monotonic() - started < 20
    assert failed.status == FAILED
    assert "运行时间上限" in incident(ctx, staff, failed.number)

    # retried by a 科室负责人: the same limit, the same visible failure, and the application still writes
    retried = case_operations.retry_case(ctx, staff["kezhang"], failed.number, "已提高限额后重试").case
    assert retried.status == FAILED
    assert cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.status == OPEN


@pytest.mark.parametrize("timer, kind, reason", [
    ('"P" + "99999999999Y"', "timeDuration", "超过 3660 天"),
    ('"30" + "26-01-05T09:00:00+08:00"', "timeDate", "超过 3660 天"),
])
def test_an_absurd_timer_computed_at_run_time_fails_its_case(ctx, staff, timer, kind, reason):
    deploy(ctx, staff, hostile(timer=timer, kind=kind))
    started = time.monotonic()
    case = open_and_accept(ctx, staff)
    assert time.monotonic() - started < 20
    assert reason in incident(ctx, staff, case.number)


def test_a_sane_script_and_timer_still_run(ctx, staff, clock):
    deploy(ctx, staff, hostile("total = sum(i for i in range(1000))\nlabel = f'{total:>8}'"))
    case = open_and_accept(ctx, staff)
    clock.advance(minutes=2)
    fire_due_timers(ctx)
    details = cases.case_details(ctx, staff["shouli"], case.number)
    assert details.case.status == CLOSED and details.case.data["total"] == 499500
