"""Guesses counted in the database, so that every web process sees the same count: a guarded action is refused
while any of its keys is locked, and each failure counts against all of them (services/accounts.py for signing in,
services/public.py for the applicant's progress query)."""
from __future__ import annotations

from datetime import timedelta

from workflows.domain.throttling import Policy, TooManyAttempts, minutes

from .context import Context
from .retries import retried

FORGET_AFTER = timedelta(days=1)  # longer than any window or lock of the policies


def refuse_if_locked(uow, ctx: Context, keys: dict[str, Policy], what: str) -> None:
    now = ctx.now()
    waits = [attempts.retry_after(now) for attempts in map(uow.accounts.attempts, keys)]
    if max(waits, default=0):
        raise TooManyAttempts(what, max(waits))


@retried
def count_failure(ctx: Context, keys: dict[str, Policy], what: str, address: str | None) -> None:
    """One failure against each key, in its own transaction; raises TooManyAttempts when that locks one."""
    now = ctx.now()
    locked = []
    with ctx.uow() as uow:
        uow.accounts.forget_before(now - FORGET_AFTER)
        for key, policy in keys.items():
            attempts = uow.accounts.attempts(key, lock_at=now)
            if attempts.fail(now, policy):
                locked.append(attempts)
                uow.accounts.record({"at": now, "subject": key, "action": "locked", "actor": "系统",
                                     "address": address, "message": f"{what}失败 {attempts.failures} 次，"
                                     f"锁定 {minutes(policy.lock.total_seconds())} 分钟"})
            uow.accounts.save_attempts(attempts)
        uow.commit()
    if locked:
        raise TooManyAttempts(what, max(attempts.retry_after(now) for attempts in locked))
