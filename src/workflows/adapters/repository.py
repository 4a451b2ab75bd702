"""Repositories: the queries each use case needs, over one SQLAlchemy session."""
from __future__ import annotations

from datetime import date, datetime
from functools import cache

from sqlalchemy import case, false, func, or_, select, union, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, undefer

from workflows.domain.model import (PENDING, READY, SUPERVISION_STAGE, AgencyMessage, Case,
                                    CaseAttachment, CaseComment, CaseDeadline, CaseDocument, CaseMaterial, CasePause,
                                    CaseTask, CaseWaiver, Deployment, Escalation, ExtensionRequest, ExternalCall,
                                    HistoryEntry, ProcessVersion, RatingFollowUp, SavedFilter, Substitution,
                                    TaskActivity, TaskRequest, TaskSubmission, TaskSupervision, User)
from workflows.domain.throttling import Attempts

from . import orm, write_lock


_MEMO = "remembered"  # session.info key: (the transaction, {key: what was read in it})


class _Repository:
    def __init__(self, session: Session):
        self.session = session

    def _remembered(self, key: tuple, load):
        """What `load` reads, read once per transaction. For a case's rows that change only through this
        repository's `add` (which adds to what is remembered) and through the ORM objects themselves (the very
        objects remembered): a command asks for them many times; another transaction cannot change them while the
        command holds its case's lock."""
        held = self.session.info.get(_MEMO)
        transaction = self.session.get_transaction()
        if held is not None and transaction is not None and held[0] is transaction and key in held[1]:
            return held[1][key]
        value = load()
        transaction = self.session.get_transaction()
        if held is None or held[0] is not transaction:
            held = (transaction, {})
            self.session.info[_MEMO] = held
        held[1][key] = value
        return value

    def _remember_added(self, key: tuple, record) -> None:
        """A row this transaction adds joins the rows remembered under `key`, if they were read."""
        held = self.session.info.get(_MEMO)
        if held is not None and held[0] is self.session.get_transaction() and key in held[1]:
            remembered = held[1][key]
            if isinstance(remembered, dict):
                remembered[record.material_index] = record
            else:
                remembered.append(record)

    def _forget(self, key: tuple) -> None:
        held = self.session.info.get(_MEMO)
        if held is not None:
            held[1].pop(key, None)

    def _upsert(self, table):
        dialect = self.session.get_bind().dialect.name
        return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


class VersionRepository(_Repository):
    """The versions of what every process caches (the catalog, the working calendar), read in one query once per
    transaction: a command asks for them many times, and another process may publish a new one between commands,
    never inside ours (our reads of them are in the same transaction). A change made in this transaction forgets
    the versions read, so a use case that reloads and then reads sees its own change."""

    _KEY = ("versions",)

    def catalog(self) -> datetime | None:
        return self._current()[0]

    def calendar(self) -> tuple:
        return self._current()[1:]

    def forget(self) -> None:
        self._forget(self._KEY)

    def _current(self) -> tuple:
        return self._remembered(self._KEY, self._read)

    def _read(self) -> tuple:
        documents, changes = orm.catalog_documents, orm.calendar_changes
        with self.session.no_autoflush:  # tables written by statements, never by ORM objects: no flush needed
            return tuple(self.session.execute(select(select(func.max(documents.c.loaded_at)).scalar_subquery(),
                                                     select(func.count(changes.c.id)).scalar_subquery(),
                                                     select(func.max(changes.c.id)).scalar_subquery())).one())


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
        self.session.add(version)

    def add_deployment(self, deployment: Deployment) -> None:
        self.session.add(deployment)

    def deployment(self, deployment_id: int) -> Deployment | None:
        return self.session.get(Deployment, deployment_id)

    def get(self, version_id: int) -> ProcessVersion | None:
        return self.session.get(ProcessVersion, version_id)

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


class CaseRepository(_Repository):
    def add(self, case: Case) -> None:
        self.session.add(case)

    def get(self, number: str) -> Case | None:
        return self.session.scalar(select(Case).where(Case.number == number))

    def get_by_id(self, case_id: int, lock: bool = False) -> Case | None:
        """The case; with `lock`, its row is locked until the transaction ends (PostgreSQL), so a second command
        on the same case waits instead of failing late; on SQLite its row version is checked when the command
        takes the write lock (write_lock.py), and the command runs again if the case changed meanwhile."""
        case = self.session.get(Case, case_id, with_for_update=lock or None)
        return self._watched(case) if lock else case

    def of_task(self, task_id: str, lock: bool = False) -> Case | None:
        """The case of a task, found by the task's id in the same query (`lock` as for get_by_id): a command on a
        task locks its case before it reads the task, so what it reads is what it acts on."""
        query = select(Case).where(Case.id == select(CaseTask.case_id).where(CaseTask.id == task_id)
                                   .scalar_subquery())
        return self.session.scalar(query.with_for_update() if lock else query)

    def lock_if_free(self, case_id: int) -> Case | None:
        """The case locked for this transaction, or None at once if another transaction holds it (PostgreSQL)."""
        query = select(Case).where(Case.id == case_id).with_for_update(skip_locked=True)
        return self._watched(self.session.scalar(query))

    def _watched(self, case: Case | None) -> Case | None:
        if case is not None:
            write_lock.watch(self.session, "cases", case.id, case.row_version)
        return case

    def open_ids(self, limit: int, after_id: int = 0) -> list[int]:
        return list(self.session.scalars(select(Case.id).where(Case.status != "closed", Case.id > after_id)
                                         .order_by(Case.id).limit(limit)))

    def search(self, agency_code: str, hall_code: str | None = None, status: str | None = None,
               item_code: str | None = None, limit: int = 50, offset: int = 0,
               task_role: str | None = None) -> list[Case]:
        """Cases newest first; `task_role`: only those with a task of that role (a hospital's assessor's cases)."""
        query = select(Case).where(Case.agency_code == agency_code)
        for column, value in ((Case.hall_code, hall_code), (Case.status, status), (Case.item_code, item_code)):
            if value:
                query = query.where(column == value)
        if task_role:
            query = query.where(select(CaseTask.id).where(CaseTask.case_id == Case.id,
                                                          CaseTask.role == task_role).exists())
        return list(self.session.scalars(query.order_by(Case.id.desc()).limit(limit).offset(offset)))

    def next_sequence(self, agency_code: str, day: date) -> int:
        """The next number of the day for an agency, atomically, also across processes."""
        table = orm.case_sequences
        statement = self._upsert(table).values(agency_code=agency_code, day=day, last_value=1)
        statement = statement.on_conflict_do_update(index_elements=[table.c.agency_code, table.c.day],
                                                    set_={"last_value": table.c.last_value + 1})
        return self.session.scalar(statement.returning(table.c.last_value))


