"""The supervisor's pages through the web app: the desk (督办台) after the scheduler raised 黄牌 and 红牌, acting on
it from its forms, and the statistics page's tables; who may see them, and that a hall sees only its own cases.

Every case is a 抚顺 门诊费用报销 (承诺 20 个工作日) accepted by shouli in hall 210400-01; one accepted on Monday
2026-11-23 09:30 is due 2026-12-21 17:00, yellow from 2026-12-15 17:00."""
from __future__ import annotations

import lxml.html
from sqlalchemy import event

from workflows.entrypoints.web.assets import manifest
from workflows.services import cases, desk, public, statistics, task_operations, tasks, time_limits
from workflows.services.scheduler import fire_due_timers

from support.cases import OUTPATIENT, accept, at, label
from support.process_driver import drive, proof
from support.web import csrf_token, html, sign_in


def rows(page: str, table: str, cells: int | None = None) -> list[list[str]]:
    """The body rows of a table (by id or class) as the texts of their first `cells` cells."""
    document = lxml.html.fromstring(page)
    found = document.xpath(f'//table[@id="{table}" or contains(@class, "{table}")]/tbody/tr')
    return [[" ".join(cell.text_content().split()) for cell in row.xpath("./td")[:cells]] for row in found]


def overdue_desk(ctx, staff, clock) -> tuple[str, str]:
    """A case red since 12-21 17:00 (yellow since 12-16) and one yellow since 12-21 17:00, seen on 12-22 09:00."""
    red = accept(ctx, staff, clock, "2026-11-23 09:30")
    yellow = accept(ctx, staff, clock, "2026-11-27 09:30")  # due 2026-12-25 17:00
    for moment in ("2026-12-16 09:00", "2026-12-22 09:00"):
        clock.now = at(moment)
        fire_due_timers(ctx)
    return red, yellow


def escalation_id(ctx, staff, number, level) -> int:
    return next(e.id for e in desk.list_escalations(ctx, staff["kezhang"])
                if (e.case_number, e.level) == (number, level))


def test_the_supervisor_sees_red_before_yellow_and_the_cases_in_warning_or_overdue(client, ctx, staff, clock):
    red, yellow = overdue_desk(ctx, staff, clock)
    sign_in(client, "kezhang")

    page = html(client.get("/desk"))

    # one entry per case and limit (red's 红牌 replaced its 黄牌), worded as its level says
    assert rows(page, "desk-escalations", 7) == [
        ["红牌", red, "门诊费用报销", "审核", "承诺时限", "已于 2026-12-21 17:00 届满，已超期 1 个工作日",
         "审核：未认领（审核员）"],
        ["黄牌", yellow, "门诊费用报销", "审核", "承诺时限", "将于 2026-12-25 17:00 届满", "审核：未认领（审核员）"]]
    assert rows(page, "desk-cases", 7) == [
        ["红牌", red, "门诊费用报销", "审核", "承诺时限", "2026-12-21 17:00", "审核：未认领（审核员）"],
        ["黄牌", yellow, "门诊费用报销", "审核", "承诺时限", "2026-12-25 17:00", "审核：未认领（审核员）"]]
    assert f'href="/cases/{red}"' in page
    document = lxml.html.fromstring(page)
    [button] = document.xpath(f'//tr[@id="e{escalation_id(ctx, staff, red, "red")}"]//button[@data-opens]')
    assert button.text_content() == "督办" and button.get("data-roles") == "reviewer"
    choices = document.xpath('//template[@data-roles="reviewer"]/option/@value')
    assert "shenhe" in choices and "caiwu" not in choices  # only the hall's reviewers may take the 审核 task
    assert len(document.xpath("//template[@data-roles]")) == 1  # one list for the page, not one per row
    assert len(document.xpath("//select[@name='assignee']")) == 1  # one dialog
    assert "督办台" in page and "统计" in page  # the supervisor's links


def test_the_desk_the_statistics_and_the_inbox_each_read_through_one_connection(client, ctx, staff, clock):
    """A page's parts (its lists, the saved filters, what awaits the user, the counts its template shows) are read
    in one session: one connection from the pool per page, not one per use case it asks (each a ping, a BEGIN and
    a ROLLBACK more)."""
    overdue_desk(ctx, staff, clock)
    engine, taken = ctx.session_factory.kw["bind"], []

    def checkout(*_):
        taken.append(1)

    event.listen(engine, "checkout", checkout)
    try:
        for username, path in (("kezhang", "/desk"), ("kezhang", "/statistics"), ("shenhe", "/inbox"),
                               ("kezhang", "/inbox?all=1")):
            sign_in(client, username)
            taken.clear()
            assert client.get(path).status_code == 200
            assert len(taken) == 1, path
    finally:
        event.remove(engine, "checkout", checkout)


