"""Truthful states in Chromium: a refused case looks refused (not 已办结) on its page and in 已办, and a case paused
for 补正 looks paused in the reviewer's inbox, with the days it gives back."""
from __future__ import annotations

from playwright.sync_api import expect

from workflows.services import cases, tasks, time_limits

from support.cases import APPLICANT, DATA, OUTPATIENT, accept, at

from .conftest import shot, sign_in

ENDED_COLOUR = "rgb(134, 46, 46)"  # .case-state-ended in app.css
PAUSED_COLOUR = "rgb(233, 236, 239)"  # .badge-paused


def background(locator) -> str:
    return locator.evaluate("element => getComputedStyle(element).backgroundColor")


def test_a_refused_case_and_a_paused_one_look_as_they_are(page, server, ctx, staff, clock):
    clock.now = at("2026-11-24 10:00")
    refused = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    tasks.complete_task(ctx, staff["shouli"], refused.open_tasks[0].id,
                        {"decision": "refuse", "opinion": "非本统筹区参保人员"})
    paused = accept(ctx, staff, clock, "2026-11-24 10:30")
    time_limits.pause_clock(ctx, staff["shenhe"], paused, "correction", "发票原件需补正")
    clock.now = at("2026-11-26 10:00")

    sign_in(page, server, "shouli")
    page.goto(f"{server}/cases/{refused.case.number}")
    state = page.locator("#case-state")
    expect(state).to_have_text("不予受理")
    assert background(state) == ENDED_COLOUR
    expect(page.locator("p.status")).not_to_contain_text("已办结")
    shot(page, "case-refused")
    page.goto(f"{server}/inbox?view=done")
    expect(page.get_by_role("row").filter(has_text=refused.case.number)).to_contain_text("不予受理")

    sign_in(page, server, "shenhe")
    row = page.get_by_role("row").filter(has_text=paused)
    badge = row.locator(".badge-paused").first
    expect(badge).to_have_text("暂停（补正）")
    assert background(badge) == PAUSED_COLOUR
    expect(row).to_contain_text("已暂停 2 个工作日，恢复计时后时限顺延 2 个工作日")
    expect(row).not_to_contain_text("正常")
    shot(page, "inbox-paused")
