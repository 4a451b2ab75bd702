"""Outside systems the handlers talk to, and the local stand-ins this installation runs with.

The `Local…` classes do not reach any outside system: each records what it was asked, through the `record`
callback the engine gives it (stored with the case), and answers as the real system would in the normal case.
Replace them with real adapters by implementing the same Protocol.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Callable, Mapping, Protocol

Record = Callable[[str, str, dict, dict], None]  # (system, operation, request, response)
PersonLookup = Callable[[str], "Mapping[str, object] | None"]


class NationalPlatform(Protocol):
    def query_insured(self, id_number: str) -> dict: ...
    def register(self, operation: str, payload: dict) -> str: ...
    def file_remote_care(self, payload: dict) -> str: ...
    def open_network(self, payload: dict) -> str: ...
    def transfer_funds(self, payload: dict) -> str: ...


class PaymentGateway(Protocol):
    def pay(self, account: str, amount: Decimal, reference: str) -> str: ...


class Notifier(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class EscalationDesk(Protocol):
    """The supervisors' desk of the case's agency (our own system, not an outside one)."""

    def raise_escalation(self, level: str, limit: str, stage: str | None) -> bool:
        """Record a 黄牌/红牌 for the case and notify its handler and the hall's supervisors; False if one was
        already raised for this limit and level."""


class LocalNationalPlatform:
    """Stand-in for the national 医保 information platform: answers from the local people table."""

    system = "national_platform"

    def __init__(self, lookup: PersonLookup, record: Record):
        self._lookup = lookup
        self._record = record

    def query_insured(self, id_number: str) -> dict:
        person = self._lookup(id_number)
        answer = {"found": person is not None, "status": "未参保", "arrears": "0.00", "account_balance": "0.00"}
        if person:
            answer.update(person)
        self._record(self.system, "query_insured", {"id_number": id_number}, answer)
        return answer

    def register(self, operation: str, payload: dict) -> str:
        return self._reference("register", "DJ", {"operation": operation, **payload})

    def file_remote_care(self, payload: dict) -> str:
        return self._reference("file_remote_care", "BA", payload)

    def open_network(self, payload: dict) -> str:
        return self._reference("open_network", "DD", payload)

    def transfer_funds(self, payload: dict) -> str:
        return self._reference("transfer_funds", "ZY", payload)

    def _reference(self, operation: str, prefix: str, payload: dict) -> str:
        reference = f"{prefix}{payload.get('case_number', '')}"
        self._record(self.system, operation, payload, {"reference": reference})
        return reference


class LocalPaymentGateway:
    """Stand-in for the bank payment interface: records the payment order and confirms it."""

    system = "payment"

    def __init__(self, record: Record):
        self._record = record

    def pay(self, account: str, amount: Decimal, reference: str) -> str:
        transaction = f"ZF{reference}"
        self._record(self.system, "pay", {"account": account, "amount": str(amount), "reference": reference},
                     {"transaction": transaction, "status": "已受理"})
        return transaction


class LocalSmsNotifier:
    """Stand-in for the SMS service: records each text instead of sending it."""

    system = "sms"

    def __init__(self, record: Record):
        self._record = record

    def send(self, phone: str, text: str) -> None:
        self._record(self.system, "send", {"phone": phone, "text": text}, {"status": "recorded"})