def test_the_supervisor_urges_and_extends_from_the_desk(client, ctx, staff, clock):
    red, yellow = overdue_desk(ctx, staff, clock)
    sign_in(client, "kezhang")
    page = html(client.get("/desk"))
    red_id, yellow_id = escalation_id(ctx, staff, red, "red"), escalation_id(ctx, staff, yellow, "yellow")

    urged = client.post(f"/desk/escalations/{yellow_id}", data={"csrf_token": csrf_token(page), "action": "urge",
                                                                "note": "请今日内办结"})
    assert urged.status_code == 302 and urged.headers["Location"] == "/desk"
    page = html(client.get("/desk"))
    assert f"{yellow}：已催办" in page
    assert [(row[0], row[1]) for row in rows(page, "desk-escalations", 2)] == [("红牌", red)]

    extended = client.post(f"/desk/escalations/{red_id}", data={
        "csrf_token": csrf_token(page), "action": "extend", "note": "外省协查", "days": "5"})
    assert extended.status_code == 302
    page = html(client.get("/desk"))
    assert f"{red}：已延期" in page
    assert rows(page, "desk-escalations", 2) == [["没有待处理的督办事项"]]
    assert label(ctx, staff, red) == "2026-12-28 17:00"  # 5 working days more
    [case_row] = [row for row in rows(page, "desk-cases", 6) if row[1] == red]
    assert case_row[0] == "黄牌" and case_row[5] == "2026-12-28 17:00"  # no longer overdue, still in warning
    history = [entry.message for entry in cases.case_details(ctx, staff["shouli"], yellow).history]
    assert any("孙科长催办" in message and "请今日内办结" in message for message in history)


def test_a_refused_action_keeps_what_was_typed_and_says_why(client, ctx, staff, clock):
    red, _ = overdue_desk(ctx, staff, clock)
    sign_in(client, "kezhang")
    page = html(client.get("/desk"))
    red_id = escalation_id(ctx, staff, red, "red")

    refused = client.post(f"/desk/escalations/{red_id}", data={
        "csrf_token": csrf_token(page), "action": "extend", "note": "外省协查，需再等两周", "days": "99"})

    assert refused.status_code == 422
    page = html(refused)
    document = lxml.html.fromstring(page)
    [dialog] = document.xpath('//dialog[@id="escalation-dialog"][@data-open-on-load]')  # open again
    form = dialog.xpath('.//form')[0]
    assert form.get("action") == f"/desk/escalations/{red_id}"
    assert form.xpath('.//input[@name="back"]/@value') == [  # the page it was on
        "sort=level&page=1&cases_page=1&waiting_page=1&supervisions_page=1&followups_page=1"]
    assert form.xpath('.//textarea[@name="note"]')[0].text_content() == "外省协查，需再等两周"
    assert form.xpath('.//input[@name="days"]/@value') == ["99"]
    assert [e.text_content() for e in form.xpath('.//div[@class="field-error"]')] == ["延期天数应为 1 到 60 个工作日"]
    assert "督办内容有误" in page  # the flash
    assert label(ctx, staff, red) == "2026-12-21 17:00"  # nothing changed
    assert red_id in [e.id for e in desk.list_escalations(ctx, staff["kezhang"])]

    refused = client.post(f"/desk/escalations/{red_id}", data={
        "csrf_token": csrf_token(page), "action": "reassign", "note": "改由财务办理", "assignee": "caiwu"})
    assert refused.status_code == 422
    form = lxml.html.fromstring(html(refused)).xpath('//dialog[@id="escalation-dialog"]//form')[0]
    assert [e.text_content() for e in form.xpath('.//div[@class="field-error"]')] == ["赵财务不具备办理当前环节的岗位"]
    assert form.xpath('.//textarea[@name="note"]')[0].text_content() == "改由财务办理"

    desk.handle_escalation(ctx, staff["kezhang"], red_id, "note", "已知悉")  # someone else, in another tab
    refused = client.post(f"/desk/escalations/{red_id}", data={"csrf_token": csrf_token(page), "action": "urge",
                                                               "note": "催办"})
    assert refused.status_code == 409 and "该督办事项已处理" in html(refused)