def _escaped(text: str) -> str:
    """`text` for a LIKE pattern with escape "\\": its own % and _ (clerk_210400_01) match only themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class TaskRepository(_Repository):
    """Inbox rows. A case's open rows are read once per unit of work (the command's own additions and
    completions are followed in memory: every row is added through `add`, and a row never opens again)."""

    def __init__(self, session: Session):
        super().__init__(session)
        self._open: dict[int, list[CaseTask]] = {}

    def add(self, task: CaseTask) -> None:
        self.session.add(task)
        if task.case_id in self._open:
            self._open[task.case_id].append(task)

    def get(self, task_id: str) -> CaseTask | None:
        return self.session.get(CaseTask, task_id)

    def none_yet(self, case_id: int) -> None:
        """The case was just added: it has no rows to read (its workflow starts in this unit of work)."""
        self._open.setdefault(case_id, [])

    def in_case(self, task_id: str, case_id: int) -> CaseTask | None:
        """The task, read with the other open tasks of its case (which open_for_case then returns unread)."""
        with self.session.no_autoflush:
            rows = list(self.session.scalars(select(CaseTask).where(
                CaseTask.case_id == case_id, or_(CaseTask.state == READY, CaseTask.id == task_id))))
        self._open.setdefault(case_id, [row for row in rows if row.state == READY])
        return next((row for row in rows if row.id == task_id), None)

    def open_for_case(self, case_id: int) -> list[CaseTask]:
        if case_id not in self._open:
            with self.session.no_autoflush:  # pending history rows need not be written before this read
                rows = self.session.scalars(select(CaseTask).where(CaseTask.case_id == case_id,
                                                                   CaseTask.state == READY))
                added = [row for row in self.session.new if isinstance(row, CaseTask) and row.case_id == case_id]
                self._open[case_id] = list(dict.fromkeys([*rows, *added]))
        return [row for row in self._open[case_id] if row.state == READY]  # a row completed in this unit

    def has_role(self, case_id: int, role: str) -> bool:
        """Whether the case has (or had) a task of the role: a hospital's assessor reads only such cases."""
        return self.session.scalar(select(select(CaseTask.id).where(CaseTask.case_id == case_id,
                                                                    CaseTask.role == role).exists()))

    def for_case(self, case_id: int) -> list[CaseTask]:
        return list(self.session.scalars(select(CaseTask).where(CaseTask.case_id == case_id)
                                         .order_by(CaseTask.created_at, CaseTask.id)))

    def inbox(self, agency_code: str, hall_code: str, roles: list[str] | None = None, state: str = READY,
              assignee: str | None = None, item_code: str | None = None, limit: int = 100,
              offset: int = 0, completed_by: str | None = None, stage: str | None = None,
              search: str | None = None, level: str | None = None, now: datetime | None = None,
              offered_to: str | None = None) -> list[CaseTask]:
        """Tasks of a hall by time left, the most urgent (camunda:priority) first; `offered_to`: only those the
        person may take (a task naming its candidate users is for them alone)."""
        query = select(CaseTask).where(CaseTask.agency_code == agency_code, CaseTask.hall_code == hall_code,
                                       CaseTask.state == state)
        if level and now:  # 红牌: past due; 黄牌: warned, not yet due; 暂停: the case's clock stopped; 正常: the rest
            paused = select(CasePause.id).where(CasePause.case_id == CaseTask.case_id,
                                                CasePause.ended_at.is_(None)).exists()
            levels = {"red": CaseTask.due_at < now,
                      "yellow": (CaseTask.warning_at <= now) & (CaseTask.due_at >= now),
                      "normal": (CaseTask.due_at.is_(None) | (CaseTask.warning_at > now)) & ~paused,
                      "paused": paused}
            query = query.where(levels[level])
        if stage:
            query = query.where(CaseTask.stage == stage)
        if search:  # a case number or an applicant's name, or part of either
            pattern = f"%{search}%"
            query = query.where(CaseTask.case_number.like(pattern) | CaseTask.applicant_name.like(pattern))
        if roles is not None:
            query = query.where(CaseTask.role.in_(roles))
        if offered_to:
            query = query.where(CaseTask.candidate_users.is_(None)
                                | CaseTask.candidate_users.like(f"%,{_escaped(offered_to)},%", escape="\\")
                                | (CaseTask.assignee == offered_to))
        if assignee:
            query = query.where(CaseTask.assignee == assignee)
        if item_code:
            query = query.where(CaseTask.item_code == item_code)
        if completed_by:
            query = query.where(CaseTask.completed_by == completed_by)
            order = (CaseTask.completed_at.desc(), CaseTask.id)
        else:
            order = (CaseTask.priority.desc(), CaseTask.due_at.asc().nulls_last(), CaseTask.created_at, CaseTask.id)
        return list(self.session.scalars(query.order_by(*order).limit(limit).offset(offset)))

    def stages(self, agency_code: str, hall_code: str, state: str) -> list[str]:
        """The stages the hall's tasks in `state` stand at: the inbox's 环节 filter offers these. Read stage after
        stage from ix_case_tasks_stages (each the least one above the last: a probe per stage), not from every
        task of the hall: 已办 alone holds hundreds of thousands at a million cases."""
        t = orm.case_tasks
        hall = (t.c.agency_code == agency_code) & (t.c.hall_code == hall_code) & (t.c.state == state)
        found = select(func.min(t.c.stage).label("stage")).where(hall).cte("found", recursive=True)
        found = found.union_all(select(select(func.min(t.c.stage)).where(hall, t.c.stage > found.c.stage)
                                       .scalar_subquery()).where(found.c.stage.is_not(None)))
        return sorted(stage for stage in self.session.scalars(select(found.c.stage)) if stage)

    def set_assignee(self, task_id: str, assignee: str | None, expected: str | None, at: datetime | None) -> bool:
        """Change the assignee only if it is still `expected` and the task still open: two clerks, one wins."""
        condition = CaseTask.assignee.is_(None) if expected is None else CaseTask.assignee == expected
        result = self.session.execute(
            update(CaseTask).where(CaseTask.id == task_id, CaseTask.state == READY, condition)
            .values(assignee=assignee, claimed_at=at).execution_options(synchronize_session="fetch"))
        return result.rowcount == 1


