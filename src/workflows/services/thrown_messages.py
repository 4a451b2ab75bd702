"""The thrower's side of 转移接续: a message a case throws goes into the outbox (agency_messages) in the thrower's
own transaction; its AgencyMessageThrown event has it delivered after the commit (services/agency_messages.py),
so that recording a case's progress needs nothing of the delivery, which itself moves cases."""
from __future__ import annotations

from uuid import uuid4

from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain.events import AgencyMessageThrown
from workflows.domain.model import MESSAGE_OUTBOUND, MESSAGE_PENDING, AgencyMessage, Case

from .context import Context, jsonable
from .history import SYSTEM, add_history

APPLICANT_IDENTITY = ("name", "id_number", "kind", "phone")  # what a 联系函 tells of the applicant


def record_thrown(uow: UnitOfWork, ctx: Context, case: Case, name: str, payload) -> None:
    """A message the case threw: into the outbox if it is for another agency, delivered once this unit commits."""
    route = _route_of(uow, ctx, case, payload)
    if route is None:
        return  # a message no agency waits for: the case's history has it, delivered by hand if at all
    to_agency, correlation = route
    if correlation == case.number:  # it begins the exchange: the other agency learns whom it is about (联系函)
        payload = {**payload, "applicant": identity_of(case.applicant)}
    local = ctx.catalog(uow).agency(to_agency) is not None
    at = ctx.now()
    message = AgencyMessage(id=str(uuid4()), name=name, from_agency=case.agency_code, to_agency=to_agency,
                            correlation=correlation, payload=jsonable(payload if payload is not None else {}),
                            source_case_id=case.id, target_case_id=None,
                            status=MESSAGE_PENDING if local else MESSAGE_OUTBOUND, error=None, created_at=at,
                            delivered_at=None)
    uow.agency_messages.add(message)
    if local:
        uow.publish(AgencyMessageThrown(message.id, case.id))
    else:
        add_history(uow, case, at, SYSTEM, "message_outbound",
                    f"“{name}”发往其他系统的经办机构 {to_agency}，待转发", detail={"message": message.id})


def _route_of(uow: UnitOfWork, ctx: Context, case: Case, payload) -> tuple[str, str] | None:
    """(to agency, correlation) of a message the case throws, or None when it is for no agency.

    A partner's case answers the agency whose message started it, in that exchange; a case of an item with a
    partner process begins an exchange of its own with the agency its payload names as `from_agency` (转移接续:
    the 转出地经办机构代码 the applicant gave)."""
    opener = uow.agency_messages.opener(case)
    if opener is not None:
        return opener.from_agency, opener.correlation
    item = ctx.catalog(uow).item(case.item_code)
    to_agency = payload.get("from_agency") if isinstance(payload, dict) else None
    if item and item.partner_process_key and isinstance(to_agency, str) and to_agency.strip():
        return to_agency.strip(), case.number
    return None


def identity_of(applicant) -> dict:
    """What a 联系函 tells of the applicant: the cases at both ends are about the same person."""
    if not isinstance(applicant, dict):
        return {}
    return {key: str(applicant[key]) for key in APPLICANT_IDENTITY if applicant.get(key)}
