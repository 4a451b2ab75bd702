"""The applicant in a real browser, without signing in: 办理进度查询 with the case number and the ID number (a wrong
ID number finds nothing), 好差评 once the case is completed, and 办件公示 with the applicant's name masked."""
from __future__ import annotations

from workflows.services import tasks
from workflows.services.demo import resident_id

from support.cases import accept, at
from support.process_driver import PERSON_ID, PERSON_PHONE

from .conftest import shot

OTHER_ID = resident_id("21040219900202123")


def ask(page, server: str, number: str, id_number: str) -> None:
    page.goto(f"{server}/public/progress")
    page.get_by_label("办件编号").fill(number)
    page.get_by_label("证件号码").fill(id_number)
    page.get_by_label("联系电话").fill(PERSON_PHONE)
    page.get_by_role("button", name="查询").click()


def progress_row(page, heading: str) -> str:
    return page.locator(".public-progress tr").filter(has=page.get_by_role("rowheader", name=heading)).locator(
        "td").inner_text()


def test_an_applicant_follows_a_case_rates_it_and_finds_it_in_the_public_list(page, server, ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")  # 张伟's 门诊费用报销, now waiting for 审核

    ask(page, server, number, PERSON_ID)
    page.locator(".public-progress").get_by_role("heading", name=number).wait_for()
    assert progress_row(page, "当前环节") == "审核" and progress_row(page, "状态") == "办理中"
    assert progress_row(page, "受理时间") == "2026-11-23 09:30"
    steps = page.locator("ol.steps li")
    assert "正在办理" in steps.filter(has_text="审核").inner_text()
    assert page.get_by_text("办件办结后可在此评价").is_visible()
    assert page.locator('input[name="score"]').count() == 0
    assert "王受理" not in page.content()  # no internal data
    shot(page, "public-progress")

    ask(page, server, number, OTHER_ID)
    page.get_by_role("alert").filter(has_text="未查到该办件").wait_for()
    assert page.locator(".public-progress").count() == 0 and "门诊费用报销" not in page.content()
    shot(page, "public-not-found")

    clock.now = at("2026-11-26 10:00")
    for who, decision in (("shenhe", "approve"), ("caiwu", "pay")):  # the hall completes the case
        [task] = [t for t in tasks.list_tasks(ctx, staff[who]) if t.case_number == number]
        tasks.complete_task(ctx, staff[who], task.id, {"decision": decision})

    ask(page, server, number, PERSON_ID)
    page.get_by_role("group", name="您对本次办理的评价").wait_for()
    assert progress_row(page, "办理结果") == "已办结" and progress_row(page, "办结时间") == "2026-11-26 10:00"
    page.get_by_label("满意", exact=True).check()
    page.get_by_label("意见或建议（选填）").fill("窗口服务很耐心")
    page.locator(".rating").scroll_into_view_if_needed()  # <main> scrolls, not the page: bring it into the shot
    shot(page, "public-rating")
    page.get_by_role("button", name="提交评价").click()
    page.get_by_role("status").filter(has_text="感谢您的评价：满意").wait_for()
    assert page.locator(".rating").get_by_text("您已评价：满意").is_visible()
    assert page.locator('input[name="score"]').count() == 0  # once only
    page.locator(".rating").scroll_into_view_if_needed()
    shot(page, "public-rated")

    ask(page, server, number, PERSON_ID)  # asked again later: the rating is remembered
    page.locator(".rating").get_by_text("您已评价：满意").wait_for()

    page.get_by_role("link", name="办件公示").click()
    page.get_by_label("经办机构").select_option(label="抚顺市医疗保障事务服务中心")
    page.get_by_role("button", name="查看").click()
    row = page.locator("table.public-cases tbody tr").first
    row.wait_for()
    cells = row.locator("td").all_inner_texts()
    assert (cells[0], cells[1], cells[2], cells[4]) == ("张*", "门诊费用报销", "2026-11-23 09:30", "2026-11-26 10:00")
    assert "张伟" not in page.locator("table.public-cases").inner_text()
    shot(page, "public-cases")
