"""待遇金额核算: the amount an item proposes to pay, by the formula its service task names (`policy`) and the
figures of the agency's own policy for the item (catalog payment_policy: 起付线, 报销比例, 封顶线), which the
platform hands over in the context. The proposal keeps its calculation, for the reviewer and the history.
"""
from decimal import Decimal

from workflows.domain.amounts import PROPOSAL, PaymentPolicy, Proposal, percent, yuan

from .registry import MISSING_DATA, HandlerContext, HandlerError, handler

# The formulas for a medical expense claim: (claim − 自费 − 起付线) × 比例, at most 封顶线.
EXPENSE_FORMULAS = ("outpatient", "inpatient", "maternity_medical", "prenatal", "family_planning",
                    "assistance_reimbursement", "institution_settlement", "pharmacy_settlement")

# 城乡居民个人缴费补贴 by 救助对象 kind: the share of the personal contribution the fund pays (national rule).
RESIDENT_CONTRIBUTION = Decimal("400")
ASSISTANCE_SHARES = {"extreme_poor": Decimal("1.00"), "low_income": Decimal("0.70"),
                     "returned_poor": Decimal("0.50")}


def _decimal(context: HandlerContext, name: str, default: str | None = None) -> Decimal:
    value = context.data.get(name, default)
    if value is None or value == "":
        raise HandlerError(f"案件数据缺少 {name}", MISSING_DATA)
    return Decimal(str(value))


def _expense(context: HandlerContext, policy: PaymentPolicy) -> Proposal:
    amount_field = "claimed_amount" if "claimed_amount" in context.data else "expense_total"
    return policy.expense(_decimal(context, amount_field), _decimal(context, "self_pay_total", "0"))


def _maternity_allowance(context: HandlerContext, policy: PaymentPolicy) -> Proposal:
    # Multiply before dividing: a daily rate cut off at Decimal's precision can lose the half cent.
    wage, days = _decimal(context, "average_wage"), _decimal(context, "leave_days")
    return policy.entitlement(wage * days / 30, f"月平均工资 {yuan(wage)} × 产假 {days} 天 ÷ 30")


def known_insured(context: HandlerContext) -> dict:
    """The platform's record of the applicant; an applicant it does not know cannot be paid or transferred."""
    record = context.platform.query_insured(str(context.applicant.get("id_number", "")))
    if not record["found"]:
        raise HandlerError(f"医保信息平台查无此参保人（{context.applicant.get('id_number') or '无证件号码'}）")
    return record


def _account_withdrawal(context: HandlerContext, policy: PaymentPolicy) -> Proposal:
    balance = Decimal(known_insured(context)["account_balance"])
    return policy.entitlement(balance, "个人账户余额")


def _assistance_subsidy(context: HandlerContext, policy: PaymentPolicy) -> Proposal:
    share = ASSISTANCE_SHARES.get(str(context.require("assistance_kind")))
    if share is None:
        raise HandlerError(f"未知的救助对象类别 {context.data['assistance_kind']}")
    return policy.entitlement(RESIDENT_CONTRIBUTION * share,
                              f"个人缴费 {yuan(RESIDENT_CONTRIBUTION)} × {percent(share)}")


ENTITLEMENT_FORMULAS = {"maternity_allowance": _maternity_allowance, "account_withdrawal": _account_withdrawal,
                        "assistance_subsidy": _assistance_subsidy}


@handler("reimbursement_calc", "待遇金额核算")
def reimbursement_calc(context: HandlerContext) -> dict:
    formula = context.param("policy")
    if formula not in EXPENSE_FORMULAS and formula not in ENTITLEMENT_FORMULAS:
        raise HandlerError(f"未知的核算政策 {formula}")
    if context.policy is None:
        raise HandlerError(f"本机构未配置“{context.item_name}”的待遇政策（目录 payment_policy：起付线、报销比例、封顶线）")
    proposal = ENTITLEMENT_FORMULAS.get(formula, _expense)(context, context.policy)
    return {"calculated_amount": proposal.amount, "payable_amount": proposal.amount, PROPOSAL: proposal.to_data()}
