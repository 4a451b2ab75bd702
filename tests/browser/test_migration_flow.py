"""案件迁移 (/migrations) in a real browser: 钱设计 drafts a plan moving 门诊费用报销 cases to a version that renames
审核 and replaces 拨付; the plan's page lists which cases can move and why the one at 拨付 cannot; 孙科长 approves it
(for the cases of his hall); the designer migrates all of them in the background: the page follows the run's
progress as the scheduler's rounds move the cases, and lists the refused case with its reason."""
from __future__ import annotations

from playwright.sync_api import expect

from workflows.services import cases, migration_runs, outbox, processes

from support.cases import APPLICANT, DATA, accept, complete_step
from support.diagrams import OUTPATIENT_PROCESS, migration_target

from .conftest import shot, sign_in


def test_a_designer_drafts_a_supervisor_approves_and_the_cases_migrate(page, chromium, server, ctx, staff, clock,
                                                                        monkeypatch):
    monkeypatch.setattr(migration_runs, "BATCH", 1)  # a round of the scheduler moves one case: progress to see
    at_accept = cases.open_case(ctx, staff["shouli"], "002036006001", APPLICANT, DATA).case.number
    at_review = accept(ctx, staff, clock, "2026-11-23 09:30")
    at_pay = accept(ctx, staff, clock, "2026-11-23 09:40")
    complete_step(ctx, staff, "shenhe", at_pay, "approve")
    processes.deploy_process(ctx, staff["sheji"], migration_target(), f"{OUTPATIENT_PROCESS}.bpmn")

    sign_in(page, server, "sheji")
    page.goto(f"{server}/migrations")
    page.get_by_role("heading", name="案件迁移").wait_for()
    page.get_by_label("流程").select_option(OUTPATIENT_PROCESS)
    page.get_by_label("源版本号").fill("1")
    page.get_by_label("目标版本号").fill("2")
    page.get_by_label("迁移原因").fill("审核改名为初审，拨付改由科室负责人审批")
    page.get_by_role("button", name="提出计划").click()
    page.get_by_role("status").filter(has_text="待科室负责人批准").wait_for()
    plan_page = page.url
    assert page.locator("#plan-status").inner_text() == "待科室负责人批准"
    assert page.get_by_role("button", name="迁移全部可迁移的").count() == 0  # not before the approval
    rows = page.locator("table#migration-cases tbody tr")
    assert "可迁移" in rows.filter(has_text=at_review).inner_text()
    refusal = rows.filter(has_text=at_pay).inner_text()
    assert "当前所在的“拨付”（Task_pay）在目标版本中没有对应元素" in refusal and "可映射到“Task_pay_check”" in refusal
    shot(page, "migration-plan-drafted")

    supervisor = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN").new_page()
    try:
        sign_in(supervisor, server, "kezhang")
        supervisor.goto(plan_page)
        supervisor.get_by_role("button", name="批准（只迁移您所在大厅的案件）").click()
        supervisor.get_by_role("status").filter(has_text="已批准").wait_for()
        assert "只迁移" in supervisor.locator("#plan-status").inner_text()
        shot(supervisor, "migration-plan-approved")
    finally:
        supervisor.context.close()

    page.reload()
    page.get_by_role("button", name="迁移全部可迁移的").click()
    page.get_by_role("status").filter(has_text="已开始在后台迁移全部 3 件在办案件").wait_for()
    counts = page.locator("#run-counts")
    assert counts.inner_text() == "已迁移 0 件，未迁移 0 件，共 3 件"
    assert page.locator("#run-status").inner_text().startswith("后台执行中")
    assert page.get_by_role("button", name="迁移全部可迁移的").is_disabled()  # once at a time
    outbox.work_due(ctx)  # the scheduler's round, while the page polls
    counts.filter(has_text="已迁移 1 件，未迁移 0 件，共 3 件").wait_for()
    bar = page.get_by_label("迁移进度")
    assert (bar.get_attribute("value"), bar.get_attribute("max")) == ("1", "3")
    assert bar.bounding_box()["width"] > 0.9 * page.locator("#migration-run").bounding_box()["width"]  # spans it
    shot(page, "migration-plan-running")
    while outbox.work_due(ctx):
        pass
    page.locator("#run-status").filter(has_text="已结束").wait_for()
    assert counts.inner_text() == "已迁移 2 件，未迁移 1 件，共 3 件"
    refused = page.locator("#run-failures tbody tr").filter(has_text=at_pay).inner_text()
    assert "未迁移" in page.locator("#run-failures thead").inner_text() and "Task_pay" in refused
    shot(page, "migration-plan-run")
    assert [t.name for t in cases.case_details(ctx, staff["kezhang"], at_review).tasks
            if t.state == "ready" and t.stage != "督办"] == ["初审"]
    assert cases.case_details(ctx, staff["kezhang"], at_accept).process.version == 2
    page.get_by_role("link", name="刷新在办案件列表").click()
    rows = page.locator("table#migration-cases tbody tr")
    expect(rows).to_have_count(1)  # waits for the page the link opens: the one it leaves lists all three
    assert at_pay in rows.inner_text()  # the one left on the old version
