"""Domain events: what a command decided that other parts act on, so that the command does not call them.

A use case publishes an event on its unit of work (`uow.publish`); at commit the message bus (services/
messagebus.py) runs the handlers that must be atomic with the command, and writes an outbox row for each one that
can wait (lay a PDF out, recompute the open cases after a calendar change), worked after the commit, exactly once.
An event is a plain frozen dataclass of JSON-able values: it is what an outbox row's payload holds.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta


IN_PROCESS = "in_process"  # a field's metadata: what its process hands a prompt worker, never kept in the outbox


class Event:
    """Base of the events: `payload` for the outbox; an event of one case has a `case_id` field (its row's)."""

    def payload(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.metadata.get(IN_PROCESS)}

    @classmethod
    def from_payload(cls, payload: dict) -> "Event":
        return cls(**{f.name: payload[f.name] for f in fields(cls) if f.name in payload})


@dataclass(frozen=True)
class DocumentIssued(Event):
    """A 文书 was given its number and its text at the command; its PDF is laid out after the commit. `layout`,
    the text as laid out, goes to the kick right after the commit (it need not read it back), not to the outbox."""

    document_id: int
    case_id: int
    kind: str
    number: str
    layout: dict | None = field(default=None, compare=False, repr=False, metadata={IN_PROCESS: True})


@dataclass(frozen=True)
class CalendarChanged(Event):
    """An administrator published a year or corrected a day: the open cases' limits are computed again, in
    batches after the commit (`after_case_id`: where the next batch starts), each case in its own transaction."""

    reason: str
    after_case_id: int = 0


@dataclass(frozen=True)
class AgencyMessageThrown(Event):
    """A case threw a message for an agency of this installation (转移接续): it is delivered once the thrower's
    command has committed, in a transaction of its own (services/agency_messages.py)."""

    message_id: str
    case_id: int


@dataclass(frozen=True)
class SignalThrown(Event):
    """A case threw a signal, or someone sent one for the agency (POST /api/signals): after the commit every other
    case of the agency waiting for it catches it, each in a transaction of its own (services/signals.py), as
    Camunda 7 broadcasts a signal to all the instances waiting for it."""

    agency_code: str
    name: str
    case_id: int | None  # the case that threw it (None: sent through the API)
    sent_by: str  # the case number, or the user who sent it


@dataclass(frozen=True)
class OutboxEntry:
    """An outbox row: an event waiting to be handled after its command committed, or handled (`done_at`)."""

    id: int
    kind: str
    payload: dict
    case_id: int | None
    created_at: datetime
    attempts: int
    next_attempt_at: datetime | None  # None and not done: given up after too many failures, until retried
    done_at: datetime | None
    last_error: str | None

    @property
    def failed(self) -> bool:
        return self.done_at is None and self.last_error is not None

    @property
    def given_up(self) -> bool:
        return self.done_at is None and self.next_attempt_at is None


MAX_ATTEMPTS = 8  # then the entry waits for a person (retry on the 后台任务 list): 1+2+4+…+64 minutes of tries


def retry_delay(attempts: int) -> timedelta | None:
    """How long after its `attempts`-th failure an entry is tried again: doubling from a minute, or None (given
    up) after MAX_ATTEMPTS: a fault that lasts hours needs a person, not more tries."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return timedelta(minutes=2 ** max(attempts - 1, 0))


@dataclass(frozen=True)
class IncidentRaised(Event):
    """A case's automatic step failed (a service task, an external task at 0 retries, its timers), or a message it
    sent could not be delivered: the hall's supervisors are told after the commit (services/incidents.py)."""

    case_id: int
    what: str  # what failed, as the notice says it: “拨付资金”, “联系函”送达, 定时器触发
    error: str


@dataclass(frozen=True)
class ApplicantNotified(Event):
    """The applicant is told by SMS where the case went (受理, 一次性告知/补正, 办结, 不予受理 …): the text is fixed
    at the command, sent after its commit by the SMS gateway (services/applicant_notices.py), exactly once: the
    outbox entry's id is the gateway's idempotency key."""

    case_id: int
    phone: str
    text: str
    reason: str  # what it tells: the kind of 文书 it accompanies, or `diagram` (the process's 通知申请人 step)


@dataclass(frozen=True)
class TaskCompleted(Event):
    """A clerk's task was completed and the workflow moved on: what the decision brings with it (a 容缺受理's
    checks, record and notice: services/acceptance.py) runs in the command's transaction, and its refusal undoes
    the completion. `values`: the cleaned form; `submitted`: as sent (the page's checkboxes)."""

    case_id: int
    task_id: str
    actor: str
    decision: str | None
    values: dict
    submitted: dict


@dataclass(frozen=True)
class CaseAccepted(Event):
    """A command took the case on from 受理 accepted (not into 容缺补正, whose notice the 受理 task gives, nor on to a
    refusal in the same move): its 受理通知书 is issued in the command's transaction (services/documents.py)."""

    case_id: int


@dataclass(frozen=True)
class CaseClosed(Event):
    """A command closed the case with `result` (its end event's name, or 撤件/终止 …): the document of that result
    (办结通知书, a 决定书 …) and the result documents its certificate handler numbered are issued in the command's
    transaction (services/documents.py)."""

    case_id: int
    result: str


@dataclass(frozen=True)
class StaffNotified(Event):
    """People of the agency are told something about a case (a 委派, a 加签 to sign, a 督办 …): their notification
    rows are written in the command's transaction (services/notifications.py), so nobody is told of what did not
    happen. `at`: the command's moment."""

    case_id: int
    usernames: tuple[str, ...]
    kind: str
    message: str
    at: datetime


@dataclass(frozen=True)
class EscalationRaised(Event):
    """A limit's timer put a 黄牌 or 红牌 on the desk: the case's handlers and the hall's supervisors are told
    (services/escalations.py), in the transaction that raised it."""

    case_id: int
    level: str  # yellow, red
    message: str
    at: datetime


@dataclass(frozen=True)
class MigrationBatchDue(Event):
    """A migration plan runs on every case it covers (services/migration_runs.py): the next batch of the run's cases
    is migrated after the commit, by the scheduler; where the batch starts is kept with the run, not here."""

    run_id: int


# The outbox's kinds: the deferred event an entry of each carries, and what the 后台任务 list calls it. The bus's
# wiring (bootstrap.py), the labels and the API's schema of an entry all read this one table: none can list a kind
# the others lack.
RENDER_DOCUMENT, RECOMPUTE_DEADLINES, NOTIFY_INCIDENT = "render_document", "recompute_deadlines", "notify_incident"
SEND_SMS, BROADCAST_SIGNAL, MIGRATE_CASES = "send_sms", "broadcast_signal", "migrate_cases"
OUTBOX_KINDS: dict[str, tuple[type[Event], str]] = {
    RENDER_DOCUMENT: (DocumentIssued, "生成文书PDF"),
    RECOMPUTE_DEADLINES: (CalendarChanged, "日历调整后重算办件时限"),
    NOTIFY_INCIDENT: (IncidentRaised, "通知科室负责人处理故障"),
    SEND_SMS: (ApplicantNotified, "短信通知申请人"),
    BROADCAST_SIGNAL: (SignalThrown, "向等待信号的办件送达信号"),
    MIGRATE_CASES: (MigrationBatchDue, "执行迁移计划（全部办件）"),
}
