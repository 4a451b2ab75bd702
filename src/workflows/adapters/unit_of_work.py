"""One use case, one transaction: the unit of work hands out repositories over one session, and collects the
domain events the use case publishes; at commit its bus (services/messagebus.py) runs the atomic handlers and
writes an outbox row for each event that can wait, inside the same transaction."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator, Protocol

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from workflows.domain.errors import Busy, Conflict
from workflows.domain.events import Event

from . import prepared_flush, repository
from .database import committed_apart, stale_row, writes_pipelined
from .write_lock import GUARD, StaleRead, WriteGuard, committed_at_once, lock_at_begin
from .audit_repository import PersonalDataReadRepository
from .signal_wait_repository import SignalWaitRepository
from .external_task_repository import ExternalTaskRepository
from .migration_plan_repository import MigrationPlanRepository
from .outbox_repository import OutboxRepository
from .process_test_repository import ProcessTestRepository
from .statistics_counts import StatisticsCounts


class Dispatcher(Protocol):
    def dispatch(self, uow: "UnitOfWork", events: list[Event]) -> None: ...


# name -> the repository the unit of work hands out under it, made on first use (a command uses a few of them)
REPOSITORIES = {
    "versions": repository.VersionRepository, "catalog": repository.CatalogRepository,
    "processes": repository.ProcessRepository, "process_tests": ProcessTestRepository,
    "cases": repository.CaseRepository, "tasks": repository.TaskRepository, "history": repository.HistoryRepository,
    "users": repository.UserRepository, "external": repository.ExternalSystemRepository,
    "deadlines": repository.DeadlineRepository, "timers": repository.TimerRepository,
    "message_waits": repository.MessageWaitRepository, "external_tasks": ExternalTaskRepository,
    "escalations": repository.EscalationRepository, "notifications": repository.NotificationRepository,
    "calendar": repository.CalendarRepository, "statistics": repository.StatisticsRepository,
    "ratings": repository.RatingRepository, "comments": repository.CommentRepository,
    "attachments": repository.AttachmentRepository, "materials": repository.MaterialRepository,
    "documents": repository.DocumentRepository, "waivers": repository.WaiverRepository,
    "saved_filters": repository.SavedFilterRepository, "task_requests": repository.TaskRequestRepository,
    "supervisions": repository.SupervisionRepository, "substitutions": repository.SubstitutionRepository,
    "agency_messages": repository.AgencyMessageRepository, "followups": repository.FollowUpRepository,
    "personal_data_reads": PersonalDataReadRepository, "accounts": repository.AccountRepository,
    "outbox": OutboxRepository, "migration_plans": MigrationPlanRepository, "signal_waits": SignalWaitRepository,
}
PENDING_WRITES = ("history", "external", "notifications", "outbox", "counts")  # those that keep rows until commit
# The session every read-only unit of work opened inside `shared_reads` reads through (None: each its own)
_SHARED_READS: ContextVar[Session | None] = ContextVar("shared_reads", default=None)


@contextmanager
def shared_reads(session_factory: sessionmaker) -> Iterator[None]:
    """Inside, every read-only unit of work reads through one session: a page that asks several use cases for its
    parts (a list, the saved filters, the names, what awaits the user) takes one connection from the pool and
    runs one transaction, not one each (a ping, a BEGIN and a ROLLBACK apiece). A unit that writes has its own
    session as ever. For pages that only read."""
    if _SHARED_READS.get() is not None:  # inside another: that one serves
        yield
        return
    session = session_factory()
    session.autoflush = False
    token = _SHARED_READS.set(session)
    try:
        yield
    finally:
        _SHARED_READS.reset(token)
        session.close()


class UnitOfWork:
    versions: repository.VersionRepository
    catalog: repository.CatalogRepository
    processes: repository.ProcessRepository
    process_tests: ProcessTestRepository
    cases: repository.CaseRepository
    tasks: repository.TaskRepository
    history: repository.HistoryRepository
    users: repository.UserRepository
    external: repository.ExternalSystemRepository
    deadlines: repository.DeadlineRepository
    timers: repository.TimerRepository
    message_waits: repository.MessageWaitRepository
    external_tasks: ExternalTaskRepository
    escalations: repository.EscalationRepository
    notifications: repository.NotificationRepository
    calendar: repository.CalendarRepository
    statistics: repository.StatisticsRepository
    ratings: repository.RatingRepository
    comments: repository.CommentRepository
    attachments: repository.AttachmentRepository
    materials: repository.MaterialRepository
    documents: repository.DocumentRepository
    waivers: repository.WaiverRepository
    saved_filters: repository.SavedFilterRepository
    task_requests: repository.TaskRequestRepository
    supervisions: repository.SupervisionRepository
    substitutions: repository.SubstitutionRepository
    agency_messages: repository.AgencyMessageRepository
    followups: repository.FollowUpRepository
    personal_data_reads: PersonalDataReadRepository
    accounts: repository.AccountRepository
    counts: StatisticsCounts
    outbox: OutboxRepository
    migration_plans: MigrationPlanRepository
    signal_waits: SignalWaitRepository

    def __init__(self, session_factory: sessionmaker, write: bool = True, bus: Dispatcher | None = None):
        self._session_factory = session_factory
        self._write = write
        self._bus = bus
        self.session: Session | None = None
        self._after_commit: list[Callable[[], None]] = []
        self._when_flushed: list[Callable[[], None]] = []
        self._events: list[Event] = []
        self._shared = False

    def __enter__(self) -> "UnitOfWork":
        shared = None if self._write else _SHARED_READS.get()
        if shared is not None:  # shared_reads: the page's one session, closed when the page is done (nothing to count)
            self.session, self._shared = shared, True
            return self
        self.session = self._session_factory()
        # A command writes what it changed once, at commit (or where it flushes for an id or a conflict): its queries
        # do not write everything pending first (autoflush), and a query that must see the unit's own changes reads
        # them from what the repositories remember.
        self.session.autoflush = False
        if self._write and self.session.get_bind().dialect.name == "sqlite":
            self._begin_sqlite_write()
        self.counts = StatisticsCounts(self.session)  # at once: it follows every flush of the unit
        return self

    def __getattr__(self, name: str):
        """A repository, made on first use over the unit's session (REPOSITORIES)."""
        factory = REPOSITORIES.get(name)
        if factory is None or self.__dict__.get("session") is None:
            raise AttributeError(name)
        made = factory(self.session)
        setattr(self, name, made)
        return made

    def _begin_sqlite_write(self) -> None:
        """Read and compute without SQLite's write lock, take it at the first write (write_lock.py); a command
        run again after a conflict (lock_at_begin) takes it at once, so that it cannot be overtaken twice."""
        if lock_at_begin.get():
            self.session.connection(execution_options={"sqlite_begin": "BEGIN IMMEDIATE"})
            return
        guard = WriteGuard()
        self.session.info[GUARD] = guard
        self.session.connection(execution_options={GUARD: guard})

    def __exit__(self, _type, error, _traceback) -> None:
        if self._shared:
            if isinstance(error, DBAPIError):  # the shared transaction failed: the page's next reads begin anew
                self.session.rollback()
            return
        # close() ends any transaction left open (rolling it back) and detaches the records unexpired,
        # so a use case can return them.
        guard = self.session.info.pop(GUARD, None)
        self.session.close()
        busy = busy_error(error) if error is not None else None
        if error is not None and busy is None and guard is not None and guard.overtaken is not None:
            busy = busy_error(guard.overtaken)  # met inside the command, caught there (a handler), failed later
        if busy is not None:  # a write or an autoflush inside the command met a concurrent one: say so, no 500
            raise busy from error

    def refresh(self, record) -> None:
        """Read a record again, after locking its case: what another transaction changed before the lock counts."""
        self.session.refresh(record)

    def reading(self):
        """`with uow.reading():` queries that need none of this unit's pending changes do not write them out first
        (autoflush), so that on SQLite they do not take the write lock before the command has computed."""
        return self.session.no_autoflush

    def committed_at_once(self):
        """`with uow.committed_at_once():` what is written inside is committed at once, on its own, not at the
        unit's commit: on SQLite the write lock is then held for those statements only (write_lock.py), on
        PostgreSQL the rows' locks (database.committed_apart). Kept even if the unit fails after; where the unit
        holds the lock already (SQLite) or wrote before (PostgreSQL), part of the unit as ever."""
        postgresql = self.session.get_bind().dialect.name == "postgresql"
        return (committed_apart if postgresql else committed_at_once)(self.session)

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once this unit has committed (e.g. deliver a message it put in the outbox), never if it
        does not; the action has its own transaction and must keep its failures to itself."""
        self._after_commit.append(action)

    def when_flushed(self, action: Callable[[], None]) -> None:
        """Run `action` in the commit once the ORM has written the unit's rows (a new row has its id then), before
        the rows kept until commit are: what must name a new row by its id (a document's event and history line) is
        added there, so the command need not flush for the id mid-way, which on SQLite takes the write lock and holds
        it over all the command computes after."""
        self._when_flushed.append(action)

    def publish(self, *events: Event) -> None:
        """Note what the use case decided; dispatched when it commits, forgotten if it does not."""
        self._events.extend(events)

    def _dispatch_events(self) -> None:
        while self._events:  # a handler in the transaction may publish more
            events, self._events = self._events, []
            if self._bus is None:
                raise RuntimeError(f"no message bus for {events}: build the context with bootstrap()")
            self._bus.dispatch(self, events)

    def flush(self) -> None:
        """Write pending changes now, so that a concurrent change to the same case is detected here."""
        try:
            self.session.flush()
        except (StaleDataError, StaleRead, OperationalError) as error:
            raise busy_error(error) or error from None

    def _run_when_flushed(self) -> None:
        actions, self._when_flushed = self._when_flushed, []
        for action in actions:
            action()
        self._dispatch_events()  # what they published

    def _pending_writes(self) -> list:
        """The repositories keeping rows until commit that this unit used (only those can hold any)."""
        return [self.__dict__[name] for name in PENDING_WRITES if name in self.__dict__]

    def commit(self) -> None:
        try:
            self._dispatch_events()
            for repository_used in self._pending_writes():  # before the first write: it takes SQLite's lock
                repository_used.prepare()
            flush = prepared_flush.prepare(self.session)  # after the counts: they read what it writes as changes
            with writes_pipelined(self.session):  # PostgreSQL: sent without waiting for each answer
                flush.send()  # the rows kept until commit may refer to those the ORM writes (a new case)
                self.session.flush()  # what the prepared writes leave to the ORM
                self.counts.written()
                self._run_when_flushed()
                repository.write_at_commit(self.session)
                for repository_used in self._pending_writes():
                    repository_used.write_pending()
                self.session.commit()
        except IntegrityError:
            raise Conflict("数据已被他人同时修改，请刷新后重试") from None
        except (StaleDataError, StaleRead, OperationalError, DataError) as error:
            raise busy_error(error) or error from None
        actions, self._after_commit = self._after_commit, []
        for action in actions:
            action()


def busy_error(error: BaseException) -> Busy | None:
    """The Busy a concurrent command's error means (a command run again may succeed), None for any other error."""
    if isinstance(error, (StaleDataError, StaleRead)) or stale_row(error):
        return Busy("案件已被他人同时修改，请刷新后重试")
    if isinstance(error, OperationalError) and ("locked" in str(error) or "could not serialize" in str(error)):
        return Busy("数据库繁忙，请重试")
    return None
