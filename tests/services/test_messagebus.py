"""The message bus on a fake unit of work (no database): atomic handlers run in the command's transaction, an
event that can wait becomes an outbox row, and a prompt kind is kicked only once the command has committed."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from workflows.domain.events import MAX_ATTEMPTS, CalendarChanged, DocumentIssued, retry_delay
from workflows.services.messagebus import KICK_HOLD, MessageBus

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=timezone.utc)


class FakeOutbox:
    def __init__(self):
        self.rows = []

    def add(self, entries, at, due=None):
        self.rows.extend((kind, payload, case_id, (due or {}).get(kind, at)) for kind, payload, case_id in entries)
        return list(range(len(self.rows) - len(entries) + 1, len(self.rows) + 1))

    add_at_commit = add  # the real one answers the ids at the commit; here they are known at once


class FakeUnitOfWork:
    def __init__(self):
        self.outbox, self.after = FakeOutbox(), []

    def after_commit(self, action):
        self.after.append(action)


def test_atomic_handlers_run_at_once_and_waiting_events_become_outbox_rows_kicked_after_commit():
    seen, kicked = [], []
    bus = MessageBus(clock=lambda: NOW, atomic={DocumentIssued: [lambda uow, event: seen.append(event)]},
                     deferred={DocumentIssued: "render_document", CalendarChanged: "recompute_deadlines"},
                     prompt={"render_document": None}, kick=lambda kind, entries: kicked.append((kind, entries)))
    uow = FakeUnitOfWork()
    issued = DocumentIssued(7, 3, "acceptance_notice", "SL1", layout={"title": "受理通知书"})

    bus.dispatch(uow, [issued, CalendarChanged("2026-12-19 调整为工作日")])

    assert seen == [issued]
    assert uow.outbox.rows == [  # the kicked kind held for the kick, out of the scheduler's next rounds
        ("render_document", {"document_id": 7, "case_id": 3, "kind": "acceptance_notice", "number": "SL1"}, 3,
         NOW + KICK_HOLD),
        ("recompute_deadlines", {"reason": "2026-12-19 调整为工作日", "after_case_id": 0}, None, NOW)]
    assert kicked == []  # not before the commit
    for action in uow.after:
        action()
    assert kicked == [("render_document", [(1, issued)])]  # the document only: the calendar's waits for the scheduler
    assert kicked[0][1][0][1].layout == {"title": "受理通知书"}  # its text goes to the kick, not into the outbox row


def test_without_a_kick_every_entry_is_due_for_the_scheduler_at_once():
    bus = MessageBus(clock=lambda: NOW, deferred={DocumentIssued: "render_document"}, prompt={"render_document": None})
    uow = FakeUnitOfWork()
    bus.dispatch(uow, [DocumentIssued(7, 3, "acceptance_notice", "SL1")])
    assert [row[3] for row in uow.outbox.rows] == [NOW] and uow.after == []


def test_an_event_is_read_back_from_its_payload():
    event = CalendarChanged("x", after_case_id=5)
    assert CalendarChanged.from_payload(event.payload()) == event


def test_retries_double_from_a_minute_and_stop_after_the_last_attempt():
    assert [retry_delay(n) for n in (1, 2, 3)] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert retry_delay(MAX_ATTEMPTS) is None
