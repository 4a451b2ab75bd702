"""Task operations between people on a real 门诊费用报销 case at 审核: 转办, 委派, 加签/减签, 催办, 督办 with its reply.

Hall 210400-01: shenhe 李审核 (审核员), clerk_210400_01 综合窗口210400-01 (every task role), caiwu 赵财务 (财务),
kezhang 孙科长 (科室负责人), shouli 王受理 (受理员); shenhe2 郑审核 is a 审核员 of hall 210400-02.
"""
from __future__ import annotations

import pytest

from workflows.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.services import cases, task_operations as ops, tasks, time_limits, users

from support.cases import review_task

CLERK = "clerk_210400_01"
APPROVE = {"decision": "approve", "opinion": "票据齐全"}


@pytest.fixture
def review(ctx, staff, clock, built_once):
    """The 审核 task of a 门诊 case accepted on 2026-11-23, unclaimed (built once per worker: built_once)."""
    return built_once("services.test_task_operations.review", lambda: accepted_for_review(ctx, staff, clock))


def accepted_for_review(ctx, staff, clock):
    task = review_task(ctx, staff, clock)
    clock.advance(minutes=10)
    return task


def case_of(ctx, staff, task):
    return cases.case_details(ctx, staff["kezhang"], task.case_number)


def task_now(ctx, staff, task):
    return next(t for t in case_of(ctx, staff, task).tasks if t.id == task.id)


def history(ctx, staff, task, *actions):
    return [h.message for h in case_of(ctx, staff, task).history if h.action in actions]


def notified(ctx, staff, username):
    return [n["message"] for n in users.notifications(ctx, staff[username])]


# --- 转办 ---------------------------------------------------------------------------------------------------------

def test_transfer_claims_the_task_and_hands_it_to_a_reviewer_of_the_hall_who_decides(ctx, staff, review):
    ops.transfer_task(ctx, staff["shenhe"], review.id, CLERK, "本人下午外出")

    assert task_now(ctx, staff, review).assignee == CLERK
    assert history(ctx, staff, review, "claimed", "transferred") == [
        "李审核认领“审核”", "李审核将“审核”转办给综合窗口210400-01：本人下午外出"]
    assert any("转办给综合窗口210400-01" in m for m in notified(ctx, staff, CLERK))
    with pytest.raises(Forbidden):
        tasks.complete_task(ctx, staff["shenhe"], review.id, APPROVE)  # no longer theirs
    progress = tasks.complete_task(ctx, staff[CLERK], review.id, APPROVE)
    assert progress.case.stage == "拨付"


def test_transfer_is_refused_to_whoever_does_not_hold_the_task_and_to_wrong_targets(ctx, staff, review):
    with pytest.raises(Forbidden, match="审核员"):  # not of the task's role
        ops.transfer_task(ctx, staff["caiwu"], review.id, CLERK, "忙")
    with pytest.raises(NotFound):  # another hall's task
        ops.transfer_task(ctx, staff["shenhe2"], review.id, "shenhe2", "忙")
    tasks.claim_task(ctx, staff["shenhe"], review.id)
    with pytest.raises(Forbidden, match="只有办理人"):  # of the role, but not the holder
        ops.transfer_task(ctx, staff[CLERK], review.id, CLERK, "我来办")
    refused = {"shenhe2": "只能选择本大厅的人员", "caiwu": "赵财务不具备审核员岗位", "shenhe": "不能选择自己",
               "nobody": "只能选择本大厅的人员"}
    for target, message in refused.items():
        with pytest.raises(InvalidInput) as error:
            ops.transfer_task(ctx, staff["shenhe"], review.id, target, "忙")
        assert error.value.field_errors == {"assignee": message}
    with pytest.raises(InvalidInput) as error:
        ops.transfer_task(ctx, staff["shenhe"], review.id, CLERK, "  ")
    assert error.value.field_errors == {"reason": "请填写转办理由"}
    assert task_now(ctx, staff, review).assignee == "shenhe"
    assert history(ctx, staff, review, "transferred") == []


# --- 委派 ---------------------------------------------------------------------------------------------------------

