"""Repositories: the queries each use case needs, over one SQLAlchemy session."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, undefer

from workflows.domain.model import READY, Case, CaseTask, ExternalCall, HistoryEntry, ProcessVersion, User

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

    def get_by_id(self, case_id: int) -> Case | None:
        return self.session.get(Case, case_id)

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
              offset: int = 0, completed_by: str | None = None) -> list[CaseTask]:
        query = select(CaseTask).where(CaseTask.agency_code == agency_code, CaseTask.hall_code == hall_code,
                                       CaseTask.state == state)
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


class UserRepository(_Repository):
    def get(self, username: str) -> User | None:
        return self.session.get(User, username)

    def add(self, user: User) -> None:
        self.session.add(user)

    def all(self) -> list[User]:
        return list(self.session.scalars(select(User).order_by(User.agency_code, User.hall_code, User.username)))


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
