"""差评回访: a rating of 不满意 or 非常不满意 opens a follow-up for the supervisors (科室负责人) of the case's hall.

It falls due within the agency's limit (catalog `bad_rating_followup`, default 5 working days) counted like a
case's: on the working calendar, at the close of the agency's office hours, the day of the rating not counted.
The supervisors are notified, see it on the desk with its 黄牌/红牌, call the applicant back and record what they
heard (回访情况) and what is being changed (整改措施) — once; the applicant then sees both on the progress page.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain import pages
from workflows.domain.calendar import OfficeHours
from workflows.domain.catalog import DEFAULT_FOLLOWUP_LIMIT
from workflows.domain.deadlines import compute_deadline
from workflows.domain.errors import Conflict, InvalidInput, NotFound
from workflows.domain.model import FOLLOWUP_DONE, FOLLOWUP_OPEN, Case, RatingFollowUp, User

from .access import require_role
from .calendar import working_calendar
from .context import CHINA, Context
from .history import SYSTEM, add_history
from .retries import retried

MAX_TEXT = 1000
STATUSES = (FOLLOWUP_OPEN, FOLLOWUP_DONE)


@dataclass(frozen=True)
class FollowUpRow:
    """A follow-up as the desk lists it: its 正常/黄牌/红牌 now (met once recorded) and its due moment."""

    followup: RatingFollowUp
    level: str  # normal | yellow | red | met
    due: str  # 2026-12-01 17:00


@dataclass(frozen=True)
class FollowUpResult:
    """What the applicant sees: what the agency heard and what it changes, never who recorded it."""

    visit_note: str
    remedy: str
    recorded_at: datetime


def open_followup(uow: UnitOfWork, ctx: Context, case: Case, score: int, label: str,
                  comment: str | None) -> RatingFollowUp:
    """In the rating's transaction: the follow-up, due within the agency's limit, and a word to the supervisors."""
    agency = ctx.catalog(uow).agency(case.agency_code)
    limit = agency.bad_rating_followup if agency else DEFAULT_FOLLOWUP_LIMIT
    hours = OfficeHours(agency.office_hours) if agency and agency.office_hours else OfficeHours()
    at = ctx.now()
    deadline = compute_deadline(working_calendar(ctx, uow), hours, limit, at)
    followup = RatingFollowUp(case_id=case.id, case_number=case.number, agency_code=case.agency_code,
                              hall_code=case.hall_code, item_name=case.item_name, score=score, rating_label=label,
                              comment=comment, opened_at=at, due_at=deadline.due_at, warning_at=deadline.warning_at,
                              status=FOLLOWUP_OPEN, visit_note=None, remedy=None, recorded_by=None, recorded_at=None)
    uow.followups.add(followup)
    message = (f"差评回访：{case.item_name} {case.number} 获评“{label}”，请于 {deadline.label()} 前回访申请人"
               f"并记录回访情况和整改措施")
    for user in uow.users.in_hall(case.agency_code, case.hall_code):
        if user.has_role("supervisor"):
            uow.notifications.add(user.username, "followup", message, at, case)
    add_history(uow, case, at, SYSTEM, "followup_opened", message, detail={"score": score, "comment": comment})
    return followup


def list_followups(ctx: Context, actor: User, status: str | None = FOLLOWUP_OPEN, limit: int = 200,
                   offset: int = 0) -> list[FollowUpRow]:
    """The follow-ups of the supervisor's hall, the soonest due first."""
    require_role(actor, "supervisor")
    if status is not None and status not in STATUSES:
        raise InvalidInput("status 只能是 open、done 或 all", {"status": "open | done | all"})
    now = ctx.now()
    with ctx.uow(write=False) as uow:
        found = uow.followups.for_hall(actor.agency_code, actor.hall_code, status, min(limit, pages.MAX_PAGE), offset)
    return [followup_row(followup, now) for followup in found]


def followup_row(followup: RatingFollowUp, now: datetime) -> FollowUpRow:
    """A follow-up with its level at `now` and its due moment in words (the desk reads them with its page)."""
    return FollowUpRow(followup, _level(followup, now), f"{followup.due_at.astimezone(CHINA):%Y-%m-%d %H:%M}")


def _level(followup: RatingFollowUp, now: datetime) -> str:
    """As a case's limit: 红牌 once past due, 黄牌 from the warning moment."""
    if followup.status == FOLLOWUP_DONE:
        return "met"
    return "red" if now > followup.due_at else "yellow" if now >= followup.warning_at else "normal"


@retried
def record_result(ctx: Context, actor: User, followup_id: int, visit_note: str, remedy: str) -> FollowUpRow:
    """A supervisor of the case's hall records the call back, once."""
    require_role(actor, "supervisor")
    with ctx.uow() as uow:
        followup = uow.followups.get(followup_id, lock=True)
        if followup is None or (followup.agency_code, followup.hall_code) != (actor.agency_code, actor.hall_code):
            raise NotFound("差评回访不存在")
        if followup.status == FOLLOWUP_DONE:
            raise Conflict(f"该差评回访已于 {followup.recorded_at.astimezone(CHINA):%Y-%m-%d %H:%M} 记录，"
                           "不能重复记录")
        texts = _validated(visit_note, remedy)
        at = ctx.now()
        followup.visit_note, followup.remedy = texts["visit_note"], texts["remedy"]
        followup.status, followup.recorded_by, followup.recorded_at = FOLLOWUP_DONE, actor.username, at
        add_history(uow, uow.cases.get_by_id(followup.case_id), at, actor.username, "followup_recorded",
                    f"{actor.full_name}记录差评回访：{followup.visit_note}", detail={"remedy": followup.remedy})
        uow.commit()
        return followup_row(followup, at)


def _validated(visit_note, remedy) -> dict:
    texts = {"visit_note": str(visit_note or "").strip(), "remedy": str(remedy or "").strip()}
    labels = {"visit_note": "回访情况", "remedy": "整改措施（无需整改的，写明原因）"}
    errors = {key: f"请填写{labels[key]}" for key, text in texts.items() if not text}
    errors.update({key: f"不超过 {MAX_TEXT} 字（现有 {len(text)} 字）" for key, text in texts.items()
                   if len(text) > MAX_TEXT})
    if errors:
        raise InvalidInput("回访记录填写有误", errors)
    return texts


def public_result(uow: UnitOfWork, case: Case) -> FollowUpResult | None:
    """The recorded follow-up of a case, for its applicant's progress page."""
    followup = uow.followups.for_case(case.id)
    if followup is None or followup.status != FOLLOWUP_DONE:
        return None
    return FollowUpResult(followup.visit_note, followup.remedy, followup.recorded_at)
