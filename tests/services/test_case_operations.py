"""Operations on a case's workflow, on real 门诊费用报销 cases: 退回 to an earlier step, 撤回 one's own step, 撤件,
终止, 中止 that stops the work, and the retry of a failed payment — each with its refusals."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.gateways import LocalPaymentGateway
from workflows.adapters import orm
from workflows.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.domain.model import CANCELLED, CLOSED, COMPLETED, FAILED, OPEN, READY
from workflows.services import case_operations as operations
from workflows.services import case_states, cases, processes, public, tasks, time_limits, users
from workflows.services.scheduler import fire_due_timers

from support.cases import APPLICANT, DATA, OUTPATIENT, accept, at
from support.diagrams import OUTPATIENT_PROCESS, recheck_after_payment
from support.process_driver import proof

REASON = "发票金额与申请表不符"


def open_task(ctx, staff, username, number):
    """The one open task of the case that `username` may work (督办 left aside)."""
    [task] = [t for t in tasks.list_tasks(ctx, staff[username]) if t.case_number == number and t.stage != "督办"]
    return task


def complete(ctx, staff, username, number, **values):
    decisions = {"shouli": "accept", "shenhe": "approve", "caiwu": "pay"}
    return tasks.complete_task(ctx, staff[username], open_task(ctx, staff, username, number).id,
                               {"decision": decisions[username], **values})


def at_payment(ctx, staff, clock, when="2026-11-23 09:30") -> str:
    """A 门诊 case accepted by 王受理 and approved by 李审核: its 拨付 waits for 财务."""
    number = accept(ctx, staff, clock, when)
    complete(ctx, staff, "shenhe", number)
    return number


def details(ctx, staff, number):
    return cases.case_details(ctx, staff["kezhang"], number)


def open_tasks(ctx, staff, number) -> list[tuple[str, str | None]]:
    return sorted((t.name, t.assignee) for t in details(ctx, staff, number).tasks if t.state == READY)


def timers(ctx, number) -> list:
    with ctx.uow(write=False) as uow:
        case = uow.cases.get(number)
        table = orm.case_timers
        return sorted(uow.session.scalars(select(table.c.due_at).where(table.c.case_id == case.id)))


def notes(ctx, staff, username) -> list[str]:
    return [n["message"] for n in users.notifications(ctx, staff[username])]


def history(ctx, staff, number) -> list[str]:
    return [entry.message for entry in details(ctx, staff, number).history]


# --- 退回 -----------------------------------------------------------------------------------------------------------

def test_return_offers_the_steps_passed_and_reopens_one_for_whoever_did_it(ctx, staff, clock):
    number = at_payment(ctx, staff, clock)
    pay = open_task(ctx, staff, "caiwu", number)
    before = timers(ctx, number)

    targets = operations.return_targets(ctx, staff["caiwu"], pay.id)
    assert [(t.name, t.completed_by, t.refusal) for t in targets] == [("审核", "shenhe", None),
                                                                       ("受理", "shouli", None)]

    clock.now = at("2026-11-24 10:00")
    progress = operations.return_task(ctx, staff["caiwu"], pay.id, targets[1].task_id, REASON)

    assert progress.case.stage == "受理" and progress.case.status == OPEN
    assert open_tasks(ctx, staff, number) == [("受理", "shouli")]
    rows = {t.id: t for t in details(ctx, staff, number).tasks}
    assert rows[pay.id].state == CANCELLED
    assert rows[targets[1].task_id].state == COMPLETED  # the first 受理 stays in the record, as done
    assert f"赵财务将案件从“拨付”退回到“受理”：{REASON}" in history(ctx, staff, number)
    assert any(REASON in note and "受理" in note for note in notes(ctx, staff, "shouli"))
    # The clock runs on: the same limit, and the reopened step's timers wait for its warning and due moments.
    assert details(ctx, staff, number).deadlines[0].due_at == at("2026-12-21 17:00")
    assert timers(ctx, number) == before

    complete(ctx, staff, "shouli", number)
    complete(ctx, staff, "shenhe", number)
    closed = complete(ctx, staff, "caiwu", number).case
    assert (closed.status, closed.result) == (CLOSED, "办结")
    assert [t.name for t in details(ctx, staff, number).tasks if t.state == COMPLETED].count("受理") == 2


def test_return_keeps_a_supervisors_open_supervision_and_escalates_nothing_twice(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    clock.now = at("2026-12-22 09:00")  # past the promised limit: 红牌 at 审核, a 督办 for 孙科长
    fire_due_timers(ctx)
    [supervision] = [t for t in tasks.list_tasks(ctx, staff["kezhang"]) if t.case_number == number]
    complete(ctx, staff, "shenhe", number)
    escalations = len(details(ctx, staff, number).escalations)

    pay = open_task(ctx, staff, "caiwu", number)
    [review, _] = operations.return_targets(ctx, staff["caiwu"], pay.id)
    operations.return_task(ctx, staff["caiwu"], pay.id, review.task_id, "核定金额有误")

    assert open_tasks(ctx, staff, number) == [("审核", "shenhe"), ("督办", None)]
    assert [t.id for t in tasks.list_tasks(ctx, staff["kezhang"]) if t.case_number == number] == [supervision.id]
    assert len(details(ctx, staff, number).escalations) == escalations

    review = open_task(ctx, staff, "shenhe", number)  # and further back, past the step the 督办 was raised at
    [acceptance] = operations.return_targets(ctx, staff["shenhe"], review.id)
    operations.return_task(ctx, staff["shenhe"], review.id, acceptance.task_id, "申请表缺银行开户行")
    assert open_tasks(ctx, staff, number) == [("受理", "shouli"), ("督办", None)]
    assert [t.id for t in tasks.list_tasks(ctx, staff["kezhang"]) if t.case_number == number] == [supervision.id]
    complete(ctx, staff, "shouli", number)
    complete(ctx, staff, "shenhe", number)
    assert complete(ctx, staff, "caiwu", number).case.result == "办结"  # the 督办 ends with the case
    assert open_tasks(ctx, staff, number) == []


def test_only_the_holder_returns_and_only_to_a_step_the_case_passed(ctx, staff, clock):
    number = at_payment(ctx, staff, clock)
    pay = open_task(ctx, staff, "caiwu", number)
    [review, _] = operations.return_targets(ctx, staff["caiwu"], pay.id)
    tasks.claim_task(ctx, staff["caiwu"], pay.id)

    with pytest.raises(Forbidden):  # a clerk of every role, but the task is 赵财务's
        operations.return_task(ctx, staff["clerk_210400_01"], pay.id, review.task_id, REASON)
    with pytest.raises(Forbidden):  # not a finance clerk
        operations.return_task(ctx, staff["shenhe"], pay.id, review.task_id, REASON)
    with pytest.raises(NotFound):  # another hall
        operations.return_task(ctx, staff["shenhe2"], pay.id, review.task_id, REASON)
    with pytest.raises(InvalidInput) as not_passed:  # a step of another case
        other = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).open_tasks[0]
        operations.return_task(ctx, staff["caiwu"], pay.id, other.id, REASON)
    assert "target_task_id" in not_passed.value.field_errors
    with pytest.raises(InvalidInput) as no_reason:
        operations.return_task(ctx, staff["caiwu"], pay.id, review.task_id, "  ")
    assert "reason" in no_reason.value.field_errors
    assert open_tasks(ctx, staff, number) == [("拨付", "caiwu")]


def test_no_return_across_a_payment_already_made(ctx, staff, clock):
    processes.deploy_process(ctx, staff["sheji"], recheck_after_payment(), f"{OUTPATIENT_PROCESS}.bpmn")
    number = at_payment(ctx, staff, clock)
    complete(ctx, staff, "caiwu", number)  # paid: the 复核 is open
    recheck = open_task(ctx, staff, "caiwu", number)
    assert recheck.name == "复核"

    targets = operations.return_targets(ctx, staff["caiwu"], recheck.id)
    assert [t.name for t in targets] == ["拨付", "审核", "受理"]
    assert all("“拨付资金”已对外办理" in t.refusal for t in targets)
    with pytest.raises(Conflict) as refused:
        operations.return_task(ctx, staff["caiwu"], recheck.id, targets[1].task_id, REASON)
    assert "“拨付资金”已对外办理，退回不能撤销" in str(refused.value)
    assert open_tasks(ctx, staff, number) == [("复核", None)]
    with pytest.raises(Conflict):  # nor may 财务 take the 拨付 back
        operations.withdraw_task(ctx, staff["caiwu"], targets[0].task_id, "撤回拨付")


# --- 撤回 -----------------------------------------------------------------------------------------------------------

def test_withdraw_takes_ones_own_step_back_while_nobody_acted_on_the_next(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    [accepted] = [t for t in details(ctx, staff, number).tasks if t.name == "受理"]

    with pytest.raises(Forbidden):  # 李审核 did not complete it
        operations.withdraw_task(ctx, staff["shenhe"], accepted.id, "填错了")
    progress = operations.withdraw_task(ctx, staff["shouli"], accepted.id, "受理意见填错")

    assert progress.case.stage == "受理"
    assert open_tasks(ctx, staff, number) == [("受理", "shouli")]
    assert "王受理撤回已办理的“受理”：受理意见填错" in history(ctx, staff, number)
    with pytest.raises(Conflict):  # that completion is no longer on the case's path
        operations.withdraw_task(ctx, staff["shouli"], accepted.id, "再次撤回")


def test_no_withdraw_once_the_next_handler_claimed_or_completed(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    [accepted] = [t for t in details(ctx, staff, number).tasks if t.name == "受理"]
    tasks.claim_task(ctx, staff["shenhe"], open_task(ctx, staff, "shenhe", number).id)
    with pytest.raises(Conflict) as claimed:
        operations.withdraw_task(ctx, staff["shouli"], accepted.id, "填错了")
    assert "已由李审核认领" in str(claimed.value)

    complete(ctx, staff, "shenhe", number)
    with pytest.raises(Conflict) as completed:
        operations.withdraw_task(ctx, staff["shouli"], accepted.id, "填错了")
    assert "“审核”已办理" in str(completed.value)
    assert open_tasks(ctx, staff, number) == [("拨付", None)]


# --- 撤件, 终止 ------------------------------------------------------------------------------------------------------

def test_withdrawal_at_the_window_closes_the_case_and_stops_everything(ctx, staff, clock):
    number = at_payment(ctx, staff, clock)
    tasks.claim_task(ctx, staff["caiwu"], open_task(ctx, staff, "caiwu", number).id)

    with pytest.raises(Forbidden):  # 撤件 is recorded by a 受理员
        operations.withdraw_case(ctx, staff["shenhe"], number, "申请人书面申请撤回")
    progress = operations.withdraw_case(ctx, staff["shouli"], number, "申请人书面申请撤回")

    case = details(ctx, staff, number)
    assert (case.case.status, case.case.result) == (CLOSED, "撤件")
    assert progress.open_tasks == [] and open_tasks(ctx, staff, number) == []
    assert timers(ctx, number) == []
    assert all(row.met_at is not None for row in case.deadlines)
    assert "王受理登记撤件：申请人书面申请撤回" in history(ctx, staff, number)
    assert any("已撤件" in note for note in notes(ctx, staff, "caiwu"))  # whose task was cancelled
    shown = public.query_progress(ctx, proof(number), None)
    assert (shown.status, shown.result) == ("已撤件", "撤件")
    listed = public.public_cases(ctx, "210400").cases
    assert ("已结束", "已撤件") in [(row.status, row.result) for row in listed]
    with pytest.raises(Conflict):
        operations.withdraw_case(ctx, staff["shouli"], number, "再次撤件")


def test_the_applicant_withdraws_on_the_public_page_with_number_and_id(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    with pytest.raises(NotFound) as mismatch:
        operations.withdraw_by_applicant(ctx, proof(number, "210402199002021234"), None, "不再申请")
    assert str(mismatch.value) == public.NOT_FOUND
    with pytest.raises(InvalidInput):
        operations.withdraw_by_applicant(ctx, proof(number), None, "")
    assert details(ctx, staff, number).case.status == OPEN

    operations.withdraw_by_applicant(ctx, proof(number), None, "已在异地报销")
    assert details(ctx, staff, number).case.result == "撤件"
    assert "申请人在网上申请撤件：已在异地报销" in history(ctx, staff, number)
    assert any("已撤件" in note for note in notes(ctx, staff, "shouli"))  # who registered it
    with pytest.raises(Conflict):
        operations.withdraw_by_applicant(ctx, proof(number), None, "已在异地报销")


def test_a_supervisor_terminates_a_case_a_clerk_may_not(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    with pytest.raises(Forbidden):
        operations.terminate_case(ctx, staff["shouli"], number, "申请人死亡")
    with pytest.raises(NotFound):
        operations.terminate_case(ctx, staff["kezhang2"], number, "申请人死亡")

    operations.terminate_case(ctx, staff["kezhang"], number, "申请人死亡，无继承人主张")
    case = details(ctx, staff, number).case
    assert (case.status, case.result) == (CLOSED, "终止")
    assert open_tasks(ctx, staff, number) == [] and timers(ctx, number) == []
    assert public.query_progress(ctx, proof(number), None).status == "已终止"


# --- 中止 -----------------------------------------------------------------------------------------------------------

def test_a_suspended_case_cannot_be_worked_until_resumed(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    time_limits.pause_clock(ctx, staff["kezhang"], number, "suspension", "等待司法鉴定结论")
    review = open_task(ctx, staff, "shenhe", number)

    with pytest.raises(Conflict) as refused:
        tasks.complete_task(ctx, staff["shenhe"], review.id, {"decision": "approve"})
    assert str(refused.value).startswith("案件已中止（等待司法鉴定结论）")
    with pytest.raises(Conflict):
        operations.return_task(ctx, staff["shenhe"], review.id,
                               operations.return_targets(ctx, staff["shenhe"], review.id)[0].task_id, REASON)
    shown = operations.available_operations(ctx, staff["shenhe"], number, review.id)
    assert shown.suspension.reason == "等待司法鉴定结论"
    with ctx.uow(write=False) as uow:  # what the inbox marks 中止
        assert set(case_states.open_pauses_of(uow, {review.case_id: ("running", None)})) == {review.case_id}

    time_limits.resume_clock(ctx, staff["kezhang"], number)
    assert complete(ctx, staff, "shenhe", number).case.stage == "拨付"


# --- retry ----------------------------------------------------------------------------------------------------------

def test_a_failed_payment_is_retried_once_the_bank_is_back(ctx, staff, clock, monkeypatch):
    number = at_payment(ctx, staff, clock)
    pay = LocalPaymentGateway.pay
    with pytest.raises(Conflict):  # nothing failed yet
        operations.retry_case(ctx, staff["kezhang"], number, "重试")

    def bank_down(message):
        def refuse(self, account, amount, reference):
            raise ConnectionError(message)
        monkeypatch.setattr(LocalPaymentGateway, "pay", refuse)

    bank_down("银行接口连接超时")
    failed = complete(ctx, staff, "caiwu", number).case
    assert failed.status == FAILED
    assert "银行接口连接超时" in operations.available_operations(ctx, staff["kezhang"], number).failure

    with pytest.raises(Forbidden):
        operations.retry_case(ctx, staff["caiwu"], number, "银行已恢复")
    bank_down("银行返回：账户冻结")
    operations.retry_case(ctx, staff["kezhang"], number, "银行称已恢复")
    case = details(ctx, staff, number)
    assert case.case.status == FAILED and "银行返回：账户冻结" in case.history[-1].message
    kept = cases.case_details(ctx, staff["caiwu"], number).case.data  # 财务 sees the account in full
    assert kept["bank_account"] == DATA["bank_account"] and kept["decision"] == "pay"

    monkeypatch.setattr(LocalPaymentGateway, "pay", pay)
    progress = operations.retry_case(ctx, staff["admin"], number, "银行接口已恢复")
    assert (progress.case.status, progress.case.result) == (CLOSED, "办结")
    payments = [call for call in details(ctx, staff, number).external_calls if call.system == "payment"]
    assert len(payments) == 1
    assert "系统管理员重试“拨付资金”：银行接口已恢复" in history(ctx, staff, number)