class SavedFilterRepository(_Repository):
    def add(self, saved: SavedFilter) -> None:
        self.session.add(saved)

    def get(self, filter_id: int) -> SavedFilter | None:
        return self.session.get(SavedFilter, filter_id)

    def find(self, owner: str, name: str) -> SavedFilter | None:
        return self.session.scalar(select(SavedFilter).where(SavedFilter.owner == owner, SavedFilter.name == name))

    def visible(self, agency_code: str, hall_code: str, owner: str) -> list[SavedFilter]:
        """The owner's filters, and those shared in the hall by others."""
        shared = ((SavedFilter.agency_code == agency_code) & (SavedFilter.hall_code == hall_code)
                  & SavedFilter.shared.is_(True))
        query = select(SavedFilter).where((SavedFilter.owner == owner) | shared)
        return list(self.session.scalars(query.order_by(SavedFilter.name, SavedFilter.id)))

    def delete(self, saved: SavedFilter) -> None:
        self.session.delete(saved)


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
    """A case's limits, pauses and extension requests, each read once per transaction (_remembered)."""

    def for_case(self, case_id: int) -> list[CaseDeadline]:
        return list(self._remembered(("deadlines", case_id), lambda: self._read(CaseDeadline, case_id)))

    def add(self, deadline: CaseDeadline) -> None:
        self.session.add(deadline)
        self._remember_added(("deadlines", deadline.case_id), deadline)

    def none_yet(self, case_id: int) -> list[CaseDeadline]:
        """A case not accepted yet has no limits and no extension requests (its clock starts at acceptance):
        nothing to read; what this transaction starts is remembered as it is added."""
        self._remembered(("deadlines", case_id), list)
        self._remembered(("extensions", case_id), list)
        return []

    def remembered(self, case_id: int) -> list[CaseDeadline] | None:
        """The case's limits if this transaction read them already (all of them, as they are now), else None."""
        held = self.session.info.get(_MEMO)
        if held is None or held[0] is not self.session.get_transaction():
            return None
        rows = held[1].get(("deadlines", case_id))
        return None if rows is None else list(rows)

    def pauses(self, case_id: int) -> list[CasePause]:
        return list(self._remembered(("pauses", case_id), lambda: self._read(CasePause, case_id)))

    def add_pause(self, pause: CasePause) -> None:
        self.session.add(pause)
        self._remember_added(("pauses", pause.case_id), pause)

    def extensions(self, case_id: int) -> list[ExtensionRequest]:
        return list(self._remembered(("extensions", case_id), lambda: self._read(ExtensionRequest, case_id)))

    def _read(self, record, case_id: int) -> list:
        with self.session.no_autoflush:  # what this transaction adds is remembered, not read back
            return list(self.session.scalars(select(record).where(record.case_id == case_id).order_by(record.id)))

    def extension(self, request_id: int) -> ExtensionRequest | None:
        return self.session.get(ExtensionRequest, request_id)

    def add_extension(self, request: ExtensionRequest) -> None:
        self.session.add(request)
        self._remember_added(("extensions", request.case_id), request)

    def cases_with_unmet(self, provisional_only: bool = False, after: int = 0, limit: int | None = None) -> list[int]:
        """The cases with a running limit, by id (those after `after`, at most `limit`: one batch)."""
        query = select(CaseDeadline.case_id).where(CaseDeadline.met_at.is_(None)).distinct()
        if provisional_only:
            query = query.where(CaseDeadline.provisional.is_(True))
        if after or limit is not None:
            query = query.where(CaseDeadline.case_id > after).order_by(CaseDeadline.case_id).limit(limit)
        return list(self.session.scalars(query))


class TimerRepository(_Repository):
    """The BPMN timers cases wait on, indexed by due moment."""

    def replace(self, case_id: int, timers: list[tuple[str, datetime]]) -> None:
        """Make the case's rows these timers, writing only what changed: the rows of timers no longer waited on
        are deleted, new ones inserted, moved ones updated; a timer that stays as it was is not rewritten (nor its
        index entry). Two statements at most, none reading."""
        table = orm.case_timers
        stale = table.delete().where(table.c.case_id == case_id)
        if timers:
            stale = stale.where(table.c.task_id.not_in([task_id for task_id, _ in timers]))
        self.session.execute(stale)
        if timers:
            self.session.execute(_timer_upsert(self.session.get_bind().dialect.name),
                                 [{"case_id": case_id, "task_id": task_id, "due_at": due} for task_id, due in timers])

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


class MessageWaitRepository(_Repository):
    """The messages open cases wait for, with their correlation values, indexed by agency and message name."""

    def replace(self, case: Case, waits: list[tuple[str, dict]]) -> None:
        table = orm.case_message_waits
        self.session.execute(table.delete().where(table.c.case_id == case.id))
        if waits:
            self.session.execute(table.insert(), [
                {"case_id": case.id, "position": position, "agency_code": case.agency_code, "message_name": name,
                 "correlation": correlation} for position, (name, correlation) in enumerate(waits)])

    def waiting(self, agency_code: str, name: str) -> list[tuple[int, dict]]:
        """(case id, correlation values) of each wait of the agency's open cases for message `name`."""
        table = orm.case_message_waits
        query = (select(table.c.case_id, table.c.correlation)
                 .where(table.c.agency_code == agency_code, table.c.message_name == name).order_by(table.c.case_id))
        return [(case_id, correlation) for case_id, correlation in self.session.execute(query)]


@cache
def _timer_upsert(dialect: str):
    """Insert a timer row, or move its due moment if it moved (else leave the row as it is); built once."""
    table = orm.case_timers
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    return statement.on_conflict_do_update(index_elements=[table.c.case_id, table.c.task_id],
                                           set_={"due_at": statement.excluded.due_at},
                                           where=table.c.due_at != statement.excluded.due_at)


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
             offset: int = 0, sort: str = "level") -> list[Escalation]:
        """A page of the hall's escalations: by level (red before yellow, the oldest first) or by the escalated
        limit's due moment (the soonest first, a paused limit last). 'red' < 'yellow' as text, so the level order
        is a plain ORDER BY level that the open escalations' partial index (ix_escalations_open) serves."""
        query = select(Escalation).where(Escalation.agency_code == agency_code, Escalation.hall_code == hall_code)
        if status:
            query = query.where(Escalation.status == status)
        if sort == "due":
            d = orm.case_deadlines
            query = query.outerjoin(d, (d.c.case_id == Escalation.case_id) & (d.c.kind == Escalation.limit_kind))
            order = (d.c.due_at.is_(None), d.c.due_at, Escalation.id)
        else:
            order = (Escalation.level, Escalation.raised_at, Escalation.id)
        return list(self.session.scalars(query.order_by(*order).limit(limit).offset(offset)))

    def count_open(self, agency_code: str, hall_code: str) -> int:
        """How many escalations of the hall wait for a supervisor (an index-only count of the open ones)."""
        return self.session.scalar(select(func.count()).select_from(Escalation).where(
            Escalation.agency_code == agency_code, Escalation.hall_code == hall_code, Escalation.status == "open"))


