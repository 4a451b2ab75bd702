"""一次性告知: telling the applicant, once and in writing, every material still missing — and what follows from it.

- `issue_missing_materials_notice`: the hall's 受理员 or 审核员 gives the 一次性告知书 listing every material marked
  缺少 on the case (services/materials.py).
- `return_for_correction` (退回申请人补正, after acceptance): the same notice, and the clock stopped (补正) until
  the applicant brings the materials (resume_clock restarts it).
- `deem_undecided_acceptances` (行政许可法 §32), for the scheduler: a case neither decided at 受理 nor given a
  一次性告知书 within 5 working days of receipt counts as accepted on the day of receipt.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from workflows.domain.acceptance import MISSING
from workflows.domain.errors import Conflict, InvalidInput
from workflows.domain.model import OPEN, Case, CaseDocument, User
from workflows.domain.case_limits import ACCEPTANCE_STAGE

from . import documents, materials, time_limits
from .access import case_for_update, require_role
from .clock import CaseClock
from .context import CHINA, Context
from .history import SYSTEM, add_history
from .progress import CaseCommand
from .retries import retried

log = logging.getLogger(__name__)

MAX_REASON_LENGTH = 500
CORRECTION = "correction"  # the pause kind of 补正 (time_limits.PAUSE_KINDS)
DECISION_DAYS = 5  # 行政许可法 §32: decide on acceptance, or give the 一次性告知书, within 5 working days of receipt
DEEMED_MESSAGE = "逾期未出具一次性告知书，自收到申请之日即视为受理（《行政许可法》第三十二条）"


@retried
def issue_missing_materials_notice(ctx: Context, actor: User, number: str, marks: dict | None = None) -> CaseDocument:
    """The 一次性告知书 of the materials marked 缺少; `marks` (position -> status), sent with it from the task
    form, are saved first, in the same transaction."""
    require_role(actor, *documents.NOTICE_ROLES)
    with ctx.uow() as uow:
        case = case_for_update(uow, actor, number)
        if marks:
            materials.apply_marks(uow, ctx, actor, case, marks)
        document = _notice(uow, ctx, case, actor)
        uow.commit()
        return document


def return_for_correction(ctx: Context, actor: User, number: str, reason: str) -> CaseDocument:
    """退回申请人补正: the 一次性告知书 with the reason, and the clock paused (补正); all or nothing."""
    reason = (reason or "").strip()
    require_role(actor, *documents.NOTICE_ROLES)
    if not reason:
        raise InvalidInput("请说明退回补正的原因", {"reason": "请填写退回补正的原因"})
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidInput(f"退回补正的原因不能超过 {MAX_REASON_LENGTH} 字", {"reason": f"不能超过 {MAX_REASON_LENGTH} 字"})
    issued = []

    def act(uow, command: CaseCommand) -> str:
        issued.append(_notice(uow, ctx, command.case, actor, reason))
        return time_limits.start_pause(uow, ctx, command, actor, CORRECTION, f"退回申请人补正：{reason}")

    time_limits.on_started_case(ctx, actor, number, act, *documents.NOTICE_ROLES)
    return issued[0]


def _notice(uow, ctx: Context, case: Case, actor: User, reasons: str | None = None) -> CaseDocument:
    if not case.is_open:
        raise Conflict(f"案件 {case.number} 已办结，不能再出具一次性告知书")
    missing = [mark.name for mark in uow.materials.for_case(case.id).values() if mark.status == MISSING]
    if not missing:
        raise InvalidInput("没有标为“缺少”的材料：请先在申请材料中标出缺少的材料，再出具一次性告知书",
                           {"materials": "没有标为“缺少”的材料"})
    return documents.issue(uow, ctx, case, documents.MISSING_MATERIALS, actor, materials=missing, reasons=reasons)


# --- 行政许可法 §32 ----------------------------------------------------------------------------------------------

def deem_undecided_acceptances(ctx: Context, batch: int = 50) -> int:
    """Deem accepted, on the day of receipt, every case received more than 5 working days ago that is still at
    受理 and was given no 一次性告知书; return how many. Each case in its own transaction, locked as
    fire_due_timers does (another scheduler skips it), and once: a deemed case is accepted."""
    deemed = 0
    while True:
        # 5 working days are never fewer than 5 days: only older cases can be due; each is checked exactly below.
        with ctx.uow(write=False) as uow:
            found = uow.documents.undecided_cases(ACCEPTANCE_STAGE, ctx.now() - timedelta(days=DECISION_DAYS),
                                                  documents.MISSING_MATERIALS, batch)
        moved = sum(_deem(ctx, case_id) for case_id in found)
        deemed += moved
        if len(found) < batch or moved == 0:
            return deemed


def decision_due(clock: CaseClock, case: Case) -> datetime:
    """When 受理 must have been decided or the 一次性告知书 given: the close of the 5th working day after receipt."""
    received = case.opened_at.astimezone(CHINA).date()
    return clock.hours.close_of(clock.calendar.add_working_days(received, DECISION_DAYS), CHINA)


@retried
def _deem(ctx: Context, case_id: int) -> bool:
    try:
        with ctx.uow() as uow:
            case = uow.cases.lock_if_free(case_id)
            if (case is None or case.status != OPEN or case.stage != ACCEPTANCE_STAGE
                    or case.accepted_at is not None):
                return False  # another scheduler has it, or it moved on since it was found
            command = CaseCommand(uow, ctx, case)
            if ctx.now() <= decision_due(command.clock, case) or any(
                    document.kind == documents.MISSING_MATERIALS for document in uow.documents.for_case(case.id)):
                return False
            run = command.resume()
            command.clock.deem_accepted(run)
            add_history(uow, case, ctx.now(), SYSTEM, "deemed_accepted", DEEMED_MESSAGE, stage=case.stage)
            command.record(run)
            uow.commit()
            return True
    except Conflict:
        log.info("case %s changed while it was deemed accepted; the next sweep retries", case_id)
        return False
