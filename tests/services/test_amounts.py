"""Amounts an agency can stand behind, through the service layer on the real item processes: the proposal from the
agency's catalog policy with its calculation, the reviewer's 核定金额 held to the claim, the cap and the proposal
(lower only with a 核减理由), what 拨付 sees and pays, the history and the 办结通知书; and bad amount inputs."""
from __future__ import annotations

import shutil
from decimal import Decimal

import pytest

from workflows.adapters.catalog_files import load_catalog as read_catalog
from workflows.domain.errors import InvalidInput
from workflows.services import cases, catalog, documents, tasks

from services.test_documents import pdf_text
from support.cases import APPLICANT, OUTPATIENT, at
from support.paths import CATALOG_DIR
from support.process_driver import drive

ACCOUNT = "6222020712001234567"
CLAIM = {"expense_total": "860.00", "bank_account": ACCOUNT, "bank_name": "中国工商银行抚顺分行"}
INPATIENT = "002036006002"   # 抚顺 住院费用报销: 起付线 800, 85 %, 封顶 300000
PAYING = sorted((agency.code, item.code) for agency in read_catalog(CATALOG_DIR).agencies.values()
                for item in agency.items.values() if item.payment_policy is not None and item.hall_codes)


def at_review(ctx, staff, clock, data=None, item=OUTPATIENT) -> tuple[str, str]:
    """A case of `item` accepted at 09:30; returns its number and the review task's id."""
    clock.now = at("2026-11-23 09:30")
    progress = cases.open_case(ctx, staff["shouli"], item, APPLICANT, data or CLAIM)
    progress = tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id,
                                   {"decision": "accept", "opinion": "材料齐全"})
    [review] = progress.open_tasks
    return progress.case.number, review.id


def review(ctx, staff, task_id, **values):
    return tasks.complete_task(ctx, staff["shenhe"], task_id, {"decision": "approve", **values})


def refusal(call) -> dict[str, str]:
    with pytest.raises(InvalidInput) as refused:
        call()
    return refused.value.field_errors


def history(ctx, staff, number) -> list[str]:
    return [entry.message for entry in cases.case_details(ctx, staff["shouli"], number).history]


def test_the_reviewer_sees_the_claim_and_the_proposal_with_its_calculation(ctx, staff, clock):
    number, task_id = at_review(ctx, staff, clock)
    payment = tasks.task_details(ctx, staff["shenhe"], task_id).payment
    assert (payment.proposal.claimed, payment.proposal.amount, payment.proposal.cap) == (
        Decimal("860.00"), Decimal("430.00"), Decimal("3000.00"))
    assert payment.proposal.calculation == "(860.00 − 自费 0.00 − 起付线 0.00) × 50% = 430.00，封顶 3000.00"
    assert payment.approval is None
    assert ("系统完成“核算待遇”：核算金额 430.00 元（(860.00 − 自费 0.00 − 起付线 0.00) × 50% = 430.00，封顶 3000.00）"
            in history(ctx, staff, number))


@pytest.mark.parametrize("data, amount, message", [
    (CLAIM, "99999", "核定金额不得超过申报金额 860.00 元"),
    ({**CLAIM, "expense_total": "7000.00"}, "3500.00", "核定金额不得超过封顶线 3000.00 元"),
    (CLAIM, "500.00", "核定金额不得高于按政策核算的 430.00 元（(860.00 − 自费 0.00 − 起付线 0.00) × 50% = 430.00，"
                      "封顶 3000.00）"),
    (CLAIM, "-1", "核定金额（元）不能为负数"),
    (CLAIM, "0", "核定金额（元）应大于0"),
    (CLAIM, "1.234", "核定金额（元）应为金额，最多两位小数"),
])
def test_an_amount_above_the_claim_the_cap_or_the_proposal_is_refused(ctx, staff, clock, data, amount, message):
    number, task_id = at_review(ctx, staff, clock, data)
    assert refusal(lambda: review(ctx, staff, task_id, payable_amount=amount)) == {"payable_amount": message}
    case = cases.case_details(ctx, staff["shouli"], number).case
    assert case.stage == "审核"  # nothing moved


