"""转移接续 between agencies: the messages (联系函, 信息表) one agency's case throws and another agency's case
catches, correlated by the number of the case that began the exchange (the receiving agency's, 转入地).

A thrown message goes into the outbox (agency_messages) in the thrower's own transaction (thrown_messages.py) and
is delivered right after that commits (its AgencyMessageThrown event), each delivery in a transaction of its own;
the scheduler delivers what was left pending (a crash in between). A 联系函 starts a case of the item's partner process (catalog `partner_process`) at the sending
agency (转出地); that case's 信息表 goes back to the waiting receiving case. A delivery that fails stays failed,
with its reason in the message and in the source case's history, until someone retries it.

A message for an agency this installation does not have is outbound: a relay lists it, carries it to the other
installation's POST /api/agency-messages (which routes it the same way, once per message id) and marks it sent.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain import pages
from workflows.domain.applicants import PERSON, id_number_problem
from workflows.domain.case_states import case_state
from workflows.domain.catalog import Agency, AgencyItem, Catalog, StageLimit
from workflows.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, WorkflowsError
from workflows.domain.events import AgencyMessageThrown, IncidentRaised
from workflows.domain.model import (MESSAGE_DELIVERED, MESSAGE_FAILED, MESSAGE_OUTBOUND, MESSAGE_PENDING,
                                    MESSAGE_SENT, MESSAGE_STATUS_LABELS, AgencyMessage, Case,
                                    ProcessVersion, User)

from .access import require_case_visible, require_role
from .context import Context
from .history import SYSTEM, add_history
from .new_cases import new_case
from .progress import CaseCommand
from .retries import retried
from .thrown_messages import identity_of

log = logging.getLogger(__name__)
STATUSES = tuple(MESSAGE_STATUS_LABELS)
_AGENCY_CODE_LENGTH, _MAX_NAME, _MAX_CORRELATION = 6, 100, 40


@dataclass(frozen=True)
class MessageRecord:
    """A message with the cases at either end (number, agency_code, stage, status), where they are ours."""

    message: AgencyMessage
    source: dict | None
    target: dict | None


@dataclass(frozen=True)
class LinkedCase:
    """The case at the other end of a case's exchange: none yet (number None) while the message that would open it
    is undelivered; its status unknown when it is in another installation (not `local`)."""

    number: str | None
    agency_code: str
    agency_name: str
    status: str | None
    stage: str | None
    local: bool = True


@dataclass(frozen=True)
class CaseExchange:
    linked: list[LinkedCase]
    messages: list[MessageRecord]
    agency_names: dict[str, str]  # code -> short name, of the agencies in the messages


# --- delivering --------------------------------------------------------------------------------------------------

def deliver_after_commit(ctx: Context, event: AgencyMessageThrown) -> None:
    """The bus's follow-up of a thrown message (bootstrap.py): delivered right after its thrower committed."""
    message_id = event.message_id
    try:
        deliver(ctx, message_id)
    except Exception:  # the thrower's command is done: the scheduler delivers the message later
        log.exception("message %s stays pending for the scheduler", message_id)


def deliver(ctx: Context, message_id: str) -> AgencyMessage | None:
    """Deliver a pending (or failed) message in a transaction of its own; a failure is recorded, not raised."""
    try:
        return _deliver_now(ctx, message_id)
    except Exception as error:
        if not isinstance(error, WorkflowsError):
            log.exception("delivering message %s failed", message_id)
        return _record_failure(ctx, message_id, str(error) or type(error).__name__)


@retried
def _deliver_now(ctx: Context, message_id: str) -> AgencyMessage | None:
    with ctx.uow() as uow:
        message = uow.agency_messages.get(message_id, lock=True)
        if message is None or message.status not in (MESSAGE_PENDING, MESSAGE_FAILED):
            return message  # delivered meanwhile: right after the commit, or by another scheduler
        _deliver(uow, ctx, message)
        uow.commit()
        return message


def deliver_pending(ctx: Context, batch: int = 50) -> int:
    """The scheduler's round: deliver what is still pending (its thrower's process stopped before delivering)."""
    with ctx.uow(write=False) as uow:
        pending = uow.agency_messages.pending_ids(batch)
    return sum(1 for message_id in pending
               if getattr(deliver(ctx, message_id), "status", None) == MESSAGE_DELIVERED)


