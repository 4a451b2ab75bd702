"""The limits diagram code runs under, set by the installation (environment variables), never by a diagram.

A designer's script, condition, timer, decision-table entry or message payload runs inside a web request or a
scheduler round that holds the case's row (and on SQLite the one write lock): without limits one diagram could
stop every write of the service. Each evaluation and each command get a CPU-time budget, every result and the case
data a size, and timers must make sense (a date within the horizon, cycles with a bounded count and a minimum
period).
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

NEVER = "9999-12-31T23:59:59+08:00"  # the date a timer waits for while its limit is not running: never fires


class LimitExceeded(Exception):
    """Diagram code went over a limit of the installation; the message says which, for the designer."""


@dataclass(frozen=True)
class DiagramLimits:
    evaluation_seconds: float = 1.0      # CPU time of one expression or script
    command_seconds: float = 5.0         # CPU time of all the diagram code one command runs
    data_bytes: int = 1_000_000          # the case data as stored (JSON), and any one result
    memory_units: int = 4_000_000        # characters/items one evaluation may allocate
    timer_horizon_days: int = 3660       # how far ahead a timer may be set (10 years)
    cycle_min_seconds: int = 60          # the shortest period of a cycle timer
    cycle_max_repetitions: int = 1000    # a cycle timer's count, which must be given

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> DiagramLimits:
        """WORKFLOWS_LIMIT_<FIELD> (e.g. WORKFLOWS_LIMIT_EVALUATION_SECONDS=2) overrides a default."""
        values = {}
        for spec in fields(cls):
            text = environ.get(f"WORKFLOWS_LIMIT_{spec.name.upper()}")
            if text:
                kind = float if spec.type == "float" else int
                try:
                    value = kind(text)
                except ValueError:
                    raise ValueError(f"WORKFLOWS_LIMIT_{spec.name.upper()} must be a number, not {text!r}") from None
                if value <= 0:
                    raise ValueError(f"WORKFLOWS_LIMIT_{spec.name.upper()} must be positive")
                values[spec.name] = value
        return cls(**values)


# --- timers -------------------------------------------------------------------------------------------------------

_NUMBER = r"(\d{1,18}(?:[.,]\d{1,9})?)"
_DURATION = re.compile(rf"P(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
                       rf"(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?", re.IGNORECASE)
_UPPER_SECONDS = (366 * 86400, 31 * 86400, 7 * 86400, 86400, 3600, 60, 1)  # the longest a Y, M, W … can be
_LOWER_SECONDS = (365 * 86400, 28 * 86400, 7 * 86400, 86400, 3600, 60, 1)


def _duration_bounds(text: str) -> tuple[float, float]:
    """The shortest and longest seconds an ISO 8601 duration can mean (months and years vary in length)."""
    match = _DURATION.fullmatch(text.strip())
    if not match or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        raise LimitExceeded(f"定时器的时长“{text[:40]}”不是 ISO 8601 格式，如 P10D、PT2H")
    numbers = [float(group.replace(",", ".")) if group else 0.0 for group in match.groups()]
    return (sum(n * s for n, s in zip(numbers, _LOWER_SECONDS)), sum(n * s for n, s in zip(numbers, _UPPER_SECONDS)))


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise LimitExceeded(f"定时器的时间“{text[:40]}”不是 ISO 8601 日期时间，如 2026-01-05T09:00:00+08:00") from None


def _aware(moment: datetime, now: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)


def check_timer(kind: str, value, now: datetime, limits: DiagramLimits) -> None:
    """Refuse a timer value (what a timeDate, timeDuration or timeCycle evaluated to) that makes no sense: beyond
    the horizon, a cycle without a count, too many repetitions or too short a period."""
    if not isinstance(value, str):
        raise LimitExceeded(f"定时器的值须为 ISO 8601 文本，不是 {type(value).__name__}")
    horizon = limits.timer_horizon_days * 86400
    if kind == "duration":
        if _duration_bounds(value)[1] > horizon:
            raise LimitExceeded(f"定时器时长“{value[:40]}”超过 {limits.timer_horizon_days} 天")
    elif kind == "date":
        if value.strip() != NEVER and (_aware(_moment(value), now) - now).total_seconds() > horizon:
            raise LimitExceeded(f"定时器时间“{value[:40]}”超过 {limits.timer_horizon_days} 天之后")
    else:
        _check_cycle(value, now, limits)


def _check_cycle(value: str, now: datetime, limits: DiagramLimits) -> None:
    parts = value.strip().upper().split("/")
    count = parts[0][1:] if parts[0].startswith("R") else None
    if count is None or len(parts) not in (2, 3):
        raise LimitExceeded(f"循环定时器“{value[:40]}”须为 Rn/周期 或 Rn/开始时间/周期")
    if not count.isdigit():
        raise LimitExceeded(f"循环定时器“{value[:40]}”须写明次数（R1 到 R{limits.cycle_max_repetitions}），"
                            f"不允许无限循环")
    if int(count) > limits.cycle_max_repetitions:
        raise LimitExceeded(f"循环定时器“{value[:40]}”最多循环 {limits.cycle_max_repetitions} 次")
    durations = [part for part in parts[1:] if part.startswith("P")]
    moments = [_aware(_moment(part), now) for part in parts[1:] if not part.startswith("P")]
    if len(durations) != 1:
        raise LimitExceeded(f"循环定时器“{value[:40]}”须恰有一个周期，如 R3/PT1H")
    shortest, longest = _duration_bounds(durations[0])
    if shortest < limits.cycle_min_seconds:
        raise LimitExceeded(f"循环定时器“{value[:40]}”的周期至少 {limits.cycle_min_seconds} 秒")
    horizon = timedelta(days=limits.timer_horizon_days)
    if any(moment - now > horizon for moment in moments) or longest > horizon.total_seconds():
        raise LimitExceeded(f"循环定时器“{value[:40]}”超过 {limits.timer_horizon_days} 天之后")