def test_a_lower_amount_needs_a_reason_which_the_history_and_the_payment_task_show(ctx, staff, clock):
    number, task_id = at_review(ctx, staff, clock)
    assert refusal(lambda: review(ctx, staff, task_id, payable_amount="300.00")) == {
        "reduction_reason": "核定金额低于核算金额 430.00 元，请填写核减理由"}
    assert refusal(lambda: review(ctx, staff, task_id, payable_amount="300.00", reduction_reason="  ")) == {
        "reduction_reason": "核定金额低于核算金额 430.00 元，请填写核减理由"}

    progress = review(ctx, staff, task_id, payable_amount="300.00", opinion="票据部分不合规",
                      reduction_reason="门诊票据中 260 元为非定点药店购药")
    assert "李审核完成“审核”：审核通过（票据部分不合规）；核定金额 300.00 元，核减理由：门诊票据中 260 元为非定点药店购药" in (
        history(ctx, staff, number))
    [pay] = progress.open_tasks
    payment = tasks.task_details(ctx, staff["caiwu"], pay.id).payment
    assert (payment.proposal.claimed, payment.approval.amount) == (Decimal("860.00"), Decimal("300.00"))
    assert (payment.approval.by_name, payment.approval.opinion, payment.approval.reason) == (
        "李审核", "票据部分不合规", "门诊票据中 260 元为非定点药店购药")
    assert (payment.bank_name, payment.bank_account) == ("中国工商银行抚顺分行", ACCOUNT)

    closed = tasks.complete_task(ctx, staff["caiwu"], pay.id, {"decision": "pay"}).case
    details = cases.case_details(ctx, staff["shouli"], number)
    [bank] = [call for call in details.external_calls if call.system == "payment"]
    assert bank.request == {"account": ACCOUNT, "amount": "300.00", "reference": number}
    assert (closed.result, closed.data["paid_amount"]) == ("办结", "300.00")
    assert any(message.startswith("系统完成“拨付资金”：拨付 300.00 元（交易号 ")
               for message in history(ctx, staff, number))
    [notice] = [d for d in documents.list_documents(ctx, staff["shouli"], number) if d.kind == "completion_notice"]
    text = pdf_text(documents.document_pdf(ctx, staff["shouli"], notice.id)[1])
    assert "经审核，核定拨付金额人民币300.00元，已拨付至你（单位）的银行账户****4567。" in text


def test_left_as_proposed_the_approval_is_the_proposal_and_is_recorded(ctx, staff, clock):
    number, task_id = at_review(ctx, staff, clock)
    [pay] = review(ctx, staff, task_id, opinion="同意").open_tasks
    assert "李审核完成“审核”：审核通过（同意）；核定金额 430.00 元" in history(ctx, staff, number)
    assert tasks.task_details(ctx, staff["caiwu"], pay.id).payment.approval.amount == Decimal("430.00")
    tasks.complete_task(ctx, staff["caiwu"], pay.id, {"decision": "pay"})
    assert cases.case_details(ctx, staff["shouli"], number).case.data["paid_amount"] == "430.00"


def test_a_rejection_checks_no_amount(ctx, staff, clock):
    number, task_id = at_review(ctx, staff, clock)
    closed = tasks.complete_task(ctx, staff["shenhe"], task_id,
                                 {"decision": "reject", "opinion": "非定点医院", "payable_amount": "99999"}).case
    assert (closed.result, closed.data.get("paid_amount")) == ("审核不通过", None)


def test_nothing_to_pay_is_no_approval(ctx, staff, clock):
    """住院 below its 起付线 of 800: the proposal is 0.00, and no 0.00 payment reaches the bank."""
    number, task_id = at_review(ctx, staff, clock, {**CLAIM, "expense_total": "500.00"}, INPATIENT)
    assert refusal(lambda: review(ctx, staff, task_id)) == {
        "payable_amount": "核定金额为 0，没有可拨付的金额：请审核不通过并说明理由"}


