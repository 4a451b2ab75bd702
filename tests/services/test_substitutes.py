"""外出/休假代理: while a clerk is away, tasks given to them (转办, 委派, 加签, 改派) go to their substitute, noted in
the history, and their notifications go to the substitute too; periods are checked, and end early when asked.

shenhe 李审核 (审核员) and clerk_210400_01 综合窗口210400-01 (every task role) share the 审核员 role in hall
210400-01; the clock starts on Monday 2026-11-23 09:30 (Beijing time).
"""
from __future__ import annotations

import pytest

from workflows.domain.errors import Conflict, InvalidInput, NotFound
from workflows.services import cases, substitutes, task_operations as ops, tasks, users

from support.cases import accept, at

CLERK = "clerk_210400_01"


@pytest.fixture
def review(ctx, staff, clock):
    """The 审核 task of a 门诊 case accepted on 2026-11-23 09:30, unclaimed."""
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    return next(t for t in cases.case_details(ctx, staff["shenhe"], number).tasks if t.state == "ready")


def away(ctx, staff, username, substitute, starts="2026-11-23", ends="2026-11-27", kind="leave"):
    return substitutes.name_substitute(ctx, staff[username], substitute, kind, "年休假", starts, ends)


def resolve(ctx, username, moment, role=None):
    with ctx.uow(write=False) as uow:
        return substitutes.resolve_assignee(uow, username, at(moment), role)


def history(ctx, staff, task, action):
    return [h.message for h in cases.case_details(ctx, staff["kezhang"], task.case_number).history
            if h.action == action]


def test_a_period_sends_what_is_given_to_the_absent_clerk_to_the_substitute_while_it_runs(ctx, staff):
    period = away(ctx, staff, "shenhe", CLERK, "2026-11-24 08:00", "2026-11-26")

    assert substitutes.period_label(period) == "2026-11-24 08:00 至 2026-11-27 00:00"
    note = "李审核休假，由综合窗口210400-01代办"
    assert resolve(ctx, "shenhe", "2026-11-24 07:59") == ("shenhe", None)
    assert resolve(ctx, "shenhe", "2026-11-24 08:00") == (CLERK, note)
    assert resolve(ctx, "shenhe", "2026-11-26 23:59", "reviewer") == (CLERK, note)
    assert resolve(ctx, "shenhe", "2026-11-27 00:00") == ("shenhe", None)
    assert resolve(ctx, "caiwu", "2026-11-25 10:00") == ("caiwu", None)
    assert any("李审核休假（2026-11-24 08:00 至 2026-11-27 00:00），期间其任务由您代办：年休假" in n["message"]
               for n in users.notifications(ctx, staff[CLERK]))
    mine = substitutes.my_substitutions(ctx, staff["shenhe"])
    assert [p.id for p in mine.own] == [period.id] and mine.covering == []
    assert [p.id for p in substitutes.my_substitutions(ctx, staff[CLERK]).covering] == [period.id]
    assert [u.username for u in mine.candidates] == [CLERK]  # the hall's people sharing a task role


def test_transfer_delegation_signature_and_reassignment_go_to_the_substitute_with_a_note(ctx, staff, review):
    users.save_user(ctx, "fuhe", "周复核", "password123", "210400", "210400-01", ["reviewer"])
    fuhe = users.get_user(ctx, "fuhe")
    away(ctx, staff, "shenhe", "fuhe")
    note = "李审核休假，由周复核代办"

    tasks.reassign_tasks(ctx, staff["kezhang"], [review.id], "shenhe")
    assert history(ctx, staff, review, "reassigned") == [f"孙科长将“审核”改派给李审核；{note}"]
    ops.transfer_task(ctx, fuhe, review.id, CLERK, "交回")
    delegation = ops.delegate_task(ctx, staff[CLERK], review.id, "shenhe", "请核对")
    signer = ops.add_signer(ctx, staff[CLERK], review.id, "shenhe", "before", "请把关")
    ops.recall_delegation(ctx, staff[CLERK], delegation.id)
    ops.transfer_task(ctx, staff[CLERK], review.id, "shenhe", "请李审核办理")

    assert [(r.assignee, r.substitute_note) for r in (delegation, signer)] == [("fuhe", note), ("fuhe", note)]
    assert history(ctx, staff, review, "transferred")[-1] == f"综合窗口210400-01将“审核”转办给周复核：请李审核办理（{note}）"
    assert history(ctx, staff, review, "signer_added") == [f"综合窗口210400-01为“审核”前加签周复核：请把关（{note}）"]
    held = next(t for t in cases.case_details(ctx, fuhe, review.case_number).tasks if t.id == review.id)
    assert held.assignee == "fuhe"
    assert users.notifications(ctx, staff["shenhe"]) == []  # nothing was given to her
    with pytest.raises(InvalidInput) as error:  # the substitute cannot give the absent clerk's work to himself
        ops.delegate_task(ctx, fuhe, review.id, "shenhe", "请核对")
    assert error.value.field_errors == {"delegate": f"{note}，不能交给自己"}


