"""Use cases of applicants and the public, without signing in: 办理进度查询, 办件公示, 好差评.

An applicant proves a case is theirs with the case number, the applicant's ID number (身份证号码 or 统一社会信用
代码) and the contact phone given when applying (the applicant's, or the agent's for 委托办理) together. Whatever
does not match — an unknown number, a known number with another ID or phone — gets the same neutral answer, so the
pages never tell whether a number exists; and each such miss counts against the client's address and the case
number (services/throttles.py), so that guessing an ID number is locked out after a few tries. What they show is
the applicant's own view: item, stage, status and times, never staff names, case data or opinions. The public list masks applicants' names.
"""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, TypeVar

from workflows.domain.applicants import PERSON, agent_of
from workflows.domain.case_states import is_completed
from workflows.domain.errors import Conflict, InvalidInput, NotFound
from workflows.domain.model import CLOSED, Case
from workflows.domain.throttling import Policy

from .case_states import state_of, states_of
from .context import Context
from .followups import FollowUpResult, open_followup, public_result
from .throttles import count_failure, refuse_if_locked
from .retries import retried

NOT_FOUND = "未查到该办件，请核对办件编号、证件号码和联系电话"
ADDRESS_POLICY = Policy(limit=10, window=timedelta(minutes=15), lock=timedelta(minutes=15))
CASE_POLICY = Policy(limit=5, window=timedelta(minutes=15), lock=timedelta(minutes=30))
WHAT = "查询"
T = TypeVar("T")
RATINGS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
POOR_RATINGS = frozenset({1, 2})  # 差评: each opens a 差评回访 for the hall's supervisors (services/followups.py)
MAX_COMMENT = 500
PAGE_SIZE = 20
FIRST_STAGE, LAST_STAGE = "申请", "办结"
ENDED = "已结束"  # the public list's 状态 of a closed case; its 结果 column says how it ended


@dataclass(frozen=True)
class Proof:
    """What the applicant types to show a case is theirs."""

    number: str
    id_number: str
    phone: str


@dataclass(frozen=True)
class PublicStep:
    name: str
    state: str  # done | current | pending | skipped (a closed case never went through it)
    at: datetime | None


@dataclass(frozen=True)
class PublicProgress:
    number: str
    item_name: str
    stage: str
    status: str  # 办理中 | 暂停（补正） | 已办结 | 不予受理 | 审核不通过 | 已撤件 …
    result: str | None  # the end event's name once closed: 办结, 不予受理 …
    applied_at: datetime
    accepted_at: datetime | None
    closed_at: datetime | None
    steps: list[PublicStep]
    rating: str | None  # the label given, once rated
    can_rate: bool
    followup: FollowUpResult | None = None  # the agency's answer to a 差评, once recorded
    agent: str | None = None  # 委托办理: the agent's name, masked
    pause: str = ""  # while the clock is stopped: the days it gives back


@dataclass(frozen=True)
class PublicCase:
    applicant: str  # masked
    item_name: str
    applied_at: datetime
    accepted_at: datetime | None
    closed_at: datetime | None
    status: str  # 办理中 | 暂停（补正） | 已结束
    result: str  # once closed: 已办结, 不予受理, 审核不通过, 已撤件 …; "" while open


@dataclass(frozen=True)
class PublicCasePage:
    agency_code: str
    agency_name: str
    cases: list[PublicCase]
    page: int
    has_next: bool


def query_progress(ctx: Context, proof: Proof, address: str | None) -> PublicProgress:
    """办理进度查询: the case whose number, applicant's ID number and phone all match, or NotFound (one message)."""

    def query() -> PublicProgress:
        with ctx.uow(write=False) as uow:
            case = owned_case(uow, proof)
            rating = uow.ratings.for_case(case.id)
            return _progress(ctx, uow, case, rating["label"] if rating else None, public_result(uow, case))

    return guarded(ctx, proof, address, query)


def guarded(ctx: Context, proof: Proof, address: str | None, action: Callable[[], T]) -> T:
    """Run `action` (which proves the case is the applicant's) unless the address or the case number is locked;
    a miss (NotFound) counts against both, and the miss that locks answers TooManyAttempts instead."""
    keys = {f"public:{(address or '-')[:64]}": ADDRESS_POLICY, f"case:{proof.number.strip()[:40]}": CASE_POLICY}
    with ctx.uow(write=False) as uow:
        refuse_if_locked(uow, ctx, keys, WHAT)
    try:
        return action()
    except NotFound:
        count_failure(ctx, keys, WHAT, address)
        raise


def rate_service(ctx: Context, proof: Proof, address: str | None, score, comment: str = "") -> str:
    """好差评: the applicant rates a completed case, once. Returns the label stored."""
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    comment = (comment or "").strip()
    errors = {}
    if score not in RATINGS:
        errors["score"] = "请选择评价：" + "、".join(RATINGS[key] for key in sorted(RATINGS, reverse=True))
    if len(comment) > MAX_COMMENT:
        errors["comment"] = f"意见不超过 {MAX_COMMENT} 字（现有 {len(comment)} 字）"
    if errors:
        raise InvalidInput("评价填写有误", errors)
    return guarded(ctx, proof, address, lambda: _rate(ctx, proof, score, comment))


@retried
def _rate(ctx: Context, proof: Proof, score: int, comment: str) -> str:
    with ctx.uow() as uow:
        case = owned_case(uow, proof)
        if case.status != CLOSED:
            raise Conflict("办件办结后才能评价")
        if uow.ratings.for_case(case.id) is not None:
            raise Conflict("该办件已评价，每件只能评价一次")
        uow.ratings.add(case.id, score, RATINGS[score], comment or None, ctx.now())
        if score in POOR_RATINGS:
            open_followup(uow, ctx, case, score, RATINGS[score], comment or None)
        try:
            uow.commit()
        except Conflict:
            with ctx.uow(write=False) as check:  # rated at the same moment elsewhere: the unique case_id kept one
                if check.ratings.for_case(case.id) is not None:
                    raise Conflict("该办件已评价，每件只能评价一次") from None
            raise
    return RATINGS[score]


