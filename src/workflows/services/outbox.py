"""Working the outbox: what commands left to be done after they committed, each entry exactly once.

The scheduler process works the due entries every round (`work_due`); a command whose entry someone may need at
once (a 文书's PDF) also hands it to a kicker right after its commit: inline (the tests, the CLI), or a thread of
the web process (`BackgroundKicker`), so the response does not wait for it; the kind's prompt worker marks an
entry done only if nobody claimed it meanwhile (`finish_unclaimed`). Whoever claims an entry first holds it for a
lease (adapters/outbox_repository.py); its worker (the bus's `workers`) does the work and marks it done in the
transaction of that work, so an effect and its "done" commit together. A failure is kept on the entry (the
error, the next attempt after a doubling delay) and listed for administrators and supervisors, and the case page
shows its case's; after the last attempt the entry waits for a person to retry it.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
from dataclasses import dataclass
from datetime import timedelta

from workflows.domain.errors import Conflict, NotFound
from workflows.domain.events import OUTBOX_KINDS, OutboxEntry, retry_delay
from workflows.domain.model import User

from .access import require_case_visible, require_role, sees_all_halls
from .context import Context
from .messagebus import Kicked

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)  # a claim older than this belonged to a worker that died: the entry is due again
KIND_LABELS = {kind: label for kind, (_, label) in OUTBOX_KINDS.items()}


@dataclass(frozen=True)
class OutboxFailure:
    """A failed entry as the 后台任务 list shows it: what, for which case, how often tried, why, when next."""

    entry: OutboxEntry
    label: str
    case_number: str | None


def work_due(ctx: Context, batch: int = 50) -> int:
    """The scheduler's round: claim the due entries in batches and work them; return how many were done."""
    done = 0
    while True:
        claimed = _claim_due(ctx, batch)
        done += sum(_work(ctx, entry) for entry in claimed)
        if len(claimed) < batch:
            return done


def work_next(ctx: Context, kind: str) -> bool:
    """Claim the next due entry of `kind` and work it here (a CLI command waiting for its work does the
    scheduler's part); False when none is due or its work failed."""
    return any(_work(ctx, entry) for entry in _claim_due(ctx, 1, kind))


def _claim_due(ctx: Context, batch: int, kind: str | None = None) -> list[OutboxEntry]:
    with ctx.uow() as uow:
        now = ctx.now()
        claimed = uow.outbox.claim(uow.outbox.due_ids(now, batch, kind), now, LEASE)
        uow.commit()
    return claimed


def kick(ctx: Context, kind: str, entries: Kicked) -> None:
    """Hand entries of `kind` just committed to its prompt worker; what fails is left to the scheduler's round."""
    try:
        ctx.bus.prompt[kind](ctx, entries)
    except Exception:  # noqa: BLE001 - the command is done: the scheduler works them, and records the failure
        log.exception("outbox entries %s left to the scheduler", [entry_id for entry_id, _ in entries])


def work_entries(ctx: Context, entry_ids: list[int], kicked: bool = False) -> int:
    """Work these entries now if nobody holds them (a person's retry); `kicked`: entries just handed to a kick, held
    for it (messagebus.KICK_HOLD), taken unless someone claimed them meanwhile."""
    with ctx.uow() as uow:
        now, claim = ctx.now(), uow.outbox.claim_unclaimed if kicked else uow.outbox.claim
        claimed = claim(entry_ids, now, LEASE)
        uow.commit()
    return sum(_work(ctx, entry) for entry in claimed)


def _work(ctx: Context, entry: OutboxEntry) -> bool:
    try:
        ctx.bus.workers[entry.kind](ctx, entry)
        return True
    except Exception as error:  # noqa: BLE001 - kept on the entry and retried; the other entries go on
        log.exception("outbox entry %s (%s) failed, attempt %s", entry.id, entry.kind, entry.attempts)
        _record_failure(ctx, entry, f"{type(error).__name__}: {error}"[:1000])
        return False


def _record_failure(ctx: Context, entry: OutboxEntry, error: str) -> None:
    delay = retry_delay(entry.attempts)
    with ctx.uow() as uow:
        uow.outbox.fail(entry.id, error, None if delay is None else ctx.now() + delay)
        uow.commit()