@retried
def _record_failure(ctx: Context, message_id: str, error: str) -> AgencyMessage | None:
    with ctx.uow() as uow:
        message = uow.agency_messages.get(message_id, lock=True)
        if message is None or message.status not in (MESSAGE_PENDING, MESSAGE_FAILED):
            return message
        first_failure = message.status != MESSAGE_FAILED
        message.status, message.error = MESSAGE_FAILED, error
        source = uow.cases.get_by_id(message.source_case_id) if message.source_case_id else None
        if source is not None and first_failure:  # a new incident: the supervisors are told after the commit
            uow.publish(IncidentRaised(source.id, f"“{message.name}”送达", error[:500]))
        if source is not None:
            add_history(uow, source, ctx.now(), SYSTEM, "message_failed",
                        f"“{message.name}”送达{_agency_name(ctx.catalog(uow), message.to_agency)}失败：{error}",
                        detail={"message": message.id})
        uow.commit()
        return message


def _deliver(uow: UnitOfWork, ctx: Context, message: AgencyMessage) -> None:
    """Route a message to its case in this unit: the case of its exchange waiting for it, or a new case of the
    agency's partner process that starts on it. Raises NotFound or Conflict when neither is there."""
    catalog = ctx.catalog(uow)
    agency = catalog.agency(message.to_agency)
    if agency is None:
        raise NotFound(f"本系统没有经办机构 {message.to_agency}")
    target = _exchange_case(uow, message)
    if target is None:
        target = _start_partner_case(uow, ctx, agency, message)
    else:
        _deliver_into(uow, ctx, target, message)
    message.status, message.target_case_id, message.error = MESSAGE_DELIVERED, target.id, None
    message.delivered_at = ctx.now()
    source = uow.cases.get_by_id(message.source_case_id) if message.source_case_id else None
    if source is not None:
        add_history(uow, source, message.delivered_at, SYSTEM, "message_delivered",
                    f"“{message.name}”已送达{agency.short_name}：办件 {target.number}", detail={"message": message.id})


def _exchange_case(uow: UnitOfWork, message: AgencyMessage) -> Case | None:
    """The case of the message's exchange at its agency, locked for the delivery as it is read: the one that began
    it (its number is the correlation), or the partner's case an earlier message of the exchange started there."""
    case = uow.cases.get(message.correlation, message.to_agency, lock=True)
    if case is not None and case.id != message.source_case_id:
        return case
    case_id = uow.agency_messages.partner_case_id(message.correlation, message.to_agency)
    return uow.cases.get_by_id(case_id, lock=True) if case_id else None


def _deliver_into(uow: UnitOfWork, ctx: Context, case: Case, message: AgencyMessage) -> None:
    command = CaseCommand(uow, ctx, case)
    run = command.resume()
    run.deliver_message(message.name, message.payload)  # Conflict when the case does not wait for it
    add_history(uow, case, ctx.now(), SYSTEM, "message_received",
                f"收到{_agency_name(ctx.catalog(uow), message.from_agency)}的“{message.name}”",
                detail={"message": message.id, "payload": message.payload})
    command.record(run)


def _start_partner_case(uow: UnitOfWork, ctx: Context, agency: Agency, message: AgencyMessage) -> Case:
    """A case of the agency's partner process, started by the message at the hall that handles the item there;
    its clock starts now (it has no 受理), with the stage limit it owes from the message."""
    agency_item, version = _partner_item(uow, ctx, agency, message)
    if not agency_item.hall_codes:
        raise NotFound(f"{agency.name}没有办理“{agency_item.name}”的大厅")
    definition = ctx.definition(uow, version.id)
    at, today = ctx.now(), ctx.today()
    applicant = _checked_identity(message.payload.get("applicant"), today)
    case = new_case(uow, agency.code, today, hall_code=agency_item.hall_codes[0], item_code=agency_item.code,
                    item_name=definition.name, process_version_id=version.id, stage=message.name,
                    applicant=applicant, opened_by=SYSTEM, opened_at=at)
    uow.flush()
    message.target_case_id = case.id  # before the case runs: an answer it throws at once finds its exchange
    add_history(uow, case, at, SYSTEM, "opened",
                f"收到{_agency_name(ctx.catalog(uow), message.from_agency)}的“{message.name}”，立案"
                f"（关联办件 {message.correlation}）", stage=message.name,
                detail={"message": message.id, "payload": message.payload})
    command = CaseCommand(uow, ctx, case)
    command.clock.start_on_receipt(_receipt_limit(ctx.catalog(uow), agency_item, message))
    run = command.start({"applicant": case.applicant, "to_agency_code": message.from_agency})
    run.deliver_message(message.name, message.payload)
    command.record(run)
    return case


