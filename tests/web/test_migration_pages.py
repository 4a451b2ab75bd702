"""案件迁移 and 跳转 in the web app: a designer's plan on its page with the cases that can move and why not,
approved by the supervisor and run on the ticked case; the case page's 跳转 dialog, refused without its
compensation note (what was typed kept), then done."""
from __future__ import annotations

import re

import lxml.html

from workflows.entrypoints.web import migrations as web_migrations
from workflows.services import case_migration, cases, outbox, processes, tasks

from support.cases import accept
from support.diagrams import OUTPATIENT_PROCESS, migration_target, recheck_after_payment
from support.web import csrf_token, html, sign_in


def post(client, url: str, page: str, **data):
    token = csrf_token(html(client.get(page)))
    return client.post(url, data={"csrf_token": token, "next": page, **data})


def test_a_plan_made_approved_and_run_on_the_pages(app, ctx, staff, clock):
    review = accept(ctx, staff, clock, "2026-11-23 09:30")
    processes.deploy_process(ctx, staff["sheji"], migration_target(), f"{OUTPATIENT_PROCESS}.bpmn")
    designer, supervisor = app.test_client(), app.test_client()
    sign_in(designer, "sheji")
    sign_in(supervisor, "kezhang")

    refused = post(designer, "/migrations", "/migrations", process_key=OUTPATIENT_PROCESS, source_version="1",
                   target_version="2", mapping="Task_pay", reason="改版")
    assert "应写作 源元素id=目标元素id" in html(designer.get(refused.headers["Location"]))
    made = post(designer, "/migrations", "/migrations", process_key=OUTPATIENT_PROCESS, source_version="1",
                target_version="2", mapping="", reason="审核改名")
    page = made.headers["Location"]
    shown = html(designer.get(page))
    assert "待科室负责人批准" in shown and "迁移所选" not in shown  # not runnable before approval
    row = lxml.html.fromstring(shown).xpath(f'//table[@id="migration-cases"]//tr[td/a="{review}"]')[0]
    assert "可迁移" in row.text_content() and "审核" in row.text_content()

    elsewhere = app.test_client()
    sign_in(elsewhere, "kezhang2")  # 冯科长: no case of the plan in his hall
    assert "须由案件所在大厅的科室负责人批准" in html(elsewhere.get(page))  # no 批准 button for him
    refused = post(elsewhere, f"{page}/approve", page)
    assert refused.status_code == 403 and "须由案件所在大厅" in html(refused)
    post(supervisor, f"{page}/approve", page)
    assert re.search(r"已批准（kezhang [^）]+，只迁移[^）]+的案件）", html(designer.get(page)))
    done = post(designer, f"{page}/run", page, case=review, which="chosen")
    assert f"{review} 已迁移" in html(designer.get(done.headers["Location"]))
    assert cases.case_details(ctx, staff["kezhang"], review).process.version == 2


def test_the_case_pages_token_move_dialog(client, ctx, staff, clock):
    processes.deploy_process(ctx, staff["sheji"], recheck_after_payment(), f"{OUTPATIENT_PROCESS}.bpmn")
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    [review] = [t for t in tasks.list_tasks(ctx, staff["shenhe"]) if t.case_number == number]
    tasks.complete_task(ctx, staff["shenhe"], review.id, {"decision": "approve"})
    page = f"/cases/{number}"
    sign_in(client, "shouli")
    assert 'data-opens="token-move-dialog"' not in html(client.get(page))  # a clerk has no 跳转
    sign_in(client, "kezhang")
    shown = html(client.get(page))
    assert 'data-opens="token-move-dialog"' in shown
    assert re.search(r"复核（拨付）\s*— 越过拨付资金，须填补偿说明", shown)

    refused = post(client, f"{page}/token-move", page, move="Task_pay>Task_recheck", reason="已线下拨付")
    assert refused.status_code == 422
    again = html(refused)
    assert "越过“拨付资金”：请写明如何补偿或核对" in again and "已线下拨付" in again
    [chosen] = lxml.html.fromstring(again).xpath('//select[@id="token-move"]//option[@selected]')
    assert chosen.get("value") == "Task_pay>Task_recheck"

    moved = post(client, f"{page}/token-move", page, move="Task_pay>Task_recheck", reason="已线下拨付",
                 compensation_note="柜台现金支付")
    assert moved.status_code == 303
    assert "已跳转" in html(client.get(moved.headers["Location"]))
    assert [t.name for t in cases.case_details(ctx, staff["kezhang"], number).tasks if t.state == "ready"
            and t.stage != "督办"] == ["复核"]


