"""The case and what every command on it writes: its row, its inbox tasks, its history, its outside calls."""
from __future__ import annotations

from datetime import date, datetime
from functools import cache

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from workflows.domain.case import CaseAggregate
from workflows.domain.model import (READY, Case, CaseDeadline, CaseMaterial, CasePause, CaseTask,
                                    ExternalCall, HistoryEntry, TaskActivity, TASK_STATE_LABELS)

from .. import orm, write_lock
from .base import _AppendOnlyRepository, _Repository, rows_of_case, written_in
from .case_files import DocumentRepository, issued_documents
from .catalog import VersionRepository
from .task_requests import TaskRequestRepository, activity_checks


class CaseRepository(_Repository):
    def add(self, case: Case) -> None:
        self.session.add(case)
        self._remembered(("added", case.id), lambda: case)  # get_by_id finds it before its row is written

    def get(self, number: str, agency_code: str | None = None, lock: bool = False) -> Case | None:
        """The case of that number (of that agency only, with `agency_code`); `lock` as for get_by_id, in the same
        read."""
        query = select(Case).where(Case.number == number)
        if agency_code is not None:
            query = query.where(Case.agency_code == agency_code)
        if not lock:
            return self.session.scalar(query)
        return self._watched(self.session.scalar(query.with_for_update().execution_options(populate_existing=True)))

    def get_by_id(self, case_id: int, lock: bool = False) -> Case | None:
        """The case; with `lock`, its row is locked until the transaction ends (PostgreSQL), so a second command
        on the same case waits instead of failing late; on SQLite its row version is checked when the command
        takes the write lock (write_lock.py), and the command runs again if the case changed meanwhile."""
        added = None if lock else self._peek(("added", case_id))
        case = added or self.session.get(Case, case_id, with_for_update=lock or None)
        return self._watched(case) if lock else case

    def of_task(self, task_id: str, lock: bool = False) -> Case | None:
        """The case of a task, found by the task's id in the same query (`lock` as for get_by_id): a command on a
        task locks its case before it reads the task, so what it reads is what it acts on."""
        row = self.session.execute(_case_of_task(lock), {"task_id": task_id}).first()
        if row is None:
            return None
        VersionRepository(self.session).remember(row[1:])  # what the command reads next, in the same query
        return row[0]

    def get_for_update(self, task_id: str, lock: bool = True) -> CaseAggregate | None:
        """The case of a task as a command on the task needs it (domain/case.py): the case, its open tasks with
        the task, who else has a part in the task, its limits (once it was accepted: none before), and which of its
        pauses, material marks and documents exist at all; the requests, 督办 and pauses only where there are any.
        On PostgreSQL the case row is locked first (of_task), then the rest read in a second query, so that what
        it reads is what it acts on; on SQLite one query reads it all in the command's snapshot, the case's row
        version watched (write_lock.py). What it loads the repositories remember for the rest of the transaction
        (the clock, the inbox rows, the documents read none of it again). Without `lock`, the same for a read
        (a preview: nothing locked or watched)."""
        with self.session.no_autoflush:
            if self._postgresql():
                case = self.of_task(task_id, lock=lock)
                rows = list(self.session.execute(_task_for_completion(), {"task_id": task_id, "case_id": case.id})
                            ) if case else []
            else:
                rows = list(self.session.execute(_case_for_update(), {"task_id": task_id}))
                case = self._loaded_with_versions(rows, lock)
        if not rows:
            return None
        activity = TaskActivity(*map(bool, rows[0][2:5]))
        aggregate = self._aggregate(case, rows, rows[0][5:])
        aggregate.task = next((row[0] for row in rows if row[0].id == task_id), None)
        aggregate.parts = TaskRequestRepository(self.session).parts(task_id, activity)
        return aggregate

    def get_for_update_by_number(self, number: str, agency_code: str | None = None) -> CaseAggregate | None:
        """The case of that number (of that agency only, with `agency_code`) as a command on the case itself needs
        it (a 中止, a 撤件, a message, a 一次性告知书: the web and the API name the case by its number): the case, its
        open tasks, its limits and pauses, read as get_for_update reads them and remembered alike, in one load
        for update: on PostgreSQL the case row locked by its number, then the rest; on SQLite one query, the row
        version watched."""
        with self.session.no_autoflush:
            parameters = {"number": number, "agency_code": agency_code}
            if self._postgresql():
                row = self.session.execute(_case_of_number(agency_code is not None), parameters).first()
                case = row[0] if row else None
                if case is not None:
                    VersionRepository(self.session).remember(row[1:])
                    self._watched(case)
                rows = list(self.session.execute(_parts_of_case(), {"case_id": case.id})) if case else []
            else:
                rows = list(self.session.execute(_number_for_update(agency_code is not None), parameters))
                case = self._loaded_with_versions(rows, lock=True)
        return self._aggregate(case, rows, rows[0][2:]) if rows else None

    def _postgresql(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def _loaded_with_versions(self, rows: list, lock: bool) -> Case | None:
        """The case SQLite's one query read last in each row, with the versions after it (remembered)."""
        case = rows[0][-1 - _VERSIONS] if rows else None
        if case is not None:
            VersionRepository(self.session).remember(rows[0][-_VERSIONS:])
            if lock:
                self._watched(case)
        return case

    def _aggregate(self, case: Case, rows: list, kept_columns: tuple) -> CaseAggregate:
        """The case with what was read beside it: `rows` begin with an open task and a limit (either may be None),
        `kept_columns` are the _KEPT checks and the issued documents; all of it remembered for the transaction."""
        tasks = [task for task in dict.fromkeys(row[0] for row in rows) if task is not None]
        accepted = case.accepted_at is not None
        limits = sorted({row[1] for row in rows if row[1] is not None}, key=lambda d: d.id) if accepted else []
        kept, issued = kept_columns[:len(_KEPT)], kept_columns[len(_KEPT)]
        open_tasks = self._remembered(("open_tasks", case.id), lambda: [t for t in tasks if t.state == READY])
        deadlines = self._remembered(("deadlines", case.id), lambda: limits)
        for (key, empty, _), present in zip(_KEPT, kept):
            if not present:
                self._remembered((key, case.id), empty)
        DocumentRepository(self.session).read_issued(case.id, issued)
        pauses = self._remembered(("pauses", case.id), lambda: self._rows(CasePause, case.id))
        return CaseAggregate(case, open_tasks, deadlines=deadlines, pauses=pauses)

    def _rows(self, record, case_id: int) -> list:
        with self.session.no_autoflush:
            return list(self.session.scalars(rows_of_case(record), {"case_id": case_id}))

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

    def next_sequence_and_id(self, agency_code: str, day: date) -> tuple[int, int]:
        """The next number of the day for an agency, atomically, also across processes, and in the same statement
        the id of the case to be numbered with it: a case added with its id is written once, as its command leaves
        it, instead of inserted for its id and updated after. On PostgreSQL the id comes from the table's sequence;
        on SQLite it is the highest id in use or handed out before (kept with the day's number: the case's row may
        be written only at its command's commit, in another transaction than this one), plus one."""
        statement = _sequence(self.session.get_bind().dialect.name)
        return tuple(self.session.execute(statement, {"agency_code": agency_code, "day": day}).one())


@cache
def _sequence(dialect: str):
    """next_sequence_and_id's statement (parameters agency_code, day), built once for each database."""
    table = orm.case_sequences
    if dialect == "postgresql":
        insert, case_id, kept = pg_insert, func.nextval(func.pg_get_serial_sequence("cases", "id")), {}
    else:
        handed_out = aliased(table)
        case_id = select(func.max(func.coalesce(select(func.max(orm.cases.c.id)).scalar_subquery(), 0),
                                  func.coalesce(select(func.max(handed_out.c.last_case_id)).scalar_subquery(), 0))
                         + 1).scalar_subquery()
        insert, kept = sqlite_insert, {"last_case_id": case_id}  # taken until the case's row is written
    statement = insert(table).values(agency_code=bindparam("agency_code"), day=bindparam("day"), last_value=1, **kept)
    statement = statement.on_conflict_do_update(index_elements=[table.c.agency_code, table.c.day],
                                                set_={"last_value": table.c.last_value + 1, **kept})
    return statement.returning(table.c.last_value, table.c.last_case_id if kept else case_id)


# what a case keeps, by the key its repository remembers it under (_remembered) and the empty value of that key
_KEPT = (("pauses", list, CasePause), ("materials", dict, CaseMaterial))


# The statements every command on a task sends, built once (building a statement costs more than running it here).

@cache
def _case_of_task(lock: bool):
    query = select(Case, *VersionRepository.columns()).where(
        Case.id == select(CaseTask.case_id).where(CaseTask.id == bindparam("task_id")).scalar_subquery())
    return query.with_for_update(of=Case) if lock else query


def _case_parts(case_id, task_id) -> tuple:
    """What get_for_update reads beside the case, for the case `case_id` and its task `task_id` (SQL expressions):
    each of its open tasks and the task beside each of its limits (a case has a few of each), then the checks of
    TaskActivity and of _KEPT, and the kinds and numbers of its documents (DocumentRepository.issued)."""
    kept = (select(record.case_id).where(record.case_id == case_id).exists() for *_, record in _KEPT)
    query = select(CaseTask, CaseDeadline, *activity_checks(task_id), *kept, issued_documents(case_id))
    return query.outerjoin(CaseDeadline, CaseDeadline.case_id == CaseTask.case_id).where(
        CaseTask.case_id == case_id, or_(CaseTask.state == written_in(READY), CaseTask.id == task_id))


@cache
def _task_for_completion():
    return _case_parts(bindparam("case_id"), bindparam("task_id"))


_VERSIONS = len(VersionRepository.columns())


@cache
def _case_of_number(of_agency: bool):
    """The case of a number locked (parameters number, agency_code), with the versions of VersionRepository;
    populate_existing: a case this transaction read before is taken as it is now that it is ours."""
    query = select(Case, *VersionRepository.columns()).where(Case.number == bindparam("number"))
    if of_agency:
        query = query.where(Case.agency_code == bindparam("agency_code"))
    return query.with_for_update(of=Case).execution_options(populate_existing=True)


def _case_level_parts(case_id) -> tuple:
    """What get_for_update_by_number reads beside the case, for the case `case_id`: each of its open tasks and its
    limits (a row with neither when it has none), then the checks of _KEPT and its documents, as _case_parts."""
    kept = (select(record.case_id).where(record.case_id == case_id).exists() for *_, record in _KEPT)
    return select(CaseTask, CaseDeadline, *kept, issued_documents(case_id)).select_from(Case).outerjoin(
        CaseTask, (CaseTask.case_id == Case.id) & (CaseTask.state == written_in(READY))).outerjoin(
        CaseDeadline, CaseDeadline.case_id == Case.id)


@cache
def _parts_of_case():
    return _case_level_parts(bindparam("case_id")).where(Case.id == bindparam("case_id"))


@cache
def _number_for_update(of_agency: bool):
    """_case_level_parts with the case and the versions, the case found by its number: one query (SQLite)."""
    query = _case_level_parts(Case.id).add_columns(Case, *VersionRepository.columns())
    query = query.where(Case.number == bindparam("number"))
    return query.where(Case.agency_code == bindparam("agency_code")) if of_agency else query


@cache
def _case_for_update():
    """_case_parts with the case and the versions of VersionRepository: all of it in one query (SQLite)."""
    task_id, owner = bindparam("task_id"), aliased(CaseTask)
    case_id = select(owner.case_id).where(owner.id == task_id).scalar_subquery()
    return _case_parts(case_id, task_id).add_columns(Case, *VersionRepository.columns()).join(
        Case, Case.id == CaseTask.case_id)


def _escaped(text: str) -> str:
    """`text` for a LIKE pattern with escape "\\": its own % and _ (clerk_210400_01) match only themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class TaskRepository(_Repository):
    """Inbox rows. A case's open rows are read once per transaction (_remembered: the command's own additions and
    completions are followed in memory: every row is added through `add`, and a row never opens again)."""

    def add(self, task: CaseTask) -> None:
        self.session.add(task)
        self._remember_added(("open_tasks", task.case_id), task)

    def get(self, task_id: str) -> CaseTask | None:
        return self.session.get(CaseTask, task_id)

    def none_yet(self, case_id: int) -> None:
        """The case was just added: it has no rows to read (its workflow starts in this unit of work)."""
        self._remembered(("open_tasks", case_id), list)

    def open_for_case(self, case_id: int) -> list[CaseTask]:
        def read():
            with self.session.no_autoflush:  # pending history rows need not be written before this read
                rows = self.session.scalars(select(CaseTask).where(CaseTask.case_id == case_id,
                                                                   CaseTask.state == written_in(READY)))
                added = [row for row in self.session.new if isinstance(row, CaseTask) and row.case_id == case_id]
                return list(dict.fromkeys([*rows, *added]))
        return [row for row in self._remembered(("open_tasks", case_id), read) if row.state == READY]

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
              offered_to: str | None = None, spec_id: str | None = None,
              case_number: str | None = None) -> list[CaseTask]:
        """Tasks of a hall by time left, the most urgent (camunda:priority) first; `offered_to`: only those the
        person may take (a task naming its candidate users is for them alone). Every filter is SQL, before the
        page is cut: a filter applied to a page read first misses the matches past it."""
        query = _hall_tasks(agency_code, hall_code, state, roles, offered_to)
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
        for column, value in ((CaseTask.assignee, assignee), (CaseTask.item_code, item_code),
                              (CaseTask.spec_id, spec_id), (CaseTask.case_number, case_number)):
            if value:
                query = query.where(column == value)
        if completed_by:
            query = query.where(CaseTask.completed_by == completed_by)
            order = (CaseTask.completed_at.desc(), CaseTask.id)
        else:
            order = _inbox_order()
        return list(self.session.scalars(query.order_by(*order).limit(limit).offset(offset)))

    def next_in_inbox(self, agency_code: str, hall_code: str, roles: list[str], offered_to: str,
                      task_id: str) -> CaseTask | None:
        """The open task after `task_id` in the inbox's order (of these roles, offered to the person), else the first
        other one: at most three one-row reads (the task, the one after it, the first), none of the whole list."""
        query = _hall_tasks(agency_code, hall_code, READY, roles, offered_to)
        current = self.session.scalar(query.where(CaseTask.id == task_id))
        if current is not None:
            after = self.session.scalar(query.where(_after(current)).order_by(*_inbox_order()).limit(1))
            if after is not None:
                return after
        return self.session.scalar(query.where(CaseTask.id != task_id).order_by(*_inbox_order()).limit(1))

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
            update(CaseTask).where(CaseTask.id == task_id, CaseTask.state == written_in(READY), condition)
            .values(assignee=assignee, claimed_at=at).execution_options(synchronize_session="fetch"))
        return result.rowcount == 1


def _inbox_order() -> tuple:
    """The inbox's order: the most urgent (camunda:priority) first, then by time left, the oldest first."""
    return CaseTask.priority.desc(), CaseTask.due_at.asc().nulls_last(), CaseTask.created_at, CaseTask.id


