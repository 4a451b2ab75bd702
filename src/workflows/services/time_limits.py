"""Use cases of time limits: work out a due date, stop and restart a case's clock, ask for and decide 延期."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from workflows.domain.calendar import OfficeHours
from workflows.domain.catalog import TimeLimit
from workflows.domain.deadlines import PAUSE_KINDS, Deadline, compute_deadline, plan_stage_limits
from workflows.domain.errors import Conflict, InvalidInput, NotFound
from workflows.domain.events import CalendarChanged, OutboxEntry
from workflows.domain.model import APPROVED, CLOSED, REFUSED, REQUESTED, ExtensionRequest, User
from workflows.domain.case_limits import ACCEPTANCE_STAGE, PROMISED, STATUTORY, limit_name

from .access import case_for_update, require_case_visible, require_role
from .calendar import working_calendar
from .catalog import get_agency
from .clock import CaseClock
from .context import CHINA, Context
from .history import SYSTEM, add_history
from .progress import CaseCommand, Progress
from .retries import retried

MAX_EXTENSION_DAYS = 60


@dataclass(frozen=True)
class ComputedLimit:
    kind: str
    name: str
    deadline: Deadline | None  # None: counted from a stage whose end cannot be planned (it has no limit)
    starts_at: datetime | None
    starts_after: str  # the stage whose end starts it: 受理, or the stage limit's `from` (验收, 签订协议 …)
    limit: TimeLimit


def compute_item_deadlines(ctx: Context, agency_code: str, item_code: str, accepted_at: datetime) -> list[ComputedLimit]:
    """The due moments of an item's limits for a case accepted at `accepted_at`, for anyone to check the
    arithmetic: 承诺 and 法定 from acceptance, each stage limit from the end of its own `from` stage (planned as
    the latest moment that stage may end on time)."""
    if accepted_at.tzinfo is None:
        accepted_at = accepted_at.replace(tzinfo=CHINA)
    agency = get_agency(ctx, agency_code)
    item = agency.item(item_code)
    if item is None:
        raise NotFound(f"经办机构 {agency_code} 没有事项 {item_code}")
    hours = OfficeHours(agency.office_hours) if agency.office_hours else OfficeHours()
    with ctx.uow(write=False) as uow:
        calendar = working_calendar(ctx, uow)
    whole = [ComputedLimit(kind, limit_name(kind), compute_deadline(calendar, hours, limit, accepted_at,
                                                                    policy=item.warning),
                           accepted_at, ACCEPTANCE_STAGE, limit)
             for kind, limit in ((PROMISED, item.promised_limit), (STATUTORY, item.statutory_limit)) if limit]
    stages = [ComputedLimit(p.stage_limit.stage, limit_name(p.stage_limit.stage), p.deadline, p.starts_at,
                            p.stage_limit.starts_at, p.stage_limit.limit)
              for p in plan_stage_limits(calendar, hours, item.stage_limits, accepted_at, ACCEPTANCE_STAGE,
                                         item.warning)]
    return whole + stages


@retried
def on_started_case(ctx: Context, actor: User, number: str, act: Callable[..., str], *roles: str) -> Progress:
    """Run `act(uow, command)` on a started case's clock, then recompute its limits and record what moved."""
    require_role(actor, *(roles or ("acceptor", "reviewer", "finance", "supervisor")))
    with ctx.uow() as uow:
        case = case_for_update(uow, actor, number)
        command = CaseCommand(uow, ctx, case)
        command.clock.require_started()
        run = command.resume()
        message = act(uow, command)
        at = ctx.now()
        add_history(uow, case, at, actor.username, "clock", message, stage=case.stage)
        record_moves(uow, ctx, case, actor.username, command.clock.refresh(run))
        progress = command.record(run)
        uow.commit()
        return progress


def valid_extension_days(days) -> bool:
    return type(days) is int and 1 <= days <= MAX_EXTENSION_DAYS  # type(): JSON true is no number of days


def record_moves(uow, ctx: Context, case, actor: str, moved: list[tuple[str, str, str]], why: str = "") -> None:
    """One history line per limit whose due moment moved."""
    for name, before, after in moved:
        add_history(uow, case, ctx.now(), actor, "deadline_moved",
                    f"{name}由 {before} 调整为 {after}" + (f"（{why}）" if why else ""))


@retried
def recompute_case_deadlines(ctx: Context, case_id: int, why: str) -> None:
    """The calendar changed: compute the case's running limits again and re-arm its timers."""
    with ctx.uow() as uow:
        case = uow.cases.get_by_id(case_id, lock=True)
        if case is None or case.status == CLOSED:
            return
        command = CaseCommand(uow, ctx, case)
        run = command.resume()
        moved = command.clock.refresh(run)
        if moved:
            record_moves(uow, ctx, case, SYSTEM, moved, why)
            command.record(run)
            uow.commit()


RECOMPUTE_BATCH = 100  # cases per outbox entry: a round of the scheduler does a batch, the next entry the rest


