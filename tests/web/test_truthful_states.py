"""Truthful states on real item processes: a closed case reads its result (不予受理, 审核不通过 …) on every page, in
the API and in the public list; a paused case reads 暂停 with the days it gives back; 已办 keeps the level a step
had when it was done; the desk has one entry per limit; statistics count an open overdue case; a stage limit runs
from the end of its own stage.

门诊费用报销 (抚顺, 承诺 20 个工作日) accepted Monday 2026-11-23 09:30 is due 2026-12-21 17:00, yellow from
2026-12-15 17:00."""
from __future__ import annotations

from workflows.services import cases, public, statistics, tasks, time_limits
from workflows.services.scheduler import fire_due_timers

from support.cases import APPLICANT, DATA, OUTPATIENT, accept, at
from support.process_driver import PERSON_ID, PERSON_PHONE, drive, proof
from support.web import csrf_token, html, sign_in

DESIGNATION = "002036009001"  # 林口 医疗机构申请定点协议管理: 验收 20 days from 受理, 建立机构信息 5 days from 验收


def row_of(page: str, text: str) -> str:
    """The table row (<tr>…</tr>) of a page that holds `text`."""
    where = page.index(text)
    return page[page.rindex("<tr", 0, where):page.index("</tr>", where)]


def task_of(ctx, user, number):
    [task] = [t for t in tasks.list_tasks(ctx, user) if t.case_number == number]
    return task


def refused_at_acceptance(ctx, staff, clock) -> tuple[str, str]:
    """A 门诊 case the window refuses (不予受理); returns its number and the 受理 task's id."""
    clock.now = at("2026-11-24 10:00")
    number = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.number
    task = task_of(ctx, staff["shouli"], number)
    tasks.complete_task(ctx, staff["shouli"], task.id, {"decision": "refuse", "opinion": "非本统筹区参保人员"})
    return number, task.id


def test_a_refused_case_reads_its_result_on_every_page_in_the_api_and_in_the_public_list(client, ctx, staff,
                                                                                         clock, auth):
    number, task_id = refused_at_acceptance(ctx, staff, clock)
    sign_in(client, "shouli")

    case_page = html(client.get(f"/cases/{number}"))
    assert 'id="case-state">不予受理<' in case_page and "已办结" not in case_page
    task_page = html(client.get(f"/tasks/{task_id}"))
    assert 'id="case-state">不予受理<' in task_page and "已办结" not in task_page
    assert 'class="case-result">不予受理<' in row_of(html(client.get("/inbox?view=done")), f">{number}<")

    headers = auth("shouli")
    answer = client.get(f"/api/cases/{number}", headers=headers).get_json()
    assert (answer["status"], answer["result"], answer["result_label"], answer["status_name"]) == (
        "closed", "不予受理", "不予受理", "不予受理")
    task_answer = client.get(f"/api/tasks/{task_id}", headers=headers).get_json()
    assert (task_answer["case"]["result"], task_answer["case"]["result_label"]) == ("不予受理", "不予受理")

    listed = public.public_cases(ctx, "210400").cases
    assert [(row.applicant, row.item_name, row.status, row.result) for row in listed] == [
        ("张*", "门诊费用报销", "已结束", "不予受理")]
    public_page = html(client.get("/public/cases?agency=210400"))
    assert "<td>门诊费用报销</td>" in public_page and "<td>已结束</td><td>不予受理</td>" in public_page
    assert "张伟" not in public_page
    token = csrf_token(html(client.get("/public/progress")))
    progress = html(client.post("/public/progress", data={"csrf_token": token, "number": number,
                                                          "id_number": PERSON_ID, "phone": PERSON_PHONE}))
    assert 'id="progress-status">不予受理<' in progress and "已办结" not in progress


