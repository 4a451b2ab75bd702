"""The message bus: where a published domain event goes when its command commits.

Handlers that must be atomic with the command run in its transaction (`atomic`); an event that can wait becomes an
outbox row of its `deferred` kind in the same transaction, worked after the commit by services/outbox.py with the
`workers` registered for that kind; an `after_commit` handler runs once the command has committed (deliver a
message between agencies in a transaction of its own). The bus knows no handler itself: bootstrap.py wires them (tests swap them
there). A kind in `prompt` is also handed to `kick` right after the commit (a PDF someone may download at once):
its prompt worker does the work without a claim of its own, marking the entries done only where nobody has
claimed them meanwhile, in the transaction that keeps the work. Such entries are written due KICK_HOLD after the
command: the scheduler's round (every second) would otherwise claim a PDF the kick is still laying out, and both
would lay it out; if the kick fails or its process dies, the scheduler works the entry once the hold is over (a
download before that lays the PDF out itself).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from workflows.domain.events import Event, OutboxEntry

if TYPE_CHECKING:
    from workflows.adapters.unit_of_work import UnitOfWork

# A worker's first argument is the context it runs in (services/context.py, which holds this bus: not imported here)
AtomicHandler = Callable[["UnitOfWork", Event], None]
Worker = Callable[[Any, OutboxEntry], None]  # does its work and marks the entry done in its transaction
KICK_HOLD = timedelta(seconds=30)  # a kick under load (a queue of PDFs behind one thread) is done well inside it
Kicked = list[tuple[int, Event]]  # outbox entry ids with their events, right after their command committed
PromptWorker = Callable[[Any, Kicked], None]
AfterCommit = Callable[[Event], None]  # runs in a transaction of its own and keeps its failures to itself


@dataclass
class MessageBus:
    clock: Callable[[], datetime]
    atomic: dict[type[Event], list[AtomicHandler]] = field(default_factory=dict)
    deferred: dict[type[Event], str] = field(default_factory=dict)
    workers: dict[str, Worker] = field(default_factory=dict)
    prompt: dict[str, PromptWorker] = field(default_factory=dict)
    kick: Callable[[str, Kicked], None] | None = None  # hands (kind, entries) to the prompt worker, or a thread
    after_commit: dict[type[Event], list[AfterCommit]] = field(default_factory=dict)

    def dispatch(self, uow: "UnitOfWork", events: list[Event]) -> None:
        deferred: list[tuple[str, Event]] = []
        for event in events:
            for handler in self.atomic.get(type(event), ()):
                handler(uow, event)
            for follow in self.after_commit.get(type(event), ()):
                uow.after_commit(partial(follow, event))
            kind = self.deferred.get(type(event))
            if kind is not None:
                deferred.append((kind, event))
        if deferred:  # the outbox rows of all the events in one statement
            now = self.clock()
            held = {kind: now + KICK_HOLD for kind in self.prompt} if self.kick is not None else None
            entry_ids = uow.outbox.add_at_commit([(kind, event.payload(), getattr(event, "case_id", None))
                                                  for kind, event in deferred], now, held)
            self._kick_after_commit(uow, deferred, entry_ids)

    def _kick_after_commit(self, uow: "UnitOfWork", deferred: list[tuple[str, Event]], entry_ids: list[int]) -> None:
        """The prompt kinds' entries handed to `kick` after the commit, which gives them their ids."""
        if self.kick is None or not any(kind in self.prompt for kind, _ in deferred):
            return
        kick = self.kick

        def kick_entries() -> None:
            kicked: dict[str, Kicked] = {}
            for (kind, event), entry_id in zip(deferred, entry_ids):
                if kind in self.prompt:
                    kicked.setdefault(kind, []).append((entry_id, event))
            for kind, entries in kicked.items():
                kick(kind, entries)
        uow.after_commit(kick_entries)
