"""Signals between the cases of an agency, as Camunda 7 broadcasts them: a signal a case throws (an intermediate or
end throw event), or one sent by name through the API (POST /api/signals: a policy change, 系统停机通知), reaches
every open case of the agency waiting for it (a catch event, a boundary event, a signal event sub-process).

The thrower's command only publishes SignalThrown; after its commit the outbox's worker delivers the signal to
each waiting case in a transaction of its own, which also records that the case caught it (a case that fails to
take it fails the entry after the others got it; the outbox's retry skips the cases recorded). Within the throwing
case SpiffWorkflow has already caught it. A signal carries no data between cases: one applicant's data never lands
in another's case.
"""
from __future__ import annotations

import logging

from workflows.domain.errors import Conflict, NotFound
from workflows.domain.events import OutboxEntry, SignalThrown
from workflows.domain.model import OPEN, User
from workflows.domain.text import event_name

from .access import require_role
from .context import Context
from .history import SYSTEM, add_history
from .outbox import work_entries
from .progress import CaseCommand
from .retries import retried

log = logging.getLogger(__name__)
SENDER_ROLES = ("supervisor", "admin")  # a signal may move every case of the agency: not any clerk's to send


def send_signal(ctx: Context, actor: User, agency_code: str, name) -> int:
    """Send signal `name` to the agency's waiting cases (delivered after this commits, each case on its own);
    returns how many cases wait for it now."""
    require_role(actor, *SENDER_ROLES)
    name = event_name(name, "信号", "signal")
    if agency_code != actor.agency_code and not actor.has_role("admin"):
        raise NotFound(f"经办机构 {agency_code} 不存在")
    with ctx.uow() as uow:
        if ctx.catalog(uow).agency(agency_code) is None:
            raise NotFound(f"经办机构 {agency_code} 不存在")
        waiting = len(uow.signal_waits.waiting(agency_code, name))
        uow.publish(SignalThrown(agency_code, name, None, actor.username))
        uow.commit()
    return waiting


def broadcast(ctx: Context, entry: OutboxEntry) -> None:
    """The outbox's worker for SignalThrown: each waiting case of the agency but the thrower catches the signal in
    its own transaction, which records that it did; then the entry is done. A case that fails to catch it does not
    stop the others: the entry fails after them, and its retry reaches only the cases not reached yet (a
    non-interrupting catch fires once per broadcast)."""
    event = SignalThrown.from_payload(entry.payload)
    with ctx.uow(write=False) as uow:
        reached = uow.signal_waits.delivered(entry.id)
        case_ids = [case_id for case_id in uow.signal_waits.waiting(event.agency_code, event.name)
                    if case_id != event.case_id and case_id not in reached]
    failed = None
    for case_id in case_ids:
        try:
            _deliver(ctx, entry.id, case_id, event)
        except Conflict:  # it stopped waiting meanwhile (a clerk's command came first)
            log.info("signal %s: case %s no longer waits", event.name, case_id)
        except Exception as error:  # noqa: BLE001 - the others still get it; the entry fails after them
            log.exception("signal %s: case %s failed to catch it", event.name, case_id)
            failed = failed or error
    if failed is not None:
        raise failed
    with ctx.uow() as uow:
        uow.signal_waits.forget_deliveries(entry.id)
        uow.outbox.finish(entry.id, ctx.now())
        uow.commit()


def broadcast_now(ctx: Context, entries: list[tuple[int, SignalThrown]]) -> None:
    """The prompt worker: broadcast right after the thrower's commit, claiming the entries as the scheduler does
    (an entry the scheduler holds is left to it)."""
    work_entries(ctx, [entry_id for entry_id, _ in entries], kicked=True)


@retried
def _deliver(ctx: Context, outbox_id: int, case_id: int, event: SignalThrown) -> None:
    with ctx.uow() as uow:
        case = uow.cases.get_by_id(case_id, lock=True)
        if case is None or case.status != OPEN or case.agency_code != event.agency_code:
            return
        command = CaseCommand(uow, ctx, case)
        run = command.resume()
        run.receive_signal(event.name)
        from_case = event.case_id is not None
        add_history(uow, case, ctx.now(), SYSTEM if from_case else event.sent_by, "signal_received",
                    f"收到信号“{event.name}”（{'来自办件 ' + event.sent_by if from_case else '经接口发送'}）",
                    detail={"name": event.name, "from_case": event.sent_by if from_case else None})
        command.record(run)
        uow.signal_waits.record_delivery(outbox_id, case_id)
        uow.commit()
