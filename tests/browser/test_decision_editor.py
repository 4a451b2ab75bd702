"""The designer (流程设计员) in a real browser edits 职工参保登记's 禁办情形 decision table in dmn-js: rewords the
rule's 禁办情形 for the applicant, first forgetting the quotes (the server's reason shows on the page and the cell
is outlined), then right, and publishes; a clerk's new case hitting the rule ends 禁止办理 with the new wording in
its history."""
from __future__ import annotations

from playwright.sync_api import expect

from workflows.services import cases, tasks

from support.cases import APPLICANT

from .conftest import shot, sign_in

ITEM = "00203601002"  # 职工参保登记
RULES = f"prohibited_{ITEM}"
CELL = '#dmn-editor td[data-element-id="OutputEntry_1_prohibited_rule"]'  # rule 1's 禁办情形
WORDING = "个体参保人员是外地户口，并且没有抚顺居住证"
NEW_WORDING = "以个体身份参保的外地户口人员，须先办理抚顺居住证"
HITS_THE_RULE = {"insured_kind": "self_employed", "household_kind": "nonlocal", "has_residence_permit": False}


def test_a_designer_rewords_a_prohibited_case_and_new_cases_are_refused_with_the_new_words(page, server, ctx, staff):
    sign_in(page, server, "sheji")
    page.get_by_role("navigation").get_by_role("link", name="决策表").click()
    row = page.locator(f"tr#{RULES}")
    assert "职工参保登记" in row.inner_text() and "第 1 版" in row.inner_text()
    row.get_by_role("link", name="编辑").click()

    page.locator('#dmn-editor[data-state="ready"]').wait_for()
    messages = page.locator(".dmn-editor-messages")
    messages.get_by_text("决策表已加载").wait_for()
    assert "首个命中（FIRST）" in page.locator("#dmn-editor .hit-policy").inner_text()
    assert page.locator("#dmn-editor .simple-mode-button").count() == 0  # it would write FEEL, not Python
    cell = page.locator(f"{CELL} [contenteditable]")
    assert cell.inner_text().strip() == f'"{WORDING}"'
    shot(page, "decision-table-loaded")

    cell.fill(NEW_WORDING)  # the quotes forgotten: not a Python expression
    publish = page.get_by_role("button", name="发布", exact=True)
    publish.click()
    messages.locator(".msg-error").wait_for()
    assert "语法错误" in messages.inner_text()  # the server's reason, in Chinese
    assert "出错位置：第 1 条规则，“禁办情形”列" in messages.inner_text()
    page.locator(f"{CELL}.publish-error").wait_for()  # the cell at fault is outlined
    shot(page, "decision-table-refused")

    cell.fill(f'"{NEW_WORDING}"')
    assert page.locator(f"{CELL}.publish-error").count() == 0  # the outline goes with the change
    publish.click()
    messages.get_by_text("已发布，以下流程生成了新版本").wait_for()
    assert f"职工参保登记（item_{ITEM}）第 2 版" in messages.inner_text()
    page.get_by_text("第 2 版，sheji 刚刚发布").wait_for()  # the table now in force
    shot(page, "decision-table-published")

    page.get_by_role("link", name="返回决策表列表").click()
    row = page.locator(f"tr#{RULES}")
    assert "第 2 版" in row.inner_text() and "sheji" in row.inner_text()
    shot(page, "decision-list")
    page.get_by_role("button", name="退出").click()

    opened = cases.open_case(ctx, staff["shouli"], ITEM, APPLICANT, HITS_THE_RULE)
    tasks.complete_task(ctx, staff["shouli"], opened.open_tasks[0].id, {"decision": "accept"})
    sign_in(page, server, "shouli")
    page.goto(f"{server}/cases/{opened.case.number}")
    expect(page.locator("p.status")).to_contain_text("结果：禁止办理")
    assert "流程版本 2" in page.locator("main").inner_text()
    page.get_by_text(f"属于禁办情形“{NEW_WORDING}”，禁止办理").scroll_into_view_if_needed()
    shot(page, "case-prohibited-new-wording")
