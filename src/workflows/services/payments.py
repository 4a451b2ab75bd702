"""What a paying case's tasks show of its money: the claim, the proposal and its calculation, the reviewer's
approval (核定金额, 办理意见, 核减理由) and the account 拨付 pays into."""
from __future__ import annotations

from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain.amounts import APPROVED, REASON, Approval, approval_in, money
from workflows.domain.model import Case


def latest_approval(uow: UnitOfWork, case: Case) -> Approval | None:
    """The case's approval of an amount: the latest review that approved one (a review sent back and done again
    counts as it was done last); None before. With the case data, PaymentSummary.of makes the summary."""
    approvals = [entry for entry in uow.history.for_case(case.id)
                 if entry.action == "completed" and approval_in((entry.detail or {}).get("data") or {})]
    return _approval(uow, approvals[-1]) if approvals else None


def _approval(uow: UnitOfWork, entry) -> Approval:
    values = entry.detail["data"]
    user = uow.users.get(entry.actor)
    return Approval(money(values[APPROVED]), entry.actor, user.full_name if user else entry.actor,
                    values.get("opinion") or None, values.get(REASON) or None)
