"""reimbursement_calc: every policy, with figures worked out by hand."""
from decimal import Decimal

import pytest

from handlers import HandlerError
from handlers.reimbursement import ASSISTANCE_SHARES, EXPENSE_FORMULAS, reimbursement_calc
from workflows.domain.amounts import PaymentPolicy

ZHANG_WEI = "11010519491231002X"
FULL = PaymentPolicy()  # no deductible, 100 %, no cap


def policy(deductible="0", ratio="1", cap=None) -> PaymentPolicy:
    return PaymentPolicy(Decimal(deductible), Decimal(ratio), None if cap is None else Decimal(cap))


def calc(context, formula, figures=FULL, **data):
    return reimbursement_calc(context(params={"policy": formula}, data=data, policy=figures))


# formula, the agency's figures, case data, payable amount: (claim − 自费 − 起付线) × 比例, at most the cap
OUTPATIENT, INPATIENT = policy("0", "0.50", "3000"), policy("800", "0.85", "300000")
EXPENSES = [
    ("outpatient", OUTPATIENT, {"expense_total": Decimal("1000.00")}, "500.00"),
    ("outpatient", OUTPATIENT, {"expense_total": Decimal("1000.00"), "self_pay_total": Decimal("200.00")}, "400.00"),
    ("outpatient", OUTPATIENT, {"expense_total": Decimal("100.01")}, "50.01"),       # 50.005 rounds half up
    ("outpatient", OUTPATIENT, {"expense_total": Decimal("5999.98")}, "2999.99"),    # just under the cap
    ("outpatient", OUTPATIENT, {"expense_total": Decimal("7000.00")}, "3000.00"),    # cap reached
    ("outpatient", OUTPATIENT, {"expense_total": Decimal("300"), "self_pay_total": Decimal("500")}, "0.00"),
    ("outpatient", policy("100", "0.60", "2000"), {"expense_total": Decimal("1000.00")}, "540.00"),  # another agency's
    ("inpatient", INPATIENT, {"expense_total": Decimal("10800.00"), "self_pay_total": Decimal("1000.00")}, "7650.00"),
    ("inpatient", INPATIENT, {"expense_total": Decimal("900.10")}, "85.09"),        # 100.10 × 0.85 = 85.085
    ("inpatient", INPATIENT, {"expense_total": Decimal("800.00")}, "0.00"),         # only the deductible
    ("inpatient", INPATIENT, {"expense_total": Decimal("500.00")}, "0.00"),         # below the deductible
    ("inpatient", INPATIENT, {"expense_total": Decimal("400000.00")}, "300000.00"),  # 339320 capped
    ("maternity_medical", policy(cap="5000"), {"expense_total": Decimal("4321.09")}, "4321.09"),
    ("maternity_medical", policy(cap="5000"), {"expense_total": Decimal("6000")}, "5000.00"),
    ("prenatal", policy(cap="1000"), {"expense_total": Decimal("800"), "self_pay_total": Decimal("120.50")}, "679.50"),
    ("prenatal", policy(cap="1000"), {"expense_total": Decimal("1500")}, "1000.00"),
    ("family_planning", policy(cap="3000"), {"expense_total": Decimal("3500")}, "3000.00"),
    ("assistance_reimbursement", policy("0", "0.7", "50000"), {"expense_total": Decimal("100.15")}, "70.11"),
    ("assistance_reimbursement", policy("0", "0.7", "50000"), {"expense_total": Decimal("80000")}, "50000.00"),
    # settlements: the claimed amount, not the expense total, at 100 %, no cap
    ("institution_settlement", FULL, {"claimed_amount": Decimal("123456.78")}, "123456.78"),
    ("institution_settlement", FULL, {"claimed_amount": Decimal("500"), "expense_total": Decimal("9999")}, "500.00"),
    ("pharmacy_settlement", FULL, {"claimed_amount": Decimal("200000000")}, "200000000.00"),
]


@pytest.mark.parametrize("formula, figures, data, payable", EXPENSES)
def test_expense_policies(context, calls, formula, figures, data, payable):
    result = calc(context, formula, figures, **data)

    assert (result["calculated_amount"], result["payable_amount"]) == (Decimal(payable), Decimal(payable))
    assert str(result["payable_amount"]) == payable  # always to the cent
    assert result["amount_proposal"]["amount"] == payable
    assert calls == []


def test_every_expense_formula_is_covered():
    assert {formula for formula, _, _, _ in EXPENSES} == set(EXPENSE_FORMULAS)


def test_the_proposal_shows_the_claim_the_cap_and_its_calculation(context):
    proposal = calc(context, "outpatient", OUTPATIENT, expense_total=Decimal("860.00"))["amount_proposal"]
    assert proposal == {"claimed": "860.00", "amount": "430.00", "cap": "3000.00",
                        "calculation": "(860.00 − 自费 0.00 − 起付线 0.00) × 50% = 430.00，封顶 3000.00"}
    capped = calc(context, "inpatient", INPATIENT, expense_total=Decimal("400000"), self_pay_total=Decimal("0"))
    assert capped["amount_proposal"]["calculation"] == (
        "(400000.00 − 自费 0.00 − 起付线 800.00) × 85% = 339320.00，封顶 300000.00")


