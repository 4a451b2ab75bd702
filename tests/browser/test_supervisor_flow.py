"""The supervisor (科室负责人) in a real browser: a case accepted weeks ago is overdue (its 红牌 replaced its 黄牌), another
is in warning (黄牌); kezhang urges on the red one and extends the yellow one from 督办台, then opens 统计 and its charts
draw, counting the overdue case late.

Both are 抚顺 门诊费用报销 (承诺 20 个工作日): one accepted on Monday 2026-11-23 09:30, due 2026-12-21 17:00; the other
on Tuesday 2026-11-24 09:30, due 2026-12-22 17:00, yellow from 2026-12-16 17:00; 5 working days more make it
2026-12-29 17:00."""
from __future__ import annotations

from workflows.services import tasks
from workflows.services.scheduler import fire_due_timers

from support.cases import accept, at

from .conftest import shot, sign_in


def close_on_time(ctx, staff, clock, when: str) -> str:
    """Another case of the hall, accepted at `when` and paid the same day: the statistics have a rate to draw."""
    number = accept(ctx, staff, clock, when)
    for who, decision in (("shenhe", "approve"), ("caiwu", "pay")):
        [task] = [t for t in tasks.list_tasks(ctx, staff[who]) if t.case_number == number]
        tasks.complete_task(ctx, staff[who], task.id, {"decision": decision})
    return number


def test_the_supervisor_urges_and_extends_an_overdue_case_and_reads_the_statistics(page, server, ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    warned = accept(ctx, staff, clock, "2026-11-24 09:30")
    closed = close_on_time(ctx, staff, clock, "2026-11-24 10:00")
    for moment in ("2026-12-16 09:00", "2026-12-22 09:00"):  # the scheduler's rounds: yellow, then red
        clock.now = at(moment)
        fire_due_timers(ctx)

    sign_in(page, server, "kezhang")
    page.get_by_role("navigation").get_by_role("link", name="督办台").click()
    page.get_by_role("heading", name="督办台").wait_for()
    escalations = page.locator("table.desk-escalations tbody tr")
    red = escalations.filter(has_text=number).and_(page.locator("tr.level-red"))
    yellow = escalations.filter(has_text=warned).and_(page.locator("tr.level-yellow"))
    red.get_by_text("红牌").wait_for()
    assert red.count() == 1 and yellow.count() == 1
    assert escalations.filter(has_text=number).count() == 1  # its 黄牌 gave way to the 红牌
    assert "2026-12-21 17:00" in red.inner_text() and "审核：未认领（审核员）" in red.inner_text()
    red_id = red.get_attribute("id")
    shot(page, "desk-overdue")

    red.get_by_role("button", name="督办").click()  # its form opens in the desk's dialog
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("督办意见").fill("请今日内办结")
    dialog.get_by_role("button", name="催办", exact=True).click()
    page.get_by_role("status").filter(has_text=f"{number}：已催办").wait_for()
    page.locator(f"#{red_id}").wait_for(state="detached")  # the red escalation is handled: gone from the desk
    assert escalations.filter(has_text=number).and_(page.locator("tr.level-red")).count() == 0
    assert yellow.count() == 1
    shot(page, "desk-urged")

    yellow.get_by_role("button", name="督办").click()
    dialog.get_by_label("督办意见").fill("外省协查")
    dialog.get_by_label("延期（工作日）").fill("5")
    dialog.get_by_role("button", name="延期", exact=True).click()
    page.get_by_role("status").filter(has_text=f"{warned}：已延期").wait_for()
    assert escalations.filter(has_text=warned).count() == 0
    assert page.locator("table.desk-cases tbody tr").filter(has_text=warned).count() == 0  # no longer in warning
    shot(page, "desk-extended")

    page.goto(f"{server}/cases/{warned}")
    page.get_by_role("heading", name=warned).wait_for()
    promised = page.locator("table.deadlines tbody tr").filter(has_text="承诺时限")
    assert "2026-12-29 17:00" in promised.inner_text()
    assert "外省协查" in page.locator("#history").inner_text()
    shot(page, "case-extended")

    page.get_by_role("navigation").get_by_role("link", name="统计").click()
    page.get_by_role("heading", name="统计").wait_for()
    charts = page.locator(".chart")
    page.wait_for_function("() => document.querySelectorAll('.chart[data-chart-ready=\"true\"]').length === 5")
    assert charts.count() == 5
    for index in range(5):
        assert charts.nth(index).locator("canvas").count() >= 1  # Chart.js drew it
    # the overdue case counts late; the extended one is in time
    assert page.locator("table#rates-items tbody").inner_text().split() == ["门诊费用报销", "2", "1", "50.0%"]
    assert page.locator("#hall-overdue").inner_text() == "1"
    overdue = page.locator("table#overdue").inner_text()
    assert number in overdue and warned not in overdue and closed not in overdue
    shot(page, "statistics")
    page.locator("table#backlog").scroll_into_view_if_needed()  # <main> scrolls, not the page: show the lower charts
    shot(page, "statistics-lower")
