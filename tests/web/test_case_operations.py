"""流程操作 in the web app and the REST API, on real 门诊费用报销 cases: 退回 from the task page, 撤回, 撤件 and 终止
from the case page, 中止 shown on the task page and in the inbox, the retry of a failed payment, and the applicant's
撤件 on the public progress page — with the refusals a person would meet."""
from __future__ import annotations

import lxml.html

from handlers.gateways import LocalPaymentGateway
from workflows.services import case_operations, cases, public, tasks

from support.cases import accept
from support.http import error_of, json_of
from support.process_driver import PERSON_ID, PERSON_PHONE
from support.web import csrf_token, html, sign_in


def at_payment(ctx, staff, clock) -> str:
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    [review] = [t for t in tasks.list_tasks(ctx, staff["shenhe"]) if t.case_number == number]
    tasks.complete_task(ctx, staff["shenhe"], review.id, {"decision": "approve"})
    return number


def task_of(ctx, staff, username, number):
    [task] = [t for t in tasks.list_tasks(ctx, staff[username]) if t.case_number == number and t.stage != "督办"]
    return task


def post(client, url: str, page: str, **data):
    """Submit a form of `page` (a path of the app): its CSRF token, and `next` back to it."""
    token = csrf_token(html(client.get(page)))
    return client.post(url, data={"csrf_token": token, "next": page, **data})


def case_of(ctx, staff, number):
    return cases.case_details(ctx, staff["kezhang"], number)


def options(page: str, select: str) -> list[tuple[str, bool]]:
    document = lxml.html.fromstring(page)
    return [(" ".join(o.text_content().split()), o.get("disabled") is not None)
            for o in document.xpath(f'//select[@id="{select}"]/option')]


# --- the clerk's pages -----------------------------------------------------------------------------------------

def test_finance_sends_a_case_back_to_acceptance_from_the_task_page(client, ctx, staff, clock):
    number = at_payment(ctx, staff, clock)
    pay = task_of(ctx, staff, "caiwu", number)
    sign_in(client, "caiwu")
    page = f"/tasks/{pay.id}"

    shown = html(client.get(page))
    assert [name.split("（")[0] for name, _ in options(shown, "return-target")] == ["审核", "受理"]

    refused = post(client, f"/tasks/{pay.id}/return", page, target_task_id="", reason="发票不符")
    assert refused.status_code == 422 and "只能退回到本案已经办理过的环节" in html(refused)
    assert "发票不符" in html(refused)  # what was typed is kept

    targets = {t.name: t.task_id for t in case_operations.return_targets(ctx, staff["caiwu"], pay.id)}
    done = post(client, f"/tasks/{pay.id}/return", page, target_task_id=targets["受理"], reason="发票金额与申请表不符")
    assert done.status_code == 303 and done.headers["Location"].endswith("/inbox")
    assert "已退回到“受理”" in html(client.get("/inbox"))
    assert task_of(ctx, staff, "shouli", number).assignee == "shouli"
    assert "赵财务将案件从“拨付”退回到“受理”：发票金额与申请表不符" in html(client.get(f"/cases/{number}"))


