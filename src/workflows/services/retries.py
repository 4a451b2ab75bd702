"""A command that met a concurrent one runs again from the start, a few times, instead of failing at once.

On SQLite a command computes without the write lock (adapters/write_lock.py); when another command changed its case
or took the lock first, nothing was written, and the command is simply run again, the second time holding the lock
from its start, so it cannot be overtaken again. On PostgreSQL a failed serialization or a stale row version is
retried the same way. What a retried command sends outside must wait until after its commit (uow.after_commit);
the handlers' gateways are the local stand-ins that only record into the case (handlers/gateways.py).
After the last attempt the Busy error goes to the caller: 409 "数据库繁忙，请重试", never a 500.
"""
from __future__ import annotations

from functools import wraps

from workflows.adapters.write_lock import lock_at_begin
from workflows.domain.errors import Busy

ATTEMPTS = 3


def retried(use_case):
    """Decorate a use case of one write transaction: run it again while it ends in Busy, up to ATTEMPTS times."""

    @wraps(use_case)
    def run(*args, **kwargs):
        for attempt in range(1, ATTEMPTS + 1):
            marker = lock_at_begin.set(lock_at_begin.get() or attempt > 1)
            try:
                return use_case(*args, **kwargs)
            except Busy:
                if attempt == ATTEMPTS:
                    raise
            finally:
                lock_at_begin.reset(marker)

    return run