def recompute_batch(ctx: Context, entry: OutboxEntry) -> None:
    """The outbox's worker for CalendarChanged: the next batch of cases with running limits recompute theirs,
    each in its own transaction (a recompute is idempotent: one done twice after a crash moves nothing); then the
    entry is done and, if cases remain, the next batch's entry is written, in one transaction."""
    event = CalendarChanged.from_payload(entry.payload)
    with ctx.uow(write=False) as uow:
        case_ids = uow.deadlines.cases_with_unmet(after=event.after_case_id, limit=RECOMPUTE_BATCH)
    for case_id in case_ids:
        recompute_case_deadlines(ctx, case_id, event.reason)
    with ctx.uow() as uow:
        uow.outbox.finish(entry.id, ctx.now())
        if len(case_ids) == RECOMPUTE_BATCH:
            uow.publish(CalendarChanged(event.reason, after_case_id=case_ids[-1]))
        uow.commit()


def pause_clock(ctx: Context, actor: User, number: str, kind: str, reason: str) -> Progress:
    if kind not in PAUSE_KINDS:
        raise InvalidInput("暂停原因有误", {"kind": f"应为：{'、'.join(PAUSE_KINDS.values())}"})
    if not (reason or "").strip():
        raise InvalidInput("请说明暂停计时的原因", {"reason": "请填写原因"})

    if kind == "suspension":
        require_role(actor, "supervisor")  # 中止 is the supervisor's decision; 补正 and the rest are the clerk's

    return on_started_case(ctx, actor, number,
                           lambda uow, command: start_pause(uow, ctx, command, actor, kind, reason))


def start_pause(uow, ctx: Context, command: CaseCommand, actor: User, kind: str, reason: str) -> str:
    """Stop the case's clock (inside on_started_case); returns the history line."""
    command.clock.pause(kind, reason, actor.username)
    return f"{actor.full_name}暂停计时（{PAUSE_KINDS[kind]}）：{reason.strip()}"


def resume_clock(ctx: Context, actor: User, number: str) -> Progress:
    def resume(uow, command: CaseCommand) -> str:
        pause = command.clock.resumable()
        if pause.kind == "suspension":
            require_role(actor, "supervisor")
        command.clock.end_pause(pause, actor.username)
        return f"{actor.full_name}恢复计时（{PAUSE_KINDS.get(pause.kind, pause.kind)}结束）"

    return on_started_case(ctx, actor, number, resume)


@retried
def request_extension(ctx: Context, actor: User, number: str, days: int, reason: str) -> ExtensionRequest:
    require_role(actor, "acceptor", "reviewer", "finance", "supervisor")
    errors = {}
    if not valid_extension_days(days):
        errors["days"] = f"延期天数应为 1 到 {MAX_EXTENSION_DAYS} 个工作日"
    if not (reason or "").strip():
        errors["reason"] = "请说明延期理由"
    if errors:
        raise InvalidInput("延期申请有误", errors)
    with ctx.uow() as uow:
        case = require_case_visible(actor, uow.cases.get(number))
        CaseClock(uow, ctx, case).require_started()
        if any(r.status == REQUESTED for r in uow.deadlines.extensions(case.id)):
            raise Conflict("已有待审批的延期申请")
        request = ExtensionRequest(case_id=case.id, days=days, reason=reason.strip(), requested_by=actor.username,
                                   requested_at=ctx.now(), status=REQUESTED, decided_by=None, decided_at=None,
                                   decision_note=None)
        uow.deadlines.add_extension(request)
        add_history(uow, case, ctx.now(), actor.username, "extension_requested",
                    f"{actor.full_name}申请延期 {days} 个工作日：{reason.strip()}", stage=case.stage)
        uow.commit()
        return request


def decide_extension(ctx: Context, actor: User, number: str, approve: bool, note: str = "") -> Progress:
    """A supervisor approves (the limits grow by the days asked) or refuses the case's pending request."""

    def decide(uow, command: CaseCommand) -> str:
        request = next((r for r in uow.deadlines.extensions(command.case.id) if r.status == REQUESTED), None)
        if request is None:
            raise Conflict("没有待审批的延期申请")
        request.status, request.decided_by, request.decided_at = (APPROVED if approve else REFUSED,
                                                                  actor.username, ctx.now())
        request.decision_note = (note or "").strip() or None
        uow.flush()
        verdict = "批准" if approve else "不批准"
        return f"{actor.full_name}{verdict}延期 {request.days} 个工作日" + (f"：{note.strip()}" if note else "")

    return on_started_case(ctx, actor, number, decide, "supervisor")


def grant_extension(uow, ctx: Context, actor: User, command: CaseCommand, days: int, reason: str) -> str:
    """An extension a supervisor gives directly from the desk (督办): recorded as asked and approved at once."""
    uow.deadlines.add_extension(ExtensionRequest(
        case_id=command.case.id, days=days, reason=reason, requested_by=actor.username, requested_at=ctx.now(),
        status=APPROVED, decided_by=actor.username, decided_at=ctx.now(), decision_note=reason))
    uow.flush()
    return f"{actor.full_name}批准延期 {days} 个工作日：{reason}"
