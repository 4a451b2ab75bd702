"""The composition root: the one place that knows which unit of work, engine, clock, bus handlers and kicker an
installation runs with. The web app, the CLI, the scheduler, the benches and the tests all start here, and tests
swap parts here (a fixed clock, a worker that fails, no kicker).
"""
from __future__ import annotations

import os
from datetime import datetime
from typing import Callable, Literal

from sqlalchemy.orm import sessionmaker

from workflows.adapters.database import make_engine
from workflows.adapters.engine import Engine
from workflows.adapters.orm import start_mappers
from workflows.adapters.sms_gateway import HttpSmsGateway, RecordingSmsGateway, SmsGateway
from workflows.domain.events import (BROADCAST_SIGNAL, MIGRATE_CASES, NOTIFY_INCIDENT, OUTBOX_KINDS,
                                     RECOMPUTE_DEADLINES, RENDER_DOCUMENT, SEND_SMS, AgencyMessageThrown, CaseAccepted,
                                     CaseClosed, EscalationRaised, StaffNotified, TaskCompleted)
from workflows.services import (acceptance, agency_messages, applicant_notices, documents, escalations, incidents,
                                migration_runs, notifications, outbox, signals, time_limits)
from workflows.services.context import Context, system_clock
from workflows.services.messagebus import MessageBus, PromptWorker, Worker

Kick = Literal["inline", "thread", "off"]
DEFERRED = {event: kind for kind, (event, _) in OUTBOX_KINDS.items()}
WORKERS: dict[str, Worker] = {RENDER_DOCUMENT: documents.render_issued, RECOMPUTE_DEADLINES: time_limits.recompute_batch,
                              NOTIFY_INCIDENT: incidents.notify_supervisors, BROADCAST_SIGNAL: signals.broadcast,
                              MIGRATE_CASES: migration_runs.migrate_batch}
# Downloaded a moment after (a 文书); caught by the agency's waiting cases at once (a signal).
PROMPT: dict[str, PromptWorker] = {RENDER_DOCUMENT: documents.render_kicked, BROADCAST_SIGNAL: signals.broadcast_now}


def sms_gateway_setting() -> SmsGateway:
    """The agency's SMS platform at WORKFLOWS_SMS_URL (WORKFLOWS_SMS_TOKEN if it wants one), else the recording
    stand-in: texts are logged and kept, not sent."""
    url = os.environ.get("WORKFLOWS_SMS_URL", "").strip()
    if not url:
        return RecordingSmsGateway()
    return HttpSmsGateway(url, token=os.environ.get("WORKFLOWS_SMS_TOKEN") or None)


def bootstrap(database: str | sessionmaker, *, engine: Engine | None = None,
              clock: Callable[[], datetime] = system_clock, kick: Kick = "inline",
              workers: dict[str, Worker] | None = None, sms: SmsGateway | None = None) -> Context:
    """A context over `database` (a URL, or a session factory) with the bus wired.

    kick: what happens right after a command that issued a 文书 commits: `inline` renders it then and there (the
    CLI, the tests), `thread` hands it to a thread of this process (the web app: the response does not wait),
    `off` leaves it to the scheduler and to the first download. sms: the gateway the applicant's texts go
    through (sms_gateway_setting() by default)."""
    start_mappers()
    if isinstance(database, str):
        database = sessionmaker(make_engine(database), expire_on_commit=False)
    ctx = Context(database, clock=clock, **({"engine": engine} if engine is not None else {}))
    texts = {SEND_SMS: applicant_notices.sender(sms or sms_gateway_setting())}
    atomic = {TaskCompleted: [lambda uow, event: acceptance.on_task_completed(uow, ctx, event)],
              CaseAccepted: [lambda uow, event: documents.on_case_accepted(uow, ctx, event)],
              CaseClosed: [lambda uow, event: documents.on_case_closed(uow, ctx, event)],
              StaffNotified: [notifications.notify_staff], EscalationRaised: [escalations.notify_escalation]}
    ctx.bus = MessageBus(clock=ctx.now, atomic=atomic, deferred=dict(DEFERRED),
                         workers={**WORKERS, **texts, **(workers or {})}, prompt=dict(PROMPT),
                         after_commit={AgencyMessageThrown: [lambda event: agency_messages.deliver_after_commit(ctx, event)]})
    if kick == "inline":
        ctx.bus.kick = lambda kind, entries: outbox.kick(ctx, kind, entries)
    elif kick == "thread":
        ctx.bus.kick = outbox.BackgroundKicker(ctx)
    return ctx
