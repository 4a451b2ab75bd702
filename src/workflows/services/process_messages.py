"""Messages an outside system posts for an agency, as Camunda correlates them: a message by name, with any JSON
payload, goes to the one open case of the agency that waits for it (a message catch event, a receive task), else
it starts a case of the item whose process begins with a message start event of that name.

Which waiting case is meant is read from the diagram's correlation properties (bpmn:correlationProperty with a
retrieval expression per message): the case whose data gives each property the value the payload gives. No case
waiting and none to start is a 404; several waiting that the properties do not tell apart is a 409 naming them.
Messages a case threw (send tasks, throw events) and received are in its history; case_messages lists them.
"""
from __future__ import annotations

from dataclasses import dataclass

from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain.applicants import validate_applicant
from workflows.domain.catalog import Agency, AgencyItem
from workflows.domain.errors import Conflict, InvalidInput, NotFound
from workflows.domain.forms import validate_form
from workflows.domain.model import OPEN, Case, HistoryEntry, ProcessVersion, User
from workflows.domain.text import event_name

from . import privacy
from .access import require_case_visible, require_role
from .cases import receive_message
from .context import Context, jsonable
from .history import add_history
from .new_cases import new_case
from .progress import CaseCommand, Progress

MESSAGE_ACTIONS = ("message_sent", "message_received", "opened_by_message")


@dataclass(frozen=True)
class Correlated:
    """Where a posted message went: the case it reached, and whether it started that case."""

    progress: Progress
    started: bool


def post_message(ctx: Context, actor: User, agency_code: str, name, payload) -> Correlated:
    """Route a message posted for the agency (a window clerk registering a letter, an outside system's account)
    to its case, or start one on it; all in one transaction."""
    require_role(actor, "acceptor", "admin")
    name = event_name(name, "消息", "message")
    if agency_code != actor.agency_code and not actor.has_role("admin"):
        raise NotFound(f"经办机构 {agency_code} 不存在")
    with ctx.uow() as uow:
        agency = ctx.catalog(uow).agency(agency_code)
        if agency is None:
            raise NotFound(f"经办机构 {agency_code} 不存在")
        waiting = _waiting_cases(uow, ctx, agency_code, name, payload)
        if len(waiting) > 1:
            numbers = "、".join(case.number for case in waiting)
            raise Conflict(f"有 {len(waiting)} 件办件在等待“{name}”，无法确定送达哪一件：{numbers}"
                           "（请在流程中为该消息定义关联属性 correlationProperty，并在消息中给出其值）")
        if waiting:
            uow.cases.get_by_id(waiting[0].id, lock=True)
            correlated = Correlated(receive_message(uow, ctx, waiting[0], actor.username, name, payload), False)
        else:
            correlated = Correlated(_start_by_message(uow, ctx, actor, agency, name, payload), True)
        uow.commit()
        return correlated


def _waiting_cases(uow: UnitOfWork, ctx: Context, agency_code: str, name: str, payload) -> list[Case]:
    """The agency's open cases waiting for message `name` whose correlation values are the payload's."""
    found: dict[int, Case] = {}
    for case_id, stored in uow.message_waits.waiting(agency_code, name):
        case = uow.cases.get_by_id(case_id)
        if case is None or case.status != OPEN or case_id in found:
            continue
        expected = ctx.engine.correlation(ctx.definition(uow, case.process_version_id), name, payload)
        missing = [prop for prop, value in expected.items() if value is None]
        if missing:
            raise InvalidInput("消息缺少关联属性的值", {f"payload.{prop}": f"“{name}”按关联属性 {prop} 送达办件，"
                                                                       "消息内容中须有其值" for prop in missing})
        if all(stored.get(prop) == value for prop, value in expected.items()):
            found[case_id] = case
    return list(found.values())


def _start_by_message(uow: UnitOfWork, ctx: Context, actor: User, agency: Agency, name: str, payload) -> Progress:
    """A case of the agency's item whose process starts with the message, the applicant and the application form
    read from the payload (refused, naming the field, as at the window). Only declared form fields become case
    data, as at the window (a payload cannot set what handlers decide, such as an identity check's finding); the
    payload itself lands where the start event puts it."""
    agency_item, version = _item_started_by(uow, ctx, agency, name)
    definition = ctx.definition(uow, version.id)
    if not isinstance(payload, dict):
        raise InvalidInput("由消息立案时消息内容须为 JSON 对象", {"payload": "须为对象，含 applicant（申请人）及申请表字段"})
    form_data = {key: value for key, value in payload.items() if key != "applicant"}
    applicant, errors = validate_applicant(payload.get("applicant") or {}, agency_item.item.applicant_kinds,
                                           ctx.today())
    values, form_errors = validate_form(definition.start_form, form_data, ctx.max_amount)
    if errors or form_errors:
        raise InvalidInput("消息中的申请信息有误", {f"payload.{field}": problem
                                          for field, problem in {**errors, **form_errors}.items()})
    hall = actor.hall_code if actor.hall_code in agency_item.hall_codes else agency_item.hall_codes[0]
    at, today = ctx.now(), ctx.today()
    case = new_case(uow, agency.code, today, hall_code=hall, item_code=agency_item.code,
                    item_name=agency_item.name, process_version_id=version.id, stage=name, applicant=applicant,
                    opened_by=actor.username, opened_at=at)
    uow.flush()
    add_history(uow, case, at, actor.username, "opened_by_message", f"收到消息“{name}”，立案", stage=name,
                detail={"payload": jsonable(payload)})
    command = CaseCommand(uow, ctx, case)
    run = command.start({"applicant": case.applicant, **values})  # the whole payload: <start event>_Response
    run.deliver_message(name, payload)
    return command.record(run)


def _item_started_by(uow: UnitOfWork, ctx: Context, agency: Agency, name: str) -> tuple[AgencyItem, ProcessVersion]:
    for agency_item in agency.items.values():
        version = uow.processes.in_force(agency_item.process_key, agency.code)
        if version is not None and agency_item.hall_codes \
                and name in ctx.definition(uow, version.id).start_messages:
            return agency_item, version
    raise NotFound(f"{agency.name}没有等待“{name}”的办件，也没有由“{name}”开始办理的事项")


def case_messages(ctx: Context, actor: User, number: str) -> list[HistoryEntry]:
    """The messages the case threw (send tasks, message throw events) and received, oldest first, with their
    payloads masked as the case's history is for the actor."""
    with ctx.uow(write=False) as uow:
        case = require_case_visible(actor, uow.cases.get(number))
        shown = privacy.shown_kinds(uow, actor, case)
        entries = [entry for entry in uow.history.for_case(case.id) if entry.action in MESSAGE_ACTIONS]
    privacy.mask_records(entries, ("detail",), shown)
    return entries