def test_the_agencys_own_policy_figures_change_the_proposal(ctx, staff, clock, tmp_path):
    shutil.copytree(CATALOG_DIR, tmp_path / "catalog")
    path = tmp_path / "catalog" / "agencies" / "210400.yaml"
    text = path.read_text(encoding="utf-8")
    outpatient = "    payment_policy: {deductible: 0, ratio: 0.5, cap: 3000}"
    assert text.count(outpatient) == 1
    path.write_text(text.replace(outpatient, "    payment_policy: {deductible: 100, ratio: 0.6, cap: 400}"),
                    encoding="utf-8")
    catalog.load_catalog(ctx, tmp_path / "catalog")

    number, task_id = at_review(ctx, staff, clock)
    proposal = tasks.task_details(ctx, staff["shenhe"], task_id).payment.proposal
    assert (proposal.amount, proposal.cap) == (Decimal("400.00"), Decimal("400.00"))  # 456.00 capped at 400
    assert proposal.calculation == "(860.00 − 自费 0.00 − 起付线 100.00) × 60% = 456.00，封顶 400.00"
    assert refusal(lambda: review(ctx, staff, task_id, payable_amount="430.00")) == {
        "payable_amount": "核定金额不得超过封顶线 400.00 元"}


@pytest.mark.parametrize("field, value, message", [
    ("expense_total", "-100.00", "医疗费用总额（元）不能为负数"),
    ("expense_total", -100, "医疗费用总额（元）不能为负数"),
    ("expense_total", "1e30", "医疗费用总额（元）应为金额，最多两位小数"),
    ("expense_total", 1e30, "医疗费用总额（元）应为金额，最多两位小数"),
    ("expense_total", "NaN", "医疗费用总额（元）应为金额，最多两位小数"),
    ("expense_total", float("nan"), "医疗费用总额（元）应为金额，最多两位小数"),
    ("expense_total", "Infinity", "医疗费用总额（元）应为金额，最多两位小数"),
    ("expense_total", "1.234", "医疗费用总额（元）应为金额，最多两位小数"),
    ("expense_total", "0", "医疗费用总额（元）应大于0"),
    ("expense_total", "100000000.01", "医疗费用总额（元）不得超过100000000.00"),
    ("expense_total", True, "医疗费用总额（元）应为金额，最多两位小数"),
    ("self_pay_total", "-0.01", "自费金额（元）不能为负数"),
    ("self_pay_total", "860.01", "自费金额（元）不得超过医疗费用总额（元）"),
])
def test_a_bad_amount_is_refused_at_intake_naming_the_field(fake_ctx, fake_staff, field, value, message):
    clerk = fake_staff["shouli"]
    refused = refusal(lambda: cases.open_case(fake_ctx, clerk, OUTPATIENT, APPLICANT, {**CLAIM, field: value}))
    assert refused == {field: message}


def test_zero_self_pay_is_an_amount_and_the_maximum_is_the_installations(ctx, staff):
    assert cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT,
                           {**CLAIM, "self_pay_total": "0"}).case.data["self_pay_total"] == "0"
    ctx.max_amount = Decimal("5000.00")
    assert refusal(lambda: cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT,
                                           {**CLAIM, "expense_total": "5000.01"})) == {
        "expense_total": "医疗费用总额（元）不得超过5000.00"}


