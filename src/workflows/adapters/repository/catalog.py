"""What changes rarely: the version counters, the catalog documents, the deployed processes, the calendar."""
from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import undefer

from workflows.domain.model import Case, Deployment, ProcessVersion

from .. import orm
from .base import _Repository


class VersionRepository(_Repository):
    """The versions of what every process caches (the catalog, the working calendar), read in one query once per
    transaction: a command asks for them many times, and another process may publish a new one between commands,
    never inside ours (our reads of them are in the same transaction). A change made in this transaction forgets
    the versions read, so a use case that reloads and then reads sees its own change."""

    _KEY = ("versions",)

    def catalog(self) -> datetime | None:
        return self._current()[0]

    def calendar(self) -> tuple:
        return self._current()[1:3]

    def processes(self) -> int | None:
        """The newest deployed version's id: versions are only ever added, so it changes with every deployment."""
        return self._current()[3]

    def forget(self) -> None:
        self._forget(self._KEY)

    def remember(self, values: tuple) -> None:
        """The versions, as read by another query that carried `columns()` (the case's lock: one query less)."""
        self._forget(self._KEY)
        self._remembered(self._KEY, lambda: tuple(values))

    def _current(self) -> tuple:
        return self._remembered(self._KEY, self._read)

    def _read(self) -> tuple:
        with self.session.no_autoflush:  # tables written by statements, never by ORM objects: no flush needed
            return tuple(self.session.execute(_versions()).one())

    @staticmethod
    @cache
    def columns() -> tuple:
        documents, changes = orm.catalog_documents, orm.calendar_changes
        return (select(func.max(documents.c.loaded_at)).scalar_subquery(),
                select(func.count(changes.c.id)).scalar_subquery(), select(func.max(changes.c.id)).scalar_subquery(),
                select(func.max(orm.process_versions.c.id)).scalar_subquery())


@cache
def _versions():
    return select(*VersionRepository.columns())


class CatalogRepository(_Repository):
    def documents(self) -> dict[str, dict]:
        rows = self.session.execute(select(orm.catalog_documents.c.name, orm.catalog_documents.c.content))
        return {name: content for name, content in rows}

    def replace(self, documents: dict[str, dict], at: datetime) -> None:
        VersionRepository(self.session).forget()
        self.session.execute(orm.catalog_documents.delete())
        if documents:
            self.session.execute(orm.catalog_documents.insert(),
                                 [{"name": name, "content": content, "loaded_at": at}
                                  for name, content in documents.items()])


class ProcessRepository(_Repository):
    def add(self, version: ProcessVersion) -> None:
        VersionRepository(self.session).forget()
        self.session.add(version)

    def add_deployment(self, deployment: Deployment) -> None:
        self.session.add(deployment)

    def deployment(self, deployment_id: int) -> Deployment | None:
        return self.session.get(Deployment, deployment_id)

    def get(self, version_id: int) -> ProcessVersion | None:
        return self.session.get(ProcessVersion, version_id)

    def of_cases(self, case_ids) -> dict[int, ProcessVersion]:
        """case id -> the version the case runs, in one query."""
        rows = self.session.execute(select(Case.id, ProcessVersion).join(ProcessVersion, ProcessVersion.id
                                                                          == Case.process_version_id)
                                    .where(Case.id.in_(set(case_ids)))) if case_ids else ()
        return {case_id: version for case_id, version in rows}

    def latest(self, process_key: str) -> ProcessVersion | None:
        """The newest version of the process, whoever it belongs to (versions are numbered across agencies)."""
        return self.session.scalar(select(ProcessVersion).where(ProcessVersion.process_key == process_key)
                                   .order_by(ProcessVersion.version.desc()).limit(1))

    def in_force(self, process_key: str, agency_code: str | None) -> ProcessVersion | None:
        """What a new case of the agency runs: the newest version the agency deployed, or else the newest national
        one (agency_code None: the national one only)."""
        owners = ProcessVersion.agency_code.is_(None)
        if agency_code is not None:
            owners = owners | (ProcessVersion.agency_code == agency_code)
        query = (select(ProcessVersion).where(ProcessVersion.process_key == process_key, owners)
                 .order_by(ProcessVersion.agency_code.is_(None), ProcessVersion.version.desc()).limit(1))
        return self.session.scalar(query)

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

    def with_decisions(self, agency_code: str | None = None) -> list[ProcessVersion]:
        """Every national version and the agency's, with the decision tables it carries (the history of each
        table), oldest first."""
        return self.visible(agency_code, undefer(ProcessVersion.decisions))

    def visible(self, agency_code: str | None, *options) -> list[ProcessVersion]:
        """Every national version and the agency's, oldest first."""
        owners = ProcessVersion.agency_code.is_(None)
        if agency_code is not None:
            owners = owners | (ProcessVersion.agency_code == agency_code)
        return list(self.session.scalars(select(ProcessVersion).where(owners).options(*options)
                                         .order_by(ProcessVersion.id)))

    def latest_of_each(self) -> list[ProcessVersion]:
        newest = (select(ProcessVersion.process_key, func.max(ProcessVersion.version).label("version"))
                  .group_by(ProcessVersion.process_key).subquery())
        query = select(ProcessVersion).join(newest, (ProcessVersion.process_key == newest.c.process_key)
                                            & (ProcessVersion.version == newest.c.version))
        return list(self.session.scalars(query.order_by(ProcessVersion.process_key)))


class CalendarRepository(_Repository):
    def years(self) -> list[dict]:
        return [dict(row) for row in self.session.execute(select(orm.calendar_years)).mappings()]

    def days(self) -> list[dict]:
        return [dict(row) for row in self.session.execute(select(orm.calendar_days)).mappings()]

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
        """Every change of the calendar is recorded: its record is the calendar's version (VersionRepository)."""
        VersionRepository(self.session).forget()
        self.session.execute(orm.calendar_changes.insert().values(at=at, actor=actor, action=action, source=source,
                                                                  detail=detail))

    def changes(self, limit: int = 100, offset: int = 0) -> list[dict]:
        table = orm.calendar_changes
        rows = self.session.execute(select(table).order_by(table.c.id.desc()).limit(limit).offset(offset)).mappings()
        return [dict(row) for row in rows]
