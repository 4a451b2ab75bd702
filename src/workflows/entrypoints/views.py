"""Records as JSON-ready dicts, shared by the REST API and the command line."""
from __future__ import annotations

from datetime import datetime

from workflows.domain.amounts import PaymentSummary, yuan
from workflows.domain.case_states import CaseState, case_state
from workflows.domain.catalog import Agency, AgencyItem, TimeLimit
from workflows.domain.documents import RenderedDocument
from workflows.domain.model import TASK_STATE_LABELS, Case, CaseTask, HistoryEntry, ProcessVersion, User
from workflows.domain.roles import ROLE_NAMES, role_name
from workflows.services.cases import CaseDetails
from workflows.services.context import jsonable
from workflows.domain.case_limits import limit_name
from workflows.services.escalations import LEVEL_NAMES
from workflows.services.time_limits import PAUSE_KINDS
from workflows.services.context import CHINA
from workflows.services.progress import Progress
from workflows.services.tasks import TaskDetails


def moment(value: datetime | None) -> str | None:
    return value.astimezone(CHINA).isoformat(timespec="seconds") if value else None


def limit_view(limit: TimeLimit | None) -> dict | None:
    return {"value": limit.value, "unit": limit.unit, "label": limit.label} if limit else None


def agency_view(agency: Agency, with_halls: bool = True) -> dict:
    view = {"code": agency.code, "name": agency.name, "short_name": agency.short_name, "region": agency.region,
            "consult_phone": agency.consult_phone, "complaint_phone": agency.complaint_phone,
            "office_hours": [[start.strftime("%H:%M"), end.strftime("%H:%M")] for start, end in agency.office_hours],
            "item_count": len(agency.items)}
    if with_halls:
        view["halls"] = [{"code": h.code, "name": h.name, "address": h.address, "phone": h.phone}
                         for h in agency.halls]
    return view


def agency_item_view(agency_item: AgencyItem, full: bool = False) -> dict:
    item = agency_item.item
    view = {"code": item.code, "name": agency_item.name, "national_name": item.name,
            "group": {"code": item.group.code, "name": item.group.name}, "stages": list(item.stages),
            "process_key": item.process_key, "promised_limit": limit_view(agency_item.promised_limit),
            "statutory_limit": limit_view(agency_item.statutory_limit)}
    if full:
        view.update({
            "applicant_kinds": list(item.applicant_kinds), "legal_basis": list(item.legal_basis),
            "exceptional_limit": limit_view(agency_item.exceptional_limit),
            "stage_limits": [{"stage": s.stage, "starts_at": s.starts_at, "limit": limit_view(s.limit)}
                             for s in agency_item.stage_limits],
            "materials": [{"name": m.name, "required": m.required, "form": m.form, "waivable": m.waivable,
                           "source": m.source, "condition": m.condition} for m in agency_item.materials],
            "halls": list(agency_item.hall_codes), "phones": list(agency_item.phones),
            "prohibited": list(agency_item.prohibited), "notes": agency_item.notes,
            "commitment_allowed": agency_item.commitment_allowed})
    return view


def process_view(version: ProcessVersion) -> dict:
    return {"process_key": version.process_key, "version": version.version, "name": version.name,
            "file_name": version.file_name, "checksum": version.checksum, "deployed_by": version.deployed_by,
            "deployed_at": moment(version.deployed_at), "agency_code": version.agency_code,
            "change_note": version.change_note,
            "deployment_id": version.deployment_id, "called_files": sorted(version.called_files or {})}


def deployment_view(versions: list[ProcessVersion]) -> dict:
    """A deployment as its new versions tell it (they share its id)."""
    files = {name for version in versions for name in (version.file_name, *(version.called_files or {}))}
    return {"id": versions[0].deployment_id, "files": sorted(files),
            "processes": [process_view(version) for version in versions]}


def case_message_view(entry: HistoryEntry) -> dict:
    """A message a case threw or received, from its line in the history."""
    detail = entry.detail or {}
    return {"at": moment(entry.at), "direction": "sent" if entry.action == "message_sent" else "received",
            "name": detail.get("name") or entry.message, "payload": detail.get("payload"), "actor": entry.actor,
            "message": entry.message}