def test_a_delegate_answers_with_an_opinion_and_the_holder_decides(ctx, staff, review):
    request = ops.delegate_task(ctx, staff["shenhe"], review.id, "caiwu", "请核对发票金额")

    assert [(r.id, t.id) for r, t in ops.awaiting(ctx, staff["caiwu"]).requests] == [(request.id, review.id)]
    assert any("委派给赵财务：请核对发票金额，请提出办理意见" in m for m in notified(ctx, staff, "caiwu"))
    with pytest.raises(Forbidden, match="只能填写办理意见"):
        tasks.complete_task(ctx, staff["caiwu"], review.id, APPROVE)
    with pytest.raises(Conflict, match="任务已委派给赵财务，待其办理意见后再办理"):
        tasks.complete_task(ctx, staff["shenhe"], review.id, APPROVE)
    with pytest.raises(Conflict, match="不能转办"):
        ops.transfer_task(ctx, staff["shenhe"], review.id, CLERK, "忙")
    with pytest.raises(Forbidden, match="只有受委派人"):
        ops.resolve_delegation(ctx, staff["shenhe"], request.id, "我自己写")

    ops.resolve_delegation(ctx, staff["caiwu"], request.id, "金额1860.00元无误")

    shown = ops.task_operations(ctx, staff["shenhe"], review.id)
    assert [(r.assignee, r.status, r.opinion) for r in shown.requests] == [("caiwu", "done", "金额1860.00元无误")]
    assert any("赵财务办理委派“审核”，办理意见：金额1860.00元无误" in m for m in notified(ctx, staff, "shenhe"))
    assert ops.awaiting(ctx, staff["caiwu"]).requests == []
    with pytest.raises(Conflict, match="该委派已办理"):
        ops.resolve_delegation(ctx, staff["caiwu"], request.id, "再说一次")
    assert tasks.complete_task(ctx, staff["shenhe"], review.id, APPROVE).case.stage == "拨付"
    assert history(ctx, staff, review, "delegated", "delegation_resolved") == [
        "李审核将“审核”委派给赵财务：请核对发票金额", "赵财务办理委派“审核”，办理意见：金额1860.00元无误"]


def test_a_delegate_of_the_tasks_role_cannot_complete_it_either(ctx, staff, review):
    ops.delegate_task(ctx, staff["shenhe"], review.id, CLERK, "请复核")
    with pytest.raises(Forbidden, match="您受李审核委派"):
        tasks.complete_task(ctx, staff[CLERK], review.id, APPROVE)


def test_the_holder_recalls_a_delegation_before_it_is_answered(ctx, staff, review):
    request = ops.delegate_task(ctx, staff["shenhe"], review.id, "caiwu", "请核对发票金额")
    with pytest.raises(Forbidden):
        ops.recall_delegation(ctx, staff["caiwu"], request.id)
    ops.recall_delegation(ctx, staff["shenhe"], request.id, "已自行核对")

    with pytest.raises(Conflict, match="已收回"):
        ops.resolve_delegation(ctx, staff["caiwu"], request.id, "金额无误")
    assert any("收回对赵财务的委派“审核”：已自行核对" in m for m in notified(ctx, staff, "caiwu"))
    assert tasks.complete_task(ctx, staff["shenhe"], review.id, APPROVE).case.stage == "拨付"


def test_delegating_or_adding_signers_is_for_the_holder_only(ctx, staff, review):
    tasks.claim_task(ctx, staff["shenhe"], review.id)
    with pytest.raises(Forbidden):
        ops.delegate_task(ctx, staff[CLERK], review.id, "caiwu", "请核对")
    with pytest.raises(Forbidden):
        ops.add_signer(ctx, staff[CLERK], review.id, "kezhang", "before", "请把关")
    with pytest.raises(Forbidden):
        ops.add_signer(ctx, staff["kezhang"], review.id, "caiwu", "before", "请把关")
    for target, message in {"shenhe2": "只能选择本大厅的人员", "sheji": "钱设计不具备经办岗位"}.items():
        with pytest.raises(InvalidInput) as error:
            ops.delegate_task(ctx, staff["shenhe"], review.id, target, "请核对")
        assert error.value.field_errors == {"delegate": message}
        with pytest.raises(InvalidInput) as error:
            ops.add_signer(ctx, staff["shenhe"], review.id, target, "after", "请把关")
        assert error.value.field_errors == {"signer": message}
    with pytest.raises(InvalidInput) as error:
        ops.add_signer(ctx, staff["shenhe"], review.id, "kezhang", "sometime", "请把关")
    assert error.value.field_errors == {"kind": "请选择前加签、后加签或并行加签"}
    assert ops.task_operations(ctx, staff["shenhe"], review.id).requests == []


