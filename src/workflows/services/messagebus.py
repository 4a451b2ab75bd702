"""The message bus: where a published domain event goes when its command commits.

Handlers that must be atomic with the command run in its transaction (`atomic`); an event that can wait becomes an
outbox row of its `deferred` kind in the same transaction, worked after the commit by services/outbox.py with the
`workers` registered for that kind. The bus knows no handler itself: bootstrap.py wires them (tests swap them
there). A kind in `prompt` is also handed to `kick` right after the commit (a PDF someone may download at once):
its prompt worker does the work without a claim of its own, marking the entries done only where nobody has
claimed them meanwhile, in the transaction that keeps the work.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Callable

from workflows.domain.events import Event, OutboxEntry

if TYPE_CHECKING:
    from workflows.adapters.unit_of_work import UnitOfWork
    from .context import Context

AtomicHandler = Callable[["UnitOfWork", Event], None]
Worker = Callable[["Context", OutboxEntry], None]  # does its work and marks the entry done in its transaction
Kicked = list[tuple[int, Event]]  # outbox entry ids with their events, right after their command committed
PromptWorker = Callable[["Context", Kicked], None]


@dataclass
class MessageBus:
    clock: Callable[[], datetime]
    atomic: dict[type[Event], list[AtomicHandler]] = field(default_factory=dict)
    deferred: dict[type[Event], str] = field(default_factory=dict)
    workers: dict[str, Worker] = field(default_factory=dict)
    prompt: dict[str, PromptWorker] = field(default_factory=dict)
    kick: Callable[[str, Kicked], None] | None = None  # hands (kind, entries) to the prompt worker, or a thread

    def dispatch(self, uow: "UnitOfWork", events: list[Event]) -> None:
        kicked: dict[str, Kicked] = {}
        for event in events:
            for handler in self.atomic.get(type(event), ()):
                handler(uow, event)
            kind = self.deferred.get(type(event))
            if kind is not None:
                entry_id = uow.outbox.add(kind, event.payload(), getattr(event, "case_id", None),
                                          self.clock())
                if kind in self.prompt:
                    kicked.setdefault(kind, []).append((entry_id, event))
        if kicked and self.kick is not None:
            kick = self.kick
            uow.after_commit(lambda: [kick(kind, entries) for kind, entries in kicked.items()])