def task_view(task: CaseTask) -> dict:
    return {"id": task.id, "case_number": task.case_number, "item_code": task.item_code,
            "item_name": task.item_name, "name": task.name, "stage": task.stage, "role": task.role,
            "role_name": role_name(task.role), "state": task.state,
            "state_name": TASK_STATE_LABELS.get(task.state, task.state), "assignee": task.assignee,
            "hall_code": task.hall_code, "created_at": moment(task.created_at), "claimed_at": moment(task.claimed_at),
            "completed_at": moment(task.completed_at), "completed_by": task.completed_by,
            "decision": task.decision, "due_at": moment(task.due_at), "completed_level": task.completed_level,
            "priority": task.priority, "candidate_users": list(task.candidates), "due_date": moment(task.due_date),
            "follow_up_date": moment(task.follow_up_date)}


def task_details_view(details: TaskDetails) -> dict:
    view = task_view(details.task)
    view["form"] = details.definition.form.to_dict()
    view["form"]["defaults"] = jsonable(details.defaults)  # each field's defaultValue evaluated for the case
    view["documentation"] = details.documentation  # the step's bpmn:documentation rendered for the case
    view["decisions"] = [{"value": value, "label": label} for value, label in details.definition.form.decisions]
    view["case"] = case_view(details.case, details.state)
    view["payment"] = payment_view(details.payment) if details.payment else None
    return view


def payment_view(summary: PaymentSummary) -> dict:
    """A paying case's money, for its tasks: the claim, the proposal and how it was calculated, the approval."""
    proposal, approval = summary.proposal, summary.approval
    return {"claimed_amount": _yuan(proposal.claimed), "proposed_amount": yuan(proposal.amount),
            "cap": _yuan(proposal.cap), "calculation": proposal.calculation or None,
            "approved_amount": _yuan(approval and approval.amount), "approved_by": approval and approval.by,
            "approved_by_name": approval and approval.by_name, "review_opinion": approval and approval.opinion,
            "reduction_reason": approval and approval.reason, "bank_name": summary.bank_name,
            "bank_account": summary.bank_account, "paid_amount": _yuan(summary.paid)}


def _yuan(amount) -> str | None:
    return None if amount is None else yuan(amount)


def case_view(case: Case, state: CaseState | None = None) -> dict:
    """`state` (with the clock's pause) where the caller read it; else the case's own status and result."""
    state = state or case_state(case.status, case.result)
    return {"number": case.number, "agency_code": case.agency_code, "hall_code": case.hall_code,
            "item_code": case.item_code, "item_name": case.item_name, "stage": case.stage, "status": case.status,
            "status_name": state.label, "result": state.result, "result_label": state.label if state.result else None,
            "pause": {"kind_name": state.pause.kind_name, "given_back_days": state.pause.given_back_days,
                      "label": state.detail} if state.pause else None,
            "applicant": case.applicant, "opened_by": case.opened_by, "opened_at": moment(case.opened_at),
            "closed_at": moment(case.closed_at)}


def progress_view(progress: Progress) -> dict:
    """A case after a command, with the tasks now open: an API client sees at once what comes next."""
    return {**case_view(progress.case), "open_tasks": [task_view(task) for task in progress.open_tasks],
            "notices": list(progress.notices)}


def deadline_view(line, now: datetime) -> dict:
    """A limit of a case (clock.LimitLine): started, with its moments, or waiting for its `from` stage to end."""
    row = line.row
    return {"kind": line.kind, "name": line.name, "limit": limit_view(line.limit), "from": line.starts_after,
            "started": row is not None, "starts_at": moment(row.starts_at) if row else None,
            "due_at": moment(row.due_at) if row else None, "warning_at": moment(row.warning_at) if row else None,
            "label": line.label(), "level": line.level(now), "provisional": row.provisional if row else False,
            "paused": row.paused if row else False, "extension_days": row.extension_days if row else 0,
            "paused_days": row.paused_days if row else 0, "met_at": moment(row.met_at) if row else None}


def planned_limit_view(limit) -> dict:
    """A limit of an item as planned from an acceptance moment (time_limits.ComputedLimit)."""
    deadline = limit.deadline
    return {"kind": limit.kind, "name": limit.name, "limit": limit_view(limit.limit), "from": limit.starts_after,
            "starts_at": moment(limit.starts_at), "due_at": moment(deadline.due_at) if deadline else None,
            "warning_at": moment(deadline.warning_at) if deadline else None,
            "label": deadline.label() if deadline else f"{limit.starts_after}结束后 {limit.limit.label}",
            "provisional": deadline.provisional if deadline else False}