@pytest.mark.parametrize("agency_code, item_code", PAYING)
def test_every_paying_item_pays_the_approved_amount_and_says_so(ctx, staff, agency_code, item_code):
    from services.test_item_processes import clerk_for

    clerk = clerk_for(staff, agency_code, item_code)
    case = drive(ctx, clerk, item_code).case
    details = cases.case_details(ctx, clerk, case.number)
    [bank] = [call for call in details.external_calls if call.system == "payment"]
    approved = [entry for entry in details.history if entry.action == "completed" and "核定金额" in entry.message]
    assert len(approved) == 1 and f"核定金额 {case.data['payable_amount']} 元" in approved[0].message
    assert bank.request["amount"] == case.data["paid_amount"] == case.data["payable_amount"]
    assert case.data["amount_proposal"]["calculation"]
    [notice] = [d for d in documents.list_documents(ctx, clerk, case.number) if d.kind == "completion_notice"]
    assert f"核定拨付金额人民币{case.data['paid_amount']}元" in pdf_text(documents.document_pdf(ctx, clerk, notice.id)[1])


def test_every_agency_offering_a_paying_item_has_its_policy():
    assert {code for code, _ in PAYING} == {"210400", "231025"}
    assert len(PAYING) == 17


def test_a_review_held_for_an_after_signer_keeps_to_the_amount_rule(ctx, staff, clock):
    from workflows.services import task_operations as ops

    number, task_id = at_review(ctx, staff, clock)
    request = ops.add_signer(ctx, staff["shenhe"], task_id, "kezhang", "after", "请科长复核")
    assert refusal(lambda: review(ctx, staff, task_id, payable_amount="300.00")) == {
        "reduction_reason": "核定金额低于核算金额 430.00 元，请填写核减理由"}
    held = review(ctx, staff, task_id, payable_amount="300.00", reduction_reason="部分票据不合规")
    assert held.case.stage == "审核"  # held for the signer, nothing approved yet

    assert ops.sign(ctx, staff["kezhang"], request.id, "agree", "同意").progress.case.stage == "拨付"
    assert "李审核完成“审核”：审核通过；核定金额 300.00 元，核减理由：部分票据不合规" in history(ctx, staff, number)
    assert cases.case_details(ctx, staff["shouli"], number).case.data["payable_amount"] == "300.00"


def test_a_designers_amount_bounds_deploy_and_hold_and_a_bad_one_is_refused(ctx, staff):
    from workflows.domain.errors import InvalidProcess
    from workflows.services import processes

    from support.diagrams import outpatient_diagram

    self_pay = '<camunda:formField id="self_pay_total" label="自费金额（元）" type="decimal">'
    bounded = outpatient_diagram(('<camunda:constraint name="min" config="0"/>',
                                  '<camunda:constraint name="min" config="0"/><camunda:constraint name="max" '
                                  'config="500"/>'))
    assert self_pay in bounded.decode("utf-8")
    processes.deploy_process(ctx, staff["sheji"], bounded, "item_002036006001.bpmn")
    assert refusal(lambda: cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT,
                                           {**CLAIM, "self_pay_total": "500.01"})) == {
        "self_pay_total": "自费金额（元）不得超过500"}
    for config in ("-1", "1e3", "abc"):
        with pytest.raises(InvalidProcess, match="self_pay_total 的 min 应为不带符号、最多两位小数的金额"):
            processes.deploy_process(ctx, staff["sheji"], outpatient_diagram(
                ('<camunda:constraint name="min" config="0"/>', f'<camunda:constraint name="min" config="{config}"/>')),
                "item_002036006001.bpmn")


@pytest.mark.parametrize("setting, maximum", [("", Decimal("100000000.00")), ("5000", Decimal("5000")),
                                              (" 12345.67 ", Decimal("12345.67")), ("0", None), ("1e9", None),
                                              ("-5", None)])
def test_the_installations_maximum_amount_is_a_setting(monkeypatch, setting, maximum):
    from workflows.services.context import max_amount_setting

    monkeypatch.setenv("WORKFLOWS_MAX_AMOUNT", setting)
    if maximum is None:
        with pytest.raises(ValueError, match="WORKFLOWS_MAX_AMOUNT 应为大于0、最多两位小数的金额"):
            max_amount_setting()
    else:
        assert max_amount_setting() == maximum
