"""Incidents (故障): the cases whose service task or external task failed (故障待处理), the messages to another
agency that could not be delivered, and the 后台任务 (outbox entries) that failed — one list for a hall's
科室负责人 (their hall) or an administrator (the agency), with the error, since when, and a retry of one or a
selection. A retry calls the existing retry of each kind (case_operations.retry_case, agency_messages.retry,
outbox.retry), once per incident, each in its own transaction: one that fails again stays listed with its new
error. When a case fails or its message cannot be delivered, its hall's supervisors are told after the commit, from
the outbox (IncidentRaised).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflows.adapters.bpmn_parsing import HandlerServiceTask
from workflows.adapters.incident_repository import IncidentRepository
from workflows.domain.errors import InvalidInput, NotFound, WorkflowsError
from workflows.domain.events import IncidentRaised, OutboxEntry
from workflows.domain.model import FAILED, User

from . import agency_messages, case_operations, outbox
from .access import require_role, sees_all_halls
from .context import Context

CASE, MESSAGE, BACKGROUND = "case", "message", "outbox"
KIND_LABELS = {CASE: "办件步骤出错", MESSAGE: "消息送达失败", BACKGROUND: "后台任务失败"}
MAX_SELECTION = 200
PAGE_SIZE = 50  # incidents on a page of 故障处理


@dataclass(frozen=True)
class Incident:
    ref: str  # "case:<number>", "message:<id>", "outbox:<id>": what a retry names
    kind: str
    case_number: str | None
    item_code: str | None
    item_name: str | None
    hall_code: str | None
    handler: str | None  # the service task's handler or external topic, the message's name, the entry's kind
    task_name: str | None
    since: datetime | None
    error: str | None
    detail: dict | None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class RetryOutcome:
    ref: str
    retried: bool  # the failed step ran through; False: it failed again, or could not be retried
    error: str | None  # why not


def list_incidents(ctx: Context, actor: User, item: str | None = None, hall: str | None = None,
                   handler: str | None = None, since: datetime | None = None) -> list[Incident]:
    """The open incidents the actor may act on, oldest first, narrowed by item code, hall, handler/topic and
    the moment they appeared from."""
    require_role(actor, "supervisor", "admin")
    found = [*_case_incidents(ctx, actor), *_message_incidents(ctx, actor), *_background_incidents(ctx, actor)]
    return sorted((i for i in found if _matches(i, item, hall, handler, since)),
                  key=lambda i: (i.since is None, i.since or datetime.min, i.ref))


@dataclass(frozen=True)
class IncidentPage:
    """A page of the open incidents (from 1): whether a next one exists, and how many there are in all."""

    incidents: list[Incident]
    number: int
    more: bool
    total: int


def incident_page(ctx: Context, actor: User, page: int = 1, per_page: int | None = None, **filters) -> IncidentPage:
    """One page of list_incidents (open incidents are few: they are read, sorted and cut here)."""
    if not isinstance(page, int) or page < 1:
        raise InvalidInput("页码应为正整数", {"page": "页码应为从 1 起的整数"})
    per_page = per_page or PAGE_SIZE
    found = list_incidents(ctx, actor, **filters)
    start = (page - 1) * per_page
    return IncidentPage(found[start:start + per_page], page, len(found) > start + per_page, len(found))


def _matches(incident: Incident, item, hall, handler, since) -> bool:
    return ((item is None or incident.item_code == item) and (hall is None or incident.hall_code == hall)
            and (handler is None or incident.handler == handler)
            and (since is None or (incident.since is not None and incident.since >= since)))


def _scope(actor: User) -> str | None:
    return None if sees_all_halls(actor) else actor.hall_code


def _case_incidents(ctx: Context, actor: User) -> list[Incident]:
    with ctx.uow(write=False) as uow:
        rows = IncidentRepository(uow.session).failed_cases(actor.agency_code, _scope(actor))
        return [Incident(f"{CASE}:{row.number}", CASE, row.number, row.item_code, row.item_name, row.hall_code,
                         _handler_of(ctx, uow, row), row.task_name, row.since, row.error, row.detail)
                for row in rows]


def _handler_of(ctx: Context, uow, row) -> str | None:
    """The topic of the failed service task: an external task's from its history line, else the diagram's."""
    if row.detail and row.detail.get("topic"):
        return row.detail["topic"]
    spec = ctx.definition(uow, row.process_version_id).spec
    topics = [task.topic for task in spec.task_specs.values()
              if isinstance(task, HandlerServiceTask) and (task.bpmn_name or task.name) == row.task_name]
    return topics[0] if topics else None


def _message_incidents(ctx: Context, actor: User) -> list[Incident]:
    with ctx.uow(write=False) as uow:
        rows = IncidentRepository(uow.session).failed_messages(actor.agency_code, _scope(actor))
    return [Incident(f"{MESSAGE}:{row.message_id}", MESSAGE, row.number, row.item_code, row.item_name,
                     row.hall_code, row.name, None, row.created_at, row.error, {"to_agency": row.to_agency})
            for row in rows]


def _background_incidents(ctx: Context, actor: User) -> list[Incident]:
    failures = outbox.failures(ctx, actor, limit=None)  # sorted with the other incidents: all of them
    with ctx.uow(write=False) as uow:
        found = []
        for failure in failures:
            entry = failure.entry
            case = uow.cases.get_by_id(entry.case_id) if entry.case_id else None
            if case is not None and case.agency_code != actor.agency_code:
                continue
            found.append(Incident(f"{BACKGROUND}:{entry.id}", BACKGROUND, failure.case_number,
                                  case.item_code if case else None, case.item_name if case else None,
                                  case.hall_code if case else None, entry.kind, failure.label, entry.created_at,
                                  entry.last_error, {"attempts": entry.attempts}))
        return found


def incident(ctx: Context, actor: User, ref: str) -> Incident:
    """One incident with its detail (the error as recorded), or NotFound when it is not open or not the actor's."""
    found = next((i for i in list_incidents(ctx, actor) if i.ref == ref), None)
    if found is None:
        raise NotFound("故障不存在或已处理")
    return found