def test_notifications_for_the_absent_clerk_go_to_the_substitute_too(ctx, staff, review, clock):
    tasks.claim_task(ctx, staff["shenhe"], review.id)
    away(ctx, staff, "shenhe", CLERK, "2026-11-23 10:00", "2026-11-23 18:00")
    ops.urge_task(ctx, staff["kezhang"], review.id, "早上就该办了")  # 09:30: not away yet
    clock.now = at("2026-11-23 10:00")
    ops.urge_task(ctx, staff["kezhang"], review.id, "请尽快")

    mine = [n["message"] for n in users.notifications(ctx, staff["shenhe"]) if n["kind"] == "urge"]
    theirs = [n["message"] for n in users.notifications(ctx, staff[CLERK]) if n["kind"] == "urge"]
    assert len(mine) == 2
    assert theirs == [f"【代李审核】孙科长催办“审核”：请尽快（门诊费用报销 {review.case_number}）"]

    tasks.release_task(ctx, staff["shenhe"], review.id)  # unclaimed: the role's people, the substitute once
    ops.urge_task(ctx, staff["kezhang"], review.id, "仍未办理")
    theirs = [n["message"] for n in users.notifications(ctx, staff[CLERK]) if n["kind"] == "urge"]
    assert theirs[0] == f"孙科长催办“审核”：仍未办理（门诊费用报销 {review.case_number}）" and len(theirs) == 2


def test_a_substitute_is_resolved_one_step_and_only_if_they_have_the_tasks_role(ctx, staff):
    away(ctx, staff, "shenhe", CLERK)
    away(ctx, staff, CLERK, "shenhe")  # both away, naming each other: no loop
    assert resolve(ctx, "shenhe", "2026-11-24 10:00")[0] == CLERK
    assert resolve(ctx, CLERK, "2026-11-24 10:00")[0] == "shenhe"
    [mutual] = substitutes.my_substitutions(ctx, staff[CLERK]).own
    substitutes.end_substitution(ctx, staff[CLERK], mutual.id)
    away(ctx, staff, CLERK, "shouli", "2026-11-25", "2026-11-25")  # shares 受理员 only
    assert resolve(ctx, CLERK, "2026-11-25 10:00", "reviewer") == (CLERK, None)
    assert resolve(ctx, CLERK, "2026-11-25 10:00", "acceptor") == ("shouli", "综合窗口210400-01休假，由王受理代办")


def test_periods_are_checked_and_nothing_is_saved_when_refused(ctx, staff):
    away(ctx, staff, "shenhe", CLERK, "2026-11-24", "2026-11-26")
    refused = [
        (dict(substitute="shenhe2"), "substitute", "代理人应为本大厅与您有相同岗位的其他人员"),
        (dict(substitute="caiwu"), "substitute", "代理人应为本大厅与您有相同岗位的其他人员"),
        (dict(substitute="shenhe"), "substitute", "代理人应为本大厅与您有相同岗位的其他人员"),
        (dict(kind="holiday"), "kind", "请选择：休假、外出、出差、病假"),
        (dict(starts="2026-11-26 12:00"), "starts_at", "与已有的代理期间（2026-11-24 00:00 至 2026-11-27 00:00）重叠"),
        (dict(starts="2026-12-03", ends="2026-12-02"), "ends_at", "结束时间应晚于开始时间"),
        (dict(starts="2026-11-20", ends="2026-11-22"), "ends_at", "结束时间已过"),
        (dict(starts="下周一"), "starts_at", "请填写日期（YYYY-MM-DD）或时间（YYYY-MM-DD HH:MM）"),
    ]
    for change, field, message in refused:
        arguments = {"substitute": CLERK, "kind": "out", "starts": "2026-11-27", "ends": "2026-11-28", **change}
        with pytest.raises(InvalidInput) as error:
            substitutes.name_substitute(ctx, staff["shenhe"], arguments["substitute"], arguments["kind"], "",
                                        arguments["starts"], arguments["ends"])
        assert error.value.field_errors[field] == message, change
    assert len(substitutes.my_substitutions(ctx, staff["shenhe"]).own) == 1
    away(ctx, staff, "shenhe", CLERK, "2026-11-27", "2026-11-27", kind="out")  # right after: no overlap


def test_a_period_ends_early_or_is_dropped_before_it_begins(ctx, staff, clock):
    running = away(ctx, staff, "shenhe", CLERK, "2026-11-23", "2026-11-27")
    later = away(ctx, staff, "shenhe", CLERK, "2026-12-01", "2026-12-04")
    with pytest.raises(NotFound):
        substitutes.end_substitution(ctx, staff[CLERK], running.id)  # only one's own

    clock.now = at("2026-11-24 12:00")
    ended = substitutes.end_substitution(ctx, staff["shenhe"], running.id)
    dropped = substitutes.end_substitution(ctx, staff["shenhe"], later.id)

    assert substitutes.period_label(ended) == "2026-11-23 00:00 至 2026-11-24 12:00"
    assert resolve(ctx, "shenhe", "2026-11-24 12:00") == ("shenhe", None)
    assert resolve(ctx, "shenhe", "2026-12-02 10:00") == ("shenhe", None)
    assert dropped.starts_at == dropped.ends_at
    with pytest.raises(Conflict, match="已结束"):
        substitutes.end_substitution(ctx, staff["shenhe"], running.id)
    away(ctx, staff, "shenhe", CLERK, "2026-12-01", "2026-12-04")  # the dropped one is no overlap
    assert any("李审核已提前结束休假，不再由您代办" in n["message"] for n in users.notifications(ctx, staff[CLERK]))
