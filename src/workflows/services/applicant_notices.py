"""Texting the applicant (短信通知申请人): at the command an ApplicantNotified event fixes the text; after the commit
the outbox's worker sends it through the SMS gateway bootstrap.py wired, exactly once (the entry's id is the
gateway's idempotency key), retried with backoff and listed on 后台任务 while it fails. The case page shows the
texts, sent or not yet.

Which moments: each 文书 the applicant is given (受理通知书, 一次性告知书 for 补正, 办结通知书, the 决定书 of a
refusal …, domain/applicant_notices.py), and the process's own 通知申请人 step (`OutboxNotifier`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflows.adapters.sms_gateway import SmsGateway
from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain import privacy as personal_data
from workflows.domain.applicant_notices import SIGNATURE, applicant_phone, notice_text
from workflows.domain.events import SEND_SMS, ApplicantNotified, OutboxEntry
from workflows.domain.model import Case, ExternalCall, User

from . import privacy
from .context import Context

DIAGRAM = "diagram"
SENT_FLAG = "applicant_notified"  # case data: the process's 通知申请人 step texted the applicant


def notify(uow: UnitOfWork, case: Case, kind: str, title: str, number: str) -> None:
    """The text that goes with a 文书 of `kind` just issued, when the applicant gave a phone. A 办结通知书 of a case
    whose process texted the applicant already (its 通知申请人 step) brings no second text."""
    text = notice_text(kind, case.item_name, case.number, title, number)
    phone = applicant_phone(case.applicant or {})
    if text is None or phone is None or (kind == "completion_notice" and (case.data or {}).get(SENT_FLAG)):
        return
    uow.publish(ApplicantNotified(case.id, phone, text, kind))


class OutboxNotifier:
    """The `notifier` a process's handlers get (handlers.gateways.Notifier): a text is an event of the command,
    sent after its commit like the others, never from inside the transaction."""

    def __init__(self, uow: UnitOfWork, case: Case):
        self._uow, self._case = uow, case

    def send(self, phone: str, text: str) -> None:
        self._uow.publish(ApplicantNotified(self._case.id, phone, SIGNATURE + text, DIAGRAM))


def sender(gateway: SmsGateway):
    """The outbox's worker for ApplicantNotified, sending through `gateway`."""
    return lambda ctx, entry: send(ctx, gateway, entry)


def send(ctx: Context, gateway: SmsGateway, entry: OutboxEntry) -> None:
    """Send the text, then record it with the case and mark the entry done together. Sent again after a crash
    between the two, the key makes the gateway deliver it once."""
    event = ApplicantNotified.from_payload(entry.payload)
    message_id = gateway.send(event.phone, event.text, str(entry.id))
    with ctx.uow() as uow:
        uow.external.record(ExternalCall(case_id=event.case_id, system="sms", operation="send",
                                         request={"phone": event.phone, "text": event.text},
                                         response={"message_id": message_id, "idempotency_key": str(entry.id)},
                                         at=ctx.now()))
        uow.outbox.finish(entry.id, ctx.now())
        uow.commit()


@dataclass(frozen=True)
class ApplicantMessage:
    """A text as the case page lists it: the phone masked unless the reader's roles need it."""

    phone: str
    text: str
    created_at: datetime
    sent_at: datetime | None
    status: str  # 已发送, 待发送, 发送失败（将重试）, 发送失败（已停止自动重试）
    error: str | None


def case_messages(ctx: Context, actor: User, case_id: int) -> list[ApplicantMessage]:
    """The texts of a case, oldest first (the caller has checked the case is visible to the actor)."""
    with ctx.uow(write=False) as uow:
        case = uow.cases.get_by_id(case_id)
        shown = privacy.shown_kinds(uow, actor, case)
        entries = uow.outbox.for_case(case_id, SEND_SMS)
    return [_message(entry, shown) for entry in entries]


def _message(entry: OutboxEntry, shown: frozenset[str]) -> ApplicantMessage:
    event = ApplicantNotified.from_payload(entry.payload)
    phone = event.phone if personal_data.PHONE in shown else personal_data.mask(personal_data.PHONE, event.phone)
    return ApplicantMessage(phone, event.text, entry.created_at, entry.done_at, _status(entry), entry.last_error)


def _status(entry: OutboxEntry) -> str:
    if entry.done_at is not None:
        return "已发送"
    if entry.given_up:
        return "发送失败（已停止自动重试）"
    return "发送失败（将重试）" if entry.failed else "待发送"