def public_cases(ctx: Context, agency_code: str, page: int = 1, item_code: str | None = None) -> PublicCasePage:
    """办件公示: an agency's cases, newest first, a page at a time, applicants' names masked."""
    page = max(int(page or 1), 1)
    with ctx.uow(write=False) as uow:
        agency = ctx.catalog(uow).agency(agency_code)
        if agency is None:
            raise NotFound(f"经办机构 {agency_code} 不存在")
        found = uow.cases.search(agency.code, None, None, item_code or None, PAGE_SIZE + 1,
                                 (page - 1) * PAGE_SIZE)
        states = states_of(uow, ctx, {case.id: (case.status, case.result) for case in found[:PAGE_SIZE]})
    rows = [PublicCase(mask_name(case.applicant.get("name", ""), case.applicant.get("kind")), case.item_name,
                       case.opened_at, case.accepted_at, case.closed_at,
                       ENDED if case.status == CLOSED else _status(states[case.id].label),
                       states[case.id].label if case.status == CLOSED else "") for case in found[:PAGE_SIZE]]
    return PublicCasePage(agency.code, agency.name, rows, page, len(found) > PAGE_SIZE)


def mask_name(name: str, kind: str | None = PERSON) -> str:
    """张伟 → 张*, 张三伟 → 张*伟, 欧阳娜娜 → 欧**娜; an organisation keeps only its first and last characters
    (two of each when long enough): 抚顺市康宁医药有限公司 → 抚顺*******公司."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    keep = 1 if (kind or PERSON) == PERSON or len(name) < 5 else 2
    return name[:keep] + "*" * (len(name) - 2 * keep) + name[-keep:]


def owned_case(uow, proof: Proof, lock: bool = False) -> Case:
    """The case the proof names, if it proves it (NotFound, one neutral answer, otherwise); with `lock`, loaded for
    update (CaseRepository.get_for_update_by_number: a command of the applicant's)."""
    number, id_number, phone = proof.number.strip(), proof.id_number.strip().upper(), _digits(proof.phone)
    errors = {}
    if not number:
        errors["number"] = "请填写办件编号"
    if not id_number:
        errors["id_number"] = "请填写申请人的身份证号码或统一社会信用代码"
    if not phone:
        errors["phone"] = "请填写申请时登记的联系电话"
    if errors:
        raise InvalidInput("请填写办件编号、证件号码和联系电话", errors)
    case = _case_of_number(uow, number, lock) if len(number) <= 40 else None
    applicant = (case.applicant or {}) if case else {}
    stored = str(applicant.get("id_number", ""))
    phones = {_digits(applicant.get("phone")), _digits((agent_of(applicant) or {}).get("phone"))} - {""}
    # compare_digest: the time taken does not tell how much of the ID number or phone matched
    if (case is None or not stored or not hmac.compare_digest(stored.encode(), id_number.encode())
            or not any(hmac.compare_digest(known.encode(), phone.encode()) for known in phones)):
        raise NotFound(NOT_FOUND)
    return case


def _case_of_number(uow, number: str, lock: bool) -> Case | None:
    if not lock:
        return uow.cases.get(number)
    found = uow.cases.get_for_update_by_number(number)
    return found.case if found else None


def _digits(phone) -> str:
    """A phone as its digits, without the country code: 0413-1234567 and 04131234567 are the same number."""
    digits = re.sub(r"\D", "", str(phone or ""))[:20]
    return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits


def _status(label: str) -> str:
    return "办理中" if label == "故障待处理" else label  # a failed case is, for the applicant, still in hand


def _progress(ctx: Context, uow, case: Case, rating: str | None, followup: FollowUpResult | None) -> PublicProgress:
    closed, state = case.status == CLOSED, state_of(uow, ctx, case)
    return PublicProgress(case.number, case.item_name, case.stage, _status(state.label), state.result,
                          case.opened_at, case.accepted_at, case.closed_at, _steps(ctx, uow, case), rating,
                          can_rate=closed and rating is None, followup=followup,
                          agent=mask_name(agent["name"]) if (agent := agent_of(case.applicant)) else None,
                          pause=state.detail)


def _steps(ctx: Context, uow, case: Case) -> list[PublicStep]:
    """The item's stages (申请 … 办结), each done (and when), current, pending, or skipped by a closed case."""
    agency = ctx.catalog(uow).agency(case.agency_code)
    agency_item = agency.item(case.item_code) if agency else None
    names = list(agency_item.item.stages) if agency_item else [FIRST_STAGE, LAST_STAGE]
    current = case.stage if case.is_open else None
    if current and current not in names:  # a stage limit's step (联系函, 信息表) the item list does not name
        names.insert(len(names) - 1, current)
    done_at = {FIRST_STAGE: case.opened_at}
    for entry in uow.history.for_case(case.id):
        if entry.action == "completed" and entry.stage:
            done_at[entry.stage] = entry.at
    done_at[LAST_STAGE] = case.closed_at if case.status == CLOSED and is_completed(case.result) else None
    steps = []
    for name in names:
        if name == current:
            state = "current"
        elif done_at.get(name):
            state = "done"
        else:
            state = "skipped" if case.status == CLOSED else "pending"
        steps.append(PublicStep(name, state, done_at.get(name) if state == "done" else None))
    return steps
