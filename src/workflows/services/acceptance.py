"""The window's acceptance rules inside the task and materials use cases: 容缺受理 and its 补正, 告知承诺.

- Completing 受理 with 容缺受理 (`waive`) is allowed when materials are marked 容缺, nothing is missing that must be
  there, and the applicant signed the 《容缺承诺书》. It is recorded (case_waivers, history) and the
  容缺受理通知书 issued; the case waits in 容缺补正, its limits stopped (services/clock.py).
- The clerk marking the last waived material handed in delivers 容缺材料补齐 to the case in the same transaction:
  the case goes on and its limits run again. Once the 补正期限 has passed the case closes 补正超时 and marks are
  refused.
- The first material marked 告知承诺 brings the applicant's 个人承诺书 (once per case).

Each runs inside its command's transaction (the completion's through the bus's TaskCompleted), so a refusal leaves
nothing behind.
"""
from __future__ import annotations

from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain.acceptance import (COMMITMENT_FIELD, COMMITTED, SUPPLIED, WAIVE, WAIVER_EXPIRED,
                                         WAIVER_STAGE, WAIVER_SUPPLIED, check_waiver, checked)
from workflows.domain.catalog import AgencyItem
from workflows.domain.errors import Conflict
from workflows.domain.events import TaskCompleted
from workflows.domain.model import Case, CaseDeadline, CaseWaiver, User
from workflows.domain.case_limits import due_label

from . import documents
from .cases import receive_message
from .context import Context
from .history import add_history


def case_item(ctx: Context, uow: UnitOfWork, case: Case) -> AgencyItem | None:
    """The catalog's item of the case at its agency (its materials, whether it allows 告知承诺)."""
    agency = ctx.catalog(uow).agency(case.agency_code)
    return agency.item(case.item_code) if agency else None


def on_task_completed(uow: UnitOfWork, ctx: Context, event: TaskCompleted) -> None:
    """The bus's handler of TaskCompleted, in the completion's transaction: a 容缺受理 is checked (a refusal
    rolls the whole completion back) and recorded with the 补正期限 the clock has just started. The signed
    《容缺承诺书》 is the step's form field `waiver_commitment` if it has one, else the task page's checkbox."""
    if event.decision != WAIVE:
        return
    case, actor, cleaned, submitted = uow.cases.get_by_id(event.case_id), event.actor, event.values, event.submitted
    item = case_item(ctx, uow, case)
    materials = item.materials if item else ()
    marks = {index: mark.status for index, mark in uow.materials.for_case(case.id).items()}
    signed = checked(cleaned.get(COMMITMENT_FIELD)) or checked((submitted or {}).get(COMMITMENT_FIELD))
    waived = check_waiver(materials, marks, signed)
    if not case.is_open:
        return  # a 禁办情形 ended the case before it could wait for anything: nothing to record or announce
    limit = _waiver_limit(uow, case)
    if limit is None:
        raise Conflict(f"“{case.item_name}”的流程没有容缺补正环节，不能容缺受理")
    names = [materials[index].name for index in waived]
    at = ctx.now()
    uow.waivers.add(CaseWaiver(case_id=case.id, materials=[{"index": index, "name": materials[index].name}
                                                           for index in waived],
                               accepted_by=actor, accepted_at=at, supplied_by=None, supplied_at=None))
    add_history(uow, case, at, actor, "waiver_accepted",
                f"容缺受理：申请人已签署《容缺承诺书》，容缺材料 {'、'.join(names)}，补正期限至 {due_label(limit)}",
                stage=WAIVER_STAGE, detail={"materials": names, "due_at": limit.due_at, "commitment_signed": True})
    documents.issue(uow, ctx, case, documents.WAIVER, actor, materials=names, due=limit.due_at)


def require_markable(uow: UnitOfWork, ctx: Context, case: Case) -> None:
    """Materials are marked only on an open case, and not once its 补正期限 has passed."""
    if case.result == WAIVER_EXPIRED:
        raise Conflict(f"补正期限已过，案件 {case.number} 已按补正超时办结，不能再核对材料")
    if not case.is_open:
        raise Conflict(f"案件 {case.number} 已办结，不能再核对材料")
    limit = _waiver_limit(uow, case)
    if limit is not None and limit.due_at is not None and limit.due_at <= ctx.now():
        raise Conflict(f"补正期限（{due_label(limit)}）已过，案件将按补正超时办结，不能再核对材料")


def after_marks(uow: UnitOfWork, ctx: Context, actor: User, case: Case, changed: list[tuple[str, str]]) -> None:
    """mark_materials' hook, once the marks (`changed`: name, status) are saved: the applicant's 个人承诺书 with
    the case's first 告知承诺, and the end of 容缺补正 when every waived material has been handed in."""
    committed = [name for name, status in changed if status == COMMITTED]
    if committed and not any(d.kind == documents.COMMITMENT for d in uow.documents.for_case(case.id)):
        documents.issue(uow, ctx, case, documents.COMMITMENT, actor, materials=committed)
    _end_waiver_once_supplied(uow, ctx, actor, case)


def _end_waiver_once_supplied(uow: UnitOfWork, ctx: Context, actor: User, case: Case) -> None:
    """Every material waived at acceptance now handed in (or replaced by a 承诺书): 容缺材料补齐 reaches the case."""
    waiver = uow.waivers.latest(case.id) if case.stage == WAIVER_STAGE else None
    if waiver is None or waiver.supplied_at is not None:
        return
    statuses = {index: mark.status for index, mark in uow.materials.for_case(case.id).items()}
    if any(statuses.get(waived["index"]) not in SUPPLIED for waived in waiver.materials):
        return
    waiver.supplied_by, waiver.supplied_at = actor.username, ctx.now()
    names = [waived["name"] for waived in waiver.materials]
    add_history(uow, case, ctx.now(), actor.username, "waiver_supplied",
                f"容缺材料已补齐（{'、'.join(names)}），结束容缺补正，恢复计时", stage=WAIVER_STAGE,
                detail={"materials": names})
    receive_message(uow, ctx, case, actor.username, WAIVER_SUPPLIED, {"materials": names})


def _waiver_limit(uow: UnitOfWork, case: Case) -> CaseDeadline | None:
    """The running 补正期限 of a case waiting in 容缺补正."""
    if case.stage != WAIVER_STAGE or not case.is_open:
        return None
    return next((row for row in uow.deadlines.for_case(case.id) if row.kind == WAIVER_STAGE and row.met_at is None),
                None)

