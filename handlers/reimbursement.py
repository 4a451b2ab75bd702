"""报销金额核算: the amount an item pays out, by the policy its service task names.

The figures are this installation's defaults (deductible 起付线, ratio 报销比例, cap 封顶线); an agency's own policy
belongs in its catalog once agencies differ.
"""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .registry import HandlerContext, HandlerError, handler

CENT = Decimal("0.01")


@dataclass(frozen=True)
class ExpensePolicy:
    deductible: Decimal
    ratio: Decimal
    cap: Decimal

    def payable(self, expense_total: Decimal, self_pay: Decimal) -> Decimal:
        covered = max(expense_total - self_pay - self.deductible, Decimal(0))
        return min(covered * self.ratio, self.cap).quantize(CENT, ROUND_HALF_UP)


EXPENSE_POLICIES = {
    "outpatient": ExpensePolicy(Decimal("0"), Decimal("0.50"), Decimal("3000")),
    "inpatient": ExpensePolicy(Decimal("800"), Decimal("0.85"), Decimal("300000")),
    "maternity_medical": ExpensePolicy(Decimal("0"), Decimal("1.00"), Decimal("5000")),
    "prenatal": ExpensePolicy(Decimal("0"), Decimal("1.00"), Decimal("1000")),
    "family_planning": ExpensePolicy(Decimal("0"), Decimal("1.00"), Decimal("3000")),
    "assistance_reimbursement": ExpensePolicy(Decimal("0"), Decimal("0.70"), Decimal("50000")),
    "institution_settlement": ExpensePolicy(Decimal("0"), Decimal("1.00"), Decimal("100000000")),
    "pharmacy_settlement": ExpensePolicy(Decimal("0"), Decimal("1.00"), Decimal("100000000")),
}

# 城乡居民个人缴费补贴 by 救助对象 kind: the share of the personal contribution the fund pays.
RESIDENT_CONTRIBUTION = Decimal("400")
ASSISTANCE_SHARES = {"extreme_poor": Decimal("1.00"), "low_income": Decimal("0.70"),
                     "returned_poor": Decimal("0.50")}


def _decimal(context: HandlerContext, name: str, default: str | None = None) -> Decimal:
    value = context.data.get(name, default)
    if value is None or value == "":
        raise HandlerError(f"案件数据缺少 {name}")
    return Decimal(str(value))


def _expense(context: HandlerContext, policy: ExpensePolicy) -> Decimal:
    amount_field = "claimed_amount" if "claimed_amount" in context.data else "expense_total"
    return policy.payable(_decimal(context, amount_field), _decimal(context, "self_pay_total", "0"))


def _maternity_allowance(context: HandlerContext) -> Decimal:
    # Multiply before dividing: a daily rate cut off at Decimal's precision can lose the half cent.
    total = _decimal(context, "average_wage") * _decimal(context, "leave_days") / 30
    return total.quantize(CENT, ROUND_HALF_UP)


def known_insured(context: HandlerContext) -> dict:
    """The platform's record of the applicant; an applicant it does not know cannot be paid or transferred."""
    record = context.platform.query_insured(str(context.applicant.get("id_number", "")))
    if not record["found"]:
        raise HandlerError(f"医保信息平台查无此参保人（{context.applicant.get('id_number') or '无证件号码'}）")
    return record


def _account_withdrawal(context: HandlerContext) -> Decimal:
    return Decimal(known_insured(context)["account_balance"]).quantize(CENT)


def _assistance_subsidy(context: HandlerContext) -> Decimal:
    share = ASSISTANCE_SHARES.get(str(context.require("assistance_kind")))
    if share is None:
        raise HandlerError(f"未知的救助对象类别 {context.data['assistance_kind']}")
    return (RESIDENT_CONTRIBUTION * share).quantize(CENT)


SPECIAL_POLICIES = {"maternity_allowance": _maternity_allowance, "account_withdrawal": _account_withdrawal,
                    "assistance_subsidy": _assistance_subsidy}


@handler("reimbursement_calc", "待遇金额核算")
def reimbursement_calc(context: HandlerContext) -> dict:
    policy_name = context.param("policy")
    if policy_name in SPECIAL_POLICIES:
        amount = SPECIAL_POLICIES[policy_name](context)
    elif policy_name in EXPENSE_POLICIES:
        amount = _expense(context, EXPENSE_POLICIES[policy_name])
    else:
        raise HandlerError(f"未知的核算政策 {policy_name}")
    return {"calculated_amount": amount, "payable_amount": amount}
