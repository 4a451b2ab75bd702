"""Throttling of guesses: failed sign-ins and failed public queries, counted per key (an account, a client
address, a case number) in a fixed window; enough of them lock the key for a while. Pure rules: the state is
stored by the caller, the clock passed in."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import WorkflowsError


@dataclass(frozen=True)
class Policy:
    limit: int  # failures allowed within the window; the limit-th locks
    window: timedelta
    lock: timedelta


@dataclass
class Attempts:
    key: str
    failures: int = 0
    window_started_at: datetime | None = None
    locked_until: datetime | None = None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    def retry_after(self, now: datetime) -> int:
        """Seconds until the lock ends (at least 1 while locked)."""
        return max(1, math.ceil((self.locked_until - now).total_seconds())) if self.locked(now) else 0

    def fail(self, now: datetime, policy: Policy) -> bool:
        """Count one failure; True when this one locks the key."""
        if self.window_started_at is None or now - self.window_started_at >= policy.window or (
                self.locked_until is not None and self.locked_until <= now):
            self.failures, self.window_started_at, self.locked_until = 0, now, None
        self.failures += 1
        if self.failures >= policy.limit and not self.locked(now):
            self.locked_until = now + policy.lock
            return True
        return False


class TooManyAttempts(WorkflowsError):
    """Refused without looking at what was typed: the key is locked for `retry_after` seconds more."""

    def __init__(self, what: str, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"{what}失败次数过多，请 {minutes(retry_after)} 分钟后再试")


def minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))
