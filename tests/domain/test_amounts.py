"""The amount rules alone, without a database: the reviewer's 核定金额 against the proposal, and amount fields."""
from decimal import Decimal

import pytest

from workflows.domain.amounts import PaymentPolicy, Proposal, approved_values, review_errors
from workflows.domain.forms import Form, FormField, validate_form

PROPOSAL = PaymentPolicy(Decimal(0), Decimal("0.5"), Decimal(3000)).expense(Decimal("860"))
ALLOWANCE = PaymentPolicy().entitlement(Decimal("7000") * 98 / 30, "月平均工资 7000.00 × 产假 98 天 ÷ 30")
TOTAL = FormField("expense_total", "医疗费用总额（元）", "decimal", True)
SELF_PAY = FormField("self_pay_total", "自费金额（元）", "decimal", minimum=Decimal(0))


@pytest.mark.parametrize("proposal, values, errors", [
    (PROPOSAL, {"decision": "approve", "payable_amount": Decimal("430.00")}, {}),
    (PROPOSAL, {"decision": "approve"}, {}),  # left empty: the proposal
    (PROPOSAL, {"decision": "approve", "payable_amount": Decimal("860.01")},
     {"payable_amount": "核定金额不得超过申报金额 860.00 元"}),
    (PROPOSAL, {"decision": "approve", "payable_amount": Decimal("430.01")},
     {"payable_amount": "核定金额不得高于按政策核算的 430.00 元（(860.00 − 自费 0.00 − 起付线 0.00) × 50% = 430.00，"
                        "封顶 3000.00）"}),
    (PROPOSAL, {"decision": "approve", "payable_amount": Decimal("429.99")},
     {"reduction_reason": "核定金额低于核算金额 430.00 元，请填写核减理由"}),
    (PROPOSAL, {"decision": "approve", "payable_amount": Decimal("429.99"), "reduction_reason": "票据不全"}, {}),
    (PROPOSAL, {"decision": "reject", "payable_amount": Decimal("99999")}, {}),  # a rejection pays nothing
    (ALLOWANCE, {"decision": "approve", "payable_amount": Decimal("22866.68")},
     {"payable_amount": "核定金额不得高于按政策核算的 22866.67 元（月平均工资 7000.00 × 产假 98 天 ÷ 30 = 22866.67）"}),
    (Proposal(Decimal("7000"), Decimal("3000.00"), Decimal("3000"), ""),
     {"decision": "approve", "payable_amount": Decimal("3000.01")}, {"payable_amount": "核定金额不得超过封顶线 3000.00 元"}),
    (Proposal(Decimal("500"), Decimal("0.00"), None, ""), {"decision": "approve"},
     {"payable_amount": "核定金额为 0，没有可拨付的金额：请审核不通过并说明理由"}),
    (None, {"decision": "approve", "payable_amount": Decimal("99999")}, {}),  # no proposal: only the form's bounds
])
def test_the_approved_amount_keeps_to_the_claim_the_cap_and_the_proposal(proposal, values, errors):
    assert review_errors(proposal, values) == errors


def test_an_approval_left_empty_is_the_proposal_and_a_stored_case_without_a_proposal_still_has_one():
    assert approved_values(PROPOSAL, {"decision": "approve"})["payable_amount"] == Decimal("430.00")
    assert "payable_amount" not in approved_values(PROPOSAL, {"decision": "reject"})
    assert Proposal.from_data({"amount_proposal": PROPOSAL.to_data()}) == PROPOSAL
    older = Proposal.from_data({"expense_total": "860.00", "calculated_amount": "430.00"})
    assert (older.claimed, older.amount, older.cap) == (Decimal("860.00"), Decimal("430.00"), None)


@pytest.mark.parametrize("submitted, values, errors", [
    ({"expense_total": "860", "self_pay_total": "0"}, {"expense_total": Decimal("860"), "self_pay_total": 0}, {}),
    ({"expense_total": "860", "self_pay_total": "860.01"}, {"expense_total": Decimal("860"),
                                                            "self_pay_total": Decimal("860.01")},
     {"self_pay_total": "自费金额（元）不得超过医疗费用总额（元）"}),
    ({"expense_total": "-0.01"}, {}, {"expense_total": "医疗费用总额（元）不能为负数"}),
    ({"expense_total": "5000.01"}, {}, {"expense_total": "医疗费用总额（元）不得超过5000.00"}),
    ({"expense_total": " 12.5 "}, {"expense_total": Decimal("12.5")}, {}),
    ({"expense_total": ["1"]}, {}, {"expense_total": "医疗费用总额（元）应为金额，最多两位小数"}),
])
def test_amount_fields_are_positive_with_two_places_within_the_maximum(submitted, values, errors):
    assert validate_form(Form((TOTAL, SELF_PAY)), submitted, Decimal("5000.00")) == (values, errors)
