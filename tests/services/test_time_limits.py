"""The case clock through the service layer: acceptance starts it, pauses and extensions move it, and publishing
a new year's calendar turns provisional deadlines final — each change shown on the case and in its history."""
from __future__ import annotations

from datetime import date

import pytest

from workflows.domain.errors import Conflict, Forbidden, InvalidInput
from workflows.services import calendar, cases, outbox, tasks, time_limits

from support.cases import APPLICANT, DATA, OUTPATIENT, accept, at, label, limits

pytestmark = pytest.mark.both_databases  # the database matters here: SQLite and PostgreSQL

def test_acceptance_starts_the_clock_and_the_day_of_acceptance_is_not_counted(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")  # Monday

    details = cases.case_details(ctx, staff["shouli"], number)
    assert details.case.accepted_at == at("2026-11-23 09:30")
    promised = limits(ctx, staff, number)["promised"]
    assert promised.due_at == at("2026-12-21 17:00")  # the 20th working day after 11-23
    assert promised.warning_at == at("2026-12-15 17:00")  # 4 working days before: 80 % used
    assert not promised.provisional


def test_a_case_refused_at_acceptance_has_no_clock(ctx, staff, clock):
    clock.now = at("2026-11-23 09:30")
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "refuse", "opinion": "非本市参保人员"})
    details = cases.case_details(ctx, staff["shouli"], progress.case.number)
    assert details.case.accepted_at is None and details.deadlines == []


def test_a_pause_for_correction_stops_the_clock_and_its_working_days_are_given_back(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    clock.now = at("2026-11-25 10:00")
    time_limits.pause_clock(ctx, staff["shenhe"], number, "correction", "发票原件需补正")
    assert label(ctx, staff, number) == "已暂停"
    with pytest.raises(Conflict):
        time_limits.pause_clock(ctx, staff["shenhe"], number, "correction", "再次暂停")

    clock.now = at("2026-11-27 15:00")
    time_limits.resume_clock(ctx, staff["shenhe"], number)

    assert label(ctx, staff, number) == "2026-12-23 17:00"  # 11-26 and 11-27 given back
    details = cases.case_details(ctx, staff["shouli"], number)
    assert [(p.kind, p.ended_at) for p in details.pauses] == [("correction", at("2026-11-27 15:00"))]
    messages = [entry.message for entry in details.history]
    assert any("暂停计时（补正）：发票原件需补正" in m for m in messages)
    assert "承诺时限由 已暂停 调整为 2026-12-23 17:00" in messages


def test_an_approved_extension_lengthens_the_limit_a_refused_one_does_not(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    time_limits.request_extension(ctx, staff["shenhe"], number, 5, "需外省协查")
    with pytest.raises(Forbidden):
        time_limits.decide_extension(ctx, staff["shenhe"], number, True)
    time_limits.decide_extension(ctx, staff["kezhang"], number, True, "同意")
    assert label(ctx, staff, number) == "2026-12-28 17:00"

    time_limits.request_extension(ctx, staff["shenhe"], number, 3, "再延")
    time_limits.decide_extension(ctx, staff["kezhang"], number, False, "理由不足")
    assert label(ctx, staff, number) == "2026-12-28 17:00"
    assert [r.status for r in cases.case_details(ctx, staff["shouli"], number).extensions] == ["approved",
                                                                                              "refused"]


def test_a_deadline_in_a_year_without_calendar_is_provisional_until_the_year_is_published(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-12-10 10:00")
    assert label(ctx, staff, number) == "2027-01-07 17:00（暂估）"  # weekends only: 2027-01-01 counted
    assert outbox.work_due(ctx) == 1  # the applicant's text of the acceptance

    clock.now = at("2026-12-11 09:00")
    calendar.publish_year(ctx, staff["admin"], 2027, [date(2027, 1, 1)], [], "国办发明电〔2026〕X号")
    assert outbox.work_due(ctx) == 1  # the scheduler's round recomputes the open cases, not the request

    assert label(ctx, staff, number) == "2027-01-08 17:00"
    history = [e.message for e in cases.case_details(ctx, staff["shouli"], number).history]
    assert "承诺时限由 2027-01-07 17:00（暂估） 调整为 2027-01-08 17:00" in " ".join(history)
    assert calendar.calendar_year(ctx, 2027).source == "国办发明电〔2026〕X号"


def test_only_administrators_change_the_calendar_and_a_day_needs_its_year(ctx, staff):
    with pytest.raises(Forbidden):
        calendar.publish_year(ctx, staff["kezhang"], 2027, [], [], "国办发明电〔2026〕X号")
    with pytest.raises(InvalidInput):
        calendar.correct_day(ctx, staff["admin"], date(2028, 5, 2), True, "调休上班", "国办发明电〔2027〕X号")
    with pytest.raises(InvalidInput):
        calendar.publish_year(ctx, staff["admin"], 2027, [], [date(2027, 1, 4)], "x")  # a Monday is no 调休


def test_correcting_a_day_moves_open_cases_and_is_kept_in_the_calendar_history(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    calendar.correct_day(ctx, staff["admin"], date(2026, 12, 19), True, "调休上班", "测试通知〔2026〕1号")
    assert label(ctx, staff, number) == "2026-12-21 17:00"  # answered at once: the case waits for the outbox
    outbox.work_due(ctx)
    assert label(ctx, staff, number) == "2026-12-19 17:00"  # Saturday 12-19 now counts
    [change] = calendar.calendar_changes(ctx)
    assert (change["action"], change["source"], change["actor"]) == ("correct_day", "测试通知〔2026〕1号", "admin")


@pytest.mark.parametrize("agency, item, accepted, due", [
    ("231025", "002036006001", "2026-09-25 10:00", "2026-10-29 17:00"),  # 中秋 and 国庆 2026 skipped, 10-10 worked
    ("231025", "00203601002", "2026-11-27 18:30", "2026-11-30 17:00"),   # 即时办结 after hours: next working day
    ("210400", "002036009001", "2026-11-30 16:00", "2027-03-01 17:00"),  # 3 个月 → 2-28 is a Sunday
])
def test_item_deadlines_for_anyone_to_check(ctx, agency, item, accepted, due):
    [first, *_] = time_limits.compute_item_deadlines(ctx, agency, item, at(accepted))
    assert f"{first.deadline.due_at:%Y-%m-%d %H:%M}" == due