def escalation_view(escalation) -> dict:
    return {"id": escalation.id, "case_number": escalation.case_number, "item_name": escalation.item_name,
            "hall_code": escalation.hall_code, "limit": escalation.limit_kind,
            "limit_name": limit_name(escalation.limit_kind), "level": escalation.level,
            "level_name": LEVEL_NAMES.get(escalation.level, escalation.level), "stage": escalation.stage,
            "raised_at": moment(escalation.raised_at), "status": escalation.status,
            "handled_by": escalation.handled_by, "handled_at": moment(escalation.handled_at),
            "action": escalation.action, "note": escalation.note}


def case_details_view(details: CaseDetails) -> dict:
    view = case_view(details.case, details.state)
    view.update({
        "accepted_at": moment(details.case.accepted_at),
        "deadlines": [deadline_view(line, details.now) for line in details.limits],
        "pauses": [{"kind": p.kind, "kind_name": PAUSE_KINDS.get(p.kind, p.kind), "reason": p.reason,
                    "started_at": moment(p.started_at), "started_by": p.started_by, "ended_at": moment(p.ended_at),
                    "ended_by": p.ended_by} for p in details.pauses],
        "extensions": [{"id": r.id, "days": r.days, "reason": r.reason, "requested_by": r.requested_by,
                        "requested_at": moment(r.requested_at), "status": r.status, "decided_by": r.decided_by,
                        "decided_at": moment(r.decided_at), "decision_note": r.decision_note}
                       for r in details.extensions],
        "escalations": [escalation_view(e) for e in details.escalations],
    })
    view.update({
        "data": details.case.data,
        "process": {"key": details.process.process_key, "version": details.process.version},
        "tasks": [task_view(task) for task in details.tasks],
        "history": [{"at": moment(h.at), "actor": h.actor, "action": h.action, "stage": h.stage,
                     "task_name": h.task_name, "message": h.message, "detail": h.detail} for h in details.history],
        "external_calls": [{"at": moment(c.at), "system": c.system, "operation": c.operation,
                            "request": c.request, "response": c.response} for c in details.external_calls],
        "external_tasks": [external_task_view(task, details.now) for task in details.external_tasks],
    })
    return view


def external_task_view(task, now: datetime) -> dict:
    """An external task the case waits on (等待外部任务), with who holds it and its last failure."""
    locked = task.is_locked(now)
    return {"id": task.id, "name": task.name, "topic": task.topic, "activity_id": task.activity_id,
            "worker_id": task.worker_id if locked else None,
            "lock_expires_at": moment(task.lock_expires_at) if locked else None, "retries": task.retries,
            "error_message": task.error_message, "created_at": moment(task.created_at),
            "label": f"等待外部任务“{task.name}”（主题 {task.topic}）"
                     + (f"：工作者“{task.worker_id}”处理中" if locked else "：待外部系统获取")}


def calendar_view(year) -> dict:
    return {"year": year.year, "covered": year.covered, "source": year.source,
            "holidays": [day.isoformat() for day in year.holidays],
            "workdays": [day.isoformat() for day in year.workdays]}


def user_view(user: User) -> dict:
    return {"username": user.username, "full_name": user.full_name, "agency_code": user.agency_code,
            "hall_code": user.hall_code, "roles": list(user.roles),
            "role_names": [ROLE_NAMES.get(role, role) for role in user.roles]}


def rendered_document_view(document: RenderedDocument) -> dict:
    return {"title": document.title, "number": document.number, "agency_name": document.agency_name,
            "paragraphs": list(document.paragraphs), "signature": list(document.signature)}


def lockout_view(lock) -> dict:
    return {"kind": lock.kind, "subject": lock.subject, "failures": lock.failures,
            "locked_until": moment(lock.locked_until)}


def account_event_view(event: dict) -> dict:
    kind, _, subject = event["subject"].partition(":")
    return {"at": moment(event["at"]), "kind": kind, "subject": subject, "action": event["action"],
            "actor": event["actor"], "message": event["message"]}