class NotificationRepository(_AppendOnlyRepository):
    table = orm.notifications

    def add(self, username: str, kind: str, message: str, at: datetime, case=None) -> None:
        self._pending.append({"username": username, "kind": kind, "message": message, "created_at": at,
                              "case_id": case.id if case else None, "case_number": case.number if case else None,
                              "read_at": None})

    def write_pending(self) -> None:
        self._pending.extend(self._for_substitutes(self._pending))
        super().write_pending()

    def _for_substitutes(self, rows: list[dict]) -> list[dict]:
        """外出/休假代理: a notification for someone away goes to their substitute too, marked as such; one step
        (not on to the substitute's own substitute), and not when the substitute is told the same already."""
        if not rows:
            return []
        s, u = orm.substitutions, orm.users
        query = (select(s.c.username, s.c.substitute, s.c.starts_at, s.c.ends_at, u.c.full_name)
                 .join(u, u.c.username == s.c.username)
                 .where(s.c.username.in_({row["username"] for row in rows}),
                        s.c.ends_at > min(row["created_at"] for row in rows)))
        periods = self.session.execute(query).all()
        told = {(row["username"], row["kind"], row["case_id"]) for row in rows}
        copies = []
        for row in rows:
            for username, substitute, starts_at, ends_at, name in periods:
                if (username == row["username"] and starts_at <= row["created_at"] < ends_at
                        and (substitute, row["kind"], row["case_id"]) not in told):
                    told.add((substitute, row["kind"], row["case_id"]))
                    copies.append({**row, "username": substitute, "message": f"【代{name}】{row['message']}"})
        return copies

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

    def changes(self, limit: int = 100) -> list[dict]:
        table = orm.calendar_changes
        rows = self.session.execute(select(table).order_by(table.c.id.desc()).limit(limit)).mappings()
        return [dict(row) for row in rows]


class RatingRepository(_Repository):
    """好差评: at most one rating per case (the table's unique case_id holds it against two at once)."""

    def for_case(self, case_id: int) -> dict | None:
        table = orm.ratings
        row = self.session.execute(select(table).where(table.c.case_id == case_id)).mappings().first()
        return dict(row) if row else None

    def add(self, case_id: int, score: int, label: str, comment: str | None, at: datetime) -> None:
        self.session.execute(orm.ratings.insert().values(case_id=case_id, score=score, label=label,
                                                         comment=comment, rated_at=at))


class CommentRepository(_Repository):
    def add(self, comment: CaseComment) -> None:
        self.session.add(comment)

    def for_case(self, case_id: int) -> list[CaseComment]:
        return list(self.session.scalars(select(CaseComment).where(CaseComment.case_id == case_id)
                                         .order_by(CaseComment.id)))


class AttachmentRepository(_Repository):
    """Attachments of cases; their content (deferred in the mapping) is loaded only by `with_content`."""

    def add(self, attachment: CaseAttachment) -> None:
        self.session.add(attachment)

    def for_case(self, case_id: int) -> list[CaseAttachment]:
        return list(self.session.scalars(select(CaseAttachment).where(CaseAttachment.case_id == case_id)
                                         .order_by(CaseAttachment.id)))

    def get(self, attachment_id: int) -> CaseAttachment | None:
        return self.session.get(CaseAttachment, attachment_id)

    def with_content(self, attachment_id: int) -> CaseAttachment | None:
        return self.session.scalar(select(CaseAttachment).where(CaseAttachment.id == attachment_id)
                                   .options(undefer(CaseAttachment.content)))


class DocumentRepository(_Repository):
    """文书 of cases; their PDF (deferred in the mapping) is loaded only by `with_content`."""

    def add(self, document: CaseDocument) -> None:
        self.session.add(document)
        self._remember_added(("documents", document.case_id), document)

    def for_case(self, case_id: int) -> list[CaseDocument]:
        """The case's documents, read once per transaction (_remembered)."""
        def read() -> list[CaseDocument]:
            with self.session.no_autoflush:
                return list(self.session.scalars(select(CaseDocument).where(CaseDocument.case_id == case_id)
                                                 .order_by(CaseDocument.id)))
        return list(self._remembered(("documents", case_id), read))

    def with_content(self, document_id: int) -> CaseDocument | None:
        return self.session.scalar(select(CaseDocument).where(CaseDocument.id == document_id)
                                   .options(undefer(CaseDocument.content)))

    def get(self, document_id: int) -> CaseDocument | None:
        return self.session.get(CaseDocument, document_id)

    def layouts(self, document_ids: list[int]) -> dict[int, dict]:
        """The laid-out text of the documents not yet rendered, by id."""
        d = orm.case_documents
        rows = self.session.execute(select(d.c.id, d.c.layout).where(d.c.id.in_(document_ids), d.c.content.is_(None),
                                                                     d.c.layout.is_not(None)))
        return {row.id: row.layout for row in rows}

    def store_content(self, document_id: int, content: bytes) -> bool:
        """Keep a document's PDF once: False when it had one already (rendered meanwhile elsewhere)."""
        d = orm.case_documents
        return bool(self.session.execute(update(d).where(d.c.id == document_id, d.c.content.is_(None))
                                         .values(content=content)).rowcount)

    def undecided_cases(self, stage: str, opened_before: datetime, notice_kind: str, limit: int) -> list[int]:
        """Open cases still at `stage` and not accepted, received before `opened_before`, that were given no
        document of `notice_kind`: those the 行政许可法 §32 sweep looks at."""
        c, d = orm.cases, orm.case_documents
        noticed = select(d.c.id).where(d.c.case_id == c.c.id, d.c.kind == notice_kind).exists()
        query = (select(c.c.id).where(c.c.status == "open", c.c.stage == stage, c.c.accepted_at.is_(None),
                                      c.c.opened_at <= opened_before, ~noticed)
                 .order_by(c.c.opened_at, c.c.id).limit(limit))
        return list(self.session.scalars(query))