def test_the_plans_past_the_first_page_are_on_the_next(app, ctx, staff, monkeypatch):
    monkeypatch.setattr(web_migrations, "PLAN_ROWS", 2)
    processes.deploy_process(ctx, staff["sheji"], migration_target(), f"{OUTPATIENT_PROCESS}.bpmn")
    made = [case_migration.request_migration(ctx, staff["sheji"], OUTPATIENT_PROCESS, 1, 2, {}, f"改版 {n}").id
            for n in range(3)]
    designer = app.test_client()
    sign_in(designer, "sheji")

    first, second = html(designer.get("/migrations")), html(designer.get("/migrations?page=2"))

    assert [f"迁移计划 {plan}<" in first for plan in made] == [False, True, True]  # the newest first
    assert f"迁移计划 {made[0]}<" in second and f"迁移计划 {made[2]}<" not in second
    assert 'href="/migrations?page=2">下一页' in first


def test_a_plans_open_cases_are_paged_and_run_all_takes_every_page(app, ctx, staff, clock, monkeypatch):
    monkeypatch.setattr(web_migrations, "CASE_ROWS", 2)
    numbers = [accept(ctx, staff, clock, f"2026-11-23 09:{minute}") for minute in (30, 40, 50)]
    processes.deploy_process(ctx, staff["sheji"], migration_target(), f"{OUTPATIENT_PROCESS}.bpmn")
    plan = case_migration.request_migration(ctx, staff["admin"], OUTPATIENT_PROCESS, 1, 2, {}, "审核改名")
    admin = app.test_client()
    sign_in(admin, "admin")
    page = f"/migrations/{plan.id}"

    first, second = (lxml.html.fromstring(html(admin.get(url))) for url in (page, f"{page}?page=2"))

    listed = [tuple(p.xpath('//table[@id="migration-cases"]//td/a/text()')) for p in (first, second)]
    assert listed == [tuple(numbers[:2]), tuple(numbers[2:])]  # the oldest first, the rest on the next page
    assert first.xpath(f'//nav[@class="pager"]/a[@rel="next"]/@href') == [f"{page}?page=2"]
    [run_all] = first.xpath('//button[@name="which"][@value="all"]/text()')
    assert run_all == "迁移全部可迁移的（含其他页）"
    started = post(admin, f"{page}/run", page, which="all")
    shown = lxml.html.fromstring(html(admin.get(started.headers["Location"])))
    assert "已开始在后台迁移全部 3 件在办案件" in shown.xpath('string(//*[@role="status"])')
    assert shown.xpath('string(//*[@id="run-counts"])') == "已迁移 0 件，未迁移 0 件，共 3 件"
    assert shown.xpath('//button[@value="all"]/@disabled') == ["disabled"]  # not twice at once
    assert shown.xpath('//*[@id="migration-run"]/@data-poll') == [f"{page}/run-progress"]
    outbox.work_due(ctx)  # the scheduler's round
    polled = lxml.html.fromstring(html(admin.get(f"{page}/run-progress")))
    assert polled.xpath('string(//*[@id="run-counts"])') == "已迁移 3 件，未迁移 0 件，共 3 件"
    assert polled.xpath('string(//*[@id="run-status"])').startswith("已结束") and not polled.xpath("//@data-poll")
    done = lxml.html.fromstring(html(admin.get(page)))
    assert not done.xpath('//table[@id="migration-cases"]')  # every case migrated: none left on the old version
    assert {cases.case_details(ctx, staff["kezhang"], n).process.version for n in numbers} == {2}
