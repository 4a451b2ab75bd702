"""The review and 拨付 task pages of a paying case: the reviewer sees the claim, the proposal and its calculation with
the 核定金额 filled in; a refusal keeps what was typed beside the error; 拨付 sees what was approved, by whom, why
and to which account; the new-case page refuses a bad amount naming the field."""
from __future__ import annotations

from workflows.services import cases, tasks

from support.cases import APPLICANT, OUTPATIENT
from support.web import csrf_token, html, sign_in

ACCOUNT = "6222020712001234567"
CLAIM = {"expense_total": "860.00", "bank_account": ACCOUNT}
CALCULATION = "(860.00 − 自费 0.00 − 起付线 0.00) × 50% = 430.00，封顶 3000.00"


def review_task(ctx, staff) -> str:
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, CLAIM)
    [review] = tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"}).open_tasks
    return review.id


def test_the_reviewer_lowers_the_amount_only_with_a_reason_and_payment_sees_it(client, ctx, staff):
    task_id = review_task(ctx, staff)
    sign_in(client, "shenhe")
    page = html(client.get(f"/tasks/{task_id}"))
    assert '<dd class="claimed-amount">860.00 元</dd>' in page
    assert '<dd class="proposed-amount">430.00 元</dd>' in page and CALCULATION in page
    assert 'name="payable_amount" value="430.00"' in page  # the proposal, to approve or lower
    form = {"csrf_token": csrf_token(page), "decision": "approve", "opinion": "票据部分不合规"}

    too_much = client.post(f"/tasks/{task_id}", data={**form, "payable_amount": "99999"})
    assert too_much.status_code == 422
    assert "核定金额不得超过申报金额 860.00 元" in html(too_much) and 'value="99999"' in html(too_much)
    no_reason = client.post(f"/tasks/{task_id}", data={**form, "payable_amount": "300.00"})
    assert no_reason.status_code == 422
    assert "核定金额低于核算金额 430.00 元，请填写核减理由" in html(no_reason)
    assert 'value="300.00"' in html(no_reason) and "票据部分不合规" in html(no_reason)  # nothing typed lost

    done = client.post(f"/tasks/{task_id}", data={**form, "payable_amount": "300.00",
                                                 "reduction_reason": "260 元为非定点药店购药"})
    assert done.status_code == 302
    [pay] = tasks.list_tasks(ctx, staff["caiwu"])
    sign_in(client, "caiwu")
    page = html(client.get(f"/tasks/{pay.id}"))
    for shown in ('<dd class="claimed-amount">860.00 元</dd>', '<dd class="approved-amount"><strong>300.00 元</strong>',
                  '<dd class="review-opinion">票据部分不合规</dd>', '<dd class="reduction-reason">260 元为非定点药店购药</dd>',
                  f'<dd class="bank-account">{ACCOUNT}</dd>', "李审核", "确认拨付"):
        assert shown in page, shown


def test_a_task_of_a_case_that_pays_nothing_shows_no_amounts(client, ctx, staff):
    [task] = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, CLAIM).open_tasks
    sign_in(client, "shouli")
    assert "待遇金额" not in html(client.get(f"/tasks/{task.id}"))  # 受理: nothing calculated yet


def test_the_new_case_page_refuses_a_negative_total_naming_the_field(client):
    sign_in(client, "shouli")
    page = html(client.get(f"/cases/new?item_code={OUTPATIENT}"))
    response = client.post("/cases/new", data={
        "csrf_token": csrf_token(page), "item_code": OUTPATIENT, "applicant.name": APPLICANT["name"],
        "applicant.id_number": APPLICANT["id_number"], "applicant.kind": "自然人", "applicant.phone": APPLICANT["phone"],
        "expense_total": "-100.00", "bank_account": ACCOUNT})
    assert response.status_code == 422
    assert "医疗费用总额（元）不能为负数" in html(response) and 'value="-100.00"' in html(response)
