"""Amounts an agency pays, and what it can stand behind: the policy that proposes them, and the reviewer's 核定金额.

A paying item's 待遇金额核算 proposes an amount from the agency's own policy (catalog `payment_policy`: 起付线,
报销比例, 封顶线) and writes the proposal, with its calculation, into the case. The reviewer approves that amount or
lowers it with a written reason (核减理由); never above the claim (申报金额), the policy's cap (封顶线) or the
proposal itself, which already is the most the policy allows. Whatever way a review is completed, the service asks
`review_errors` first, and `approved_values` puts the approved amount into what the review records.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
_AMOUNT = re.compile(r"\d{1,15}(\.\d{1,2})?")  # yuan, at most two places: no sign, exponent, NaN or Infinity
PROPOSAL = "amount_proposal"      # case data: the proposal of the 待遇金额核算 (Proposal.to_data)
APPROVED = "payable_amount"       # case data and the review's form field: 核定金额, what 拨付 pays
REASON = "reduction_reason"       # the review's form field: 核减理由, required when the approval is below the proposal
REJECTING = ("reject",)           # review decisions that pay nothing: no amount to check


def amount_of(text: str) -> Decimal | None:
    """The amount a text writes (not negative, at most two places), or None if it writes none."""
    return Decimal(text) if _AMOUNT.fullmatch(text) else None


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def yuan(value: Decimal) -> str:
    return f"{value:,.2f}".replace(",", "")


def percent(ratio: Decimal) -> str:
    return f"{(ratio * 100).normalize():f}%"


@dataclass(frozen=True)
class PaymentPolicy:
    """One agency's figures for one item: 起付线 (deductible), 报销比例 (ratio, 0–1) and 封顶线 (cap; None: none)."""

    deductible: Decimal = Decimal(0)
    ratio: Decimal = Decimal(1)
    cap: Decimal | None = None

    def capped(self, amount: Decimal) -> Decimal:
        return min(amount, money(self.cap)) if self.cap is not None else amount

    def cap_note(self) -> str:
        return f"，封顶 {yuan(self.cap)}" if self.cap is not None else ""

    def expense(self, claimed: Decimal, self_pay: Decimal = Decimal(0)) -> Proposal:
        """A medical expense: (claim − 自费 − 起付线) × 比例, at most the cap."""
        covered = max(claimed - self_pay - self.deductible, Decimal(0))
        raw = money(covered * self.ratio)
        calculation = (f"({yuan(claimed)} − 自费 {yuan(self_pay)} − 起付线 {yuan(self.deductible)}) × "
                       f"{percent(self.ratio)} = {yuan(raw)}{self.cap_note()}")
        return Proposal(claimed, self.capped(raw), self.cap, calculation)

    def entitlement(self, amount: Decimal, calculation: str) -> Proposal:
        """A benefit the case's data entitles to (生育津贴, 个人账户余额, 缴费补贴): no claim, at most the cap."""
        amount = money(amount)
        return Proposal(None, self.capped(amount), self.cap, f"{calculation} = {yuan(amount)}{self.cap_note()}")


@dataclass(frozen=True)
class Proposal:
    """What the 待遇金额核算 proposes: the claim (None for an entitlement), the amount, the cap and how."""

    claimed: Decimal | None
    amount: Decimal
    cap: Decimal | None
    calculation: str

    def to_data(self) -> dict:
        return {"claimed": None if self.claimed is None else yuan(self.claimed), "amount": yuan(self.amount),
                "cap": None if self.cap is None else yuan(self.cap), "calculation": self.calculation}

    @classmethod
    def from_data(cls, data) -> Proposal | None:
        """The case's proposal; a case calculated before proposals were kept has its calculated_amount only."""
        stored = data.get(PROPOSAL)
        if isinstance(stored, dict):
            return cls(_optional(stored.get("claimed")), money(stored["amount"]), _optional(stored.get("cap")),
                       str(stored.get("calculation") or ""))
        if data.get("calculated_amount") in (None, ""):
            return None
        claimed = data.get("claimed_amount", data.get("expense_total"))
        return cls(_optional(claimed), money(data["calculated_amount"]), None, "")


def _optional(value) -> Decimal | None:
    return None if value in (None, "") else money(value)


def review_errors(proposal: Proposal | None, values: dict) -> dict[str, str]:
    """The reviewer's 核定金额 against the proposal, per field: never above the claim, the cap or the proposal;
    below the proposal only with a 核减理由; nothing to pay (0) is no approval."""
    if proposal is None or values.get("decision") in REJECTING:
        return {}
    approved = values.get(APPROVED, proposal.amount)
    if approved <= 0:
        return {APPROVED: "核定金额为 0，没有可拨付的金额：请审核不通过并说明理由"}
    if proposal.claimed is not None and approved > proposal.claimed:
        return {APPROVED: f"核定金额不得超过申报金额 {yuan(proposal.claimed)} 元"}
    if proposal.cap is not None and approved > proposal.cap:
        return {APPROVED: f"核定金额不得超过封顶线 {yuan(proposal.cap)} 元"}
    if approved > proposal.amount:
        return {APPROVED: f"核定金额不得高于按政策核算的 {yuan(proposal.amount)} 元（{proposal.calculation}）"
                          if proposal.calculation else f"核定金额不得高于按政策核算的 {yuan(proposal.amount)} 元"}
    if approved < proposal.amount and not str(values.get(REASON) or "").strip():
        return {REASON: f"核定金额低于核算金额 {yuan(proposal.amount)} 元，请填写核减理由"}
    return {}


def approved_values(proposal: Proposal | None, values: dict) -> dict:
    """The review's values with its 核定金额 made explicit: left empty, it is the proposal."""
    if proposal is None or values.get("decision") in REJECTING or values.get(APPROVED) is not None:
        return values
    return {**values, APPROVED: proposal.amount}


def approval_note(values: dict) -> str:
    """What an approval adds to the reviewer's line in the history: the 核定金额 and the 核减理由."""
    if values.get("decision") in REJECTING or values.get(APPROVED) is None:
        return ""
    reason = str(values.get(REASON) or "").strip()
    return f"；核定金额 {yuan(values[APPROVED])} 元" + (f"，核减理由：{reason}" if reason else "")


@dataclass(frozen=True)
class Approval:
    """The reviewer's decision on the amount: 核定金额, by whom, the 办理意见 and the 核减理由."""

    amount: Decimal
    by: str
    by_name: str
    opinion: str | None
    reason: str | None


@dataclass(frozen=True)
class PaymentSummary:
    """What 拨付 is asked to pay and on what grounds: the claim and proposal, the approval, the account."""

    proposal: Proposal
    approval: Approval | None
    bank_name: str | None
    bank_account: str | None
    paid: Decimal | None

    @classmethod
    def of(cls, data, approval: Approval | None) -> PaymentSummary | None:
        proposal = Proposal.from_data(data)
        if proposal is None:
            return None
        paid = data.get("paid_amount")
        return cls(proposal, approval, data.get("bank_name") or None, data.get("bank_account") or None,
                   None if paid in (None, "") else money(paid))


def approval_in(values: dict) -> bool:
    """Whether a completed task's values approved an amount (the review, not its refusal)."""
    return values.get(APPROVED) not in (None, "") and values.get("decision") not in REJECTING
