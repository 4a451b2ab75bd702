"""Database tables, and their mapping onto the plain records of workflows.domain.model."""
from datetime import datetime, timezone

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Column, Date, DateTime, ForeignKey, Index, Integer,
                        LargeBinary, MetaData, String, Table, Text, TypeDecorator, UniqueConstraint, false,
                        text)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import deferred, registry

from workflows.adapters import stored_text
from workflows.domain import model
from workflows.domain.case_migration import MigrationPlan, MigrationRun
from workflows.domain.external_tasks import ExternalTask

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s", "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s", "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s"})
Json = JSON().with_variant(JSONB(), "postgresql")


class Moment(TypeDecorator):
    """A point in time, stored in UTC and read back time-zone aware on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = _in_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)

    def bind_processor(self, dialect):
        """On SQLite, the text its DATETIME stores ("2026-11-23 01:30:00.000000", UTC), written in one step: its
        own processor formats a dict of the parts, after process_bind_param, and a case binds some 70 moments."""
        return _sqlite_text if dialect.name == "sqlite" else super().bind_processor(dialect)

    def result_processor(self, dialect, coltype):
        """On SQLite, that text read in one step (fromisoformat takes it with or without the fraction)."""
        return _sqlite_moment if dialect.name == "sqlite" else super().result_processor(dialect, coltype)


def _in_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a moment needs a time zone")
    return value.astimezone(timezone.utc)


def _sqlite_text(value: datetime | None) -> str | None:
    return None if value is None else _in_utc(value).isoformat(" ", "microseconds")[:26]  # (without "+00:00")


def _sqlite_moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only

catalog_documents = Table(
    "catalog_documents", metadata,
    Column("name", String(200), primary_key=True),  # items.yaml, agencies/210400.yaml …
    Column("content", Json, nullable=False),
    Column("loaded_at", Moment(), nullable=False),
)

# A deployment: the BPMN and DMN files deployed together (call activities resolve across them); each process it
# holds is a version pointing at it.
deployments = Table(
    "deployments", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("agency_code", String(20)),
    Column("deployed_by", String(64), nullable=False),
    Column("deployed_at", Moment(), nullable=False),
    Column("files", Json, nullable=False),  # the names of its files, in the order given
)

process_versions = Table(
    "process_versions", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("process_key", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("bpmn_xml", Text, nullable=False),
    Column("file_name", String(200), nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("deployed_by", String(64), nullable=False),
    Column("deployed_at", Moment(), nullable=False),
    # The DMN files of the decisions its business-rule tasks reference: {file name: DMN XML}
    Column("decisions", Json, nullable=False, default=dict, server_default="{}"),
    # The agency whose cases run the version; NULL: national (the shipped diagrams), for agencies without their own
    Column("agency_code", String(20)),
    Column("change_note", Text),  # the designer's words on what changed and why (None: deployed without one)
    # deployments.id (no foreign key: SQLite would rebuild this table to add one); NULL: deployed before them
    Column("deployment_id", Id),
    # The other BPMN files of its deployment that its call activities reach: {file name: BPMN XML}
    Column("called_files", Json, nullable=False, default=dict, server_default="{}"),
    UniqueConstraint("process_key", "version"),
    Index("ix_process_versions_key_agency", "process_key", "agency_code"),
)

cases = Table(
    "cases", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("number", String(40), nullable=False, unique=True),
    Column("agency_code", String(20), nullable=False),
    Column("hall_code", String(40), nullable=False),
    Column("item_code", String(20), nullable=False),
    Column("item_name", String(200), nullable=False),
    Column("process_version_id", ForeignKey("process_versions.id"), nullable=False),
    Column("stage", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("result", String(40)),
    Column("applicant", Json, nullable=False),
    Column("data", Json, nullable=False),
    Column("workflow_state", Text, nullable=False),
    Column("opened_by", String(64), nullable=False),
    Column("opened_at", Moment(), nullable=False),
    Column("accepted_at", Moment()),
    Column("closed_at", Moment()),
    Column("row_version", Integer, nullable=False),
    Index("ix_cases_agency_hall_status", "agency_code", "hall_code", "status"),
    Index("ix_cases_item_code", "item_code"),
    # The desk and the backlog read only the open cases: a small index, whatever the closed ones pile up to.
    Index("ix_cases_open", "agency_code", "hall_code", "stage", postgresql_where=text("status <> 'closed'"),
          sqlite_where=text("status <> 'closed'"), postgresql_include=["id", "number", "item_code", "item_name"]),
    # A running limit's open case by id, with what the desk and the statistics show of it (index-only).
    Index("ix_cases_open_id", "id", postgresql_where=text("status <> 'closed'"),
          sqlite_where=text("status <> 'closed'"), postgresql_include=["agency_code", "hall_code", "item_code", "item_name", "number", "stage"]),
)

case_sequences = Table(
    "case_sequences", metadata,
    Column("agency_code", String(20), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("last_value", Integer, nullable=False),
    # SQLite: the highest case id handed out with a number, before the case's row is written (migration 0047)
    Column("last_case_id", Integer, index=True),
)

case_tasks = Table(
    "case_tasks", metadata,
    Column("id", String(36), primary_key=True),  # the SpiffWorkflow task id
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("case_number", String(40), nullable=False),
    Column("agency_code", String(20), nullable=False),
    Column("hall_code", String(40), nullable=False),
    Column("item_code", String(20), nullable=False),
    Column("item_name", String(200), nullable=False),
    Column("spec_id", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("stage", String(40), nullable=False),
    Column("role", String(20), nullable=False),
    Column("state", String(20), nullable=False),
    Column("assignee", String(64)),
    Column("created_at", Moment(), nullable=False),
    Column("claimed_at", Moment()),
    Column("completed_at", Moment()),
    Column("completed_by", String(64)),
    Column("decision", String(40)),
    Column("due_at", Moment()),  # the case's promised limit, so the inbox sorts by time left without a join
    Column("warning_at", Moment()),
    Column("applicant_name", String(200)),
    Column("completed_level", String(10)),  # normal | yellow | red | paused: the case's limit when it was done
    Column("priority", Integer, nullable=False, server_default="50"),  # camunda:priority
    Column("candidate_users", String(1000)),  # ",a,b,": camunda:candidateUsers, only they see and claim it
    Column("due_date", Moment()),  # camunda:dueDate, beside the case's limit (due_at)
    Column("follow_up_date", Moment()),  # camunda:followUpDate
    # A person's own tasks by time left, and those they completed, newest first: only rows with a person are ever
    # read from these, so the unclaimed and the open tasks write no entry (migration 0056).
    Index("ix_case_tasks_assignee", "assignee", "state", "due_at", postgresql_where=text("assignee IS NOT NULL"),
          sqlite_where=text("assignee IS NOT NULL")),
    Index("ix_case_tasks_completed_by", "completed_by", "completed_at",
          postgresql_where=text("completed_by IS NOT NULL"), sqlite_where=text("completed_by IS NOT NULL")),
    # A case's tasks by its number (the Camunda REST API's processInstanceId; migration 0053).
    Index("ix_case_tasks_case_number", "case_number"),
)
# The hall's open tasks in the inbox's order: a page reads its own rows (and those of other roles between them),
# not every open task of the hall to sort them (migration 0030).
Index("ix_case_tasks_ready", case_tasks.c.agency_code, case_tasks.c.hall_code, case_tasks.c.priority.desc(),
      case_tasks.c.due_at, case_tasks.c.created_at, case_tasks.c.id, postgresql_where=text("state = 'ready'"),
      sqlite_where=text("state = 'ready'"))
# The stages a hall's tasks stand at, one probe each (TaskRepository.stages; migration 0030).
Index("ix_case_tasks_stages", case_tasks.c.agency_code, case_tasks.c.hall_code, case_tasks.c.state, case_tasks.c.stage)

case_history = Table(
    "case_history", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("at", Moment(), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(40), nullable=False),
    Column("stage", String(40)),
    Column("task_name", String(200)),
    Column("message", Text, nullable=False),
    Column("detail", Json, nullable=False),
    Index("ix_case_history_case_id_id", "case_id", "id"),
)

users = Table(
    "users", metadata,
    Column("username", String(64), primary_key=True),
    Column("full_name", String(100), nullable=False),
    Column("password_hash", String(256), nullable=False),
    Column("agency_code", String(20), nullable=False),
    Column("hall_code", String(40), nullable=False),
    Column("roles", Json, nullable=False),
)

external_calls = Table(
    "external_calls", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id")),
    Column("system", String(40), nullable=False),
    Column("operation", String(40), nullable=False),
    Column("request", Json, nullable=False),
    Column("response", Json, nullable=False),
    Column("at", Moment(), nullable=False),
    Index("ix_external_calls_case_id", "case_id"),
)

# The people the local stand-in for the national platform knows (LocalNationalPlatform).
local_platform_people = Table(
    "local_platform_people", metadata,
    Column("id_number", String(40), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("status", String(40), nullable=False),
    Column("arrears", String(20), nullable=False),
    Column("account_balance", String(20), nullable=False),
    Column("insured_since", String(10)),
    Column("suspended", Boolean, nullable=False, default=False),
)

# The working-day calendar: years an administrator published (replacing the packaged data for that year) and
# single days corrected, each with the State Council notice it comes from; calendar_changes is their history.
calendar_years = Table(
    "calendar_years", metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("holidays", Json, nullable=False),  # ISO dates of weekdays off
    Column("workdays", Json, nullable=False),  # ISO dates of weekend days worked (调休上班)
    Column("source", String(200), nullable=False),
    Column("changed_by", String(64), nullable=False),
    Column("changed_at", Moment(), nullable=False),
)

calendar_days = Table(
    "calendar_days", metadata,
    Column("day", Date, primary_key=True),
    Column("working", Boolean, nullable=False),
    Column("name", String(100), nullable=False),
    Column("source", String(200), nullable=False),
    Column("changed_by", String(64), nullable=False),
    Column("changed_at", Moment(), nullable=False),
)

calendar_changes = Table(
    "calendar_changes", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", Moment(), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(40), nullable=False),
    Column("source", String(200), nullable=False),
    Column("detail", Json, nullable=False),
)

# The running limits that can be late (not met, not paused, with a due moment), as StatisticsRepository asks for them.
RUNNING_LIMITS = {"postgresql_where": text("met_at IS NULL AND paused = false AND due_at IS NOT NULL"),
                  "sqlite_where": text("met_at IS NULL AND paused = 0 AND due_at IS NOT NULL")}

UNCOUNTED_LIMITS = {"postgresql_where": text(RUNNING_LIMITS["postgresql_where"].text + " AND overdue = false"),
                    "sqlite_where": text(RUNNING_LIMITS["sqlite_where"].text + " AND overdue = 0")}

case_deadlines = Table(
    "case_deadlines", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("limit_value", Integer, nullable=False),
    Column("limit_unit", String(20), nullable=False),
    Column("starts_at", Moment(), nullable=False),
    Column("due_at", Moment()),
    Column("warning_at", Moment()),
    Column("provisional", Boolean, nullable=False),
    Column("paused", Boolean, nullable=False),
    Column("extension_days", Integer, nullable=False),
    Column("paused_days", Integer, nullable=False),
    Column("met_at", Moment()),
    # The case's place, copied when the limit is written (statistics_counts.place_limits): the desk and the
    # statistics read one hall's or agency's running limits without visiting their cases.
    Column("agency_code", String(20)),
    Column("hall_code", String(40)),
    Column("item_code", String(20)),
    # Counted in overdue_counts (statistics_counts.py): set by the scheduler's round once the limit is past due,
    # cleared by the command that meets, pauses or moves it. Not the domain's: the limit's record does not map it.
    Column("overdue", Boolean, nullable=False, default=False, server_default=false()),
    UniqueConstraint("case_id", "kind"),  # also a case's limits by case_id (migration 0056 dropped its own index)
    # A hall's running, unpaused limits by due moment: the desk's 黄牌/红牌, the longest overdue (migration 0030).
    Index("ix_case_deadlines_running_hall", "agency_code", "hall_code", "due_at", "id", **RUNNING_LIMITS),
    # A hall's running, unpaused limits with both moments the desk's count of those at risk tests (warning or due
    # passed): the count reads the index alone, no limit's row (migration 0052).
    Index("ix_case_deadlines_at_risk", "agency_code", "hall_code", "warning_at", "due_at", **RUNNING_LIMITS),
    # The running limits not counted overdue yet, by due moment: the round's next ones, and the few past due that
    # the statistics add to the counts until the round comes (migration 0043).
    Index("ix_case_deadlines_uncounted", "due_at", **UNCOUNTED_LIMITS,
          postgresql_include=["agency_code", "hall_code", "item_code", "case_id"]),
    # The limits counted overdue, by case: is a case counted already (a probe of a few thousand entries)
    Index("ix_case_deadlines_counted", "case_id", postgresql_where=text("overdue"), sqlite_where=text("overdue")),
)

case_pauses = Table(
    "case_pauses", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    Column("started_at", Moment(), nullable=False),
    Column("started_by", String(64), nullable=False),
    Column("ended_at", Moment()),
    Column("ended_by", String(64)),
    Index("ix_case_pauses_open", "case_id", postgresql_where=text("ended_at IS NULL"),
          sqlite_where=text("ended_at IS NULL"), postgresql_include=["kind"]),
)

extension_requests = Table(
    "extension_requests", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("days", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("requested_at", Moment(), nullable=False),
    Column("status", String(20), nullable=False),
    Column("decided_by", String(64)),
    Column("decided_at", Moment()),
    Column("decision_note", Text),
    Index("ix_extension_requests_requested", "case_id", postgresql_where=text("status = 'requested'"),
          sqlite_where=text("status = 'requested'")),
)

# Every external service task a case waits on, with the lock of the worker that fetched it (domain/external_tasks.py)
external_tasks = Table(
    "external_tasks", metadata,
    Column("id", String(36), primary_key=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("case_number", String(40), nullable=False),
    Column("agency_code", String(20), nullable=False),
    Column("process_key", String(100), nullable=False),
    Column("process_version_id", ForeignKey("process_versions.id"), nullable=False),
    Column("activity_id", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("topic", String(100), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("worker_id", String(200)),
    Column("lock_expires_at", Moment()),
    Column("retries", Integer),
    Column("retry_at", Moment()),
    Column("error_message", Text),
    Column("error_details", Text),
    Column("created_at", Moment(), nullable=False),
    Index("ix_external_tasks_agency_code_topic", "agency_code", "topic"),
)

# Every BPMN timer a case waits on, with its due moment: the scheduler reads this, never the workflows.
case_timers = Table(
    "case_timers", metadata,
    Column("case_id", ForeignKey("cases.id"), primary_key=True),
    Column("task_id", String(36), primary_key=True),
    Column("due_at", Moment(), nullable=False, index=True),
)

# The messages each open case waits for (a catch event, a receive task), with the values of the message's correlation
# properties over the case data: a message posted for the agency is routed to the one waiting case they match.
case_message_waits = Table(
    "case_message_waits", metadata,
    Column("case_id", ForeignKey("cases.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("agency_code", String(20), nullable=False),
    Column("message_name", String(100), nullable=False),
    Column("correlation", Json, nullable=False),
    Index("ix_case_message_waits_agency_message", "agency_code", "message_name"),
)

# The signals each open case waits for (migration 0039): a signal thrown for the agency reaches each of them.
case_signal_waits = Table(
    "case_signal_waits", metadata,
    Column("case_id", ForeignKey("cases.id"), primary_key=True),
    Column("signal_name", String(100), primary_key=True),
    Column("agency_code", String(20), nullable=False),
    Index("ix_case_signal_waits_agency_signal", "agency_code", "signal_name"),
)

# The cases a signal broadcast (its outbox entry) has reached, each written with the case's catch: a retried
# broadcast skips them. Kept until the entry is done.
signal_deliveries = Table(
    "signal_deliveries", metadata,
    Column("outbox_id", ForeignKey("outbox.id"), primary_key=True),
    Column("case_id", ForeignKey("cases.id"), primary_key=True),
)

escalations = Table(
    "escalations", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("case_number", String(40), nullable=False),
    Column("agency_code", String(20), nullable=False),
    Column("hall_code", String(40), nullable=False),
    Column("item_name", String(200), nullable=False),
    Column("limit_kind", String(40), nullable=False),
    Column("level", String(10), nullable=False),
    Column("stage", String(40)),
    Column("raised_at", Moment(), nullable=False),
    Column("status", String(20), nullable=False),
    Column("handled_by", String(64)),
    Column("handled_at", Moment()),
    Column("action", String(20)),
    Column("note", Text),
    UniqueConstraint("case_id", "limit_kind", "level"),
    Index("ix_escalations_desk", "agency_code", "hall_code", "status", "raised_at"),
    # The desk's page of open escalations in its order ('red' < 'yellow'): 50 rows read for 50 shown.
    Index("ix_escalations_open", "agency_code", "hall_code", "level", "raised_at", "id",
          postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
)

# Running counts behind the supervisors' statistics (adapters/statistics_counts.py keeps them in the command's own
# transaction): per agency, hall, item and week (the Monday, Beijing time) the cases opened and closed, and of the
# closed ones those counted for the on-time rate and those on time; per person the tasks completed and on time.
case_counts = Table(
    "case_counts", metadata,
    Column("agency_code", String(20), primary_key=True),
    Column("hall_code", String(40), primary_key=True),
    Column("item_code", String(20), primary_key=True),
    Column("item_name", String(200), primary_key=True),
    Column("week", Date, primary_key=True),
    Column("opened", Integer, nullable=False),
    Column("closed", Integer, nullable=False),
    Column("counted", Integer, nullable=False),
    Column("on_time", Integer, nullable=False),
    Index("ix_case_counts_week", "agency_code", "week"),
)

task_counts = Table(
    "task_counts", metadata,
    Column("agency_code", String(20), primary_key=True),
    Column("hall_code", String(40), primary_key=True),
    Column("username", String(64), primary_key=True),
    Column("completed", Integer, nullable=False),
    Column("on_time", Integer, nullable=False),
)

# The open cases per agency, hall and stage where they wait (the statistics' backlog), kept like the counts above.
# case_counts summed over the weeks: the closed cases counted and on time per hall and item, the statistics' rates
closed_case_counts = Table(
    "closed_case_counts", metadata,
    Column("agency_code", String(20), primary_key=True),
    Column("hall_code", String(40), primary_key=True),
    Column("item_code", String(20), primary_key=True),
    Column("item_name", String(200), primary_key=True),
    Column("counted", Integer, nullable=False),
    Column("on_time", Integer, nullable=False),
)
# The agency's open cases past a due moment per hall and item: those with a limit marked overdue
# (case_deadlines.overdue), kept by the scheduler's round and the commands (statistics_counts.py).
overdue_counts = Table(
    "overdue_counts", metadata,
    Column("agency_code", String(20), primary_key=True),
    Column("hall_code", String(40), primary_key=True),
    Column("item_code", String(20), primary_key=True),
    Column("overdue", Integer, nullable=False),
)
open_case_counts = Table(
    "open_case_counts", metadata,
    Column("agency_code", String(20), primary_key=True),
    Column("hall_code", String(40), primary_key=True),
    Column("stage", String(40), primary_key=True),
    Column("open", Integer, nullable=False),
)

notifications = Table(
    "notifications", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("case_id", ForeignKey("cases.id")),
    Column("case_number", String(40)),
    Column("kind", String(40), nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", Moment(), nullable=False),
    Column("read_at", Moment()),
    Index("ix_notifications_username_read_at", "username", "read_at"),
)

# 好差评: the applicant's rating of a completed case, given once per case on the public progress page.
ratings = Table(
    "ratings", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, unique=True),
    Column("score", Integer, nullable=False),  # 5 非常满意 … 1 非常不满意
    Column("label", String(20), nullable=False),
    Column("comment", Text),
    Column("rated_at", Moment(), nullable=False),
    CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
)

# 备注 and 附件 of a case, added by staff on the task and case pages.
case_comments = Table(
    "case_comments", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("author", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", Moment(), nullable=False),
)

case_attachments = Table(
    "case_attachments", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("file_name", String(200), nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("uploaded_by", String(64), nullable=False),
    Column("uploaded_at", Moment(), nullable=False),
)

# 文书 issued for a case: what its template was filled in with, its text as laid out, and the PDF as handed to the
# applicant (written once, after the command that issued it). Never changed otherwise.
case_documents = Table(
    "case_documents", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("title", String(200), nullable=False),
    Column("number", String(80), nullable=False, unique=True),
    Column("fields", Json, nullable=False),
    Column("layout", Json),  # the text as laid out at the command (domain/documents.py layout_of); None: before 0021
    Column("content", LargeBinary),  # the PDF, rendered from `layout` after the command commits (the outbox)
    Column("issued_by", String(64), nullable=False),
    Column("issued_at", Moment(), nullable=False),
    Index("ix_case_documents_case_id_kind", "case_id", "kind"),
)

# 申请材料 of a case as checked by staff on the task page: present, missing, 容缺 (waived) where the catalog allows, or
# 承诺 (committed: 告知承诺, a signed 个人承诺书 in place of a certificate) where the item allows it.
case_materials = Table(
    "case_materials", metadata,
    Column("case_id", ForeignKey("cases.id"), primary_key=True),
    Column("material_index", Integer, primary_key=True),  # position in the catalog item's materials
    Column("name", String(200), nullable=False),
    Column("status", String(10), nullable=False),
    Column("marked_by", String(64), nullable=False),
    Column("marked_at", Moment(), nullable=False),
    CheckConstraint("status IN ('present', 'missing', 'waived', 'committed')", name="status_known"),
)

# 容缺受理: a case accepted with materials waived, the applicant having signed the 《容缺承诺书》; supplied_at once the
# clerk has marked them all 已提交 (the case goes on), else the case closes 补正超时 at the end of the 补正期限.
case_waivers = Table(
    "case_waivers", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("materials", Json, nullable=False),  # [{"index": 5, "name": "结婚证"}, …] as marked 容缺 at acceptance
    Column("accepted_by", String(64), nullable=False),
    Column("accepted_at", Moment(), nullable=False),
    Column("supplied_by", String(64)),
    Column("supplied_at", Moment()),
)

# 我的筛选: a clerk's named inbox filters, shared with the hall or not.
saved_filters = Table(
    "saved_filters", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("agency_code", String(20), nullable=False),
    Column("hall_code", String(40), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("name", String(100), nullable=False),
    Column("query", Json, nullable=False),
    Column("shared", Boolean, nullable=False),
    Column("created_at", Moment(), nullable=False),
    UniqueConstraint("owner", "name"),
    Index("ix_saved_filters_agency_code_hall_code_shared", "agency_code", "hall_code", "shared"),
)

# 委派 and 加签 on a task: a holder asks another person of the hall to act on it (delegate: an opinion; before,
# after, parallel: a signature 同意/不同意 with an opinion); withdrawn when recalled (委派) or removed (减签).
task_requests = Table(
    "task_requests", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("task_id", ForeignKey("case_tasks.id"), nullable=False, index=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("assignee", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("substitute_note", Text),  # "张三休假，由李四代办" when it went to a substitute
    Column("status", String(20), nullable=False),
    Column("decision", String(20)),
    Column("opinion", Text),
    Column("requested_at", Moment(), nullable=False),
    Column("done_at", Moment()),
    Column("withdrawn_by", String(64)),
    CheckConstraint("kind IN ('delegate', 'before', 'after', 'parallel')", name="kind_known"),
    CheckConstraint("status IN ('pending', 'done', 'withdrawn')", name="status_known"),
    Index("ix_task_requests_assignee_status", "assignee", "status"),
)

# A holder's completion held until the after- and parallel signers have signed (后加签, 并行加签).
task_submissions = Table(
    "task_submissions", metadata,
    Column("task_id", ForeignKey("case_tasks.id"), primary_key=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("submitted_by", String(64), nullable=False),
    Column("data", Json, nullable=False),
    Column("submitted_at", Moment(), nullable=False),
)

# 督办: a supervisor's written instruction on a task, which its handler must answer before completing it.
task_supervisions = Table(
    "task_supervisions", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("task_id", ForeignKey("case_tasks.id"), nullable=False, index=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("case_number", String(40), nullable=False),
    Column("agency_code", String(20), nullable=False),
    Column("hall_code", String(40), nullable=False),
    Column("supervisor", String(64), nullable=False),
    Column("instruction", Text, nullable=False),
    Column("created_at", Moment(), nullable=False),
    Column("reply", Text),
    Column("replied_by", String(64)),
    Column("replied_at", Moment()),
    Index("ix_task_supervisions_agency_code_hall_code_created_at", "agency_code", "hall_code", "created_at"),
    # The hall's 督办 waiting for a reply (a few among years of them), newest first: the desk's first rows and its
    # count of the waiting (migration 0052).
    Index("ix_task_supervisions_unreplied", "agency_code", "hall_code", "created_at", "id",
          postgresql_where=text("replied_at IS NULL"), sqlite_where=text("replied_at IS NULL")),
)

# 外出/休假代理: while a user is away, tasks and notifications given to them go to their substitute.
substitutions = Table(
    "substitutions", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("substitute", String(64), nullable=False, index=True),
    Column("agency_code", String(20), nullable=False),
    Column("hall_code", String(40), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("starts_at", Moment(), nullable=False),
    Column("ends_at", Moment(), nullable=False),  # exclusive; moved to the moment it was ended early
    Column("created_at", Moment(), nullable=False),
    Column("ended_at", Moment()),
    CheckConstraint("starts_at <= ends_at", name="period_ordered"),
    Index("ix_substitutions_username_ends_at", "username", "ends_at"),
)

# Messages between agencies (转移接续's 联系函 and 信息表): the outbox of thrown messages and the inbox of those from
# other installations, one row per message id; pending rows are delivered after the thrower's commit or by the
# scheduler, outbound ones wait for a relay to another installation.
agency_messages = Table(
    "agency_messages", metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("from_agency", String(20), nullable=False),
    Column("to_agency", String(20), nullable=False),
    Column("correlation", String(40), nullable=False),
    Column("payload", Json, nullable=False),
    Column("source_case_id", ForeignKey("cases.id"), index=True),
    Column("target_case_id", ForeignKey("cases.id"), index=True),
    Column("status", String(20), nullable=False),
    Column("error", Text),
    Column("created_at", Moment(), nullable=False),
    Column("delivered_at", Moment()),
    CheckConstraint("status IN ('pending', 'delivered', 'failed', 'outbound', 'sent')", name="status_known"),
    Index("ix_agency_messages_status_created_at", "status", "created_at"),
    Index("ix_agency_messages_correlation", "correlation"),
)

# What a command left to be done after it committed (services/outbox.py): claimed by pushing next_attempt_at past
# a lease, done once done_at is set; a failure keeps its error and the moment of the next attempt (None: given up).
outbox = Table(
    "outbox", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("payload", Json, nullable=False),
    Column("case_id", ForeignKey("cases.id"), index=True),
    Column("created_at", Moment(), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Moment()),
    Column("done_at", Moment()),
    Column("last_error", Text),
    Index("ix_outbox_due", "next_attempt_at", postgresql_where=text("done_at IS NULL"),
          sqlite_where=text("done_at IS NULL")),
)

# 差评回访: one per poorly rated case, for the supervisors of the case's hall.
rating_followups = Table(
    "rating_followups", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, unique=True),
    Column("case_number", String(40), nullable=False),
    Column("agency_code", String(20), nullable=False),
    Column("hall_code", String(40), nullable=False),
    Column("item_name", String(200), nullable=False),
    Column("score", Integer, nullable=False),
    Column("rating_label", String(20), nullable=False),
    Column("comment", Text),
    Column("opened_at", Moment(), nullable=False),
    Column("due_at", Moment(), nullable=False),
    Column("warning_at", Moment(), nullable=False),
    Column("status", String(10), nullable=False),
    Column("visit_note", Text),
    Column("remedy", Text),
    Column("recorded_by", String(64)),
    Column("recorded_at", Moment()),
    CheckConstraint("status IN ('open', 'done')", name="status_known"),
    Index("ix_rating_followups_desk", "agency_code", "hall_code", "status", "due_at"),
)

# Every read in full of an ID number or a bank account by a person (domain.privacy): who, which case, what, why.
personal_data_reads = Table(
    "personal_data_reads", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("case_number", String(40), nullable=False),
    Column("agency_code", String(20), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("kinds", String(100), nullable=False),    # the kinds shown in full: "bank_account,id_number"
    Column("purpose", String(40), nullable=False),   # what showed them: case, task, attachment
    Column("at", Moment(), nullable=False),
    Index("ix_personal_data_reads_actor", "agency_code", "actor", "at"),
)

# Accounts (migration 0018): failed guesses per key, the sessions and tokens signed in, and what happened to
# accounts (locks, unlocks, password and role changes) for the administrator to see.
throttles = Table(
    "throttles", metadata,
    Column("key", String(200), primary_key=True),  # account:<username> | address:<ip> | public:<ip> | case:<no>
    Column("failures", Integer, nullable=False),
    Column("window_started_at", Moment(), nullable=False),
    Column("locked_until", Moment()),
    Index("ix_throttles_locked_until", "locked_until"),
)

user_sessions = Table(
    "user_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the secret the cookie or Bearer token holds
    Column("username", ForeignKey("users.username"), nullable=False),
    Column("kind", String(10), nullable=False),  # web | api
    Column("created_at", Moment(), nullable=False),
    Column("expires_at", Moment(), nullable=False),
    Column("revoked_at", Moment()),
    Column("address", String(64)),
    Index("ix_user_sessions_username", "username"),
)

account_events = Table(
    "account_events", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", Moment(), nullable=False),
    Column("subject", String(200), nullable=False),  # the username or address it is about
    Column("action", String(40), nullable=False),  # locked | unlocked | password_changed | roles_changed
    Column("actor", String(64), nullable=False),
    Column("address", String(64)),
    Column("message", String(400), nullable=False),
    Index("ix_account_events_at", "at"),
)

# A designer's tests of a process (migration 0034): one suite per process and agency (NULL: national).
process_tests = Table(
    "process_tests", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("process_key", String(100), nullable=False),
    Column("agency_code", String(20)),
    Column("document", Json, nullable=False),
    Column("saved_by", String(64), nullable=False),
    Column("saved_at", Moment(), nullable=False),
    Index("ix_process_tests_process_key_agency_code", "process_key", "agency_code"),
)

# Plans to migrate running cases to another version of their process (migration 0036, domain/case_migration.py).
case_migration_plans = Table(
    "case_migration_plans", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("agency_code", String(20), nullable=False),
    Column("process_key", String(100), nullable=False),
    Column("source_version_id", Id, ForeignKey("process_versions.id"), nullable=False),
    Column("target_version_id", Id, ForeignKey("process_versions.id"), nullable=False),
    Column("mapping", Json, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("requested_at", Moment(), nullable=False),
    Column("approved_by", String(64)),
    Column("approved_at", Moment()),
    Column("approved_hall", String(20)),  # the approver's hall: the plan moves its cases (None: every hall)
    Index("ix_case_migration_plans_agency_code", "agency_code"),
)

# A plan run on all its cases in the background (migration 0055, services/migration_runs.py): one running per plan
# (the partial unique index), and each case's outcome, written in the transaction that moved it (or found why not).
case_migration_runs = Table(
    "case_migration_runs", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("plan_id", Id, ForeignKey("case_migration_plans.id"), nullable=False),
    Column("started_by", String(64), nullable=False),
    Column("started_at", Moment(), nullable=False),
    Column("total", Integer, nullable=False),
    Column("last_case_id", Id, nullable=False),  # the newest case the run covers: the cases opened after are not its
    Column("finished_at", Moment()),
    Index("ix_case_migration_runs_plan_id", "plan_id"),
    Index("ix_case_migration_runs_running", "plan_id", unique=True, postgresql_where=text("finished_at IS NULL"),
          sqlite_where=text("finished_at IS NULL")),
)

case_migration_outcomes = Table(
    "case_migration_outcomes", metadata,
    Column("run_id", Id, ForeignKey("case_migration_runs.id"), primary_key=True),
    Column("case_id", Id, ForeignKey("cases.id"), primary_key=True),  # the run goes by case id: where it resumes
    Column("number", String(40), nullable=False),
    Column("migrated", Boolean, nullable=False),
    Column("error", String(1000)),
    Column("at", Moment(), nullable=False),
)

mapper_registry = registry(metadata=metadata)


def start_mappers() -> None:
    """Map the domain records onto the tables, once per process. Not the history lines and the outside calls: only
    ever added, in batches (repository._AppendOnlyRepository), and read into plain records; a mapped class's
    object costs ≈4× a plain one to build (its state, though its values go straight into its dict: Record), and
    a command builds about 18 of them a case only to turn them into rows."""
    if mapper_registry.mappers:
        return
    stored_text.install()
    # The diagram's XML is read only to parse a version once, not with every case command.
    mapper_registry.map_imperatively(model.Deployment, deployments)
    mapper_registry.map_imperatively(model.ProcessVersion, process_versions,
                                     properties={"bpmn_xml": deferred(process_versions.c.bpmn_xml),
                                                 "decisions": deferred(process_versions.c.decisions)})
    mapper_registry.map_imperatively(model.Case, cases, version_id_col=cases.c.row_version)
    mapper_registry.map_imperatively(model.CaseTask, case_tasks)
    mapper_registry.map_imperatively(model.User, users)
    mapper_registry.map_imperatively(model.CaseDeadline, case_deadlines, exclude_properties=["overdue"])
    mapper_registry.map_imperatively(model.CasePause, case_pauses)
    mapper_registry.map_imperatively(model.ExtensionRequest, extension_requests)
    mapper_registry.map_imperatively(model.Escalation, escalations)
    mapper_registry.map_imperatively(model.CaseComment, case_comments)
    mapper_registry.map_imperatively(model.SavedFilter, saved_filters)
    # A file's bytes are read only to download it; listing a case's attachments never loads them.
    mapper_registry.map_imperatively(model.CaseAttachment, case_attachments,
                                     properties={"content": deferred(case_attachments.c.content, raiseload=True)})
    mapper_registry.map_imperatively(model.CaseMaterial, case_materials)
    mapper_registry.map_imperatively(model.CaseDocument, case_documents,  # the PDF only to download it
                                     properties={"content": deferred(case_documents.c.content, raiseload=True)})
    mapper_registry.map_imperatively(model.TaskRequest, task_requests)
    mapper_registry.map_imperatively(model.TaskSubmission, task_submissions)
    mapper_registry.map_imperatively(model.TaskSupervision, task_supervisions)
    mapper_registry.map_imperatively(model.Substitution, substitutions)
    mapper_registry.map_imperatively(model.CaseWaiver, case_waivers)
    mapper_registry.map_imperatively(model.AgencyMessage, agency_messages)
    mapper_registry.map_imperatively(model.RatingFollowUp, rating_followups)
    mapper_registry.map_imperatively(model.PersonalDataRead, personal_data_reads)
    mapper_registry.map_imperatively(ExternalTask, external_tasks)
    mapper_registry.map_imperatively(model.SavedTests, process_tests)
    mapper_registry.map_imperatively(MigrationPlan, case_migration_plans)
    mapper_registry.map_imperatively(MigrationRun, case_migration_runs)
