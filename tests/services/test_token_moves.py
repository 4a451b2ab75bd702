"""跳转 on real 门诊费用报销 cases: a 科室负责人 moves the token back or forward with a reason, the limits follow, the
history says so; a move past the payment (拨付资金) is refused unless a compensation note is given."""
from __future__ import annotations

from datetime import timedelta

import pytest

from workflows.domain.errors import Conflict, Forbidden, InvalidInput
from workflows.services import cases, materials, processes, tasks, users
from workflows.services import task_operations as operations
from workflows.services import token_moves as moves

from support.cases import (APPLICANT, DATA, accept, at, complete_step as complete, open_path_rows as open_rows,
                           reminder_due)
from support.diagrams import OUTPATIENT_PROCESS, recheck_after_payment, review_reminder

pytestmark = pytest.mark.both_databases
REASON = "受理时漏核身份证明，退回重新受理"




def payments(ctx, staff, number) -> int:
    return sum(1 for c in cases.case_details(ctx, staff["kezhang"], number).external_calls if c.system == "payment")


def test_a_supervisor_moves_the_token_back_and_forward_and_the_limits_follow(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    [review] = open_rows(ctx, staff, number)
    [source] = moves.move_options(ctx, staff["kezhang"], number)
    assert (source.element_id, source.name) == ("Task_review", "审核")
    by_id = {t.element_id: t for t in source.targets}
    assert by_id["Task_accept"].effects == () and "Task_pay" in by_id
    assert "Task_supervise" not in by_id  # 督办 is no step of the path

    progress = moves.move_token(ctx, staff["kezhang"], number, "Task_review", "Task_accept", REASON)

    assert progress.case.stage == "受理"
    [row] = open_rows(ctx, staff, number)
    assert row.name == "受理" and row.id != review.id
    details = cases.case_details(ctx, staff["kezhang"], number)
    assert [t.state for t in details.tasks if t.id == review.id] == ["cancelled"]
    promised = next(d for d in details.deadlines if d.kind == "promised")
    assert row.due_at == promised.due_at  # the inbox row carries the case's limit as it is now
    line = details.history[-1]
    assert line.action == "token_moved" and line.message == f"孙科长将案件从“审核”跳转到“受理”：{REASON}"

    complete(ctx, staff, "shouli", number, "accept")  # and it goes on from there along its path
    assert [r.name for r in open_rows(ctx, staff, number)] == ["审核"]
    moves.move_token(ctx, staff["kezhang"], number, "Task_review", "Task_pay", "审核已线下完成")
    assert [r.name for r in open_rows(ctx, staff, number)] == ["拨付"]
    assert cases.case_details(ctx, staff["kezhang"], number).case.stage == "拨付"


def test_skipping_the_payment_needs_a_compensation_note(ctx, staff, clock):
    processes.deploy_process(ctx, staff["sheji"], recheck_after_payment(), f"{OUTPATIENT_PROCESS}.bpmn")
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    complete(ctx, staff, "shenhe", number, "approve")
    [source] = moves.move_options(ctx, staff["kezhang"], number)
    assert {t.element_id: t.effects for t in source.targets}["Task_recheck"] == ("拨付资金",)

    with pytest.raises(InvalidInput) as refused:
        moves.move_token(ctx, staff["kezhang"], number, "Task_pay", "Task_recheck", "已线下拨付")
    assert "越过对外办理的“拨付资金”" in str(refused.value) and "compensation_note" in refused.value.field_errors
    assert [r.name for r in open_rows(ctx, staff, number)] == ["拨付"]

    moves.move_token(ctx, staff["kezhang"], number, "Task_pay", "Task_recheck", "已线下拨付",
                     compensation_note="财务已于柜台现金支付，凭证号 XJ-001")
    assert [r.name for r in open_rows(ctx, staff, number)] == ["复核"]
    assert payments(ctx, staff, number) == 0  # skipped: nothing paid
    line = cases.case_details(ctx, staff["kezhang"], number).history[-1]
    assert "补偿说明：财务已于柜台现金支付，凭证号 XJ-001" in line.message


def test_going_back_before_a_payment_made_needs_a_compensation_note_too(ctx, staff, clock):
    processes.deploy_process(ctx, staff["sheji"], recheck_after_payment(), f"{OUTPATIENT_PROCESS}.bpmn")
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    complete(ctx, staff, "shenhe", number, "approve")
    complete(ctx, staff, "caiwu", number, "pay")
    assert payments(ctx, staff, number) == 1
    with pytest.raises(InvalidInput, match="须填写补偿说明"):
        moves.move_token(ctx, staff["kezhang"], number, "Task_recheck", "Task_review", "金额有误")
    moves.move_token(ctx, staff["kezhang"], number, "Task_recheck", "Task_review", "金额有误",
                     compensation_note="多付部分由申请人退回")
    assert [r.name for r in open_rows(ctx, staff, number)] == ["审核"]


def test_who_and_what_may_not_move(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    with pytest.raises(Forbidden):
        moves.move_token(ctx, staff["shenhe"], number, "Task_review", "Task_accept", REASON)
    with pytest.raises(Forbidden):
        moves.move_options(ctx, staff["shouli"], number)
    with pytest.raises(InvalidInput) as no_reason:
        moves.move_token(ctx, staff["kezhang"], number, "Task_review", "Task_accept", "")
    assert "reason" in no_reason.value.field_errors
    with pytest.raises(InvalidInput) as not_there:
        moves.move_token(ctx, staff["kezhang"], number, "Task_pay", "Task_accept", REASON)
    assert "from" in not_there.value.field_errors
    with pytest.raises(InvalidInput) as nowhere:
        moves.move_token(ctx, staff["kezhang"], number, "Task_review", "Gateway_review", REASON)
    assert "to" in nowhere.value.field_errors
    complete(ctx, staff, "shenhe", number, "reject", opinion="票据不符")  # closed
    with pytest.raises(Conflict):
        moves.move_token(ctx, staff["kezhang"], number, "Task_review", "Task_accept", REASON)


def test_the_targets_are_the_user_tasks_and_where_each_stage_begins(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    [source] = moves.move_options(ctx, staff["kezhang"], number)
    targets = {t.element_id: (t.name, t.stage, t.effects) for t in source.targets}
    # the user tasks, then the first step of 受理's automatic checks, of 审核 (核算待遇) and of 办结 (告知申请人,
    # after the payment: skipping there needs a compensation note); no event, no gateway, no 督办
    assert targets == {"Task_accept": ("受理", "受理", ()), "Task_pay": ("拨付", "拨付", ()),
                       "Task_identity_check": ("核验身份", "受理", ()),
                       "Task_reimbursement_calc": ("核算待遇", "审核", ()),
                       "Task_notify_applicant": ("告知申请人", "办结", ("拨付资金",))}



def test_a_move_closes_the_open_delegation_and_signatures_of_the_task_it_cancels(ctx, staff, clock):
    """李审核 delegated 审核 and asked 王受理 to sign before him; 孙科长 moves the case back to 受理: both requests
    end with the task (withdrawn by him, a history line), those asked are told, and nothing waits for them."""
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    [review] = open_rows(ctx, staff, number)
    tasks.claim_task(ctx, staff["shenhe"], review.id)
    delegation = operations.delegate_task(ctx, staff["shenhe"], review.id, "clerk_210400_01", "请核对票据")
    signature = operations.add_signer(ctx, staff["shenhe"], review.id, "shouli", "before", "请确认受理材料")
    assert len(operations.awaiting(ctx, staff["clerk_210400_01"]).requests) == 1

    moves.move_token(ctx, staff["kezhang"], number, "Task_review", "Task_accept", REASON)

    details = cases.case_details(ctx, staff["kezhang"], number)
    closed = details.history[-1]
    assert closed.action == "requests_closed" and closed.actor == "kezhang"
    assert closed.message == "“审核”已因跳转取消，综合窗口210400-01的委派、王受理的前加签随之撤销"
    with ctx.uow(write=False) as uow:
        assert {r.id: (r.status, r.withdrawn_by) for r in uow.task_requests.for_task(review.id)} == {
            delegation.id: ("withdrawn", "kezhang"), signature.id: ("withdrawn", "kezhang")}
    for asked in ("clerk_210400_01", "shouli"):
        assert not operations.awaiting(ctx, staff[asked]).requests
        assert any(n["kind"] == "requests_closed" and "已因跳转取消" in n["message"]
                   for n in users.notifications(ctx, staff[asked]))
    with pytest.raises(Conflict, match="任务已办理或已取消"):
        operations.resolve_delegation(ctx, staff["clerk_210400_01"], delegation.id, "票据无误")
    complete(ctx, staff, "shouli", number, "accept")  # the case goes on: the new 审核 has no requests
    [again] = open_rows(ctx, staff, number)
    with ctx.uow(write=False) as uow:
        assert again.id != review.id and not uow.task_requests.for_task(again.id)


def test_a_move_from_a_task_without_requests_adds_no_line(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    moves.move_token(ctx, staff["kezhang"], number, "Task_review", "Task_accept", REASON)
    assert cases.case_details(ctx, staff["kezhang"], number).history[-1].action == "token_moved"


def test_an_administrator_moves_a_case_waiting_for_its_waived_materials_on_to_the_review(ctx, staff, clock):
    """容缺补正: the case waits for the materials or the 补正期限 (a waiting event, no task); the applicant brought
    them to the counter without the system knowing, so an administrator moves the token on to 审核."""
    from services.test_waiver import CHECKED, DATA, MATERNITY, WAIVE

    clock.now = at("2026-11-23 09:30")
    opened = cases.open_case(ctx, staff["shouli"], MATERNITY, APPLICANT, DATA)
    number = opened.case.number
    materials.mark_materials(ctx, staff["shouli"], number, CHECKED)
    tasks.complete_task(ctx, staff["shouli"], opened.open_tasks[0].id, WAIVE)
    [source] = moves.move_options(ctx, staff["admin"], number)
    assert source.name == "容缺补正" and "Task_review" in {t.element_id for t in source.targets}

    progress = moves.move_token(ctx, staff["admin"], number, source.element_id, "Task_review", "材料已在窗口补齐")

    assert progress.case.stage == "审核"
    assert [(r.name, r.role) for r in open_rows(ctx, staff, number)] == [("审核", "reviewer")]
    details = cases.case_details(ctx, staff["kezhang"], number)
    assert [p.ended_at for p in details.pauses] == [clock.now]  # the limits run again from the move
    line = details.history[-1]
    assert line.action == "token_moved" and line.actor == "admin" and "材料已在窗口补齐" in line.message


def test_the_task_a_move_opens_has_its_own_timer_from_the_move(ctx, staff, clock):
    """审核's 3-day reminder: a case moved from 受理 straight to 审核 a day after it opened is reminded 3 days after
    the move, when its 审核 began (a migrated task keeps its timer: test_case_migration)."""
    processes.deploy_process(ctx, staff["sheji"], review_reminder("P3D").encode("utf-8"), f"{OUTPATIENT_PROCESS}.bpmn")
    clock.now = at("2026-11-23 09:30")
    number = cases.open_case(ctx, staff["shouli"], "002036006001", APPLICANT, DATA).case.number
    clock.advance(days=1)

    moves.move_token(ctx, staff["kezhang"], number, "Task_accept", "Task_review", "受理已在窗口办结")

    assert reminder_due(ctx, number) == at("2026-11-24 09:30") + timedelta(days=3)


def test_a_move_drops_the_submission_held_for_an_after_signer(ctx, staff, clock):
    """李审核 submitted 审核通过, held until 王受理 signs after him; a move back to 受理 cancels the step: the held
    submission goes with the signature asked, and the case's new 审核 starts afresh."""
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    [review] = open_rows(ctx, staff, number)
    tasks.claim_task(ctx, staff["shenhe"], review.id)
    operations.add_signer(ctx, staff["shenhe"], review.id, "shouli", "after", "请复核审核结论")
    tasks.complete_task(ctx, staff["shenhe"], review.id, {"decision": "approve"})
    with ctx.uow(write=False) as uow:
        assert uow.task_requests.submission(review.id) is not None

    moves.move_token(ctx, staff["kezhang"], number, "Task_review", "Task_accept", REASON)

    with ctx.uow(write=False) as uow:
        assert uow.task_requests.submission(review.id) is None
    assert not operations.awaiting(ctx, staff["shouli"]).requests
    line = cases.case_details(ctx, staff["kezhang"], number).history[-1]
    assert line.message == "“审核”已因跳转取消，王受理的后加签随之撤销" and line.detail["submission_dropped"]