def _partner_item(uow: UnitOfWork, ctx: Context, agency: Agency,
                  message: AgencyMessage) -> tuple[AgencyItem, ProcessVersion]:
    """The agency's item whose partner process starts on the message."""
    for agency_item in agency.items.values():
        key = agency_item.item.partner_process_key
        version = uow.processes.in_force(key, agency.code) if key else None
        if version is not None and message.name in ctx.definition(uow, version.id).start_messages:
            return agency_item, version
    raise NotFound(f"{agency.name}没有等待“{message.name}”的办件（关联办件 {message.correlation}），"
                   f"也没有由“{message.name}”开始办理的事项")


def _receipt_limit(catalog: Catalog, agency_item: AgencyItem, message: AgencyMessage) -> StageLimit | None:
    """The stage limit a partner's case owes from the message (转出地: 信息表 within 10 working days of the
    联系函): its own agency's entry for the item sets it, or else the entry of the agency that sent the message."""
    sender = catalog.agency(message.from_agency)
    entries = (agency_item, sender.item(agency_item.code) if sender else None)
    return next((limit for entry in entries if entry for limit in entry.stage_limits
                 if limit.starts_at == message.name), None)


def _checked_identity(applicant, today) -> dict:
    """The applicant a message opens a case for, refused as at the window when the ID number is wrong (another
    installation's intake may check less)."""
    identity = identity_of(applicant)
    problem = id_number_problem(identity.get("id_number", ""), identity.get("kind") or PERSON, today)
    if problem:
        raise InvalidInput(f"消息中的申请人证件号码有误：{problem}", {"payload.applicant.id_number": problem})
    return identity


def _agency_name(catalog: Catalog, code: str) -> str:
    agency = catalog.agency(code)
    return agency.short_name if agency else f"经办机构 {code}"


# --- use cases ---------------------------------------------------------------------------------------------------

@retried
def receive(ctx: Context, actor: User, data: dict) -> tuple[MessageRecord, bool]:
    """A message from another installation (its relay, as a system administrator): routed as ours are, all or
    nothing in one transaction. Once per id: a replay answers with what the first delivery did.
    Returns the message and whether it is new."""
    require_role(actor, "admin")
    fields = _inbound(data)
    try:
        with ctx.uow() as uow:
            stored = uow.agency_messages.get(fields["id"])
            if stored is not None:
                return _replayed(uow, stored, fields), False
            message = AgencyMessage(**fields, source_case_id=None, target_case_id=None, status=MESSAGE_PENDING,
                                    error=None, created_at=ctx.now(), delivered_at=None)
            uow.agency_messages.add(message)
            _deliver(uow, ctx, message)
            uow.commit()
            return _records(uow, [message])[0], True
    except Conflict:
        with ctx.uow(write=False) as uow:  # the same message posted twice at once: the first one stands
            stored = uow.agency_messages.get(fields["id"])
            if stored is None:
                raise
            return _replayed(uow, stored, fields), False


def _inbound(data: dict) -> dict:
    errors = {}
    try:
        message_id = str(UUID(str(data.get("id", ""))))
    except ValueError:
        message_id, errors["id"] = "", "应为 UUID，同一消息重发时不变"
    texts = {key: data.get(key).strip() if isinstance(data.get(key), str) else ""
             for key in ("name", "from_agency", "to_agency", "correlation")}
    if not texts["name"] or len(texts["name"]) > _MAX_NAME:
        errors["name"] = f"请填写消息名称（不超过 {_MAX_NAME} 字），如 联系函、信息表"
    for key in ("from_agency", "to_agency"):
        if not (texts[key].isdigit() and len(texts[key]) == _AGENCY_CODE_LENGTH):
            errors[key] = "应为六位经办机构代码（行政区划代码）"
    if not texts["correlation"] or len(texts["correlation"]) > _MAX_CORRELATION:
        errors["correlation"] = "请填写关联办件编号（转入地的办件编号）"
    payload = data.get("payload", {})
    if not isinstance(payload, dict):
        errors["payload"] = "应为 JSON 对象"
    if errors:
        raise InvalidInput("消息格式有误", errors)
    return {"id": message_id, **texts, "payload": payload}


def _replayed(uow: UnitOfWork, stored: AgencyMessage, fields: dict) -> MessageRecord:
    if any(getattr(stored, key) != value for key, value in fields.items()):
        raise Conflict(f"消息 {stored.id} 已收到过，内容与此次不同：同一 id 不能用于另一条消息")
    return _records(uow, [stored])[0]


