"""reimbursement_calc: every policy, with figures worked out by hand."""
from decimal import Decimal

import pytest

from handlers import HandlerError
from handlers.reimbursement import ASSISTANCE_SHARES, EXPENSE_POLICIES, reimbursement_calc

ZHANG_WEI = "11010519491231002X"


def calc(context, policy, **data):
    return reimbursement_calc(context(params={"policy": policy}, data=data))


# policy, case data, payable amount: (expense_total - self_pay_total - deductible) × ratio, at most the cap
EXPENSES = [
    # outpatient: deductible 0, 50 %, cap 3000
    ("outpatient", {"expense_total": Decimal("1000.00")}, "500.00"),
    ("outpatient", {"expense_total": Decimal("1000.00"), "self_pay_total": Decimal("200.00")}, "400.00"),
    ("outpatient", {"expense_total": Decimal("100.01")}, "50.01"),                  # 50.005 rounds half up
    ("outpatient", {"expense_total": Decimal("5999.98")}, "2999.99"),               # just under the cap
    ("outpatient", {"expense_total": Decimal("7000.00")}, "3000.00"),               # cap reached
    ("outpatient", {"expense_total": Decimal("300"), "self_pay_total": Decimal("500")}, "0.00"),  # self-pay > total
    # inpatient: deductible 800, 85 %, cap 300000
    ("inpatient", {"expense_total": Decimal("10800.00"), "self_pay_total": Decimal("1000.00")}, "7650.00"),
    ("inpatient", {"expense_total": Decimal("900.10")}, "85.09"),                   # 100.10 × 0.85 = 85.085
    ("inpatient", {"expense_total": Decimal("800.00")}, "0.00"),                    # only the deductible
    ("inpatient", {"expense_total": Decimal("500.00")}, "0.00"),                    # below the deductible
    ("inpatient", {"expense_total": Decimal("400000.00")}, "300000.00"),            # 339320 capped
    # maternity_medical: 100 %, cap 5000
    ("maternity_medical", {"expense_total": Decimal("4321.09")}, "4321.09"),
    ("maternity_medical", {"expense_total": Decimal("6000")}, "5000.00"),
    # prenatal: 100 %, cap 1000
    ("prenatal", {"expense_total": Decimal("800"), "self_pay_total": Decimal("120.50")}, "679.50"),
    ("prenatal", {"expense_total": Decimal("1500")}, "1000.00"),
    # family_planning: 100 %, cap 3000
    ("family_planning", {"expense_total": Decimal("2500")}, "2500.00"),
    ("family_planning", {"expense_total": Decimal("3500")}, "3000.00"),
    # assistance_reimbursement: 70 %, cap 50000
    ("assistance_reimbursement", {"expense_total": Decimal("10000")}, "7000.00"),
    ("assistance_reimbursement", {"expense_total": Decimal("100.15")}, "70.11"),   # 70.105 rounds half up
    ("assistance_reimbursement", {"expense_total": Decimal("80000")}, "50000.00"),  # 56000 capped
    # settlements: the claimed amount, not the expense total, at 100 %
    ("institution_settlement", {"claimed_amount": Decimal("123456.78")}, "123456.78"),
    ("institution_settlement", {"claimed_amount": Decimal("500"), "expense_total": Decimal("9999")}, "500.00"),
    ("pharmacy_settlement", {"claimed_amount": Decimal("8765.43")}, "8765.43"),
    ("pharmacy_settlement", {"claimed_amount": Decimal("200000000")}, "100000000.00"),
]


@pytest.mark.parametrize("policy, data, payable", EXPENSES)
def test_expense_policies(context, calls, policy, data, payable):
    result = calc(context, policy, **data)

    assert result == {"calculated_amount": Decimal(payable), "payable_amount": Decimal(payable)}
    assert str(result["payable_amount"]) == payable  # always to the cent
    assert calls == []


def test_every_expense_policy_is_covered():
    assert {policy for policy, _, _ in EXPENSES} == set(EXPENSE_POLICIES)


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
                  applicant={"name": "张伟", "id_number": ZHANG_WEI})

    assert str(reimbursement_calc(ctx)["payable_amount"]) == amount
    [(system, operation, request, _)] = calls
    assert (system, operation, request) == ("national_platform", "query_insured", {"id_number": ZHANG_WEI})


def test_account_withdrawal_for_someone_the_platform_does_not_know_fails(context):
    ctx = context(params={"policy": "account_withdrawal"}, people={},
                  applicant={"name": "张伟", "id_number": ZHANG_WEI})
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
        reimbursement_calc(context(params=params, data=data))
    assert str(failure.value) == message
    assert calls == []
