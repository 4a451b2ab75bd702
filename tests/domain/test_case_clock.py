"""The clock's decisions on a case's limits and pauses (domain/case_limits.py), in memory, without a database:
容缺补正 stopping and restarting the limits, a pause refused while one runs, a task's level, the diagram's timer
functions, a partner's case starting on receipt, extensions counted."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from workflows.adapters.holiday_data import official_calendar
from workflows.domain import case_limits
from workflows.domain.calendar import OfficeHours
from workflows.domain.case_limits import PROMISED, WAIVER_PAUSE, CaseLimits, due_label
from workflows.domain.catalog import AgencyItem, Item, StageLimit, TimeLimit
from workflows.domain.errors import Conflict, InvalidInput
from workflows.domain.model import APPROVED, CLOSED, OPEN, REFUSED, Case, CasePause, CaseTask, ExtensionRequest

CHINA = timezone(timedelta(hours=8))
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA)
ITEM = AgencyItem(item=Item("X", "测试事项", None, ("受理", "容缺补正", "审核"), "test", ()), name="测试事项",
                  promised_limit=TimeLimit(5, "working_days"), statutory_limit=None)
PERIOD = TimeLimit(20, "working_days")  # 补正期限


def accepted(stage: str = "审核") -> CaseLimits:
    case = Case(id=1, stage="受理", status=OPEN, result=None, accepted_at=None, opened_at=MONDAY)
    limits = CaseLimits(case, [], ITEM, official_calendar(), OfficeHours())
    case.stage = stage
    limits.moved_on("受理", [], MONDAY)
    limits.recompute([], 0)
    return limits


def test_entering_waiver_correction_starts_its_period_and_stops_the_case_limits():
    limits = accepted("容缺补正")
    assert limits.follow_waiver("受理", list, PERIOD, MONDAY) is True
    [pause] = limits.added_pauses
    assert (pause.kind, pause.started_at, pause.ended_at, pause.started_by) == (WAIVER_PAUSE, MONDAY, None, "system")
    limits.recompute([pause], 0)
    assert {row.kind: due_label(row) for row in limits.rows} == {PROMISED: "已暂停", "容缺补正": "2026-12-21 17:00"}


def test_leaving_waiver_correction_ends_its_pause_and_the_limits_run_again():
    limits = accepted("容缺补正")
    limits.follow_waiver("受理", list, PERIOD, MONDAY)
    pauses = list(limits.added_pauses)
    limits.case.stage = "审核"
    two_days_later = MONDAY + timedelta(days=2)
    assert limits.follow_waiver("容缺补正", lambda: pauses, PERIOD, two_days_later) is True
    assert (pauses[0].ended_at, pauses[0].ended_by) == (two_days_later, "system")
    limits.recompute(pauses, 0)
    assert due_label(limits.running(PROMISED)) == "2026-12-02 17:00"  # 5 working days, two stopped


def test_a_second_waiver_after_a_return_to_acceptance_restarts_the_period():
    limits = accepted("容缺补正")
    limits.follow_waiver("受理", list, PERIOD, MONDAY)
    [period] = [row for row in limits.rows if row.kind == "容缺补正"]
    period.met_at = MONDAY + timedelta(days=1)
    later = MONDAY + timedelta(days=7)
    assert limits.follow_waiver("受理", list, PERIOD, later) is True
    assert (period.starts_at, period.met_at, len(limits.rows)) == (later, None, 2)


def test_moving_between_other_stages_changes_no_pause():
    limits = accepted("审核")
    assert limits.follow_waiver("受理", list, PERIOD, MONDAY) is False and limits.added_pauses == []


def test_a_pause_is_refused_while_the_clock_is_stopped_already():
    limits = accepted()
    correction = limits.pause([], "correction", " 补正材料 ", "shouli", MONDAY)
    assert (correction.reason, correction.started_by, correction.ended_at) == ("补正材料", "shouli", None)
    with pytest.raises(Conflict, match="计时已暂停"):
        limits.pause([correction], "suspension", "中止", "kezhang", MONDAY)


def test_a_task_without_a_limit_is_paused_while_the_clock_is_stopped_else_it_has_its_level():
    task = CaseTask(due_at=None, warning_at=None)
    stopped = CasePause(kind="correction", started_at=MONDAY, ended_at=None, reason="补正")
    assert case_limits.task_level(task, [stopped], MONDAY) == "paused"
    due = CaseTask(due_at=MONDAY + timedelta(days=1), warning_at=MONDAY - timedelta(hours=1))
    assert case_limits.task_level(due, [], MONDAY) == "yellow"
    assert case_limits.task_level(due, [], MONDAY + timedelta(days=2)) == "red"


def test_the_diagram_asks_for_moments_that_do_not_exist_before_acceptance():
    case = Case(id=1, stage="受理", status=OPEN, result=None, accepted_at=None, opened_at=MONDAY)
    limits = CaseLimits(case, [], ITEM, official_calendar(), OfficeHours())
    assert limits.due_moment() is None and limits.warning_moment() is None
    with pytest.raises(InvalidInput, match="尚未受理"):
        limits.require_started()
    started = accepted()
    assert started.due_moment().isoformat() == "2026-11-30T17:00:00+08:00"
    started.case.status = CLOSED
    with pytest.raises(InvalidInput, match="已办结"):
        started.require_started()


def test_working_days_for_a_timer_counts_the_calendar_and_refuses_what_is_no_count():
    limits = accepted()
    assert limits.working_days_from(date(2026, 9, 30), 1).isoformat() == "2026-10-08T17:00:00+08:00"  # 国庆 10-01…07
    for bad in (-1, 3651, "5", 2.5):
        with pytest.raises(ValueError, match="0 到 3650"):
            limits.working_days_from(date(2026, 9, 30), bad)


def test_a_partners_case_starts_its_stage_limit_on_receipt():
    case = Case(id=1, stage="审核", status=OPEN, result=None, accepted_at=None, opened_at=MONDAY)
    limits = CaseLimits(case, [], ITEM, official_calendar(), OfficeHours())
    assert limits.receive(StageLimit("审核", TimeLimit(10, "working_days"), "受理"), MONDAY) is True
    assert case.accepted_at == MONDAY and [row.kind for row in limits.added] == ["审核"]
    other = CaseLimits(Case(id=2, stage="审核", status=OPEN, accepted_at=None), [], ITEM, official_calendar(),
                       OfficeHours())
    assert other.receive(None, MONDAY) is False and other.case.accepted_at == MONDAY


def test_only_approved_extensions_count():
    requests = [ExtensionRequest(days=3, status=APPROVED), ExtensionRequest(days=5, status=REFUSED),
                ExtensionRequest(days=2, status=APPROVED)]
    assert case_limits.approved_extension_days(requests) == 5


def test_a_person_resumes_a_pause_but_not_the_waiver_one_nor_a_clock_that_runs():
    limits = accepted()
    with pytest.raises(Conflict, match="计时没有暂停"):
        limits.resumable([])
    waiver = CasePause(kind=WAIVER_PAUSE, started_at=MONDAY, ended_at=None, reason="容缺")
    with pytest.raises(Conflict, match="自动恢复"):
        limits.resumable([waiver])
    correction = CasePause(kind="correction", started_at=MONDAY, ended_at=None, reason="补正")
    assert limits.resumable([correction]) is correction
    later = MONDAY + timedelta(days=1)
    assert limits.end_pause(correction, "shouli", later) is True
    assert (correction.ended_at, correction.ended_by) == (later, "shouli")
    assert limits.end_pause(correction, "kezhang", later) is False and limits.end_pause(None, "x", later) is False