def test_the_supervisor_reassigns_from_the_desk(client, ctx, staff, clock):
    red, _ = overdue_desk(ctx, staff, clock)
    sign_in(client, "kezhang")
    page = html(client.get("/desk"))

    done = client.post(f"/desk/escalations/{escalation_id(ctx, staff, red, 'red')}", data={
        "csrf_token": csrf_token(page), "action": "reassign", "note": "请李审核今日办理", "assignee": "shenhe"})

    assert done.status_code == 302
    page = html(client.get("/desk"))
    assert f"{red}：已改派" in page
    assert [row[6] for row in rows(page, "desk-cases", 7) if row[1] == red] == ["审核：李审核"]


def test_the_supervisor_suspends_resumes_and_decides_an_extension_request(client, ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    time_limits.request_extension(ctx, staff["shenhe"], number, 5, "需外省协查")
    clock.now = at("2026-11-30 10:00")
    sign_in(client, "kezhang")
    page = html(client.get("/desk"))
    assert [row[:2] for row in rows(page, "desk-waiting", 2)] == [["正常", number]]  # shown for its request
    assert rows(page, "desk-cases") == [["本大厅没有预警或超期的办件"]]
    assert "申请延期 5 个工作日：需外省协查" in page

    refused = client.post(f"/desk/cases/{number}/suspend", data={"csrf_token": csrf_token(page), "reason": " "})
    assert refused.status_code == 422
    dialog = lxml.html.fromstring(html(refused)).xpath('//dialog[@id="suspend-dialog"][@data-open-on-load]')[0]
    assert dialog.xpath(".//form/@action") == [f"/desk/cases/{number}/suspend"]
    assert [e.text_content() for e in dialog.xpath('.//div[@class="field-error"]')] == ["请填写原因"]

    assert client.post(f"/desk/cases/{number}/suspend", data={"csrf_token": csrf_token(page),
                                                              "reason": "等待司法鉴定"}).status_code == 302
    page = html(client.get("/desk"))
    assert f"{number}：已中止计时" in page and "已中止：等待司法鉴定" in page
    assert label(ctx, staff, number) == "已暂停"

    clock.now = at("2026-12-02 10:00")
    assert client.post(f"/desk/cases/{number}/resume", data={"csrf_token": csrf_token(page)}).status_code == 302
    assert f"{number}：已恢复计时" in html(client.get("/desk"))
    assert label(ctx, staff, number) == "2026-12-23 17:00"  # 12-01 and 12-02 given back

    approved = client.post(f"/desk/cases/{number}/extension", data={"csrf_token": csrf_token(page),
                                                                    "decision": "approve", "note": "同意"})
    assert approved.status_code == 302
    assert f"{number}：已批准延期" in html(client.get("/desk"))
    assert label(ctx, staff, number) == "2026-12-30 17:00"
    assert number not in html(client.get("/desk"))  # nothing left to decide, not in warning


def test_the_desk_pages_and_sorts_and_refuses_a_page_it_does_not_have(client, ctx, staff, clock):
    red, yellow = overdue_desk(ctx, staff, clock)
    sign_in(client, "kezhang")

    page = html(client.get("/desk?sort=due"))
    assert [row[1] for row in rows(page, "desk-escalations", 2)] == [red, yellow]
    assert 'aria-current="true">按到期时间<' in page and 'rel="next"' not in page  # one page: no pager
    assert rows(html(client.get("/desk?page=2")), "desk-escalations") == [["没有待处理的督办事项"]]

    refused = client.get("/desk?page=abc&sort=name")
    assert refused.status_code == 422
    assert "page 页码应为从 1 开始的整数" in html(refused) and "sort 排序应为" in html(refused)

    done = client.post(f"/desk/escalations/{escalation_id(ctx, staff, yellow, 'yellow')}", data={
        "csrf_token": csrf_token(page), "action": "note", "note": "已知悉", "back": "sort=due&page=1&evil=1"})
    assert done.status_code == 302 and done.headers["Location"] == "/desk?sort=due&page=1"  # back where it was


def test_a_clerk_may_not_open_the_supervisors_pages(client, ctx, staff, clock):
    red, _ = overdue_desk(ctx, staff, clock)
    sign_in(client, "shouli")

    for path in ("/desk", "/statistics"):
        response = client.get(path)
        assert response.status_code == 403 and "需要岗位：科室负责人" in html(response)
    page = html(client.get("/inbox"))
    assert 'href="/desk"' not in page and 'href="/statistics"' not in page
    response = client.post(f"/desk/escalations/{escalation_id(ctx, staff, red, 'red')}",
                           data={"csrf_token": csrf_token(page), "action": "urge", "note": "催办"})
    assert response.status_code == 403


def test_another_halls_supervisor_sees_none_of_this_halls_cases(client, ctx, staff, clock):
    red, yellow = overdue_desk(ctx, staff, clock)
    sign_in(client, "kezhang2")

    page = html(client.get("/desk"))
    assert red not in page and yellow not in page
    assert "没有待处理的督办事项" in page and "本大厅没有预警或超期的办件" in page
    statistics = html(client.get("/statistics"))
    assert red not in statistics and rows(statistics, "overdue") == [["本大厅没有超期办件"]]

    refused = client.post(f"/desk/escalations/{escalation_id(ctx, staff, red, 'red')}",
                          data={"csrf_token": csrf_token(page), "action": "urge", "note": "催办"})
    assert refused.status_code == 404 and "督办事项不存在" in html(refused)
    refused = client.post(f"/desk/cases/{red}/suspend", data={"csrf_token": csrf_token(page), "reason": "中止"})
    assert refused.status_code == 404 and "案件不存在" in html(refused)
    assert label(ctx, staff, red) == "2026-12-21 17:00"


def finish(ctx, staff, clock, number, when):
    clock.now = at(when)
    for who, decision in (("shenhe", "approve"), ("caiwu", "pay")):
        [task] = [t for t in tasks.list_tasks(ctx, staff[who]) if t.case_number == number]
        tasks.complete_task(ctx, staff[who], task.id, {"decision": decision})


def test_the_statistics_page_shows_its_figures_in_tables(client, ctx, staff, clock):
    on_time = accept(ctx, staff, clock, "2026-11-23 09:30")
    late = accept(ctx, staff, clock, "2026-11-23 09:40")
    overdue = accept(ctx, staff, clock, "2026-11-24 09:30")  # due 2026-12-22 17:00
    finish(ctx, staff, clock, on_time, "2026-11-26 10:00")
    finish(ctx, staff, clock, late, "2026-12-22 09:00")
    clock.now = at("2026-12-23 09:00")
    sign_in(client, "kezhang")

    page = html(client.get("/statistics"))

    # the open overdue case counts as late: 3 counted, only on_time on time
    assert rows(page, "rates-items") == [["门诊费用报销", "3", "1", "33.3%"]]
    assert ["抚顺市医疗保障事务服务中心", "3", "1", "33.3%"] in rows(page, "rates-halls")
    assert rows(page, "rates-people") == [["赵财务", "2", "1", "50.0%"], ["李审核", "2", "1", "50.0%"],
                                          ["王受理", "3", "3", "100.0%"]]
    assert rows(page, "backlog") == [["审核", "1", "1"]]
    weeks = {row[0]: row[1:] for row in rows(page, "weeks")}
    assert len(weeks) == 12
    assert weeks["2026-11-23"] == ["3", "1", "3", "1"] and weeks["2026-12-21"] == ["0", "1", "0", "1"]
    assert rows(page, "overdue") == [[overdue, "门诊费用报销", "审核", "承诺时限", "2026-12-22 17:00"]]
    document = lxml.html.fromstring(page)
    assert document.xpath('//*[@id="hall-rate"]')[0].text_content() == "33.3%"
    charts = document.xpath('//div[@class="chart"]/@data-chart')
    assert len(charts) == 5 and '"门诊费用报销"' in charts[0] and "33.3" in charts[0]
    assert '"抚顺市医疗保障事务服务中心"' in charts[1] and '"210400-01"' not in charts[1]  # halls by name
    assert document.xpath('//script/@src')[-1] == f"/assets/{manifest()['charts.js']}"  # hashed name


def test_a_desk_with_more_rows_than_a_page_shows_the_count_and_the_rest_on_the_next_page(client, ctx, staff, clock,
                                                                                          monkeypatch):
    red, yellow = overdue_desk(ctx, staff, clock)
    monkeypatch.setattr(statistics, "DESK_ROWS", 1)
    sign_in(client, "kezhang")

    first = html(client.get("/desk"))
    assert "督办事项（2）" in first  # the count of all, not of the page
    assert [row[1] for row in rows(first, "desk-escalations", 2)] == [red]  # red first
    assert [row[1] for row in rows(first, "desk-cases", 2)] == [red]  # the soonest due first
    document = lxml.html.fromstring(first)
    assert document.xpath('//section[@id="escalations"]//a[@rel="next"]/@href') == [
        "/desk?sort=level&page=2&cases_page=1&waiting_page=1&supervisions_page=1&followups_page=1"]

    second = html(client.get("/desk?sort=level&page=2&cases_page=2"))
    assert [row[1] for row in rows(second, "desk-escalations", 2)] == [yellow]
    assert [row[1] for row in rows(second, "desk-cases", 2)] == [yellow]
    assert 'rel="prev"' in second

    for number in (red, yellow):  # two cases waiting for the supervisor: one a page
        assert client.post(f"/desk/cases/{number}/suspend", data={
            "csrf_token": csrf_token(first), "reason": "等待司法鉴定"}).status_code == 302
    waiting = [row[1] for n in (1, 2) for row in rows(html(client.get(f"/desk?waiting_page={n}")), "desk-waiting", 2)]
    assert sorted(waiting) == sorted([red, yellow])


def test_the_desk_pages_the_supervisions_and_the_follow_ups_and_a_visit_recorded_on_page_2_returns_there(
        client, ctx, staff, clock, monkeypatch):
    kezhang, reviews = staff["kezhang"], [accept(ctx, staff, clock, "2026-11-23 09:30") for _ in range(2)]
    for number, when in zip(reviews, ("2026-11-24 09:00", "2026-11-24 10:00")):
        clock.now = at(when)
        [review] = [t for t in tasks.list_tasks(ctx, staff["shenhe"]) if t.case_number == number]
        task_operations.supervise_task(ctx, kezhang, review.id, f"请说明 {number} 的进度")
    rated = []
    for day in ("25", "26"):  # the sooner rated is the sooner due
        clock.now = at("2026-11-24 11:00")
        rated.append(drive(ctx, staff["clerk_210400_01"], OUTPATIENT).case.number)
        clock.now = at(f"2026-11-{day} 10:00")
        public.rate_service(ctx, proof(rated[-1]), None, 2, "等了两个小时")
    monkeypatch.setattr(statistics, "DESK_ROWS", 1)
    sign_in(client, "kezhang")

    first = html(client.get("/desk"))
    assert "督办回复（2 件待回复）" in first and "共 2 件" in first and "差评回访（2）" in first  # all, not the page
    assert [row[0] for row in rows(first, "desk-supervisions", 1)] == [reviews[1]]  # the newest first
    assert [row[1] for row in rows(first, "desk-followups", 2)] == [rated[0]]  # the soonest due first
    document = lxml.html.fromstring(first)
    assert document.xpath('//section[@id="followups"]//a[@rel="next"]/@href') == [
        "/desk?sort=level&page=1&cases_page=1&waiting_page=1&supervisions_page=1&followups_page=2"]

    second = html(client.get("/desk?supervisions_page=2&followups_page=2"))
    assert [row[0] for row in rows(second, "desk-supervisions", 1)] == [reviews[0]]
    assert [row[1] for row in rows(second, "desk-followups", 2)] == [rated[1]]
    [form] = lxml.html.fromstring(second).xpath('//table[contains(@class, "desk-followups")]//form')
    back = "sort=level&page=1&cases_page=1&waiting_page=1&supervisions_page=2&followups_page=2"
    assert form.xpath('.//input[@name="back"]/@value') == [back]
    done = client.post(form.get("action"), data={"csrf_token": csrf_token(second), "visit_note": "已电话致歉",
                                                 "remedy": "高峰期增开窗口", "back": back})
    assert done.status_code == 302 and done.headers["Location"] == f"/desk?{back}"  # back on page 2
    again = html(client.get(done.headers["Location"]))
    assert f"{rated[1]}：已记录差评回访" in again and "差评回访（1）" in again
    assert rows(again, "desk-followups") == [["没有待回访的差评"]]  # page 2 ran out; the rest is a page back
    [prev] = lxml.html.fromstring(again).xpath('//section[@id="followups"]//a[@rel="prev"]/@href')
    assert [row[1] for row in rows(html(client.get(prev)), "desk-followups", 2)] == [rated[0]]