def failures(ctx: Context, actor: User, limit: int | None = 200, offset: int = 0) -> list[OutboxFailure]:
    """A page of the entries whose last attempt failed (后台任务), the newest first: every one for an administrator,
    those of the hall's cases for a supervisor; limit None: all of them."""
    require_role(actor, "admin", "supervisor")
    hall = None if sees_all_halls(actor) else (actor.agency_code, actor.hall_code)
    with ctx.uow(write=False) as uow:
        return [_failure(entry, number) for entry, number in uow.outbox.failed(limit, offset, hall=hall)]


def _visible_failure(uow, actor: User, entry: OutboxEntry) -> OutboxFailure | None:
    case = uow.cases.get_by_id(entry.case_id) if entry.case_id else None
    if not sees_all_halls(actor):
        try:
            require_case_visible(actor, case)
        except NotFound:
            return None
    return _failure(entry, case.number if case else None)


def _failure(entry: OutboxEntry, case_number: str | None) -> OutboxFailure:
    return OutboxFailure(entry, KIND_LABELS.get(entry.kind, entry.kind), case_number)


def case_failures(ctx: Context, case_id: int) -> list[OutboxFailure]:
    """The failed entries of one case, for its page (the caller checked the case is visible)."""
    with ctx.uow(write=False) as uow:
        return [_failure(entry, None) for entry, _ in uow.outbox.failed(None, case_id=case_id)]


def retry(ctx: Context, actor: User, entry_id: int) -> tuple[OutboxEntry, str | None]:
    """A failed entry due again now (its cause fixed), worked at once; the entry as it stands after, and its
    case's number."""
    require_role(actor, "admin", "supervisor")
    with ctx.uow() as uow:
        entry = uow.outbox.get(entry_id)
        visible = entry and _visible_failure(uow, actor, entry)
        if not visible:
            raise NotFound("后台任务不存在")
        if entry.done_at is not None:
            raise Conflict("后台任务已完成，无需重试")
        uow.outbox.retry(entry_id, ctx.now())
        uow.commit()
    work_entries(ctx, [entry_id])
    with ctx.uow(write=False) as uow:
        return uow.outbox.get(entry_id), visible.case_number


KICK_BATCH = 16  # entries after which a kicker's thread gathers no more into a batch (the first PDF waits for the rest)


class BackgroundKicker:
    """Works kicked entries on a thread of this process, one batch at a time, so the command's response does not
    wait; what it has not done when the process stops the scheduler does (the entries are in the database). The
    commands that committed while it worked the last batch are worked together: a transaction for all their PDFs."""

    def __init__(self, ctx: Context):
        self._ctx, self._queue = ctx, queue.SimpleQueue()
        self._pid: int | None = None
        self._lock = threading.Lock()

    def __call__(self, kind: str, entries: Kicked) -> None:
        self._started()
        self._queue.put((kind, entries))

    def _started(self) -> None:
        """Start the thread in the process that kicks: one built before a fork (gunicorn --preload) has none."""
        with self._lock:
            if self._pid != os.getpid():
                self._pid, self._queue = os.getpid(), queue.SimpleQueue()
                threading.Thread(target=self._run, args=(self._queue,), name="outbox-kicker", daemon=True).start()

    def _run(self, entries: queue.SimpleQueue) -> None:
        while True:
            for kind, batch in gathered(entries).items():
                kick(self._ctx, kind, batch)


def gathered(entries: queue.SimpleQueue, most: int = KICK_BATCH) -> dict[str, Kicked]:
    """The next (kind, entries) kicked, waited for, with those queued behind it until `most` entries are gathered
    (a command's entries stay together, so a batch may pass `most` by the last one's): by kind."""
    kind, batch = entries.get()
    batches = {kind: list(batch)}
    count = len(batch)
    while count < most:
        try:
            kind, batch = entries.get_nowait()
        except queue.Empty:
            break
        batches.setdefault(kind, []).extend(batch)
        count += len(batch)
    return batches