def test_without_the_agencys_policy_nothing_is_proposed(context):
    with pytest.raises(HandlerError, match="本机构未配置“门诊费用报销”的待遇政策"):
        reimbursement_calc(context(params={"policy": "outpatient"}, data={"expense_total": Decimal("860")}))


def test_an_entitlement_is_capped_by_the_agencys_policy(context):
    result = calc(context, "maternity_allowance", policy(cap="20000"), average_wage=Decimal("7000"), leave_days=98)
    assert result["payable_amount"] == Decimal("20000.00")
    assert result["amount_proposal"] == {"claimed": None, "amount": "20000.00", "cap": "20000.00",
                                         "calculation": "月平均工资 7000.00 × 产假 98 天 ÷ 30 = 22866.67，封顶 20000.00"}


@pytest.mark.parametrize("wage, days, allowance", [
    ("6000", 158, "31600.00"),      # 6000 / 30 × 158
    ("7000", 98, "22866.67"),       # 22866.666…
    ("4500.50", 128, "19202.13"),   # 19202.1333…
    ("6000.01", 15, "3000.01"),     # 3000.005 rounds half up
    ("6000", 0, "0.00"),
    ("3000.25", 21, "2100.18"),     # 2100.175 exactly: dividing first would lose the half cent
])
def test_maternity_allowance(context, wage, days, allowance):
    result = calc(context, "maternity_allowance", average_wage=Decimal(wage), leave_days=days)
    assert str(result["payable_amount"]) == allowance
    assert result["calculated_amount"] == result["payable_amount"]


@pytest.mark.parametrize("people, amount", [
    ({ZHANG_WEI: {"name": "张伟", "status": "参保缴费", "arrears": "0.00", "account_balance": "3260.45"}}, "3260.45"),
    ({ZHANG_WEI: {"name": "张伟", "status": "参保缴费", "arrears": "0.00", "account_balance": "812.3"}}, "812.30"),
])
def test_account_withdrawal_pays_the_platform_balance(context, calls, people, amount):
    ctx = context(params={"policy": "account_withdrawal"}, people=people,
                  applicant={"name": "张伟", "id_number": ZHANG_WEI}, policy=FULL)

    assert str(reimbursement_calc(ctx)["payable_amount"]) == amount
    [(system, operation, request, _)] = calls
    assert (system, operation, request) == ("national_platform", "query_insured", {"id_number": ZHANG_WEI})


def test_account_withdrawal_for_someone_the_platform_does_not_know_fails(context):
    ctx = context(params={"policy": "account_withdrawal"}, people={},
                  applicant={"name": "张伟", "id_number": ZHANG_WEI}, policy=FULL)
    with pytest.raises(HandlerError, match="查无此参保人"):
        reimbursement_calc(ctx)


@pytest.mark.parametrize("kind, subsidy", [("extreme_poor", "400.00"), ("low_income", "280.00"),
                                           ("returned_poor", "200.00")])
def test_assistance_subsidy_per_kind(context, kind, subsidy):
    assert str(calc(context, "assistance_subsidy", assistance_kind=kind)["payable_amount"]) == subsidy


def test_every_assistance_kind_is_covered():
    assert set(ASSISTANCE_SHARES) == {"extreme_poor", "low_income", "returned_poor"}


@pytest.mark.parametrize("params, data, message", [
    ({"policy": "assistance_subsidy"}, {"assistance_kind": "veteran"}, "未知的救助对象类别 veteran"),
    ({"policy": "assistance_subsidy"}, {}, "案件数据缺少 assistance_kind"),
    ({"policy": "dental"}, {"expense_total": Decimal("100")}, "未知的核算政策 dental"),
    ({}, {"expense_total": Decimal("100")}, "服务任务缺少参数 policy"),
    ({"policy": "outpatient"}, {}, "案件数据缺少 expense_total"),
    ({"policy": "outpatient"}, {"expense_total": ""}, "案件数据缺少 expense_total"),
    ({"policy": "outpatient"}, {"expense_total": None}, "案件数据缺少 expense_total"),
    ({"policy": "institution_settlement"}, {"claimed_amount": None}, "案件数据缺少 claimed_amount"),
    ({"policy": "maternity_allowance"}, {"leave_days": 98}, "案件数据缺少 average_wage"),
    ({"policy": "maternity_allowance"}, {"average_wage": Decimal("6000")}, "案件数据缺少 leave_days"),
])
def test_what_cannot_be_calculated_fails_in_chinese(context, calls, params, data, message):
    with pytest.raises(HandlerError) as failure:
        reimbursement_calc(context(params=params, data=data, policy=FULL))
    assert str(failure.value) == message
    assert calls == []
