"""拨付: pays the approved amount to the applicant's bank account."""
from decimal import Decimal

from .registry import HandlerContext, HandlerError, handler


@handler("payment", "待遇拨付", changes_outside=True)
def payment(context: HandlerContext) -> dict:
    amount = Decimal(str(context.require("payable_amount")))
    if amount <= 0:
        raise HandlerError(f"拨付金额应大于0（核定金额 {amount}）")
    account = str(context.require("bank_account"))
    transaction = context.payments.pay(account, amount, context.case_number)
    return {"paid_amount": amount, "payment_reference": transaction}
