"""故障处理 (/admin/incidents) as a 科室负责人 works it: three 门诊 cases whose payment failed, listed a page at a time
(上一页/下一页), narrowed by handler and item, a bad page refused with why; one retried once the bank is back, and the
list shows the other two."""
from __future__ import annotations

from handlers.gateways import LocalPaymentGateway
from workflows.services import incidents

from services.test_incidents import at_payment, bank_down, complete

from .conftest import shot, sign_in


def test_a_supervisor_pages_filters_and_retries_incidents(page, server, ctx, staff, clock, monkeypatch):
    pay = LocalPaymentGateway.pay
    numbers = [at_payment(ctx, staff, clock) for _ in range(3)]
    bank_down(monkeypatch, "银行接口连接超时")
    for number in numbers:
        complete(ctx, staff, "caiwu", number)
    monkeypatch.setattr(incidents, "PAGE_SIZE", 2)

    sign_in(page, server, "kezhang")
    page.goto(f"{server}/admin/incidents")
    page.get_by_role("heading", name="故障处理").wait_for()
    assert "共 3 个" in page.get_by_role("heading", name="故障处理").inner_text()
    rows = page.locator("table#incidents tbody tr")
    assert rows.count() == 2 and "银行接口连接超时" in rows.first.inner_text()
    shot(page, "incidents-page-1")
    page.get_by_role("link", name="下一页").click()
    page.get_by_text("第 2 页").wait_for()
    assert rows.count() == 1
    assert {cell for cell in page.locator("table#incidents td a").all_inner_texts()} <= set(numbers)
    page.get_by_role("link", name="上一页").click()
    page.get_by_text("第 1 页").wait_for()

    page.get_by_label("处理程序/主题").fill("identity_check")
    page.get_by_role("button", name="筛选").click()
    page.get_by_text("没有待处理的故障。").wait_for()
    page.get_by_label("处理程序/主题").fill("payment")
    page.get_by_label("事项编码").fill("002036006001")
    page.get_by_role("button", name="筛选").click()
    page.get_by_role("link", name="下一页").wait_for()  # the filter is kept on the next page's link
    assert "handler=payment" in page.get_by_role("link", name="下一页").get_attribute("href")

    page.goto(f"{server}/admin/incidents?page=0")
    page.get_by_role("status").filter(has_text="页码应为从 1 起的整数").wait_for()
    assert rows.count() == 2  # the first page, with why

    monkeypatch.setattr(LocalPaymentGateway, "pay", pay)
    first = rows.first.locator("td a").inner_text()
    rows.first.get_by_role("checkbox").check()
    page.get_by_label("重试原因").fill("银行接口已恢复")
    page.get_by_role("button", name="重试所选").click()
    page.get_by_role("status").filter(has_text=f"case:{first} 已重试成功").wait_for()
    assert "共 2 个" in page.get_by_role("heading", name="故障处理").inner_text()
    assert first not in page.locator("table#incidents").inner_text()
    assert page.get_by_role("link", name="下一页").count() == 0  # two fit on one page
    shot(page, "incidents-retried")
