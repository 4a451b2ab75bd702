"""Who a user task is for, and when, as the diagram says it: the Camunda task attributes assignee, candidateUsers,
candidateGroups, priority, dueDate and followUpDate, each a literal or an expression whose value arrives here.

A value the task cannot use (a number as assignee, "soon" as a due date) does not stop the case: the task goes to
the hall as if the attribute were absent, and the problem is said in the case's history, so the designer learns
of it and the clerks still get the task.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from .model import DEFAULT_PRIORITY
from .roles import ROLE_NAMES, TASK_ROLES, role_for_lane

BEIJING = timezone(timedelta(hours=8))
ATTRIBUTES = {"assignee": "办理人", "candidateUsers": "候选人", "candidateGroups": "候选岗位",
              "priority": "优先级", "dueDate": "到期时间", "followUpDate": "跟进时间"}
_DURATION = re.compile(r"P(?=\d|T\d)(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")
PRIORITY_RANGE = (0, 1_000_000)


class UnusableValue(ValueError):
    """An attribute's value the task cannot use; the message says why, in Chinese."""


@dataclass(frozen=True)
class Assignment:
    """The attributes of one task as they came out for its case."""

    assignee: str | None = None
    candidate_users: tuple[str, ...] = ()
    role: str | None = None  # the first candidate group naming a task role
    priority: int = DEFAULT_PRIORITY
    due_date: datetime | None = None
    follow_up_date: datetime | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)  # for the history: why an attribute was not used


def names(value) -> tuple[str, ...]:
    """A user or group list: "a, b" or a list of texts."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return tuple(item.strip() for item in value if item.strip())
    raise UnusableValue(f"应为用户名或以逗号分隔的名单，而不是 {_shown(value)}")


def assignee(value) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise UnusableValue(f"应为用户名，而不是 {_shown(value)}")
    return value.strip() or None


def task_role(groups: tuple[str, ...]) -> str | None:
    """The task role of the first group naming one, by code (reviewer) or Chinese name (审核员)."""
    for group in groups:
        role = group if group in ROLE_NAMES else role_for_lane(group)
        if role in TASK_ROLES:
            return role
    return None


def priority(value) -> int:
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not PRIORITY_RANGE[0] <= value <= PRIORITY_RANGE[1]:
        raise UnusableValue(f"应为 {PRIORITY_RANGE[0]}–{PRIORITY_RANGE[1]} 的整数，而不是 {_shown(value)}")
    return value


def moment(value, start: datetime) -> datetime | None:
    """A due or follow-up time: a date-time (Beijing time when it gives no offset), a date (the end of that day in
    Beijing), an ISO 8601 duration or timedelta (from `start`, when the task opens)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = _parse_moment(value.strip())
    if isinstance(value, timedelta):
        return start + value
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=BEIJING)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59), BEIJING)
    raise UnusableValue(f"应为 ISO 8601 日期时间、日期或时长（如 2026-12-31T17:00:00+08:00、P3D），"
                        f"而不是 {_shown(value)}")


def _parse_moment(text: str) -> datetime | date | timedelta | str:
    duration = _DURATION.fullmatch(text)
    if duration:
        weeks, days, hours, minutes, seconds = (int(part or 0) for part in duration.groups())
        return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    for parse in (date.fromisoformat, datetime.fromisoformat):
        try:
            return parse(text)
        except ValueError:
            continue
    return text  # refused by the caller, with the text shown


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "…"