# --- 加签 ---------------------------------------------------------------------------------------------------------

def test_a_before_signer_must_sign_before_the_holder_completes(ctx, staff, review):
    request = ops.add_signer(ctx, staff["shenhe"], review.id, "kezhang", "before", "金额较大，请科长先把关")
    with pytest.raises(Conflict, match="须待孙科长前加签签署后再办理"):
        tasks.complete_task(ctx, staff["shenhe"], review.id, APPROVE)
    with pytest.raises(Forbidden, match="只有加签人本人"):
        ops.sign(ctx, staff["shenhe"], request.id, "agree", "同意")
    with pytest.raises(InvalidInput) as error:
        ops.sign(ctx, staff["kezhang"], request.id, "maybe", "")
    assert error.value.field_errors == {"decision": "请选择同意或不同意", "opinion": "请填写签署意见"}

    outcome = ops.sign(ctx, staff["kezhang"], request.id, "agree", "可以报销")

    assert outcome.progress is None and task_now(ctx, staff, review).state == "ready"
    with pytest.raises(Conflict, match="您已签署，不能重复签署"):
        ops.sign(ctx, staff["kezhang"], request.id, "disagree", "改主意了")
    assert tasks.complete_task(ctx, staff["shenhe"], review.id, APPROVE).case.stage == "拨付"
    assert history(ctx, staff, review, "signer_added", "signed") == [
        "李审核为“审核”前加签孙科长：金额较大，请科长先把关", "孙科长前加签签署“审核”：同意（可以报销）"]


def test_an_after_signers_agreement_completes_the_held_submission_as_the_holder(ctx, staff, review):
    request = ops.add_signer(ctx, staff["shenhe"], review.id, "kezhang", "after", "请科长复核")
    with pytest.raises(Conflict, match="后加签须待李审核提交办理意见后再签署"):
        ops.sign(ctx, staff["kezhang"], request.id, "agree", "同意")
    assert ops.awaiting(ctx, staff["kezhang"]).requests == []  # nothing to sign yet

    held = tasks.complete_task(ctx, staff["shenhe"], review.id, APPROVE)

    assert held.case.stage == "审核" and [t.id for t in held.open_tasks] == [review.id]
    assert history(ctx, staff, review, "submitted") == ["李审核提交“审核”，待孙科长签署后流转"]
    assert [r.id for r, _ in ops.awaiting(ctx, staff["kezhang"]).requests] == [request.id]
    with pytest.raises(Conflict, match="已提交，待孙科长签署后流转"):
        tasks.complete_task(ctx, staff["shenhe"], review.id, {"decision": "reject", "opinion": "改了"})

    outcome = ops.sign(ctx, staff["kezhang"], request.id, "agree", "同意报销")

    assert outcome.progress.case.stage == "拨付"
    done = task_now(ctx, staff, review)
    assert (done.state, done.completed_by, done.decision) == ("completed", "shenhe", "approve")
    assert history(ctx, staff, review, "signed", "completed")[-2:] == [
        "孙科长后加签签署“审核”：同意（同意报销）", "李审核完成“审核”：审核通过（票据齐全）；核定金额 400.00 元"]


def test_an_after_signers_disagreement_returns_the_step_and_a_new_submission_asks_again(ctx, staff, review):
    first = ops.add_signer(ctx, staff["shenhe"], review.id, "kezhang", "after", "请科长复核")
    tasks.complete_task(ctx, staff["shenhe"], review.id, APPROVE)

    outcome = ops.sign(ctx, staff["kezhang"], first.id, "disagree", "发票有涂改，请重新核实")

    assert outcome.progress is None
    assert ops.task_operations(ctx, staff["shenhe"], review.id).submission is None
    assert history(ctx, staff, review, "submission_returned") == ["孙科长不同意，“审核”退回李审核重新办理"]
    assert any("退回李审核重新办理" in m for m in notified(ctx, staff, "shenhe"))

    reconsidered = {"decision": "reject", "opinion": "发票涂改，不予报销"}
    assert tasks.complete_task(ctx, staff["shenhe"], review.id, reconsidered).case.stage == "审核"  # held again
    [again] = [r for r, _ in ops.awaiting(ctx, staff["kezhang"]).requests]
    assert again.id != first.id and again.kind == "after"
    outcome = ops.sign(ctx, staff["kezhang"], again.id, "agree", "同意不予报销")
    assert outcome.progress.case.status == "closed" and outcome.progress.case.result == "审核不通过"