class MaterialRepository(_Repository):
    """The marks (present, missing, waived) staff gave a case's 申请材料, by the material's catalog position."""

    def for_case(self, case_id: int) -> dict[int, CaseMaterial]:
        """The marks by material index, read once per transaction (_remembered)."""
        return dict(sorted(self._remembered(("materials", case_id), lambda: self._read(case_id)).items()))

    def _read(self, case_id: int) -> dict[int, CaseMaterial]:
        with self.session.no_autoflush:
            rows = self.session.scalars(select(CaseMaterial).where(CaseMaterial.case_id == case_id))
            return {row.material_index: row for row in rows}

    def add(self, material: CaseMaterial) -> None:
        self.session.add(material)
        self._remember_added(("materials", material.case_id), material)


class WaiverRepository(_Repository):
    """容缺受理 records of a case (a case sent back to 受理 may be accepted with 容缺 again: the latest counts)."""

    def latest(self, case_id: int) -> CaseWaiver | None:
        return self.session.scalars(select(CaseWaiver).where(CaseWaiver.case_id == case_id)
                                    .order_by(CaseWaiver.id.desc()).limit(1)).first()

    def add(self, waiver: CaseWaiver) -> None:
        self.session.add(waiver)


class TaskRequestRepository(_Repository):
    """委派 and 加签 requests on tasks, and the holders' submissions held for after- and parallel signers."""

    def add(self, request: TaskRequest) -> None:
        self.session.add(request)

    def get(self, request_id: int) -> TaskRequest | None:
        return self.session.get(TaskRequest, request_id)

    def for_task(self, task_id: str) -> list[TaskRequest]:
        return list(self.session.scalars(select(TaskRequest).where(TaskRequest.task_id == task_id)
                                         .order_by(TaskRequest.id)))

    def pending_for(self, username: str) -> list[tuple[TaskRequest, CaseTask]]:
        """The requests waiting for `username` on tasks still open, oldest first."""
        query = (select(TaskRequest, CaseTask).join(CaseTask, CaseTask.id == TaskRequest.task_id)
                 .where(TaskRequest.assignee == username, TaskRequest.status == PENDING, CaseTask.state == READY)
                 .order_by(TaskRequest.requested_at, TaskRequest.id))
        return [tuple(row) for row in self.session.execute(query)]

    def submission(self, task_id: str) -> TaskSubmission | None:
        return self.session.get(TaskSubmission, task_id)

    def activity(self, task_id: str) -> TaskActivity:
        """Whether the task has requests, a held submission, an unreplied 督办: one query for all three."""
        unreplied = select(TaskSupervision.id).where(TaskSupervision.task_id == task_id,
                                                     TaskSupervision.replied_at.is_(None))
        row = self.session.execute(select(select(TaskRequest.id).where(TaskRequest.task_id == task_id).exists(),
                                          select(TaskSubmission.task_id).where(TaskSubmission.task_id == task_id)
                                          .exists(), unreplied.exists())).one()
        return TaskActivity(*map(bool, row))

    def add_submission(self, submission: TaskSubmission) -> None:
        self.session.add(submission)

    def drop_submission(self, submission: TaskSubmission) -> None:
        self.session.delete(submission)


class SupervisionRepository(_Repository):
    """督办 instructions on tasks and their replies."""

    def add(self, supervision: TaskSupervision) -> None:
        self.session.add(supervision)

    def get(self, supervision_id: int) -> TaskSupervision | None:
        return self.session.get(TaskSupervision, supervision_id)

    def for_task(self, task_id: str) -> list[TaskSupervision]:
        return list(self.session.scalars(select(TaskSupervision).where(TaskSupervision.task_id == task_id)
                                         .order_by(TaskSupervision.id)))

    def for_hall(self, agency_code: str, hall_code: str, limit: int = 100) -> list[tuple[TaskSupervision, CaseTask]]:
        """The hall's 督办, those still waiting for a reply first, then the newest."""
        unreplied_first = case((TaskSupervision.replied_at.is_(None), 0), else_=1)
        query = (select(TaskSupervision, CaseTask).join(CaseTask, CaseTask.id == TaskSupervision.task_id)
                 .where(TaskSupervision.agency_code == agency_code, TaskSupervision.hall_code == hall_code)
                 .order_by(unreplied_first, TaskSupervision.created_at.desc(), TaskSupervision.id.desc())
                 .limit(limit))
        return [tuple(row) for row in self.session.execute(query)]

    def awaiting_reply(self, agency_code: str, hall_code: str, username: str,
                       roles: list[str]) -> list[tuple[TaskSupervision, CaseTask]]:
        """Unreplied 督办 on open tasks `username` handles: held by them, or unclaimed and of one of their roles."""
        handles = (CaseTask.assignee == username) | (CaseTask.assignee.is_(None) & CaseTask.role.in_(roles))
        query = (select(TaskSupervision, CaseTask).join(CaseTask, CaseTask.id == TaskSupervision.task_id)
                 .where(TaskSupervision.agency_code == agency_code, TaskSupervision.hall_code == hall_code,
                        TaskSupervision.replied_at.is_(None), CaseTask.state == READY, handles)
                 .order_by(TaskSupervision.created_at, TaskSupervision.id))
        return [tuple(row) for row in self.session.execute(query)]


class SubstitutionRepository(_Repository):
    """外出/休假代理 periods."""

    def add(self, substitution: Substitution) -> None:
        self.session.add(substitution)

    def get(self, substitution_id: int) -> Substitution | None:
        return self.session.get(Substitution, substitution_id)

    def of_user(self, username: str) -> list[Substitution]:
        """The periods a user named, the latest first."""
        return list(self.session.scalars(select(Substitution).where(Substitution.username == username)
                                         .order_by(Substitution.starts_at.desc(), Substitution.id.desc())))

    def covered_by(self, substitute: str, after: datetime) -> list[Substitution]:
        """The periods, not over at `after`, in which `substitute` stands in for someone."""
        return list(self.session.scalars(select(Substitution).where(Substitution.substitute == substitute,
                                                                    Substitution.ends_at > after)
                                         .order_by(Substitution.starts_at, Substitution.id)))

    def active(self, username: str, at: datetime) -> Substitution | None:
        return self.session.scalar(select(Substitution).where(Substitution.username == username,
                                                              Substitution.starts_at <= at,
                                                              Substitution.ends_at > at).limit(1))

    def overlapping(self, username: str, starts_at: datetime, ends_at: datetime) -> Substitution | None:
        """A period of the user's sharing a moment with [starts_at, ends_at) (one dropped before it began is empty)."""
        return self.session.scalar(select(Substitution).where(Substitution.username == username,
                                                              Substitution.starts_at < Substitution.ends_at,
                                                              Substitution.starts_at < ends_at,
                                                              Substitution.ends_at > starts_at).limit(1))


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
        """A person the local platform knows, read once per transaction (a case's handlers ask more than once)."""
        table = orm.local_platform_people

        def read():
            with self.session.no_autoflush:  # a row no ORM object maps: nothing pending changes what it reads
                row = self.session.execute(select(table).where(table.c.id_number == id_number)).mappings().first()
            return dict(row) if row else None
        found = self._remembered(("person", id_number), read)
        return dict(found) if found else None

    def save_person(self, person: dict) -> None:
        self._forget(("person", person["id_number"]))
        table = orm.local_platform_people
        statement = self._upsert(table).values(**person)
        self.session.execute(statement.on_conflict_do_update(
            index_elements=[table.c.id_number], set_={k: v for k, v in person.items() if k != "id_number"}))


