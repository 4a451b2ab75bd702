"""Task and case operations between several people of hall 210400-01, each in a browser context of their own, on
抚顺 门诊费用报销 cases accepted on Monday 2026-11-23: 前加签 and 委派 on the 审核 task, 督办 with its reply, 退回 and
撤回, a supervisor's 改派 to a reviewer on leave that lands with her substitute, and a 差评 followed up from the desk
and read by the applicant."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from workflows.services import tasks, users

from support.cases import accept, at
from support.process_driver import PERSON_ID

from .conftest import keep_last_screen, shot, sign_in
from .test_applicant_flow import ask


@pytest.fixture
def people(chromium, server, request):
    """people("shenhe") -> a page signed in as that user, in a browser context of their own (each at their own
    desk); the last screen of each is kept in test-artifacts/ when the test failed."""
    pages = {}

    def person(username: str):
        if username not in pages:
            context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
            pages[username] = context.new_page()
            pages[username].set_default_timeout(10_000)
            sign_in(pages[username], server, username)
        return pages[username]

    yield person
    for username, page in pages.items():
        keep_last_screen(page, request, f"{request.node.name}-{username}-last")
        page.context.close()


def status(page, text: str) -> None:
    """Wait for the flashed message saying `text`."""
    page.get_by_role("status").filter(has_text=text).wait_for()


def inbox_row(page, number: str):
    """The row of the case's task in the inbox's task list (not in 待我处理)."""
    return page.locator('form[action$="/tasks/claim"] tbody tr').filter(has_text=number)


def open_task(page, server: str, number: str, whole_hall: bool = False) -> None:
    """From the inbox (a supervisor: the whole hall's), the page of the case's open task."""
    page.goto(f"{server}/inbox" + ("?all=1" if whole_hall else ""))
    inbox_row(page, number).get_by_role("link", name="办理").click()
    page.locator("form.task-form").wait_for()


def claim(page, server: str, number: str) -> None:
    page.goto(f"{server}/inbox")
    inbox_row(page, number).get_by_role("checkbox").check()
    page.get_by_role("button", name="认领所选").click()
    status(page, "已认领 1 件")


def awaiting_row(page, server: str, number: str):
    """The case's row in the inbox's 待我处理 (delegations, signatures, 督办 to answer)."""
    page.goto(f"{server}/inbox")
    return page.locator("#awaiting tbody tr").filter(has_text=number)


def operate(page, button: str, within: str = "main"):
    """Open an operation's dialog by its button (in the toolbar, or in a row of `within`): the dialog, open."""
    page.locator(within).get_by_role("button", name=button, exact=True).first.click()
    return page.locator("dialog[open]")


def complete(page, opinion: str, decision: str) -> None:
    page.locator("form.task-form").get_by_label("办理意见").fill(opinion)
    page.get_by_role("button", name=decision, exact=True).click()


def refused(page, text: str) -> None:
    """The task page again, its form refused with `text` beside it."""
    page.get_by_role("alert").filter(has_text=text).wait_for()


def history(page, server: str, number: str) -> str:
    """The case page's 办理过程, brought into view (<main> scrolls, not the page)."""
    page.goto(f"{server}/cases/{number}")
    page.locator("#history").scroll_into_view_if_needed()
    return page.locator("#history").inner_text()


def test_a_before_signer_signs_first_and_a_delegate_answers_with_an_opinion(people, server, ctx, staff, clock):
    signed = accept(ctx, staff, clock, "2026-11-23 09:30")
    delegated = accept(ctx, staff, clock, "2026-11-23 10:00")
    shenhe, kezhang, caiwu = people("shenhe"), people("kezhang"), people("caiwu")

    open_task(shenhe, server, signed)
    signer = operate(shenhe, "加签", "[role=toolbar]")
    signer.get_by_label("加签人").select_option("kezhang")
    assert signer.get_by_label("前加签").is_checked()
    signer.get_by_label("加签事由").fill("金额较大，请科长先复核")
    signer.get_by_role("button", name="加签").click()
    status(shenhe, "已前加签孙科长")
    complete(shenhe, "票据齐全", "审核通过")
    refused(shenhe, "须待孙科长前加签签署后再办理")
    assert "待签署" in shenhe.locator("table.signers").inner_text()
    shot(shenhe, "signer-refused")

    row = awaiting_row(kezhang, server, signed)
    assert row.locator("td").all_inner_texts()[:6] == ["前加签", signed, "门诊费用报销", "审核", "李审核",
                                                      "金额较大，请科长先复核"]
    shot(kezhang, "signer-awaiting")
    row.get_by_role("link", name="签署").click()
    sign = operate(kezhang, "签署", "table.signers")
    sign.get_by_label("签署意见").fill("已复核，同意报销")
    sign.get_by_role("button", name="同意", exact=True).click()
    status(kezhang, "已签署：同意")
    assert kezhang.locator("#awaiting").count() == 0  # nothing left for him

    open_task(shenhe, server, signed)
    assert shenhe.locator("table.signers tbody tr").locator("td").all_inner_texts()[:5] == [
        "前加签", "孙科长", "金额较大，请科长先复核", "同意（2026-11-23 10:00）", "已复核，同意报销"]
    complete(shenhe, "票据齐全", "审核通过")
    status(shenhe, f"{signed} 已办理，当前环节：拨付")

    open_task(shenhe, server, delegated)
    delegate = operate(shenhe, "委派", "[role=toolbar]")
    delegate.get_by_label("委派给").select_option("caiwu")
    delegate.get_by_label("委派事项").fill("请核对发票金额与明细清单")
    delegate.get_by_role("button", name="委派").click()
    status(shenhe, "已委派给赵财务")
    complete(shenhe, "票据齐全", "审核通过")
    refused(shenhe, "任务已委派给赵财务，待其办理意见后再办理")

    awaiting_row(caiwu, server, delegated).get_by_role("link", name="办理").click()
    resolve = operate(caiwu, "提交办理意见", "table.delegations")
    resolve.get_by_label("办理意见").fill("发票金额 800.00 元与明细一致")
    shot(caiwu, "delegate-resolving")
    resolve.get_by_role("button", name="提交办理意见").click()
    status(caiwu, "已提交办理意见")

    open_task(shenhe, server, delegated)  # back with its holder, the delegate's opinion beside the delegation
    delegation = shenhe.locator("table.delegations tbody tr")
    assert delegation.locator("td").nth(2).inner_text() == "已办理"
    assert delegation.locator("td.opinion").inner_text() == "发票金额 800.00 元与明细一致"
    shenhe.locator("#task-operations").scroll_into_view_if_needed()  # <main> scrolls, not the page
    shot(shenhe, "delegation-answered")
    complete(shenhe, "经财务核对无误", "审核通过")
    status(shenhe, f"{delegated} 已办理，当前环节：拨付")
    assert "赵财务办理委派“审核”，办理意见：发票金额 800.00 元与明细一致" in history(shenhe, server, delegated)


def test_the_holder_replies_to_a_supervision_before_completing_and_the_desk_shows_it(people, server, ctx, staff,
                                                                                     clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    shenhe, kezhang = people("shenhe"), people("kezhang")
    claim(shenhe, server, number)

    open_task(kezhang, server, number, whole_hall=True)
    assert kezhang.locator("#holder").inner_text() == "李审核"
    supervise = operate(kezhang, "督办", "[role=toolbar]")
    supervise.get_by_label("督办意见").fill("申请人来电询问，请说明进度")
    supervise.get_by_role("button", name="督办").click()
    status(kezhang, "已督办，待办理人回复")

    row = awaiting_row(shenhe, server, number)
    assert row.locator("td").all_inner_texts()[:6] == ["督办", number, "门诊费用报销", "审核", "孙科长",
                                                      "申请人来电询问，请说明进度"]
    clock.now = at("2026-11-23 14:00")
    row.get_by_role("link", name="回复").click()
    complete(shenhe, "票据齐全", "审核通过")
    refused(shenhe, "孙科长督办：“申请人来电询问，请说明进度”，请先回复督办意见再办理")
    shot(shenhe, "supervision-refused")
    reply = operate(shenhe, "回复督办", "ol.supervisions")
    reply.get_by_label("回复督办").fill("材料已核，今日办结")
    reply.get_by_role("button", name="回复").click()
    status(shenhe, "已回复督办")
    assert "回复（李审核，2026-11-23 14:00）：材料已核，今日办结" in shenhe.locator("ol.supervisions").inner_text()
    complete(shenhe, "票据齐全", "审核通过")
    status(shenhe, f"{number} 已办理，当前环节：拨付")

    kezhang.get_by_role("navigation").get_by_role("link", name="督办台").click()
    kezhang.get_by_role("heading", name="督办回复（0 件待回复）").wait_for()
    row = kezhang.locator("table.desk-supervisions tbody tr").filter(has_text=number)
    assert "审核（已办理）" in row.inner_text() and "材料已核，今日办结（李审核" in row.inner_text()
    kezhang.locator("#supervisions").scroll_into_view_if_needed()  # <main> scrolls, not the page
    shot(kezhang, "desk-supervision-replied")


def test_a_case_returned_to_acceptance_is_accepted_again_and_withdrawn_until_the_reviewer_claims(
        people, server, ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    shenhe, shouli = people("shenhe"), people("shouli")

    open_task(shenhe, server, number)
    back = operate(shenhe, "退回", "[role=toolbar]")
    back.get_by_label("退回到").select_option(label="受理（王受理 2026-11-23 09:30）")
    back.get_by_label("退回原因").fill("发票金额与申请表不符")
    back.get_by_role("button", name="退回").click()
    status(shenhe, f"{number} 已退回到“受理”")
    assert inbox_row(shenhe, number).count() == 0

    shouli.goto(f"{server}/inbox")
    row = inbox_row(shouli, number)
    assert row.locator("td").nth(4).inner_text() == "受理" and row.locator("td").nth(7).inner_text() == "王受理"
    assert "李审核将案件从“审核”退回到“受理”：发票金额与申请表不符" in history(shouli, server, number)
    shot(shouli, "returned-history")
    open_task(shouli, server, number)
    complete(shouli, "已补正申请表金额", "受理")
    status(shouli, f"{number} 已办理，当前环节：审核")

    shouli.goto(f"{server}/cases/{number}")
    withdraw = operate(shouli, "撤回“受理”", "[role=toolbar]")
    withdraw.get_by_label("撤回原因").fill("受理意见填错")
    withdraw.get_by_role("button", name="撤回").click()
    status(shouli, f"已撤回，{number} 回到“受理”")
    shouli.get_by_role("heading", name="受理").wait_for()  # her task page, the task hers again
    assert shouli.locator("#holder").inner_text() == "王受理"
    complete(shouli, "已补正申请表金额", "受理")
    status(shouli, f"{number} 已办理，当前环节：审核")

    shouli.goto(f"{server}/cases/{number}")  # she means to take it back again, but meanwhile …
    claim(shenhe, server, number)  # … the reviewer claims it
    withdraw = operate(shouli, "撤回“受理”", "[role=toolbar]")
    withdraw.get_by_label("撤回原因").fill("再改一处")
    withdraw.get_by_role("button", name="撤回").click()
    status(shouli, "下一环节“审核”已由李审核认领，不能撤回")
    assert shouli.locator("form.withdraw-form").count() == 0
    shot(shouli, "withdraw-refused")


def test_a_reassignment_to_a_reviewer_on_leave_lands_with_her_substitute(people, server, ctx, staff, clock):
    users.save_user(ctx, "fuhe", "周复核", "demo12345", "210400", "210400-01", ["reviewer"])
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    shenhe, kezhang, fuhe = people("shenhe"), people("kezhang"), people("fuhe")

    shenhe.get_by_role("navigation").get_by_role("link", name="外出代理").click()
    form = shenhe.locator("form.substitute-form")
    form.get_by_label("代理人").select_option("fuhe")
    form.get_by_label("类别").select_option(label="休假")
    form.get_by_label("开始").fill("2026-11-23T08:30")
    form.get_by_label("结束").fill("2026-11-23T17:30")
    form.get_by_label("事由").fill("年休假")
    form.get_by_role("button", name="保存").click()
    status(shenhe, "已设置代理：2026-11-23 08:30 至 2026-11-23 17:30")
    assert shenhe.locator("table.my-substitutions tbody td").all_inner_texts()[:4] == [
        "2026-11-23 08:30 至 2026-11-23 17:30", "休假", "周复核", "年休假"]
    shot(shenhe, "substitute-set")

    fuhe.get_by_role("navigation").get_by_role("link", name="外出代理").click()
    expect(fuhe.locator("table.covering tbody td")).to_have_text([  # waits for the page the click opens
        "2026-11-23 08:30 至 2026-11-23 17:30", "李审核", "休假"])

    kezhang.get_by_role("link", name="查看本大厅全部待办（改派）").click()
    inbox_row(kezhang, number).get_by_role("checkbox").check()
    kezhang.get_by_label("改派给").select_option("shenhe")
    kezhang.get_by_role("button", name="改派所选").click()
    status(kezhang, "已改派 1 件给李审核（外出期间由周复核代办）")

    fuhe.goto(f"{server}/inbox")
    assert inbox_row(fuhe, number).locator("td").nth(7).inner_text() == "周复核"
    shot(fuhe, "substitute-inbox")
    assert "孙科长将“审核”改派给李审核；李审核休假，由周复核代办" in history(fuhe, server, number)
    open_task(fuhe, server, number)
    complete(fuhe, "代李审核办理：票据齐全", "审核通过")
    status(fuhe, f"{number} 已办理，当前环节：拨付")


def test_a_poor_rating_is_followed_up_from_the_desk_and_the_applicant_reads_the_result(page, people, server, ctx,
                                                                                      staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    clock.now = at("2026-11-26 10:00")  # Thursday: the hall completes the case
    for who, decision in (("shenhe", "approve"), ("caiwu", "pay")):
        [task] = [t for t in tasks.list_tasks(ctx, staff[who]) if t.case_number == number]
        tasks.complete_task(ctx, staff[who], task.id, {"decision": decision})

    ask(page, server, number, PERSON_ID)  # the applicant, not signed in
    page.get_by_label("不满意", exact=True).check()
    page.get_by_label("意见或建议（选填）").fill("窗口排队两个小时")
    page.get_by_role("button", name="提交评价").click()
    page.get_by_role("status").filter(has_text="感谢您的评价：不满意").wait_for()
    assert page.locator("#followup-result").count() == 0

    kezhang = people("kezhang")
    kezhang.get_by_role("navigation").get_by_role("link", name="督办台").click()
    row = kezhang.locator("table.desk-followups tbody tr").filter(has_text=number)
    row.wait_for()  # the page the click opens; all_inner_texts does not wait
    # 5 working days, the day of the rating not counted: Fri 27, Mon 30, Tue 1, Wed 2, Thu 3 December
    assert row.locator("td").all_inner_texts()[:5] == ["正常", number, "门诊费用报销", "不满意：窗口排队两个小时",
                                                      "2026-12-03 17:00"]
    row.scroll_into_view_if_needed()
    shot(kezhang, "desk-followup")
    clock.now = at("2026-11-27 15:00")
    row.get_by_label("回访情况").fill("已电话致歉，申请人表示理解")
    row.get_by_label("整改措施").fill("高峰期增开综合窗口")
    row.get_by_role("button", name="记录回访").click()
    status(kezhang, f"{number}：已记录差评回访")
    kezhang.get_by_text("没有待回访的差评").wait_for()

    ask(page, server, number, PERSON_ID)
    result = page.locator("#followup-result")
    expect(result.locator("td")).to_have_text([  # waits for the answer the 查询 click asked for
        "已电话致歉，申请人表示理解", "高峰期增开综合窗口", "2026-11-27 15:00"])
    assert "孙科长" not in page.content()
    result.scroll_into_view_if_needed()
    shot(page, "public-followup")
