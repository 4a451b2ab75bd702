"""外出/休假代理: a clerk going away names a substitute of the hall (sharing a task role) for a period.

While the period runs, a task given to the absent clerk — 转办, 委派, 加签, a supervisor's 改派, 退回 and 撤回 —
goes to the substitute instead (`resolve_assignee`), noted in the case's history ("张三休假，由李四代办"), and
every notification for the absent clerk goes to the substitute too (NotificationRepository does that at commit).
A clerk's periods never overlap; one can be ended early. A substitute away himself is not replaced in turn: the
resolution takes one step, so two clerks naming each other never send a task round in a loop.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain.errors import Conflict, InvalidInput, NotFound
from workflows.domain.model import Substitution, User
from workflows.domain.roles import TASK_ROLES

from .context import CHINA, Context
from .retries import retried

KINDS = {"leave": "休假", "out": "外出", "trip": "出差", "sick": "病假"}
MAX_REASON = 200


def resolve_assignee(uow: UnitOfWork, username: str, at: datetime, role: str | None = None) -> tuple[str, str | None]:
    """Who gets a task given to `username` at `at`: their substitute while they are away, with the note for the
    history ("张三休假，由李四代办"); otherwise `username` itself and None. With `role`, a substitute without that
    role cannot work the task, so it stays with `username`."""
    period = uow.substitutions.active(username, at)
    if period is None:
        return username, None
    substitute = uow.users.get(period.substitute)
    if substitute is None or (role is not None and not substitute.has_role(role)):
        return username, None
    absent = uow.users.get(username)
    return substitute.username, f"{absent.full_name}{KINDS.get(period.kind, period.kind)}，由{substitute.full_name}代办"


@dataclass(frozen=True)
class Substitutions:
    """The page of one's own: the periods one named, those in which one stands in for others, whom one may name."""

    own: list[Substitution]
    covering: list[Substitution]
    candidates: list[User]
    names: dict[str, str]  # username -> full name
    now: datetime


def my_substitutions(ctx: Context, actor: User) -> Substitutions:
    with ctx.uow(write=False) as uow:
        now = ctx.now()
        hall = uow.users.in_hall(actor.agency_code, actor.hall_code)
        return Substitutions(uow.substitutions.of_user(actor.username),
                             uow.substitutions.covered_by(actor.username, now),
                             [user for user in hall if _may_substitute(actor, user)],
                             {user.username: user.full_name for user in hall}, now)


def _may_substitute(actor: User, user: User) -> bool:
    shared = set(actor.roles) & set(user.roles) & TASK_ROLES
    return user.username != actor.username and bool(shared) and (user.agency_code, user.hall_code) == (
        actor.agency_code, actor.hall_code)


@retried
def name_substitute(ctx: Context, actor: User, substitute: str, kind: str, reason: str, starts,
                    ends) -> Substitution:
    """Name `substitute` for the period [starts, ends): "YYYY-MM-DD" (a whole day: from its start, or to its end)
    or "YYYY-MM-DD HH:MM", Beijing time; the substitute is told."""
    errors = {}
    if kind not in KINDS:
        errors["kind"] = f"请选择：{'、'.join(KINDS.values())}"
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if len(reason) > MAX_REASON:
        errors["reason"] = f"事由不能超过 {MAX_REASON} 字"
    starts_at, ends_at = _moment(starts, "starts_at", errors), _moment(ends, "ends_at", errors, end_of_day=True)
    now = ctx.now()
    if starts_at and ends_at and ends_at <= starts_at:
        errors["ends_at"] = "结束时间应晚于开始时间"
    elif ends_at and ends_at <= now:
        errors["ends_at"] = "结束时间已过"
    with ctx.uow() as uow:
        user = uow.users.get(substitute) if isinstance(substitute, str) and substitute else None
        if user is None or not _may_substitute(actor, user):
            errors["substitute"] = "代理人应为本大厅与您有相同岗位的其他人员"
        if not errors:
            overlapping = uow.substitutions.overlapping(actor.username, starts_at, ends_at)
            if overlapping is not None:
                errors["starts_at"] = f"与已有的代理期间（{period_label(overlapping)}）重叠"
        if errors:
            raise InvalidInput("代理设置有误", errors)
        period = Substitution(username=actor.username, substitute=user.username, agency_code=actor.agency_code,
                              hall_code=actor.hall_code, kind=kind, reason=reason, starts_at=starts_at,
                              ends_at=ends_at, created_at=now, ended_at=None)
        uow.substitutions.add(period)
        uow.notifications.add(user.username, "substitute",
                              f"{actor.full_name}{KINDS[kind]}（{period_label(period)}），期间其任务由您代办"
                              + (f"：{reason}" if reason else ""), now)
        uow.commit()
        return period


@retried
def end_substitution(ctx: Context, actor: User, substitution_id: int) -> Substitution:
    """End one's own period now (or drop it, if it has not begun); the substitute is told."""
    with ctx.uow() as uow:
        period = uow.substitutions.get(substitution_id)
        if period is None or period.username != actor.username:
            raise NotFound("代理设置不存在")
        now = ctx.now()
        if period.ends_at <= now or period.ended_at is not None:
            raise Conflict("该代理期间已结束")
        period.ends_at, period.ended_at = max(now, period.starts_at), now
        uow.notifications.add(period.substitute, "substitute",
                              f"{actor.full_name}已提前结束{KINDS.get(period.kind, period.kind)}，不再由您代办", now)
        uow.commit()
        return period


def period_label(period: Substitution) -> str:
    return f"{_local(period.starts_at)} 至 {_local(period.ends_at)}"


def _local(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _moment(value, field: str, errors: dict, end_of_day: bool = False) -> datetime | None:
    """A moment from "YYYY-MM-DD", "YYYY-MM-DD HH:MM" or "YYYY-MM-DDTHH:MM" (Beijing time), or an aware datetime."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    text = value.strip().replace("T", " ") if isinstance(value, str) else ""
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            moment = datetime.strptime(text, pattern)
        except ValueError:
            continue
        if pattern == "%Y-%m-%d" and end_of_day:  # a whole last day: until the start of the next
            moment = datetime.combine(moment.date() + timedelta(days=1), time())
        return moment.replace(tzinfo=CHINA)
    errors[field] = "请填写日期（YYYY-MM-DD）或时间（YYYY-MM-DD HH:MM）"
    return None