def retry_incidents(ctx: Context, actor: User, refs: list[str], reason: str) -> list[RetryOutcome]:
    """Retry each named incident once, each in its own transaction; the outcomes in the order given."""
    require_role(actor, "supervisor", "admin")
    texts = all(isinstance(ref, str) for ref in refs)  # before the set of them: a JSON object is no key
    selection = list(dict.fromkeys(refs)) if texts else []  # a ref named twice is retried once
    if not selection or len(selection) > MAX_SELECTION:
        raise InvalidInput("请选择要重试的故障", {"refs": f"1 至 {MAX_SELECTION} 个故障编号"})
    if not isinstance(reason, str) or not reason.strip():  # refused before anything runs, as each retry would
        raise InvalidInput("请填写重试原因", {"reason": "请填写重试原因"})
    open_refs = {i.ref for i in list_incidents(ctx, actor)}
    return [_retry_one(ctx, actor, ref, reason) if ref in open_refs
            else RetryOutcome(ref, False, "故障不存在或已处理") for ref in selection]


def _retry_one(ctx: Context, actor: User, ref: str, reason: str) -> RetryOutcome:
    kind, _, key = ref.partition(":")
    try:
        if kind == CASE:
            progress = case_operations.retry_case(ctx, actor, key, reason)
            failed_again = progress.case.status == FAILED
            return RetryOutcome(ref, not failed_again, _case_error(ctx, actor, ref) if failed_again else None)
        if kind == MESSAGE:
            agency_messages.retry(ctx, actor, key)
            return RetryOutcome(ref, True, None)
        entry, _ = outbox.retry(ctx, actor, int(key))
        return RetryOutcome(ref, entry.done_at is not None, entry.last_error if entry.done_at is None else None)
    except WorkflowsError as error:  # refused (another retried it meanwhile, a 中止), or a second failure
        return RetryOutcome(ref, False, str(error))


def _case_error(ctx: Context, actor: User, ref: str) -> str | None:
    found = next((i for i in list_incidents(ctx, actor) if i.ref == ref), None)
    return found.error if found else None


def counts(ctx: Context, actor: User) -> dict[str, int]:
    """Open incidents by kind, for the 统计 page."""
    found = list_incidents(ctx, actor)
    return {kind: sum(1 for i in found if i.kind == kind) for kind in KIND_LABELS}


def notify_supervisors(ctx: Context, entry: OutboxEntry) -> None:
    """The outbox's worker for IncidentRaised: tell the hall's 科室负责人, after the failing command committed."""
    event = IncidentRaised.from_payload(entry.payload)
    with ctx.uow() as uow:
        case = uow.cases.get_by_id(event.case_id)
        message = f"故障待处理：{case.item_name} {case.number} {event.what}失败：{event.error}"
        for user in uow.users.in_hall(case.agency_code, case.hall_code):
            if user.has_role("supervisor"):
                uow.notifications.add(user.username, "incident", message[:1000], ctx.now(), case)
        uow.outbox.finish(entry.id, ctx.now())
        uow.commit()
