"""Use cases around a case as a whole: open it (申请), read it, find cases, deliver a message to it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from workflows.domain import pages
from workflows.domain import privacy as personal_data
from workflows.domain.applicants import validate_applicant
from workflows.domain.case_states import CaseState
from workflows.domain.errors import Forbidden, InvalidInput, NotFound
from workflows.domain.forms import Form, validate_form
from workflows.domain.variables import require_variable_source, split_variables, undeclared_errors
from workflows.domain.model import (Case, CaseDeadline, CasePause, CaseTask, Escalation, ExtensionRequest,
                                    ExternalCall, HistoryEntry, ProcessVersion, User)
from workflows.domain.case_limits import LimitLine, limit_lines

from . import agents, forms, privacy
from .access import case_for_update, may_take, require_case_visible, require_role, sees_all_halls
from .case_states import state_of
from .context import Context, jsonable
from .history import add_history
from .new_cases import new_case
from .progress import CaseCommand, Progress
from .retries import retried
from .forms import with_defaults

APPLICATION_STAGE = "申请"


@dataclass(frozen=True)
class CaseDetails:
    case: Case
    process: ProcessVersion
    tasks: list[CaseTask]
    history: list[HistoryEntry]
    external_calls: list[ExternalCall]
    deadlines: list[CaseDeadline]
    pauses: list[CasePause]
    extensions: list[ExtensionRequest]
    escalations: list[Escalation]
    now: datetime
    state: CaseState  # 办理中, 暂停（补正）, 已办结, 不予受理 …
    limits: list[LimitLine]  # the deadlines with where each counts from, and the stage limits not started yet
    application: Form  # the item's application form (its start event): the case data by its labels
    takeable: list[CaseTask]  # the open tasks the actor may open and work now (the case page links to them)
    external_tasks: list = field(default_factory=list)  # what it waits on from external workers (等待外部任务)


@retried
def open_case(ctx: Context, actor: User, item_code: str, applicant: dict, data: dict,
              variables: dict | None = None) -> Progress:
    """申请: a window clerk registers an application for an item in the clerk's hall, with the start form's data
    and process `variables` (domain/variables.py)."""
    require_role(actor, "acceptor")
    require_variable_source(actor, "acceptor", variables)
    with ctx.uow() as uow:
        agency = ctx.catalog(uow).agency(actor.agency_code)
        agency_item = agency.item(item_code) if agency else None
        if agency_item is None:
            raise NotFound(f"本机构没有事项 {item_code}")
        if actor.hall_code not in agency_item.hall_codes:
            raise Forbidden(f"“{agency_item.name}”不在本大厅办理")
        version_id = ctx.in_force(uow, agency_item.process_key, agency.code)
        if version_id is None:
            raise NotFound(f"事项“{agency_item.name}”的流程 {agency_item.process_key} 尚未部署")
        definition = ctx.definition(uow, version_id)
        if definition.starts_only_by_message:
            messages = "、".join(f"“{name}”" for name in sorted(definition.start_messages))
            raise InvalidInput(f"“{agency_item.name}”由消息{messages}立案，不能在窗口登记",
                               {"item_code": f"本事项的流程由消息{messages}开始（POST /api/agencies/{agency.code}/messages）"})
        applicant, errors = validate_applicant(applicant or {}, agency_item.item.applicant_kinds, ctx.today())
        upload, upload_errors = agents.take_upload(applicant)
        fields, others, variable_errors = split_variables(variables or {}, definition.start_form, {},
                                                          definition.form_fields)
        submitted = with_defaults({**(data or {}), **fields},
                                  forms.defaults(definition.start_form, {"applicant": applicant}, ctx.now,
                                                 ctx.engine.limits))
        values, form_errors = validate_form(definition.start_form, submitted, ctx.max_amount)
        form_errors.update(undeclared_errors(definition.start_form, data or {}))
        if errors or upload_errors or form_errors or variable_errors:
            raise InvalidInput("申请信息填写有误", {**errors, **upload_errors, **form_errors, **variable_errors})
        values = {**others, **values}
        at, today = ctx.now(), ctx.today()
        case = new_case(uow, agency.code, today, number_apart=True, hall_code=actor.hall_code, item_code=item_code,
                        item_name=agency_item.name, process_version_id=version_id, stage=APPLICATION_STAGE,
                        applicant=applicant, opened_by=actor.username, opened_at=at)  # written at the commit
        add_history(uow, case, at, actor.username, "opened", f"{actor.full_name}登记申请",
                    stage=APPLICATION_STAGE, detail={"data": values})
        agents.record_agent(uow, case, actor, upload, at)
        command = CaseCommand(uow, ctx, case)
        progress = command.record(command.start({"applicant": case.applicant, **values}))
        uow.commit()
        return progress


def case_details(ctx: Context, actor: User, number: str) -> CaseDetails:
    """The case as the actor may see it: personal data its roles do not need masked, a read in full audited."""
    with ctx.uow(write=False) as uow:
        case = require_case_visible(actor, uow.cases.get(number))
        shown = privacy.shown_kinds(uow, actor, case)
        agency = ctx.catalog(uow).agency(case.agency_code)
        item = agency.item(case.item_code) if agency else None
        deadlines, case_tasks = uow.deadlines.for_case(case.id), uow.tasks.for_case(case.id)
        details = CaseDetails(case, uow.processes.get(case.process_version_id), case_tasks,
                              uow.history.for_case(case.id), uow.external.for_case(case.id),
                              deadlines, uow.deadlines.pauses(case.id),
                              uow.deadlines.extensions(case.id), uow.escalations.for_case(case.id), ctx.now(),
                              state_of(uow, ctx, case),
                              limit_lines(case, deadlines, item.stage_limits if item and case.accepted_at else ()),
                              ctx.definition(uow, case.process_version_id).start_form,
                              [task for task in case_tasks if may_take(actor, task)],
                              uow.external_tasks.for_case(case.id))
    revealed = personal_data.revealed([case.applicant, case.data], shown)
    privacy.mask_case(case, shown)
    privacy.mask_records(details.history, ("detail",), shown)
    privacy.mask_records(details.external_calls, ("request", "response"), shown)
    privacy.audit_read(ctx, actor, case, revealed, "case")
    return details


def search_cases(ctx: Context, actor: User, status: str | None = None, item_code: str | None = None,
                 hall_code: str | None = None, limit: int = 50, offset: int = 0) -> list[Case]:
    """Cases of the hall (an administrator: of any hall); a hospital's assessor only those assigned to the hospital.
    A list shows no ID number or bank account in full: open the case for those."""
    hall = hall_code if sees_all_halls(actor) else actor.hall_code
    only_hospital = actor.has_role(privacy.HOSPITAL) and not set(actor.roles) & (privacy.READERS - {privacy.HOSPITAL})
    with ctx.uow(write=False) as uow:
        found = uow.cases.search(actor.agency_code, hall, status, item_code, min(limit, pages.MAX_PAGE), offset,
                                 task_role=privacy.HOSPITAL if only_hospital else None)
    listed = privacy.LISTED & personal_data.needs_of(actor.roles)
    for case in found:
        privacy.mask_case(case, listed)
    return found


@retried
def deliver_message(ctx: Context, actor: User, number: str, message_name: str, payload) -> Progress:
    """A message (e.g. 转移接续's 信息表) reaches a case that waits for it; its payload is any JSON value."""
    require_role(actor, "acceptor", "reviewer", "admin")
    with ctx.uow() as uow:
        case = case_for_update(uow, actor, number)
        progress = receive_message(uow, ctx, case, actor.username, message_name, payload)
        uow.commit()
        return progress


def receive_message(uow, ctx: Context, case: Case, actor: str, message_name: str, payload) -> Progress:
    """Deliver a message to the case inside the caller's transaction (a use case that brings it, such as the
    clerk marking the last 容缺 material handed in), which holds the case for update."""
    command = CaseCommand(uow, ctx, case)
    run = command.resume()
    run.deliver_message(message_name, payload)
    add_history(uow, case, ctx.now(), actor, "message_received", f"收到“{message_name}”",
                detail={"name": message_name, "payload": jsonable(payload)})
    return command.record(run)
