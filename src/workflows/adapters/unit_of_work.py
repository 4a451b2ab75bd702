"""One use case, one transaction: the unit of work hands out repositories over one session."""
from __future__ import annotations

from typing import Callable

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from workflows.domain.errors import Conflict

from . import repository
from .audit_repository import PersonalDataReadRepository
from .statistics_counts import StatisticsCounts


class UnitOfWork:
    def __init__(self, session_factory: sessionmaker, write: bool = True):
        self._session_factory = session_factory
        self._write = write
        self.session: Session | None = None
        self._after_commit: list[Callable[[], None]] = []

    def __enter__(self) -> "UnitOfWork":
        self.session = self._session_factory()
        if self._write and self.session.get_bind().dialect.name == "sqlite":
            self.session.connection(execution_options={"sqlite_begin": "BEGIN IMMEDIATE"})
        self.versions = repository.VersionRepository(self.session)
        self.catalog = repository.CatalogRepository(self.session)
        self.processes = repository.ProcessRepository(self.session)
        self.cases = repository.CaseRepository(self.session)
        self.tasks = repository.TaskRepository(self.session)
        self.history = repository.HistoryRepository(self.session)
        self.users = repository.UserRepository(self.session)
        self.external = repository.ExternalSystemRepository(self.session)
        self.deadlines = repository.DeadlineRepository(self.session)
        self.timers = repository.TimerRepository(self.session)
        self.escalations = repository.EscalationRepository(self.session)
        self.notifications = repository.NotificationRepository(self.session)
        self.calendar = repository.CalendarRepository(self.session)
        self.statistics = repository.StatisticsRepository(self.session)
        self.ratings = repository.RatingRepository(self.session)
        self.comments = repository.CommentRepository(self.session)
        self.attachments = repository.AttachmentRepository(self.session)
        self.materials = repository.MaterialRepository(self.session)
        self.documents = repository.DocumentRepository(self.session)
        self.waivers = repository.WaiverRepository(self.session)
        self.saved_filters = repository.SavedFilterRepository(self.session)
        self.task_requests = repository.TaskRequestRepository(self.session)
        self.supervisions = repository.SupervisionRepository(self.session)
        self.substitutions = repository.SubstitutionRepository(self.session)
        self.agency_messages = repository.AgencyMessageRepository(self.session)
        self.followups = repository.FollowUpRepository(self.session)
        self.personal_data_reads = PersonalDataReadRepository(self.session)
        self.accounts = repository.AccountRepository(self.session)
        self.counts = StatisticsCounts(self.session)
        return self

    def __exit__(self, *exc_info) -> None:
        # close() ends any transaction left open (rolling it back) and detaches the records unexpired,
        # so a use case can return them.
        self.session.close()

    def refresh(self, record) -> None:
        """Read a record again, after locking its case: what another transaction changed before the lock counts."""
        self.session.refresh(record)

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once this unit has committed (e.g. deliver a message it put in the outbox), never if it
        does not; the action has its own transaction and must keep its failures to itself."""
        self._after_commit.append(action)

    def flush(self) -> None:
        """Write pending changes now, so that a concurrent change to the same case is detected here."""
        try:
            self.session.flush()
        except StaleDataError:
            raise Conflict("案件已被他人同时修改，请刷新后重试") from None

    def commit(self) -> None:
        try:
            for pending in (self.history, self.external, self.notifications, self.counts):
                pending.write_pending()
            self.session.commit()
        except StaleDataError:
            raise Conflict("案件已被他人同时修改，请刷新后重试") from None
        except IntegrityError:
            raise Conflict("数据已被他人同时修改，请刷新后重试") from None
        except OperationalError as error:
            if "locked" in str(error) or "could not serialize" in str(error):
                raise Conflict("数据库繁忙，请重试") from None
            raise
        actions, self._after_commit = self._after_commit, []
        for action in actions:
            action()
