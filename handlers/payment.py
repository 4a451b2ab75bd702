"""拨付: pays the approved amount to the applicant's bank account."""
from decimal import Decimal

from workflows.domain.identity import bank_account_problem, eligibility_finding

from .registry import HandlerContext, HandlerError, handler


@handler("payment", "待遇拨付", changes_outside=True)
def payment(context: HandlerContext) -> dict:
    _require_eligible(context)
    amount = Decimal(str(context.require("payable_amount")))
    if amount <= 0:
        raise HandlerError(f"拨付金额应大于0（核定金额 {amount}）")
    account = str(context.require("bank_account"))
    if problem := bank_account_problem(account):
        raise HandlerError(f"不予拨付：{problem}")
    transaction = context.payments.pay(account, amount, context.case_number)
    return {"paid_amount": amount, "payment_reference": transaction}


def _require_eligible(context: HandlerContext) -> None:
    """Defence in depth: the diagram's gateway 身份及参保核验 keeps these cases from 拨付; a diagram that lacks it,
    or a case moved past it, still pays no one whose identity was not verified or who is not insured."""
    finding = eligibility_finding(context.data)
    if finding is None and context.data.get("identity_verified") is not True:
        finding = "申请人身份未经核验"  # no 身份核验 ran before 拨付
    if finding:
        raise HandlerError(f"不予拨付：{finding}")