def _hall_tasks(agency_code: str, hall_code: str, state: str, roles: list[str] | None, offered_to: str | None):
    # a tab's state is written in (written_in) as the commands' are; a value that is no state, from a request, is
    # bound instead: it matches no task, and one statement per stray value would only fill the statement caches
    query = select(CaseTask).where(CaseTask.agency_code == agency_code, CaseTask.hall_code == hall_code,
                                   CaseTask.state == (written_in(state) if state in TASK_STATE_LABELS else state))
    if roles is not None:
        query = query.where(CaseTask.role.in_(roles))
    if offered_to:
        query = query.where(CaseTask.candidate_users.is_(None)
                            | CaseTask.candidate_users.like(f"%,{_escaped(offered_to)},%", escape="\\")
                            | (CaseTask.assignee == offered_to))
    return query


def _after(task: CaseTask):
    """The tasks after `task` in _inbox_order() (a task without a due date comes after those with one)."""
    later = (CaseTask.created_at > task.created_at) | ((CaseTask.created_at == task.created_at)
                                                       & (CaseTask.id > task.id))
    if task.due_at is None:
        same_priority = CaseTask.due_at.is_(None) & later
    else:
        same_priority = ((CaseTask.due_at > task.due_at) | CaseTask.due_at.is_(None)
                         | ((CaseTask.due_at == task.due_at) & later))
    return (CaseTask.priority < task.priority) | ((CaseTask.priority == task.priority) & same_priority)