def test_parallel_signers_and_the_holder_all_act_before_the_step_completes(ctx, staff, review):
    first = ops.add_signer(ctx, staff["shenhe"], review.id, CLERK, "parallel", "会签")
    second = ops.add_signer(ctx, staff["shenhe"], review.id, "kezhang", "parallel", "会签")
    with pytest.raises(InvalidInput, match="加签人有误"):
        ops.add_signer(ctx, staff["shenhe"], review.id, "kezhang", "after", "再签一次")
    ops.sign(ctx, staff[CLERK], first.id, "agree", "同意")  # before the holder: fine for a parallel signer

    assert tasks.complete_task(ctx, staff["shenhe"], review.id, APPROVE).case.stage == "审核"  # kezhang to act
    outcome = ops.sign(ctx, staff["kezhang"], second.id, "disagree", "有保留意见")

    assert outcome.progress.case.stage == "拨付"  # a parallel signer acts; the holder decides
    signed = [(r.assignee, r.decision) for r in ops.task_operations(ctx, staff["kezhang"], review.id).signers]
    assert signed == [(CLERK, "agree"), ("kezhang", "disagree")]


def test_removing_the_last_awaited_signer_completes_the_held_submission(ctx, staff, review):
    signer = ops.add_signer(ctx, staff["shenhe"], review.id, "kezhang", "after", "请科长复核")
    tasks.complete_task(ctx, staff["shenhe"], review.id, APPROVE)
    with pytest.raises(Forbidden, match="办理人或科室负责人"):
        ops.remove_signer(ctx, staff["caiwu"], signer.id)
    with pytest.raises(NotFound):
        ops.remove_signer(ctx, staff["kezhang2"], signer.id)

    outcome = ops.remove_signer(ctx, staff["shenhe"], signer.id, "科长出差")

    assert outcome.progress.case.stage == "拨付"
    assert history(ctx, staff, review, "signer_removed") == ["李审核减签孙科长（后加签“审核”）：科长出差"]
    with pytest.raises(Conflict):
        ops.sign(ctx, staff["kezhang"], signer.id, "agree", "同意")


def test_a_signer_who_signed_cannot_be_removed_and_a_supervisor_may_remove_one_who_has_not(ctx, staff, review):
    signed = ops.add_signer(ctx, staff["shenhe"], review.id, CLERK, "before", "请复核")
    waiting = ops.add_signer(ctx, staff["shenhe"], review.id, "caiwu", "before", "请核对金额")
    ops.sign(ctx, staff[CLERK], signed.id, "agree", "无误")
    with pytest.raises(Conflict, match="综合窗口210400-01已签署，不能减签"):
        ops.remove_signer(ctx, staff["shenhe"], signed.id)

    ops.remove_signer(ctx, staff["kezhang"], waiting.id)

    with pytest.raises(Conflict, match="您已被减签"):
        ops.sign(ctx, staff["caiwu"], waiting.id, "agree", "无误")
    assert tasks.complete_task(ctx, staff["shenhe"], review.id, APPROVE).case.stage == "拨付"


# --- 催办, 督办 ------------------------------------------------------------------------------------------------------

def test_urging_tells_the_roles_people_while_unclaimed_then_the_holder(ctx, staff, review):
    assert ops.urge_task(ctx, staff["kezhang"], review.id) == [CLERK, "shenhe"]
    tasks.claim_task(ctx, staff["shenhe"], review.id)
    assert ops.urge_task(ctx, staff["shouli"], review.id, "申请人来电询问进度") == ["shenhe"]

    assert history(ctx, staff, review, "urged") == ["孙科长催办“审核”：请尽快办理",
                                                    "王受理催办“审核”：申请人来电询问进度"]
    assert sum("催办" in m for m in notified(ctx, staff, "shenhe")) == 2
    assert sum("催办" in m for m in notified(ctx, staff, CLERK)) == 1
    with pytest.raises(Forbidden):
        ops.urge_task(ctx, staff["caiwu"], review.id)
    with pytest.raises(NotFound):
        ops.urge_task(ctx, staff["kezhang2"], review.id)


