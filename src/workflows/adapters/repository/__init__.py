"""Repositories: the queries each use case needs, over one SQLAlchemy session; one module per aggregate or
concern. Every repository is importable from here, as before the split."""
from .catalog import VersionRepository, CatalogRepository, ProcessRepository, CalendarRepository  # noqa: F401
from .cases import CaseRepository, TaskRepository, HistoryRepository, ExternalSystemRepository  # noqa: F401
from .limits import DeadlineRepository, TimerRepository, MessageWaitRepository, EscalationRepository  # noqa: F401
from .task_requests import TaskRequestRepository, SupervisionRepository, SubstitutionRepository  # noqa: F401
from .case_files import (MaterialRepository, WaiverRepository, DocumentRepository,  # noqa: F401
                         CommentRepository, AttachmentRepository)
from .people import UserRepository, AccountRepository, SavedFilterRepository, NotificationRepository  # noqa: F401
from .agency_messages import AgencyMessageRepository  # noqa: F401
from .ratings import RatingRepository, FollowUpRepository  # noqa: F401
from .statistics import StatisticsRepository  # noqa: F401
from .base import driver_rows, execute_at_commit, insert_of, send_rows, write_at_commit  # noqa: F401
