"""Firing due BPMN timers, exactly once, whichever of several scheduler processes gets there first.

The scheduler reads the case_timers table (indexed by due moment), never the workflows. Each due case is fired in
its own transaction: its row is locked (PostgreSQL: FOR UPDATE SKIP LOCKED, so a second scheduler skips it instead
of waiting; SQLite: one writer at a time), its timers are checked to be still due (another scheduler may have fired
them a moment ago), then the workflow runs on the service's clock and the timers table is rewritten with the case.

The scheduler survives any one case: diagram code runs under the limits of adapters/limits.py, and a case whose
firing fails for any other reason is set aside as failed (an incident on its page, retried by a person after a
fix) instead of being tried again every second ahead of the others.

Each round also counts the limits that came due since the last one as overdue (`count_overdue`): the statistics'
overdue figures are kept counts, and the clock, not a command, makes a limit late.
"""
from __future__ import annotations

import logging

from workflows.domain.errors import Conflict
from workflows.domain.events import IncidentRaised
from workflows.domain.model import FAILED

from .context import Context
from .history import SYSTEM, add_history
from .progress import CaseCommand
from .retries import retried

log = logging.getLogger(__name__)


def fire_due_timers(ctx: Context, batch: int = 50) -> int:
    """Fire every timer due now (in batches); return how many cases moved."""
    fired = 0
    while True:
        with ctx.uow(write=False) as uow:
            due = uow.timers.due_cases(ctx.now(), batch)
        moved = sum(_fire_case(ctx, case_id) for case_id in due)
        fired += moved
        if len(due) < batch or moved == 0:
            return fired


def count_overdue(ctx: Context, batch: int = 500) -> int:
    """Count as overdue the running limits past due now that are not counted yet, in batches of their cases (one
    transaction each, each limit once whichever scheduler gets there: adapters/statistics_counts.py); return how
    many were counted. A case another transaction holds is left to the next round."""
    counted = 0
    while True:
        with ctx.uow() as uow:
            found, marked = uow.counts.mark_overdue(ctx.now(), batch)
            uow.commit()
        counted += marked
        if found < batch or marked == 0:
            return counted


@retried
def _fire_case(ctx: Context, case_id: int) -> bool:
    try:
        with ctx.uow() as uow:
            case = uow.cases.lock_if_free(case_id)
            if case is None or not uow.timers.has_due(case_id, ctx.now()):
                return False  # another scheduler or a clerk has it, or its timers were fired already
            command = CaseCommand(uow, ctx, case)
            run = command.resume()
            run.advance()
            command.record(run)
            uow.commit()
            return True
    except Conflict:
        log.info("case %s changed while its timers fired; the next round retries", case_id)
        return False
    except Exception as error:  # noqa: BLE001 - whatever it is, it must not stop the other cases' timers
        log.exception("firing the timers of case %s failed; the case is set aside", case_id)
        _set_aside(ctx, case_id, error)
        return False


@retried
def _set_aside(ctx: Context, case_id: int, error: Exception) -> None:
    with ctx.uow() as uow:
        case = uow.cases.get_by_id(case_id, lock=True)
        if case.status != FAILED:  # a new incident: the hall's supervisors are told after the commit
            uow.publish(IncidentRaised(case_id, "定时器触发", f"{type(error).__name__}: {str(error)[:200]}"))
        case.status = FAILED
        uow.timers.replace(case_id, [])
        add_history(uow, case, ctx.now(), SYSTEM, "failed",
                    f"定时器触发出错：{type(error).__name__}: {str(error)[:200]}", task_name="定时器")
        uow.commit()
