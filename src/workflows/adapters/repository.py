"""Repositories: the queries each use case needs, over one SQLAlchemy session."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, undefer

from workflows.domain.model import (READY, Case, CaseDeadline, CasePause, CaseTask, Escalation, ExtensionRequest,
                                    ExternalCall, HistoryEntry, ProcessVersion, User)

from . import orm


class _Repository:
    def __init__(self, session: Session):
        self.session = session

    def _upsert(self, table):
        dialect = self.session.get_bind().dialect.name
        return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


class CatalogRepository(_Repository):
    def documents(self) -> dict[str, dict]:
        rows = self.session.execute(select(orm.catalog_documents.c.name, orm.catalog_documents.c.content))
        return {name: content for name, content in rows}

    def version(self) -> datetime | None:
        return self.session.scalar(select(func.max(orm.catalog_documents.c.loaded_at)))

    def replace(self, documents: dict[str, dict], at: datetime) -> None:
        self.session.execute(orm.catalog_documents.delete())
        if documents:
            self.session.execute(orm.catalog_documents.insert(),
                                 [{"name": name, "content": content, "loaded_at": at}
                                  for name, content in documents.items()])


class ProcessRepository(_Repository):
    def add(self, version: ProcessVersion) -> None:
        self.session.add(version)

    def get(self, version_id: int) -> ProcessVersion | None:
        return self.session.get(ProcessVersion, version_id)

    def latest(self, process_key: str) -> ProcessVersion | None:
        return self.session.scalar(select(ProcessVersion).where(ProcessVersion.process_key == process_key)
                                   .order_by(ProcessVersion.version.desc()).limit(1))

    def with_xml(self, process_key: str, version: int | None = None) -> ProcessVersion | None:
        """A version (the latest when `version` is None) with its diagram loaded."""
        query = select(ProcessVersion).where(ProcessVersion.process_key == process_key)
        if version is not None:
            query = query.where(ProcessVersion.version == version)
        query = query.options(undefer(ProcessVersion.bpmn_xml)).order_by(ProcessVersion.version.desc()).limit(1)
        return self.session.scalar(query)

    def versions(self, process_key: str) -> list[ProcessVersion]:
        return list(self.session.scalars(select(ProcessVersion).where(ProcessVersion.process_key == process_key)
                                         .order_by(ProcessVersion.version.desc())))

    def latest_of_each(self) -> list[ProcessVersion]:
        newest = (select(ProcessVersion.process_key, func.max(ProcessVersion.version).label("version"))
                  .group_by(ProcessVersion.process_key).subquery())
        query = select(ProcessVersion).join(newest, (ProcessVersion.process_key == newest.c.process_key)
                                            & (ProcessVersion.version == newest.c.version))
        return list(self.session.scalars(query.order_by(ProcessVersion.process_key)))


class CaseRepository(_Repository):
    def add(self, case: Case) -> None:
        self.session.add(case)

    def get(self, number: str) -> Case | None:
        return self.session.scalar(select(Case).where(Case.number == number))

    def get_by_id(self, case_id: int, lock: bool = False) -> Case | None:
        """The case; with `lock`, its row is locked until the transaction ends (PostgreSQL; SQLite's writers
        are serialized already), so a second command on the same case waits instead of failing late."""
        return self.session.get(Case, case_id, with_for_update=lock or None)

    def lock_if_free(self, case_id: int) -> Case | None:
        """The case locked for this transaction, or None at once if another transaction holds it (PostgreSQL)."""
        query = select(Case).where(Case.id == case_id).with_for_update(skip_locked=True)
        return self.session.scalar(query)

    def open_ids(self, limit: int, after_id: int = 0) -> list[int]:
        return list(self.session.scalars(select(Case.id).where(Case.status != "closed", Case.id > after_id)
                                         .order_by(Case.id).limit(limit)))

    def search(self, agency_code: str, hall_code: str | None = None, status: str | None = None,
               item_code: str | None = None, limit: int = 50, offset: int = 0) -> list[Case]:
        query = select(Case).where(Case.agency_code == agency_code)
        for column, value in ((Case.hall_code, hall_code), (Case.status, status), (Case.item_code, item_code)):
            if value:
                query = query.where(column == value)
        return list(self.session.scalars(query.order_by(Case.id.desc()).limit(limit).offset(offset)))

    def next_sequence(self, agency_code: str, day: date) -> int:
        """The next number of the day for an agency, atomically, also across processes."""
        table = orm.case_sequences
        statement = self._upsert(table).values(agency_code=agency_code, day=day, last_value=1)
        statement = statement.on_conflict_do_update(index_elements=[table.c.agency_code, table.c.day],
                                                    set_={"last_value": table.c.last_value + 1})
        return self.session.scalar(statement.returning(table.c.last_value))


class TaskRepository(_Repository):
    def add(self, task: CaseTask) -> None:
        self.session.add(task)

    def get(self, task_id: str) -> CaseTask | None:
        return self.session.get(CaseTask, task_id)

    def open_for_case(self, case_id: int) -> list[CaseTask]:
        with self.session.no_autoflush:  # pending history rows need not be written before this read
            rows = self.session.scalars(select(CaseTask).where(CaseTask.case_id == case_id, CaseTask.state == READY))
            return [row for row in rows if row.state == READY]  # a row completed in this unit is not yet written

    def for_case(self, case_id: int) -> list[CaseTask]:
        return list(self.session.scalars(select(CaseTask).where(CaseTask.case_id == case_id)
                                         .order_by(CaseTask.created_at, CaseTask.id)))

    def inbox(self, agency_code: str, hall_code: str, roles: list[str] | None = None, state: str = READY,
              assignee: str | None = None, item_code: str | None = None, limit: int = 100,
              offset: int = 0, completed_by: str | None = None, stage: str | None = None,
              search: str | None = None) -> list[CaseTask]:
        query = select(CaseTask).where(CaseTask.agency_code == agency_code, CaseTask.hall_code == hall_code,
                                       CaseTask.state == state)
        if stage:
            query = query.where(CaseTask.stage == stage)
        if search:  # a case number or an applicant's name, or part of either
            pattern = f"%{search}%"
            query = query.where(CaseTask.case_number.like(pattern) | CaseTask.applicant_name.like(pattern))
        if roles is not None:
            query = query.where(CaseTask.role.in_(roles))
        if assignee:
            query = query.where(CaseTask.assignee == assignee)
        if item_code:
            query = query.where(CaseTask.item_code == item_code)
        if completed_by:
            query = query.where(CaseTask.completed_by == completed_by)
            order = (CaseTask.completed_at.desc(), CaseTask.id)
        else:
            order = (CaseTask.due_at.asc().nulls_last(), CaseTask.created_at, CaseTask.id)
        return list(self.session.scalars(query.order_by(*order).limit(limit).offset(offset)))

    def set_assignee(self, task_id: str, assignee: str | None, expected: str | None, at: datetime | None) -> bool:
        """Change the assignee only if it is still `expected` and the task still open: two clerks, one wins."""
        condition = CaseTask.assignee.is_(None) if expected is None else CaseTask.assignee == expected
        result = self.session.execute(
            update(CaseTask).where(CaseTask.id == task_id, CaseTask.state == READY, condition)
            .values(assignee=assignee, claimed_at=at).execution_options(synchronize_session="fetch"))
        return result.rowcount == 1


class _AppendOnlyRepository(_Repository):
    """Rows that are only ever added, never changed: kept aside and written in one batch when the unit commits.

    Cheaper than the ORM's per-object bookkeeping, and these rows are not read back in the same transaction.
    """

    table = None

    def __init__(self, session: Session):
        super().__init__(session)
        self._pending: list[dict] = []

    def _append(self, record) -> None:
        self._pending.append({column.name: getattr(record, column.name) for column in self.table.columns
                              if column.name != "id"})

    def write_pending(self) -> None:
        if self._pending:
            self.session.execute(self.table.insert(), self._pending)
            self._pending = []


class HistoryRepository(_AppendOnlyRepository):
    table = orm.case_history

    def add(self, entry: HistoryEntry) -> None:
        self._append(entry)

    def for_case(self, case_id: int) -> list[HistoryEntry]:
        return list(self.session.scalars(select(HistoryEntry).where(HistoryEntry.case_id == case_id)
                                         .order_by(HistoryEntry.id)))


class DeadlineRepository(_Repository):
    def for_case(self, case_id: int) -> list[CaseDeadline]:
        return list(self.session.scalars(select(CaseDeadline).where(CaseDeadline.case_id == case_id)
                                         .order_by(CaseDeadline.id)))

    def add(self, deadline: CaseDeadline) -> None:
        self.session.add(deadline)

    def pauses(self, case_id: int) -> list[CasePause]:
        return list(self.session.scalars(select(CasePause).where(CasePause.case_id == case_id)
                                         .order_by(CasePause.id)))

    def add_pause(self, pause: CasePause) -> None:
        self.session.add(pause)

    def extensions(self, case_id: int) -> list[ExtensionRequest]:
        return list(self.session.scalars(select(ExtensionRequest).where(ExtensionRequest.case_id == case_id)
                                         .order_by(ExtensionRequest.id)))

    def extension(self, request_id: int) -> ExtensionRequest | None:
        return self.session.get(ExtensionRequest, request_id)

    def add_extension(self, request: ExtensionRequest) -> None:
        self.session.add(request)

    def cases_with_unmet(self, provisional_only: bool = False) -> list[int]:
        query = select(CaseDeadline.case_id).where(CaseDeadline.met_at.is_(None)).distinct()
        if provisional_only:
            query = query.where(CaseDeadline.provisional.is_(True))
        return list(self.session.scalars(query))


class TimerRepository(_Repository):
    """The BPMN timers cases wait on, indexed by due moment."""

    def replace(self, case_id: int, timers: list[tuple[str, datetime]]) -> None:
        table = orm.case_timers
        self.session.execute(table.delete().where(table.c.case_id == case_id))
        if timers:
            self.session.execute(table.insert(), [{"case_id": case_id, "task_id": task_id, "due_at": due}
                                                  for task_id, due in timers])

    def due_cases(self, now: datetime, limit: int) -> list[int]:
        table = orm.case_timers
        query = (select(table.c.case_id, func.min(table.c.due_at).label("first")).where(table.c.due_at <= now)
                 .group_by(table.c.case_id).order_by("first").limit(limit))
        return [case_id for case_id, _ in self.session.execute(query)]

    def has_due(self, case_id: int, now: datetime) -> bool:
        table = orm.case_timers
        return self.session.scalar(select(func.count()).where(table.c.case_id == case_id,
                                                              table.c.due_at <= now)) > 0

    def next_due(self) -> datetime | None:
        return self.session.scalar(select(func.min(orm.case_timers.c.due_at)))


class EscalationRepository(_Repository):
    def find(self, case_id: int, limit_kind: str, level: str) -> Escalation | None:
        return self.session.scalar(select(Escalation).where(Escalation.case_id == case_id,
                                                            Escalation.limit_kind == limit_kind,
                                                            Escalation.level == level))

    def get(self, escalation_id: int) -> Escalation | None:
        return self.session.get(Escalation, escalation_id)

    def add(self, escalation: Escalation) -> None:
        self.session.add(escalation)

    def for_case(self, case_id: int) -> list[Escalation]:
        return list(self.session.scalars(select(Escalation).where(Escalation.case_id == case_id)
                                         .order_by(Escalation.id)))

    def desk(self, agency_code: str, hall_code: str, status: str | None = "open", limit: int = 200,
             offset: int = 0) -> list[Escalation]:
        query = select(Escalation).where(Escalation.agency_code == agency_code, Escalation.hall_code == hall_code)
        if status:
            query = query.where(Escalation.status == status)
        red_first = case((Escalation.level == "red", 0), else_=1)
        order = (red_first, Escalation.raised_at, Escalation.id)  # red before yellow, oldest first
        return list(self.session.scalars(query.order_by(*order).limit(limit).offset(offset)))


class NotificationRepository(_AppendOnlyRepository):
    table = orm.notifications

    def add(self, username: str, kind: str, message: str, at: datetime, case=None) -> None:
        self._pending.append({"username": username, "kind": kind, "message": message, "created_at": at,
                              "case_id": case.id if case else None, "case_number": case.number if case else None,
                              "read_at": None})

    def for_user(self, username: str, unread_only: bool = False, limit: int = 100) -> list[dict]:
        table = self.table
        query = select(table).where(table.c.username == username)
        if unread_only:
            query = query.where(table.c.read_at.is_(None))
        rows = self.session.execute(query.order_by(table.c.id.desc()).limit(limit)).mappings()
        return [dict(row) for row in rows]


class CalendarRepository(_Repository):
    def years(self) -> list[dict]:
        return [dict(row) for row in self.session.execute(select(orm.calendar_years)).mappings()]

    def days(self) -> list[dict]:
        return [dict(row) for row in self.session.execute(select(orm.calendar_days)).mappings()]

    def version(self) -> tuple:
        """Changes whenever a year or a day is published: the cached calendar is rebuilt then."""
        return self.session.execute(select(func.count(orm.calendar_changes.c.id),
                                           func.max(orm.calendar_changes.c.id))).one()

    def save_year(self, year: int, holidays: list[str], workdays: list[str], source: str, actor: str,
                  at: datetime) -> None:
        table = orm.calendar_years
        values = {"holidays": holidays, "workdays": workdays, "source": source, "changed_by": actor,
                  "changed_at": at}
        self.session.execute(self._upsert(table).values(year=year, **values)
                             .on_conflict_do_update(index_elements=[table.c.year], set_=values))

    def save_day(self, day, working: bool, name: str, source: str, actor: str, at: datetime) -> None:
        table = orm.calendar_days
        values = {"working": working, "name": name, "source": source, "changed_by": actor, "changed_at": at}
        self.session.execute(self._upsert(table).values(day=day, **values)
                             .on_conflict_do_update(index_elements=[table.c.day], set_=values))

    def record_change(self, actor: str, action: str, source: str, detail: dict, at: datetime) -> None:
        self.session.execute(orm.calendar_changes.insert().values(at=at, actor=actor, action=action, source=source,
                                                                  detail=detail))

    def changes(self, limit: int = 100) -> list[dict]:
        table = orm.calendar_changes
        rows = self.session.execute(select(table).order_by(table.c.id.desc()).limit(limit)).mappings()
        return [dict(row) for row in rows]


class UserRepository(_Repository):
    def get(self, username: str) -> User | None:
        return self.session.get(User, username)

    def add(self, user: User) -> None:
        self.session.add(user)

    def all(self) -> list[User]:
        return list(self.session.scalars(select(User).order_by(User.agency_code, User.hall_code, User.username)))

    def in_hall(self, agency_code: str, hall_code: str) -> list[User]:
        return list(self.session.scalars(select(User).where(User.agency_code == agency_code,
                                                            User.hall_code == hall_code).order_by(User.username)))


class ExternalSystemRepository(_AppendOnlyRepository):
    """What the local stand-ins for outside systems were asked, and the people the local platform knows."""

    table = orm.external_calls

    def record(self, call: ExternalCall) -> None:
        self._append(call)

    def for_case(self, case_id: int) -> list[ExternalCall]:
        return list(self.session.scalars(select(ExternalCall).where(ExternalCall.case_id == case_id)
                                         .order_by(ExternalCall.id)))

    def person(self, id_number: str) -> dict | None:
        table = orm.local_platform_people
        row = self.session.execute(select(table).where(table.c.id_number == id_number)).mappings().first()
        return dict(row) if row else None

    def save_person(self, person: dict) -> None:
        table = orm.local_platform_people
        statement = self._upsert(table).values(**person)
        self.session.execute(statement.on_conflict_do_update(
            index_elements=[table.c.id_number], set_={k: v for k, v in person.items() if k != "id_number"}))