def test_a_case_refused_at_review_and_a_completed_one_read_as_they_ended(ctx, staff):
    clerk = staff["clerk_210400_01"]  # every role of the hall
    rejected = drive(ctx, clerk, OUTPATIENT, refuse_at=1)  # 受理, then 审核 refuses
    assert rejected.case.result == "审核不通过"
    completed = drive(ctx, clerk, OUTPATIENT)

    assert cases.case_details(ctx, staff["shouli"], rejected.case.number).state.label == "审核不通过"
    assert cases.case_details(ctx, staff["shouli"], completed.case.number).state.label == "已办结"
    assert public.query_progress(ctx, proof(rejected.case.number), None).status == "审核不通过"
    # only a completed case passes through 办结 on the applicant's page
    assert public.query_progress(ctx, proof(rejected.case.number), None).steps[-1].state == "skipped"
    assert public.query_progress(ctx, proof(completed.case.number), None).steps[-1].state == "done"


def test_a_paused_case_reads_paused_with_the_days_it_gives_back_in_the_inbox(client, ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    clock.now = at("2026-11-24 10:00")
    time_limits.pause_clock(ctx, staff["shenhe"], number, "correction", "发票原件需补正")
    clock.now = at("2026-11-26 10:00")  # two working days later (25th, 26th)
    sign_in(client, "shenhe")

    row = row_of(html(client.get("/inbox")), f">{number}<")
    assert "暂停（补正）" in row and "正常" not in row
    assert "已暂停 2 个工作日，恢复计时后时限顺延 2 个工作日" in row
    assert number in html(client.get("/inbox?level=paused"))
    assert number not in html(client.get("/inbox?level=normal"))
    state = cases.case_details(ctx, staff["shenhe"], number).state
    assert (state.label, state.pause.given_back_days) == ("暂停（补正）", 2)
    assert 'id="case-state">暂停（补正）<' in html(client.get(f"/cases/{number}"))

    time_limits.resume_clock(ctx, staff["shenhe"], number)
    assert cases.case_details(ctx, staff["shenhe"], number).state.label == "办理中"


def test_done_tasks_keep_the_level_they_had_when_completed(client, ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    clock.now = at("2026-11-25 10:00")
    tasks.complete_task(ctx, staff["shenhe"], task_of(ctx, staff["shenhe"], number).id, {"decision": "approve"})
    clock.now = at("2026-12-22 09:30")  # 拨付 still open, the case past its due moment: 红牌 now
    fire_due_timers(ctx)

    [review] = tasks.list_tasks(ctx, staff["shenhe"], state="completed")
    assert review.completed_level == "normal"
    sign_in(client, "shenhe")
    done = html(client.get("/inbox?view=done"))
    row = done[done.index("<tbody>"):done.index("</tbody>")]
    assert 'badge-normal" title="办理时的时限状态">正常<' in row and "红牌" not in row
    sign_in(client, "caiwu")
    assert "badge-red" in html(client.get("/inbox"))  # the open step is red today


def test_both_timers_going_off_in_one_pass_give_one_red_entry_worded_as_overdue(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    clock.now = at("2026-12-23 09:00")  # nothing ran since acceptance: the yellow and the red timer are both due
    fire_due_timers(ctx)

    board = statistics.desk_board(ctx, staff["kezhang"])
    assert [(row.escalation.case_number, row.escalation.level) for row in board.escalations] == [(number, "red")]
    assert board.escalations[0].wording == "已于 2026-12-21 17:00 届满，已超期 2 个工作日"
    history = [h.message for h in cases.case_details(ctx, staff["kezhang"], number).history
               if h.action.startswith("escalation_")]
    assert history == [f"红牌超期：门诊费用报销 {number} 的承诺时限已于 2026-12-21 17:00 届满，已超期 2 个工作日"]


def test_a_yellow_card_says_when_the_limit_will_end_and_its_red_card_replaces_it(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    clock.now = at("2026-12-16 09:00")
    fire_due_timers(ctx)
    [yellow] = statistics.desk_board(ctx, staff["kezhang"]).escalations
    assert (yellow.escalation.level, yellow.wording) == ("yellow", "将于 2026-12-21 17:00 届满")
    clock.now = at("2026-12-21 17:30")
    fire_due_timers(ctx)

    [red] = statistics.desk_board(ctx, staff["kezhang"]).escalations
    assert (red.escalation.level, red.wording) == ("red", "已于 2026-12-21 17:00 届满")  # no working day over yet
    messages = [h.message for h in cases.case_details(ctx, staff["kezhang"], number).history
                if h.action.startswith("escalation_")]
    assert messages[0].endswith("的承诺时限将于 2026-12-21 17:00 届满")


def test_an_open_overdue_case_counts_as_late_in_the_on_time_rate(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    clock.now = at("2026-12-22 09:30")

    figures = statistics.hall_statistics(ctx, staff["kezhang"])
    assert (figures.hall_total.total, figures.hall_total.on_time, figures.hall_total.percent) == (1, 0, 0.0)
    assert [row.number for row in figures.overdue] == [number]


def test_a_designation_cases_stage_limit_runs_from_the_end_of_its_own_stage(client, ctx, staff, clock, auth):
    from workflows.services.catalog import get_agency_item

    clerk = staff[f"clerk_{get_agency_item(ctx, '231025', DESIGNATION).hall_codes[0].replace('-', '_')}"]
    clock.now = at("2026-11-23 09:30")
    case = cases.open_case(ctx, clerk, DESIGNATION, *_application(ctx, clerk)).case
    tasks.complete_task(ctx, clerk, task_of(ctx, clerk, case.number).id, {"decision": "accept"})
    headers = auth(clerk.username)
    before = {row["kind"]: row for row in client.get(f"/api/cases/{case.number}", headers=headers)
              .get_json()["deadlines"]}
    assert (before["验收"]["from"], before["验收"]["starts_at"], before["验收"]["due_at"]) == (
        "受理", "2026-11-23T09:30:00+08:00", "2026-12-21T17:00:00+08:00")
    assert (before["建立机构信息"]["started"], before["建立机构信息"]["from"], before["建立机构信息"]["level"]) == (
        False, "验收", "not_started")

    clock.now = at("2026-12-14 10:00")  # 验收 done a week before its own limit
    tasks.complete_task(ctx, clerk, task_of(ctx, clerk, case.number).id, {"decision": "pass"})

    after = {row["kind"]: row for row in client.get(f"/api/cases/{case.number}", headers=headers)
             .get_json()["deadlines"]}
    assert after["验收"]["met_at"] == "2026-12-14T10:00:00+08:00"
    assert (after["建立机构信息"]["starts_at"], after["建立机构信息"]["due_at"], after["建立机构信息"]["level"]) == (
        "2026-12-14T10:00:00+08:00", "2026-12-21T17:00:00+08:00", "normal")  # 5 working days from 验收's end
    sign_in(client, clerk.username, "password123")
    page = html(client.get(f"/cases/{case.number}"))
    assert "自验收结束 2026-12-14 10:00" in row_of(page, 'data-limit="建立机构信息"')
    assert "开通医保服务网络" in page and "签订协议结束后起算" in page


def test_the_item_deadline_plan_chains_each_stage_limit_from_its_own_stage(client):
    plan = {row["kind"]: row for row in client.get(
        f"/api/agencies/231025/items/{DESIGNATION}/deadline?accepted=2026-11-23 09:30").get_json()}

    assert plan["验收"]["due_at"] == "2026-12-21T17:00:00+08:00"
    # from the latest moment 验收 may end on time, not from acceptance
    assert (plan["建立机构信息"]["from"], plan["建立机构信息"]["starts_at"], plan["建立机构信息"]["due_at"]) == (
        "验收", "2026-12-21T17:00:00+08:00", "2026-12-28T17:00:00+08:00")
    assert plan["建立机构信息"]["due_at"] > plan["验收"]["due_at"]
    assert (plan["开通医保服务网络"]["due_at"], plan["开通医保服务网络"]["label"]) == (None, "签订协议结束后 5个工作日")


def _application(ctx, clerk):
    from support.process_driver import _definition, applicant_for, sample_data
    from workflows.services.catalog import get_agency_item

    agency_item = get_agency_item(ctx, clerk.agency_code, DESIGNATION)
    return applicant_for(agency_item), sample_data(_definition(ctx, agency_item.process_key).start_form)