def list_messages(ctx: Context, actor: User, status: str | None = None, limit: int = 100,
                  offset: int = 0) -> list[MessageRecord]:
    """The messages of the installation (a relay asks for the outbound ones), oldest first."""
    require_role(actor, "admin")
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status 只能是 {'、'.join(STATUSES)}", {"status": " | ".join(STATUSES)})
    with ctx.uow(write=False) as uow:
        return _records(uow, uow.agency_messages.search(status, min(limit, pages.MAX_PAGE), offset))


@retried
def mark_sent(ctx: Context, actor: User, message_id: str) -> MessageRecord:
    """The relay carried an outbound message to the other installation."""
    require_role(actor, "admin")
    with ctx.uow() as uow:
        message = uow.agency_messages.get(message_id, lock=True)
        if message is None:
            raise NotFound("消息不存在")
        if message.status != MESSAGE_OUTBOUND:
            raise Conflict(f"消息{MESSAGE_STATUS_LABELS[message.status]}，只有待转发的消息可以标记为已转发")
        message.status, message.delivered_at = MESSAGE_SENT, ctx.now()
        source = uow.cases.get_by_id(message.source_case_id) if message.source_case_id else None
        if source is not None:
            add_history(uow, source, message.delivered_at, actor.username, "message_sent_out",
                        f"“{message.name}”已转发至经办机构 {message.to_agency}", detail={"message": message.id})
        uow.commit()
        return _records(uow, [message])[0]


def retry(ctx: Context, actor: User, message_id: str) -> MessageRecord:
    """Deliver a failed (or still pending) message again: a system administrator, or a supervisor of the hall of
    the case that sent it. A second failure is recorded and reported as a conflict with its reason."""
    with ctx.uow(write=False) as uow:
        message = uow.agency_messages.get(message_id)
        source = uow.cases.get_by_id(message.source_case_id) if message and message.source_case_id else None
    _require_may_retry(actor, message, source)
    if message.status not in (MESSAGE_PENDING, MESSAGE_FAILED):
        raise Conflict(f"消息{MESSAGE_STATUS_LABELS[message.status]}，无需重新送达")
    delivered = deliver(ctx, message_id)
    if delivered.status == MESSAGE_FAILED:
        raise Conflict(f"“{delivered.name}”仍未送达：{delivered.error}")
    with ctx.uow(write=False) as uow:
        return _records(uow, [delivered])[0]


def _require_may_retry(actor: User, message: AgencyMessage | None, source: Case | None) -> None:
    if message is not None and actor.has_role("admin"):
        return
    if source is None or (source.agency_code, source.hall_code) != (actor.agency_code, actor.hall_code):
        raise NotFound("消息不存在")
    if not actor.has_role("supervisor"):
        raise Forbidden("需要岗位：科室负责人、系统管理员")


def case_exchange(ctx: Context, actor: User, number: str) -> CaseExchange:
    """What the case page shows of an exchange: the case at the other end and the messages sent and received."""
    with ctx.uow(write=False) as uow:
        case = require_case_visible(actor, uow.cases.get(number))
        records = _records(uow, uow.agency_messages.for_case(case.id))
        catalog = ctx.catalog(uow)
    linked: dict[tuple, LinkedCase] = {}
    for record in records:
        other = _other_end(case, record)
        linked.setdefault((other.agency_code, other.number), other)
    codes = {code for record in records for code in (record.message.from_agency, record.message.to_agency)}
    return CaseExchange([_linked(catalog, other) for other in linked.values()], records,
                        {code: _agency_name(catalog, code) for code in codes})


def _other_end(case: Case, record: MessageRecord) -> LinkedCase:
    message = record.message
    sent = message.source_case_id == case.id
    summary = record.target if sent else record.source
    if summary is not None:
        return LinkedCase(summary["number"], summary["agency_code"], "",
                          case_state(summary["status"], summary["result"]).label, summary["stage"])
    # in another installation (or not yet reached): its number is known when the exchange began there
    number = message.correlation if message.correlation != case.number else None
    return LinkedCase(number, message.to_agency if sent else message.from_agency, "", None, None)


def _linked(catalog: Catalog, other: LinkedCase) -> LinkedCase:
    return LinkedCase(other.number, other.agency_code, _agency_name(catalog, other.agency_code), other.status,
                      other.stage, catalog.agency(other.agency_code) is not None)


def _records(uow: UnitOfWork, messages: list[AgencyMessage]) -> list[MessageRecord]:
    ids = {case_id for m in messages for case_id in (m.source_case_id, m.target_case_id) if case_id}
    summaries = uow.agency_messages.case_summaries(ids)
    return [MessageRecord(m, summaries.get(m.source_case_id), summaries.get(m.target_case_id)) for m in messages]