class StatisticsRepository(_Repository):
    """Figures for the supervisors' desk and statistics, counted by the database: no case is loaded whole.

    Written with operators (`&`, `|`, `~`) and CASE sums only, so the same SQL runs on SQLite and PostgreSQL.
    """


    @staticmethod
    def _running(agency_code: str):
        """The agency's running limits that can be late: not met, not paused, with a due moment. As the partial
        indexes ix_case_deadlines_running_* are written (migration 0030), so the database uses them; each limit
        carries its case's place, and a running limit is an open case's (closing a case meets its limits)."""
        d = orm.case_deadlines
        return (d.c.agency_code == agency_code, d.c.met_at.is_(None), d.c.paused == false(),
                d.c.due_at.is_not(None))

    def overdue_open_cases(self, agency_code: str, now: datetime) -> list[tuple[str, str, str, int]]:
        """(hall, item code, item name, how many) of the agency's open cases with a running, unpaused limit past
        its due moment at `now`: late whatever happens next. Counted in the agency's running limits past due
        (ix_case_deadlines_running_agency, index-only), a case once however many of its limits are late; the
        item's name from the hall's counts (every case opened is in them): no case is read."""
        d, k = orm.case_deadlines, orm.case_counts
        late = (select(d.c.hall_code, d.c.item_code).where(*self._running(agency_code), d.c.due_at < now)
                .group_by(d.c.hall_code, d.c.item_code, d.c.case_id).subquery())  # a case once (hashed, not sorted)
        name = (select(func.max(k.c.item_name)).where(k.c.agency_code == agency_code, k.c.hall_code == late.c.hall_code,
                                                      k.c.item_code == late.c.item_code).scalar_subquery())
        query = select(late.c.hall_code, late.c.item_code, name, func.count()).group_by(late.c.hall_code,
                                                                                        late.c.item_code)
        return [tuple(row) for row in self.session.execute(query)]

    def closed_counts(self, agency_code: str) -> list[tuple[str, str, str | None, int, int]]:
        """(hall, item code, item name, cases counted, on time) of the agency's closed cases per hall and item, from
        their running totals (closed_case_counts, a row per hall and item): one read of a few hundred rows serves
        every rate of the statistics page."""
        k = orm.closed_case_counts
        query = (select(k.c.hall_code, k.c.item_code, func.max(k.c.item_name), func.sum(k.c.counted),
                        func.sum(k.c.on_time))
                 .where(k.c.agency_code == agency_code).group_by(k.c.hall_code, k.c.item_code))
        return [(hall, item, name, int(total or 0), int(punctual or 0))
                for hall, item, name, total, punctual in self.session.execute(query)]

    def closed_on_time(self, agency_code: str, hall_code: str | None = None, by: str | None = None,
                       overdue: list[tuple[str, str, str, int]] = (),
                       closed: list[tuple[str, str, str | None, int, int]] | None = None
                       ) -> list[tuple[str, str, int, int]]:
        """(key, name, cases counted, on time) of the agency's (or one hall's) cases, one row per item
        (`by="item"`), per hall (`by="hall"`), or a single total row (`by=None`). Counted: the closed cases, and
        the open ones already past a due moment (`overdue`, from overdue_open_cases), which are late whatever
        happens next. A case withdrawn or terminated (撤件, 终止) was never decided: it counts neither way.

        The closed cases are read from their running counts (`closed`, from closed_counts, read here if not
        given): however many have closed, none is scanned."""
        figures: dict[str, list] = {}
        rows = list(self.closed_counts(agency_code) if closed is None else closed)
        rows += [(hall, item, name, late, 0) for hall, item, name, late in overdue]  # late, whatever comes
        for hall, item_code, name, total, punctual in rows:
            if hall_code in (None, hall):
                known = figures.setdefault({"item": item_code, "hall": hall, None: ""}[by], [None, 0, 0])
                known[0] = max(filter(None, (known[0], name)), default=None)
                known[1], known[2] = known[1] + total, known[2] + punctual
        if by is None:
            _, total, punctual = figures.get("", [None, 0, 0])
            return [("", "", total, punctual)]
        return [(row_key, row_key if by == "hall" else name, total, punctual)
                for row_key, (name, total, punctual) in sorted(figures.items()) if total]

    def tasks_on_time(self, agency_code: str, hall_code: str) -> list[tuple[str, str, int, int]]:
        """(username, full name, tasks completed, completed on time) per person for a hall's completed tasks, from
        their running counts (statistics_counts.py says which count and which are on time)."""
        k, u = orm.task_counts, orm.users
        query = (select(k.c.username, u.c.full_name, k.c.completed, k.c.on_time)
                 .select_from(k.outerjoin(u, u.c.username == k.c.username))
                 .where(k.c.agency_code == agency_code, k.c.hall_code == hall_code, k.c.completed > 0)
                 .order_by(k.c.username))
        return [(username, name or username, total, punctual)
                for username, name, total, punctual in self.session.execute(query)]

    def backlog(self, agency_code: str, hall_code: str) -> list[tuple[str, int, int]]:
        """(stage, open cases in the hall, open cases in the agency) per stage where cases wait, from the open
        cases' running counts (statistics_counts.py): a few rows per hall, however many cases are open."""
        k = orm.open_case_counts
        in_hall = func.coalesce(func.sum(case((k.c.hall_code == hall_code, k.c.open), else_=0)), 0).label("in_hall")
        total = func.sum(k.c.open).label("total")
        query = (select(k.c.stage, in_hall, total).where(k.c.agency_code == agency_code)
                 .group_by(k.c.stage).having(func.sum(k.c.open) > 0)
                 .order_by(in_hall.desc(), total.desc(), k.c.stage))
        return [(stage, int(hall), int(agency)) for stage, hall, agency in self.session.execute(query)]

    def opened_and_closed(self, agency_code: str, hall_code: str,
                          weeks: list[date]) -> list[tuple[int, int, int, int]]:
        """Per week (its Monday, Beijing time): (opened in the hall, closed in the hall, opened in the agency,
        closed in the agency), from the running counts."""
        if not weeks:
            return []
        k = orm.case_counts
        in_hall = k.c.hall_code == hall_code
        query = (select(k.c.week, func.sum(case((in_hall, k.c.opened), else_=0)),
                        func.sum(case((in_hall, k.c.closed), else_=0)), func.sum(k.c.opened), func.sum(k.c.closed))
                 .where(k.c.agency_code == agency_code, k.c.week.in_(weeks)).group_by(k.c.week))
        found = {week: tuple(int(n or 0) for n in figures) for week, *figures in self.session.execute(query)}
        return [found.get(week, (0, 0, 0, 0)) for week in weeks]

    def limits_at_risk(self, agency_code: str, hall_code: str | None, now: datetime, overdue_only: bool = False,
                       limit: int = 200, offset: int = 0) -> list[tuple[CaseDeadline, str, str, str]]:
        """(limit, case number, item name, stage) of the running, unpaused limits of open cases that are past
        their warning moment (yellow) or their due moment (red; only those with `overdue_only`), soonest due
        first. The overdue ones are the first of the same list (past due is sooner than not yet due), so both ask
        the database the one query it answers by walking the hall's running limits in due order
        (ix_case_deadlines_running_hall), stopping at `limit`: only the page's cases are read, by key."""
        c, d = orm.cases, orm.case_deadlines
        risky = (CaseDeadline.warning_at <= now) | (CaseDeadline.due_at < now)
        query = (select(CaseDeadline, c.c.number, c.c.item_name, c.c.stage)
                 .join(c, c.c.id == CaseDeadline.case_id).where(*self._running(agency_code), risky))
        if hall_code:
            query = query.where(d.c.hall_code == hall_code)
        query = query.order_by(CaseDeadline.due_at, CaseDeadline.id).limit(limit).offset(offset)
        rows = [tuple(row) for row in self.session.execute(query)]
        return [row for row in rows if row[0].due_at < now] if overdue_only else rows

    def cases_awaiting_supervisor(self, agency_code: str, hall_code: str, limit: int = 200) -> list[int]:
        """Open cases of a hall with an extension request to decide or a suspension (中止) to end: read from the
        requests and open pauses (partial indexes, a few rows) to their cases, not from every open case."""
        c, e, p = orm.cases, orm.extension_requests, orm.case_pauses
        waiting = union(select(e.c.case_id).where(e.c.status == "requested"),
                        select(p.c.case_id).where(p.c.ended_at.is_(None), p.c.kind == "suspension"))
        query = (select(c.c.id).where(c.c.id.in_(waiting), c.c.agency_code == agency_code,
                                      c.c.hall_code == hall_code, c.c.status != "closed")
                 .order_by(c.c.id).limit(limit))
        return list(self.session.scalars(query))

    def case_summaries(self, case_ids: list[int]) -> dict[int, dict]:
        """id -> number, item name, stage, status, result of cases (without their workflow state or data)."""
        if not case_ids:
            return {}
        c = orm.cases
        query = select(c.c.id, c.c.number, c.c.item_name, c.c.stage, c.c.status, c.c.result).where(
            c.c.id.in_(case_ids))
        return {row["id"]: dict(row) for row in self.session.execute(query).mappings()}

    def running_limits(self, case_ids: list[int]) -> list[CaseDeadline]:
        if not case_ids:
            return []
        return list(self.session.scalars(select(CaseDeadline).where(CaseDeadline.case_id.in_(case_ids),
                                                                    CaseDeadline.met_at.is_(None))
                                         .order_by(CaseDeadline.case_id, CaseDeadline.id)))

    def open_tasks(self, case_ids: list[int]) -> list[Row]:
        """(case_id, name, role, assignee) of the cases' open tasks of their own path (not the supervisor's 督办
        beside it): who holds them, for the desk's rows; plain rows, not a hundred task records to track."""
        if not case_ids:
            return []
        t = orm.case_tasks
        return list(self.session.execute(select(t.c.case_id, t.c.name, t.c.role, t.c.assignee)
                                         .where(t.c.case_id.in_(case_ids), t.c.state == READY,
                                                t.c.stage != SUPERVISION_STAGE)
                                         .order_by(t.c.case_id, t.c.created_at, t.c.id)))

    def pending_extensions(self, case_ids: list[int]) -> list[ExtensionRequest]:
        if not case_ids:
            return []
        return list(self.session.scalars(select(ExtensionRequest).where(ExtensionRequest.case_id.in_(case_ids),
                                                                        ExtensionRequest.status == "requested")
                                         .order_by(ExtensionRequest.id)))

    def open_pauses(self, case_ids: list[int]) -> list[CasePause]:
        if not case_ids:
            return []
        return list(self.session.scalars(select(CasePause).where(CasePause.case_id.in_(case_ids),
                                                                 CasePause.ended_at.is_(None))
                                         .order_by(CasePause.id)))