class HistoryRepository(_AppendOnlyRepository):
    table = orm.case_history

    def add(self, entry: HistoryEntry) -> None:
        self._append(entry)

    def for_case(self, case_id: int) -> list[HistoryEntry]:
        return self._of_case(HistoryEntry, case_id)


class ExternalSystemRepository(_AppendOnlyRepository):
    """What the local stand-ins for outside systems were asked, and the people the local platform knows."""

    table = orm.external_calls

    def record(self, call: ExternalCall) -> None:
        self._append(call)

    def for_case(self, case_id: int) -> list[ExternalCall]:
        return self._of_case(ExternalCall, case_id)

    def person(self, id_number: str) -> dict | None:
        """A person the local platform knows, read once per transaction (a case's handlers ask more than once)."""
        def read():
            with self.session.no_autoflush:  # a row no ORM object maps: nothing pending changes what it reads
                row = self.session.execute(_person(), {"id_number": id_number}).mappings().first()
            return dict(row) if row else None
        found = self._remembered(("person", id_number), read)
        return dict(found) if found else None

    def save_person(self, person: dict) -> None:
        self._forget(("person", person["id_number"]))
        table = orm.local_platform_people
        statement = self._upsert(table).values(**person)
        self.session.execute(statement.on_conflict_do_update(
            index_elements=[table.c.id_number], set_={k: v for k, v in person.items() if k != "id_number"}))


@cache
def _person():
    """The local platform's person of an ID number (parameter id_number): every 受理 asks it, built once."""
    table = orm.local_platform_people
    return select(table).where(table.c.id_number == bindparam("id_number"))