def test_a_supervision_needs_the_handlers_written_reply_before_completion(ctx, staff, review):
    with pytest.raises(Forbidden):
        ops.supervise_task(ctx, staff["shenhe"], review.id, "请加快")
    with pytest.raises(InvalidInput, match="请填写督办意见"):
        ops.supervise_task(ctx, staff["kezhang"], review.id, "")
    supervision = ops.supervise_task(ctx, staff["kezhang"], review.id, "申请人多次来电，请说明进度")

    assert [s.id for s, _ in ops.awaiting(ctx, staff["shenhe"]).supervisions] == [supervision.id]
    with pytest.raises(Conflict, match="孙科长督办：“申请人多次来电，请说明进度”，请先回复督办意见再办理"):
        tasks.complete_task(ctx, staff["shenhe"], review.id, APPROVE)
    with pytest.raises(Forbidden, match="只有当前办理人"):
        ops.reply_supervision(ctx, staff["caiwu"], supervision.id, "不归我管")

    ops.reply_supervision(ctx, staff["shenhe"], supervision.id, "票据已核，今日办结")

    with pytest.raises(Conflict, match="该督办已回复"):
        ops.reply_supervision(ctx, staff["shenhe"], supervision.id, "再回复一次")
    [(listed, _)] = ops.hall_supervisions(ctx, staff["kezhang"]).supervisions
    assert (listed.reply, listed.replied_by) == ("票据已核，今日办结", "shenhe")
    assert any("李审核回复孙科长的督办“审核”：票据已核，今日办结" in m for m in notified(ctx, staff, "kezhang"))
    with pytest.raises(Forbidden):
        ops.hall_supervisions(ctx, staff["shenhe"])
    assert ops.hall_supervisions(ctx, staff["kezhang2"]).supervisions == []
    assert tasks.complete_task(ctx, staff["shenhe"], review.id, APPROVE).case.stage == "拨付"
    assert history(ctx, staff, review, "supervised", "supervision_replied") == [
        "孙科长督办“审核”：申请人多次来电，请说明进度", "李审核回复孙科长的督办“审核”：票据已核，今日办结"]


def test_a_held_submission_waits_for_the_supervision_reply_too(ctx, staff, review):
    signer = ops.add_signer(ctx, staff["shenhe"], review.id, "kezhang", "after", "请科长复核")
    tasks.complete_task(ctx, staff["shenhe"], review.id, APPROVE)
    supervision = ops.supervise_task(ctx, staff["kezhang"], review.id, "请说明为何全额报销")

    assert ops.sign(ctx, staff["kezhang"], signer.id, "agree", "同意").progress is None  # the reply is missing
    outcome = ops.reply_supervision(ctx, staff["shenhe"], supervision.id, "均为目录内费用")

    assert outcome.progress.case.stage == "拨付"
    assert task_now(ctx, staff, review).completed_by == "shenhe"


def test_a_delegated_or_held_task_is_neither_reassigned_nor_released(ctx, staff, review):
    ops.delegate_task(ctx, staff["shenhe"], review.id, "caiwu", "请核对")
    done, refused = tasks.reassign_tasks(ctx, staff["kezhang"], [review.id], CLERK)
    assert done == [] and refused == [f"{review.case_number}“审核”：已委派给赵财务，尚未办理，未改派"]
    with pytest.raises(Conflict, match="不能退回认领"):
        tasks.release_task(ctx, staff["shenhe"], review.id)


def test_a_held_submission_does_not_move_a_suspended_case(ctx, staff, review):
    signer = ops.add_signer(ctx, staff["shenhe"], review.id, "kezhang", "after", "请科长复核")
    tasks.complete_task(ctx, staff["shenhe"], review.id, APPROVE)
    time_limits.pause_clock(ctx, staff["kezhang"], review.case_number, "suspension", "等待司法鉴定")

    with pytest.raises(Conflict, match="案件已中止（等待司法鉴定），恢复后才能流转"):
        ops.sign(ctx, staff["kezhang"], signer.id, "agree", "同意")

    time_limits.resume_clock(ctx, staff["kezhang"], review.case_number)
    assert ops.sign(ctx, staff["kezhang"], signer.id, "agree", "同意").progress.case.stage == "拨付"
