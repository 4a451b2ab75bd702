"""The clerk's pages through the web app: sign in, the inbox, a task's form, the case page."""
from __future__ import annotations

from workflows.services import cases, tasks

from support.cases import APPLICANT, DATA, OUTPATIENT, accept, at
from support.web import csrf_token, html, sign_in


def test_pages_need_a_signed_in_user_and_a_wrong_password_is_refused(client):
    assert client.get("/inbox").headers["Location"].startswith("/login?next=")
    token = csrf_token(html(client.get("/login")))
    response = client.post("/login", data={"username": "shouli", "password": "wrong", "csrf_token": token})
    assert response.status_code == 401 and "用户名或密码错误" in html(response)
    assert client.post("/login", data={"username": "shouli", "password": "demo12345"}).status_code == 400  # no CSRF


def test_a_clerk_claims_and_completes_a_task_and_a_mistake_loses_nothing(client, ctx, staff):
    sign_in(client, "shouli")
    number = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.number
    inbox = html(client.get("/inbox"))
    assert number in inbox and "未认领" in inbox
    [task] = tasks.list_tasks(ctx, staff["shouli"])

    claimed = client.post("/tasks/claim", data={"task_id": task.id, "csrf_token": csrf_token(inbox)})
    assert "已认领 1 件" in html(client.get(claimed.headers["Location"]))

    page = html(client.get(f"/tasks/{task.id}"))
    assert "张伟" in page and "不予受理" in page and "医院收费票据" in page  # the case, decisions, materials
    refused = client.post(f"/tasks/{task.id}", data={"csrf_token": csrf_token(page), "opinion": "材料齐全但未选择"})
    assert refused.status_code == 422
    assert "请填写" in html(refused) and "材料齐全但未选择" in html(refused)  # the error, and the text kept

    done = client.post(f"/tasks/{task.id}", data={"csrf_token": csrf_token(page), "decision": "accept",
                                                 "opinion": "材料齐全"})
    assert "已办理，当前环节：审核" in html(client.get(done.headers["Location"]))
    assert number in html(client.get("/inbox?view=done"))


def test_a_task_completed_by_someone_else_first_is_reported(client, ctx, staff):
    sign_in(client, "shouli")
    [task] = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).open_tasks
    page = html(client.get(f"/tasks/{task.id}"))
    tasks.complete_task(ctx, staff["shouli"], task.id, {"decision": "accept"})  # another tab, another worker

    response = client.post(f"/tasks/{task.id}", data={"csrf_token": csrf_token(page), "decision": "refuse"})
    assert response.status_code == 409 and "任务已办理或已取消" in html(response)


def test_the_inbox_shows_the_warning_level_and_filters(client, ctx, staff, clock):
    late = accept(ctx, staff, clock, "2026-11-23 09:30")
    clock.now = at("2026-12-16 09:00")  # past the warning moment (12-15 17:00)
    fresh = cases.open_case(ctx, staff["shouli"], OUTPATIENT, {**APPLICANT, "name": "李娜"}, DATA).case.number
    sign_in(client, "shenhe")
    page = html(client.get("/inbox"))
    assert late in page and "badge-yellow" in page
    yellow_only = html(client.get("/inbox?level=yellow"))
    assert late in yellow_only and fresh not in yellow_only
    sign_in(client, "shouli")
    assert fresh in html(client.get("/inbox?search=李娜")) and late not in html(client.get("/inbox?search=李娜"))
    assert fresh in html(client.get("/inbox?level=normal"))


def test_another_halls_clerk_sees_neither_the_task_nor_the_case(client, ctx, staff):
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    sign_in(client, "shouli2")
    assert progress.case.number not in html(client.get("/inbox"))
    assert client.get(f"/tasks/{progress.open_tasks[0].id}").status_code == 404
    assert client.get(f"/cases/{progress.case.number}").status_code == 404


def test_the_case_page_shows_deadlines_history_and_where_the_case_stands(client, ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    sign_in(client, "shouli")
    page = html(client.get(f"/cases/{number}"))
    assert "2026-12-21 17:00" in page and "王受理完成“受理”：受理" in page
    assert 'data-current=\'["Task_review"]\'' in page and '"Task_accept"' in page


def test_a_window_clerk_registers_an_application_and_a_mistake_loses_nothing(client, ctx, staff):
    sign_in(client, "shouli")
    page = html(client.get("/cases/new?item_code=002036006001"))
    assert "医疗费用总额" in page and "登记申请" in page
    form = {"csrf_token": csrf_token(page), "item_code": "002036006001", "applicant.name": "张伟",
            "applicant.id_number": "123", "applicant.kind": "自然人", "bank_account": "6222020712001234567"}
    refused = client.post("/cases/new", data=form)
    assert refused.status_code == 422
    assert "身份证号码应为18位" in html(refused) and "请填写医疗费用总额" in html(refused)
    assert "6222020712001234567" in html(refused)  # what was typed is kept

    registered = client.post("/cases/new", data={**form, "applicant.id_number": APPLICANT["id_number"],
                                                 "expense_total": "860.50"})
    assert registered.status_code == 302 and "/tasks/" in registered.headers["Location"]
    [task] = tasks.list_tasks(ctx, staff["shouli"])
    assert task.name == "受理" and task.applicant_name == "张伟"
    assert client.get("/cases/new").status_code == 200 and "新建办件" in html(client.get("/inbox"))