class AgencyMessageRepository(_Repository):
    """Messages between agencies: the outbox the scheduler drains and what each case sent and received."""

    def add(self, message: AgencyMessage) -> None:
        self.session.add(message)

    def get(self, message_id: str, lock: bool = False) -> AgencyMessage | None:
        """The message; with `lock`, its row is held until the transaction ends, so that two deliveries of one
        message (right after the commit and by the scheduler) run one after the other and the second sees it done."""
        if lock:
            write_lock.watch_unversioned(self.session)
        return self.session.get(AgencyMessage, message_id, with_for_update=lock or None)

    def pending_ids(self, limit: int) -> list[str]:
        return list(self.session.scalars(select(AgencyMessage.id).where(AgencyMessage.status == "pending")
                                         .order_by(AgencyMessage.created_at).limit(limit)))

    def search(self, status: str | None, limit: int, offset: int) -> list[AgencyMessage]:
        query = select(AgencyMessage)
        if status:
            query = query.where(AgencyMessage.status == status)
        return list(self.session.scalars(query.order_by(AgencyMessage.created_at, AgencyMessage.id)
                                         .limit(limit).offset(offset)))

    def for_case(self, case_id: int) -> list[AgencyMessage]:
        query = select(AgencyMessage).where((AgencyMessage.source_case_id == case_id)
                                            | (AgencyMessage.target_case_id == case_id))
        return list(self.session.scalars(query.order_by(AgencyMessage.created_at, AgencyMessage.id)))

    def opener(self, case: Case) -> AgencyMessage | None:
        """The message that started the case: one it received whose exchange another case began."""
        return self.session.scalar(select(AgencyMessage).where(AgencyMessage.target_case_id == case.id,
                                                               AgencyMessage.correlation != case.number)
                                   .order_by(AgencyMessage.created_at).limit(1))

    def partner_case_id(self, correlation: str, agency_code: str) -> int | None:
        """The case of `agency_code` that a message of the exchange `correlation` started."""
        c = orm.cases
        return self.session.scalar(select(AgencyMessage.target_case_id)
                                   .join(c, c.c.id == AgencyMessage.target_case_id)
                                   .where(AgencyMessage.correlation == correlation, c.c.agency_code == agency_code,
                                          c.c.number != correlation).limit(1))

    def case_summaries(self, case_ids: set[int]) -> dict[int, dict]:
        """id -> number, agency, stage, status, result of cases (without their workflow state)."""
        if not case_ids:
            return {}
        c = orm.cases
        query = select(c.c.id, c.c.number, c.c.agency_code, c.c.stage, c.c.status, c.c.result).where(
            c.c.id.in_(case_ids))
        return {row["id"]: dict(row) for row in self.session.execute(query).mappings()}


