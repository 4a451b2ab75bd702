"""Timers in the diagrams drive 黄牌 and 红牌: a case crosses them as the clock moves, each fires once, the
supervisors' desk acts on them, and a scheduler that was down catches up."""
from __future__ import annotations

import pytest

from workflows.services import cases, desk, tasks, users
from workflows.services.scheduler import fire_due_timers

from support.cases import accept, at, label

pytestmark = pytest.mark.both_databases  # the database matters here: SQLite and PostgreSQL


def escalations(ctx, staff, number) -> list[tuple[str, str, str]]:
    return [(e.limit_kind, e.level, e.status) for e in cases.case_details(ctx, staff["shouli"], number).escalations]


def history_count(ctx, staff, number, text: str) -> int:
    return sum(text in entry.message for entry in cases.case_details(ctx, staff["shouli"], number).history)


def test_a_case_turns_yellow_then_red_as_the_clock_moves_and_each_fires_once(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")  # due 2026-12-21 17:00, warning 2026-12-15 17:00

    clock.now = at("2026-12-15 16:59")
    fire_due_timers(ctx)
    assert escalations(ctx, staff, number) == []

    clock.now = at("2026-12-15 17:01")
    assert fire_due_timers(ctx) == 1
    assert fire_due_timers(ctx) == 0
    assert escalations(ctx, staff, number) == [("promised", "yellow", "open")]
    assert history_count(ctx, staff, number, "黄牌预警：门诊费用报销") == 1
    assert history_count(ctx, staff, number, "的承诺时限将于 2026-12-21 17:00 届满") == 1
    for username in ("shouli", "kezhang"):  # who last handled the case, and the hall's supervisor
        [note] = users.notifications(ctx, staff[username])
        assert note["kind"] == "escalation_yellow" and note["case_number"] == number
    assert users.notifications(ctx, staff["kezhang2"]) == []  # another hall's supervisor

    clock.now = at("2026-12-21 17:01")
    fire_due_timers(ctx)
    # the 红牌 replaces the limit's 黄牌 on the desk
    assert escalations(ctx, staff, number) == [("promised", "yellow", "replaced"), ("promised", "red", "open")]
    assert history_count(ctx, staff, number, "的承诺时限已于 2026-12-21 17:00 届满") == 1
    [supervision] = [t for t in tasks.list_tasks(ctx, staff["kezhang"]) if t.case_number == number]
    assert supervision.name == "督办" and supervision.role == "supervisor"
    assert cases.case_details(ctx, staff["shouli"], number).case.stage == "审核"  # the case itself did not move


def test_the_supervisor_acts_on_the_desk_and_the_case_still_ends_with_its_own_result(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    clock.now = at("2026-12-22 09:00")
    fire_due_timers(ctx)
    [red] = desk.list_escalations(ctx, staff["kezhang"])
    assert red.level == "red"  # the 黄牌 of a limit already past due is not raised: one entry per limit

    desk.handle_escalation(ctx, staff["kezhang"], red.id, "extend", "外省协查", days=5)
    assert desk.list_escalations(ctx, staff["kezhang"]) == []
    assert label(ctx, staff, number) == "2026-12-28 17:00"

    for who, decision in (("shenhe", "approve"), ("caiwu", "pay")):
        [task] = [t for t in tasks.list_tasks(ctx, staff[who]) if t.case_number == number]
        progress = tasks.complete_task(ctx, staff[who], task.id, {"decision": decision})
    assert (progress.case.status, progress.case.result) == ("closed", "办结")


def test_reassigning_from_the_desk_gives_the_task_to_another_clerk_of_the_role(ctx, staff, clock):
    second = users.save_user(ctx, "shenhe3", "第三审核", "password123", "210400", "210400-01", ["reviewer"])
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    clock.now = at("2026-12-22 09:00")
    fire_due_timers(ctx)
    red = desk.list_escalations(ctx, staff["kezhang"])[0]

    desk.handle_escalation(ctx, staff["kezhang"], red.id, "reassign", "改由第三审核办理", assignee=second.username)

    [task] = [t for t in tasks.list_tasks(ctx, second, mine=True) if t.case_number == number]
    assert task.name == "审核"
    assert users.notifications(ctx, second)[0]["kind"] == "reassigned"


def test_a_scheduler_that_was_down_fires_everything_that_came_due_in_its_first_round(ctx, staff, clock):
    numbers = [accept(ctx, staff, clock, day) for day in ("2026-11-02 10:00", "2026-11-10 10:00")]
    clock.now = at("2027-01-20 09:00")
    assert fire_due_timers(ctx) == 2
    for number in numbers:
        # overdue when the round came: a 红牌 only, no 黄牌 saying the limit "will" end
        assert {(limit, level) for limit, level, _ in escalations(ctx, staff, number)} == {("promised", "red")}


def test_the_case_ends_with_its_own_path_and_takes_an_open_supervision_task_with_it(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    clock.now = at("2026-12-22 09:00")
    fire_due_timers(ctx)
    [red] = [e for e in cases.case_details(ctx, staff["shouli"], number).escalations if e.level == "red"]
    assert red.stage == "审核"  # raised by the timer on the 审核 task

    for who, decision in (("shenhe", "approve"), ("caiwu", "pay")):
        [task] = [t for t in tasks.list_tasks(ctx, staff[who]) if t.case_number == number]
        progress = tasks.complete_task(ctx, staff[who], task.id, {"decision": decision})

    assert (progress.case.status, progress.case.result) == ("closed", "办结")
    assert [t for t in tasks.list_tasks(ctx, staff["kezhang"]) if t.case_number == number] == []
    details = cases.case_details(ctx, staff["shouli"], number)
    assert [t.state for t in details.tasks if t.name == "督办"] == ["cancelled"]  # one 督办 however late
    assert not any("预警已发出" in entry.message for entry in details.history)


def test_handling_a_red_escalation_on_the_desk_completes_its_supervision_task(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    clock.now = at("2026-12-22 09:00")
    fire_due_timers(ctx)
    red = next(e for e in desk.list_escalations(ctx, staff["kezhang"]) if e.level == "red")

    desk.handle_escalation(ctx, staff["kezhang"], red.id, "urge", "请今日内办结")

    assert [t for t in tasks.list_tasks(ctx, staff["kezhang"]) if t.case_number == number] == []
    details = cases.case_details(ctx, staff["shouli"], number)
    [supervision] = [t for t in details.tasks if t.name == "督办"]
    assert (supervision.state, supervision.completed_by) == ("completed", "kezhang")
    assert details.case.stage == "审核" and details.case.status == "open"


def test_a_timer_due_exactly_now_fires_in_the_round_that_finds_it_due(ctx, staff, clock):
    """The timer table selects due_at <= now; the engine fires the same timer then, not one round later."""
    number = accept(ctx, staff, clock, "2026-11-23 09:30")  # warning due 2026-12-15 17:00:00 exactly

    clock.now = at("2026-12-15 17:00")
    assert fire_due_timers(ctx) == 1
    assert escalations(ctx, staff, number) == [("promised", "yellow", "open")]
    assert fire_due_timers(ctx) == 0