def test_the_acceptor_takes_her_step_back_from_the_case_page_until_the_reviewer_claims(client, ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    sign_in(client, "shouli")
    page = f"/cases/{number}"
    assert "撤回“受理”" in html(client.get(page))
    [accepted] = [t for t in case_of(ctx, staff, number).tasks if t.name == "受理"]

    done = post(client, f"/tasks/{accepted.id}/withdraw", page, reason="受理意见填错")
    reopened = task_of(ctx, staff, "shouli", number)
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/tasks/{reopened.id}")
    assert reopened.assignee == "shouli"

    tasks.complete_task(ctx, staff["shouli"], reopened.id, {"decision": "accept"})
    tasks.claim_task(ctx, staff["shenhe"], task_of(ctx, staff, "shenhe", number).id)
    assert "撤回“受理”" not in html(client.get(page))  # the reviewer has it now
    refused = post(client, f"/tasks/{reopened.id}/withdraw", page, reason="再撤回")
    assert refused.status_code == 409 and "已由李审核认领" in html(refused)


def test_withdrawal_at_the_window_and_termination_close_the_case(client, ctx, staff, clock):
    withdrawn, terminated = (accept(ctx, staff, clock, "2026-11-23 09:30") for _ in range(2))
    sign_in(client, "shouli")
    assert "终止办理" not in html(client.get(f"/cases/{terminated}"))  # a clerk is not offered it …
    assert post(client, f"/cases/{terminated}/termination", f"/cases/{terminated}",
                reason="申请人死亡").status_code == 403  # … nor let do it

    empty = post(client, f"/cases/{withdrawn}/withdrawal", f"/cases/{withdrawn}", reason=" ")
    assert empty.status_code == 422 and "请填写撤件原因" in html(empty)
    done = post(client, f"/cases/{withdrawn}/withdrawal", f"/cases/{withdrawn}", reason="申请人书面申请撤回")
    assert done.status_code == 303
    page = html(client.get(f"/cases/{withdrawn}"))
    assert 'id="case-state">已撤件<' in page and "撤件原因" not in page  # closed: nothing more to do
    again = client.post(f"/cases/{withdrawn}/withdrawal", data={"csrf_token": csrf_token(page), "reason": "再撤"})
    assert again.status_code == 409 and "案件已办结（撤件）" in html(again)

    sign_in(client, "kezhang")
    post(client, f"/cases/{terminated}/termination", f"/cases/{terminated}", reason="申请人死亡，无继承人主张")
    ended = case_of(ctx, staff, terminated)
    assert ended.case.result == "终止"
    assert [t.state for t in ended.tasks if t.name == "审核"] == ["cancelled"]


def test_a_suspended_case_shows_on_the_task_page_and_in_the_inbox_and_cannot_be_completed(client, ctx, staff,
                                                                                          clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    review = task_of(ctx, staff, "shenhe", number)
    sign_in(client, "kezhang")
    post(client, f"/cases/{number}/suspension", f"/cases/{number}", reason="等待司法鉴定结论")
    assert "案件已中止：等待司法鉴定结论" in html(client.get(f"/cases/{number}"))

    sign_in(client, "shenhe")
    inbox = lxml.html.fromstring(html(client.get("/inbox")))
    [row] = [r for r in inbox.xpath("//tbody/tr") if number in r.text_content()]
    assert "已中止" in row.text_content()
    page = f"/tasks/{review.id}"
    assert "案件已中止：等待司法鉴定结论" in html(client.get(page))
    refused = post(client, page, page, decision="approve", opinion="同意")
    assert refused.status_code == 409 and "案件已中止（等待司法鉴定结论），恢复后才能办理" in html(refused)

    sign_in(client, "kezhang")
    post(client, f"/cases/{number}/resumption", f"/cases/{number}")
    sign_in(client, "shenhe")
    assert post(client, page, page, decision="approve").status_code == 302
    assert case_of(ctx, staff, number).case.stage == "拨付"


def test_a_supervisor_retries_a_failed_payment_from_the_case_page(client, ctx, staff, clock, monkeypatch):
    number = at_payment(ctx, staff, clock)
    pay = LocalPaymentGateway.pay

    def bank_down(self, account, amount, reference):
        raise ConnectionError("银行接口连接超时")

    monkeypatch.setattr(LocalPaymentGateway, "pay", bank_down)
    tasks.complete_task(ctx, staff["caiwu"], task_of(ctx, staff, "caiwu", number).id, {"decision": "pay"})
    sign_in(client, "kezhang")
    page = html(client.get(f"/cases/{number}"))
    assert "故障待处理：“拨付资金”出错：银行接口连接超时" in page and "重试出错的步骤" in page

    again = post(client, f"/cases/{number}/retry", f"/cases/{number}", reason="再试一次")
    assert again.status_code == 303 and "重试仍未成功" in html(client.get(f"/cases/{number}"))
    monkeypatch.setattr(LocalPaymentGateway, "pay", pay)
    post(client, f"/cases/{number}/retry", f"/cases/{number}", reason="银行接口已恢复")
    assert case_of(ctx, staff, number).case.result == "办结"


# --- the applicant -----------------------------------------------------------------------------------------------

def test_the_applicant_withdraws_on_the_progress_page(client, ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    token = csrf_token(html(client.get("/public/progress")))
    shown = client.post("/public/progress", data={"csrf_token": token, "number": number, "id_number": PERSON_ID,
                                                  "phone": PERSON_PHONE})
    assert "撤回申请（撤件）" in html(shown)

    def withdraw(id_number, reason):
        return client.post("/public/withdrawal", data={"csrf_token": token, "number": number,
                                                       "id_number": id_number, "phone": PERSON_PHONE, "reason": reason})

    mismatch = withdraw("210402199002021234", "不办了")
    assert mismatch.status_code == 404 and public.NOT_FOUND in html(mismatch)
    empty = withdraw(PERSON_ID, "")
    assert empty.status_code == 422 and "请填写撤件原因" in html(empty)
    done = withdraw(PERSON_ID, "已在异地报销")
    assert done.status_code == 200 and "您的申请已撤回" in html(done) and "已撤件" in html(done)
    assert "撤回申请（撤件）" not in html(done)
    again = withdraw(PERSON_ID, "已在异地报销")
    assert again.status_code == 409 and "案件已办结（撤件）" in html(again)
    listed = html(client.get("/public/cases?agency=210400"))
    assert "已撤件" in listed


# --- the REST API --------------------------------------------------------------------------------------------------

def test_the_api_returns_withdraws_and_refuses_as_the_pages_do(client, ctx, staff, clock, auth):
    number = at_payment(ctx, staff, clock)
    pay = task_of(ctx, staff, "caiwu", number)
    caiwu, shouli, kezhang = auth("caiwu"), auth("shouli"), auth("kezhang")

    targets = json_of(client.get(f"/api/tasks/{pay.id}/return-targets", headers=caiwu))
    assert [(t["name"], t["completed_by"], t["allowed"]) for t in targets] == [("审核", "shenhe", True),
                                                                              ("受理", "shouli", True)]
    error_of(client.get(f"/api/tasks/{pay.id}/return-targets", headers=shouli), 403, "forbidden")
    error = error_of(client.post(f"/api/tasks/{pay.id}/return", headers=caiwu,
                                 json={"target_task_id": targets[0]["task_id"]}), 422, "invalid_input")
    assert "reason" in error["fields"]
    moved = json_of(client.post(f"/api/tasks/{pay.id}/return", headers=caiwu,
                                json={"target_task_id": targets[0]["task_id"], "reason": "核定金额有误"}))
    assert [(t["name"], t["assignee"]) for t in moved["open_tasks"]] == [("审核", "shenhe")]

    [accepted] = [t for t in case_of(ctx, staff, number).tasks if t.name == "受理"]
    error_of(client.post(f"/api/tasks/{accepted.id}/withdraw", headers=caiwu, json={"reason": "x"}), 403,
             "forbidden")
    error_of(client.post(f"/api/tasks/{accepted.id}/withdraw", headers=shouli, json={"reason": "x"}), 409,
             "conflict")  # the 审核 is 李审核's again
    error_of(client.post(f"/api/cases/{number}/retry", headers=kezhang, json={"reason": "x"}), 409, "conflict")
    error_of(client.post(f"/api/cases/{number}/termination", headers=shouli, json={"reason": "x"}), 403,
             "forbidden")

    assert client.post(f"/api/cases/{number}/pause", headers=kezhang,
                       json={"kind": "suspension", "reason": "等待鉴定"}).status_code == 200
    review = task_of(ctx, staff, "shenhe", number)
    refused = error_of(client.post(f"/api/tasks/{review.id}/complete", headers=auth("shenhe"),
                                   json={"data": {"decision": "approve"}}), 409, "conflict")
    assert refused["message"].startswith("案件已中止")

    closed = json_of(client.post(f"/api/cases/{number}/withdrawal", headers=shouli,
                                 json={"reason": "申请人书面申请撤回"}))
    assert (closed["status"], closed["result"], closed["open_tasks"]) == ("closed", "撤件", [])
    error_of(client.post(f"/api/cases/{number}/withdrawal", headers=shouli, json={"reason": "再撤"}), 409,
             "conflict")