class FollowUpRepository(_Repository):
    """差评回访, one per case (the table's unique case_id holds it)."""

    def add(self, followup: RatingFollowUp) -> None:
        self.session.add(followup)

    def get(self, followup_id: int, lock: bool = False) -> RatingFollowUp | None:
        if lock:
            write_lock.watch_unversioned(self.session)
        return self.session.get(RatingFollowUp, followup_id, with_for_update=lock or None)

    def for_case(self, case_id: int) -> RatingFollowUp | None:
        return self.session.scalar(select(RatingFollowUp).where(RatingFollowUp.case_id == case_id))

    def for_hall(self, agency_code: str, hall_code: str, status: str | None, limit: int = 200,
                 offset: int = 0) -> list[RatingFollowUp]:
        query = select(RatingFollowUp).where(RatingFollowUp.agency_code == agency_code,
                                             RatingFollowUp.hall_code == hall_code)
        if status:
            query = query.where(RatingFollowUp.status == status)
        order = (RatingFollowUp.due_at, RatingFollowUp.id)  # the soonest due first
        return list(self.session.scalars(query.order_by(*order).limit(limit).offset(offset)))


class AccountRepository(_Repository):
    """Failed guesses per key, the signed-in sessions and tokens, and the account events (migration 0018)."""

    def attempts(self, key: str, lock_at: datetime | None = None) -> Attempts:
        """The key's count; with `lock_at`, its row is made (a window from then) if need be and held until the
        commit, so that concurrent failures all count."""
        table = orm.throttles
        if lock_at:
            self.session.execute(self._upsert(table).values(key=key, failures=0, window_started_at=lock_at)
                                 .on_conflict_do_nothing(index_elements=[table.c.key]))
            write_lock.watch_unversioned(self.session)
        query = select(table).where(table.c.key == key)
        row = self.session.execute(query.with_for_update() if lock_at else query).first()
        return Attempts(key, row.failures, row.window_started_at, row.locked_until) if row else Attempts(key)

    def save_attempts(self, attempts: Attempts) -> None:
        table = orm.throttles
        self.session.execute(update(table).where(table.c.key == attempts.key).values(
            failures=attempts.failures, window_started_at=attempts.window_started_at,
            locked_until=attempts.locked_until))

    def clear(self, key: str) -> bool:
        """Forget the key's failures (and lift its lock); whether there was anything to forget."""
        return self.session.execute(orm.throttles.delete().where(orm.throttles.c.key == key)).rowcount > 0

    def forget_before(self, moment: datetime) -> None:
        """Drop the counts whose window began before `moment` and that lock nothing: guesses leave no rows behind."""
        table = orm.throttles
        self.session.execute(table.delete().where(table.c.window_started_at < moment, or_(
            table.c.locked_until.is_(None), table.c.locked_until < moment)))

    def locked(self, now: datetime) -> list[Attempts]:
        table = orm.throttles
        rows = self.session.execute(select(table).where(table.c.locked_until > now).order_by(table.c.key))
        return [Attempts(row.key, row.failures, row.window_started_at, row.locked_until) for row in rows]

    def open_session(self, token_hash: str, username: str, kind: str, now: datetime, expires_at: datetime,
                     address: str | None) -> None:
        table = orm.user_sessions
        self.session.execute(table.delete().where(table.c.username == username, table.c.expires_at < now))
        self.session.execute(table.insert().values(token_hash=token_hash, username=username, kind=kind,
                                                   created_at=now, expires_at=expires_at, address=address))

    def session_user(self, token_hash: str, now: datetime) -> User | None:
        """The user of a live (unexpired, unrevoked) session or token, in one query."""
        table = orm.user_sessions
        return self.session.scalar(select(User).join(table, table.c.username == User.username).where(
            table.c.token_hash == token_hash, table.c.revoked_at.is_(None), table.c.expires_at > now))

    def revoke(self, token_hash: str, now: datetime) -> None:
        table = orm.user_sessions
        self.session.execute(update(table).where(table.c.token_hash == token_hash, table.c.revoked_at.is_(None))
                             .values(revoked_at=now))

    def revoke_all(self, username: str, now: datetime) -> int:
        table = orm.user_sessions
        return self.session.execute(update(table).where(table.c.username == username, table.c.revoked_at.is_(None),
                                                        table.c.expires_at > now).values(revoked_at=now)).rowcount

    def record(self, event: dict) -> None:
        self.session.execute(orm.account_events.insert().values(**event))

    def events(self, subjects: list[str], prefix: str, limit: int) -> list[dict]:
        """The newest events about `subjects` or any subject starting with `prefix`."""
        table = orm.account_events
        query = (select(table).where(or_(table.c.subject.in_(subjects), table.c.subject.startswith(prefix)))
                 .order_by(table.c.id.desc()).limit(limit))
        return [dict(row) for row in self.session.execute(query).mappings()]
