"""The running counts behind the supervisors' statistics (orm.case_counts, closed_case_counts, task_counts,
open_case_counts).

At a million cases, counting the closed ones on every look at the statistics page means scanning them all. Instead
every command adds what it changed to the counts, in its own transaction: a case opened, a case closed (counted for
the on-time rate unless withdrawn or terminated, on time unless a limit ended after its due moment), a task
completed (on time unless completed after the due moment it carried), a limit met, paused, resumed or moved (no
longer counted overdue, if it was: overdue_counts). The definitions are those of
services/statistics.py; `recount` computes the same figures from the cases and tasks themselves, for the migration
that creates the counts, for data written in bulk, and for the test that the two agree.

Every way in (web, API, CLI, scheduler, messages) commits through the unit of work, which calls `write_pending`: the
changes are found from the session's own record of what it flushed, so no command has to remember to count. They
go to the database in one statement whatever tables they add to (`add_changes`: rows of the view count_changes,
which its trigger adds to their tables, migration 0054): the commit's last writes, under SQLite's write lock.

Overdue changes with the clock as well: `mark_overdue` is the scheduler's round over the running limits that came
due since it last looked; overdue_now adds the few it has not reached yet (migration 0043 says how).
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone
from functools import cache
from operator import itemgetter

from sqlalchemy import bindparam, case, column, event, func, inspect, select, sql, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import PASSIVE_NO_INITIALIZE, get_history

from workflows.domain.model import CLOSED, COMPLETED, ENDED_EARLY, SUPERVISION_STAGE, Case, CaseDeadline, CaseTask

from . import orm
from .repository import DeadlineRepository, driver_rows, send_rows
from .repository.desk_queries import uncounted

BEIJING = timezone(timedelta(hours=8))


def week_of(moment: datetime) -> date:
    """The Monday (Beijing time) of the week a moment falls in: the statistics' weeks begin at its midnight."""
    day = moment.astimezone(BEIJING).date()
    return day - timedelta(days=day.weekday())


def missed_limit():
    """EXISTS a limit of the case (cases row in scope) that ended after its due moment: met late, or still running
    when the case closed after it. A limit with no due moment (stopped by a pause) was not missed."""
    d, c = orm.case_deadlines, orm.cases
    ended = func.coalesce(d.c.met_at, c.c.closed_at)
    return select(d.c.id).where(d.c.case_id == c.c.id, d.c.due_at.is_not(None), ended > d.c.due_at).exists()


def task_late():
    t = orm.case_tasks
    return t.c.due_at.is_not(None) & (t.c.completed_at > t.c.due_at)


_COUNTS = "statistics_counts"  # Session.info key: the StatisticsCounts following the session's flushes


def _collect_flushed(session: Session, _context, _instances) -> None:
    counts = session.info.get(_COUNTS)
    if counts is not None:
        counts._collect_flush(session)


# One listener on every session, rather than one added to each unit's session: a listener of its own gives a session
# event collections of its own, built anew for every unit of work.
event.listen(Session, "before_flush", _collect_flushed)


class StatisticsCounts:
    """Collects, flush by flush, the cases opened or closed and the tasks completed in a unit of work; adds them to
    the counts just before it commits. A limit written gets its case's place on the way (`_place`)."""

    def __init__(self, session: Session):
        self.session = session
        self._opened: list[Case] = []
        self._closed: list[Case] = []
        self._completed: list[CaseTask] = []
        self._limits: set[int] = set()  # limits met, paused, resumed or moved: no longer counted overdue as such
        self._open = Counter()  # (agency, hall, stage) -> open cases added there (removed, if negative)
        self._cases, self._tasks = Counter(), Counter()  # ((key, figure) -> n) of case_counts and task_counts
        self._collected = False  # prepare() has collected what the next flush writes
        self._ready = None  # (the figures, the rows prepare() made of them, those rows ready for the driver)
        self._deadlines = DeadlineRepository(session)
        session.info[_COUNTS] = self  # followed by _collect_flushed, at every flush of the session

    def prepare(self) -> None:
        """Count, before the unit's last flush, what it will write, and make the rows that add it to the counts: on
        SQLite that flush takes the write lock, and all a commit computes after it keeps the other commands waiting.
        The flush then collects nothing again, and write_pending sends the rows made unless it counted more."""
        session = self.session
        self._collect(session)
        self._collected = bool(session.new or session.dirty or session.deleted)  # else no flush follows to skip
        self._count()
        rows = self._change_rows()
        self._ready = (self._figures(), rows, driver_rows(session, _CHANGING, rows))

    def written(self) -> None:
        """The commit has written what prepare() collected (its flush, or the writes it prepared itself and no flush
        followed: prepared_flush.py): a flush after collects what it writes."""
        self._collected = False

    def _collect_flush(self, session: Session) -> None:
        """At a flush (before its first statement): what it writes, unless prepare() collected it already."""
        if self._collected:
            self._collected = False
        else:
            self._collect(session)

    def _collect(self, session: Session) -> None:
        for record in session.new:
            if isinstance(record, Case):
                self._opened.append(record)
                if record.status == CLOSED:
                    self._closed.append(record)
                else:
                    self._open[record.agency_code, record.hall_code, record.stage] += 1
            elif isinstance(record, CaseTask) and record.state == COMPLETED:
                self._completed.append(record)
            elif isinstance(record, CaseDeadline) and record.agency_code is None:
                _place(session, record)
        for record in session.dirty:
            if isinstance(record, CaseDeadline) and _changed(record, "due_at", "met_at", "paused"):
                self._limits.add(record.id)
            if isinstance(record, Case):
                self._moved(record)
            if isinstance(record, Case) and _became(record, "status", CLOSED):
                self._closed.append(record)
            elif isinstance(record, CaseTask) and _became(record, "state", COMPLETED):
                self._completed.append(record)

    def _moved(self, record: Case) -> None:
        """An open case that moved to another stage (or hall) or closed leaves its place in the backlog; one that
        is open after the flush takes its new place."""
        before = tuple(_before(record, name) for name in ("agency_code", "hall_code", "stage", "status"))
        after = (record.agency_code, record.hall_code, record.stage, record.status)
        if before == after:
            return
        if before[3] != CLOSED:
            self._open[before[:3]] -= 1
        if after[3] != CLOSED:
            self._open[after[:3]] += 1

    def write_pending(self) -> None:
        """Add to the counts what the unit changed: figured out before the lock where prepare() ran, only sent now
        (with the closed cases whose limits the command did not read, judged from the database as just written)."""
        self.session.flush()  # what the command changed is collected at a flush: every change, before counting
        self._collected = False
        self._count()
        if self._limits:
            self._uncount(self._limits)
            self._limits = set()
        if self._closed:
            self._count_closed(self._closed, self._missed_in_database(self._closed))
        figures = self._figures()
        made = self._ready if self._ready is not None and self._ready[0] == figures else None
        rows, ready = made[1:] if made is not None else (self._change_rows(), None)
        self._open, self._cases, self._tasks, self._closed, self._ready = Counter(), Counter(), Counter(), [], None
        if rows:  # else no connection asked for: a unit that wrote nothing begins no transaction here
            add_changes(self.session.connection(), rows, ready)

    def _figures(self) -> tuple[dict, dict, dict]:
        return dict(self._open), dict(self._cases), dict(self._tasks)

    def _change_rows(self) -> list[dict]:
        """The rows of count_changes that add the figures counted to the counts."""
        return change_rows(open=[{"agency_code": a, "hall_code": h, "stage": s, "open": n}
                                 for (a, h, s), n in self._open.items() if n],
                           case=_rows(self._cases, orm.case_counts), task=_rows(self._tasks, orm.task_counts))

    def _count(self) -> None:
        """The cases opened and tasks completed collected so far, and the cases closed whose limits the command
        read (the clock does, for an accepted case), added to the figures; the other closed cases stay collected."""
        for record in self._opened:
            self._cases[_case_key(record, record.opened_at), "opened"] += 1
        for record in self._completed:
            if record.completed_by and record.stage != SUPERVISION_STAGE:
                key = (record.agency_code, record.hall_code, record.completed_by)
                self._tasks[key, "completed"] += 1
                self._tasks[key, "on_time"] += not (record.due_at and record.completed_at > record.due_at)
        judged = {record.id: self._deadlines.remembered(record.id) for record in self._closed}
        known = [record for record in self._closed if judged[record.id] is not None]
        self._count_closed(known, {record.id for record in known if _missed(record, judged[record.id])})
        self._opened, self._completed = [], []
        self._closed = [record for record in self._closed if judged[record.id] is None]

    def _count_closed(self, closed: list[Case], missed: set[int]) -> None:
        for record in closed:
            key = _case_key(record, record.closed_at)
            self._cases[key, "closed"] += 1
            if record.result not in ENDED_EARLY:
                self._cases[key, "counted"] += 1
                self._cases[key, "on_time"] += record.id not in missed

    def _uncount(self, limits: set[int]) -> None:
        """The limits changed stop being counted overdue (the round counts them again if they still are); a case
        whose last counted limit this was leaves overdue_counts. The case is locked first: a round counting
        another of its limits meanwhile (it skips locked cases) has committed before we look."""
        d, c = orm.case_deadlines, orm.cases
        cleared = self.session.execute(_uncounting(), {"limits": list(limits)}).all()
        if not cleared:
            return
        cases = _places_by_case(cleared)
        self.session.execute(select(c.c.id).where(c.c.id.in_(cases)).with_for_update()).all()
        still = set(self.session.scalars(select(d.c.case_id).where(d.c.case_id.in_(cases), d.c.overdue == true())))
        _add_overdue(self.session, Counter(place for case_id, place in cases.items() if case_id not in still), -1)

    def mark_overdue(self, now: datetime, batch: int) -> tuple[int, int]:
        """One batch of the scheduler's round: the running limits past due at `now` not counted yet (the soonest
        due first, `batch` of them at most) are marked overdue, and their cases not counted yet join
        overdue_counts. Each limit once: its case is locked, skipped if another transaction holds it (PostgreSQL:
        SKIP LOCKED; the next round takes it), and the mark is a conditional update of what is still uncounted
        and past due. Returns (limits found, limits marked)."""
        d, c = orm.case_deadlines, orm.cases
        due = select(d.c.case_id).where(*uncounted(), d.c.due_at < now).order_by(d.c.due_at).limit(batch).subquery()
        found = self.session.scalar(select(func.count()).select_from(due))
        if not found:
            return 0, 0
        locked = list(self.session.scalars(select(c.c.id).where(c.c.id.in_(select(due.c.case_id)))
                                           .with_for_update(skip_locked=True)))
        if not locked:
            return found, 0
        counted = set(self.session.scalars(select(d.c.case_id).where(d.c.case_id.in_(locked), d.c.overdue == true())))
        marked = self.session.execute(d.update().where(d.c.case_id.in_(locked), *uncounted(), d.c.due_at < now)
                                      .values(overdue=True)
                                      .returning(d.c.case_id, d.c.agency_code, d.c.hall_code, d.c.item_code)).all()
        _add_overdue(self.session, Counter(place for case_id, place in _places_by_case(marked).items()
                                           if case_id not in counted), +1)
        return found, len(marked)

    def _missed_in_database(self, closed: list[Case]) -> set[int]:
        """The closed cases, their rows written, that missed a limit (`missed_limit`), as the database has them."""
        c = orm.cases
        return set(self.session.scalars(select(c.c.id).where(c.c.id.in_([r.id for r in closed]), missed_limit())))


def _missed(record: Case, limits) -> bool:
    """Whether a closed case missed one of its limits (`missed_limit`), judged from the limits the command read."""
    return any(row.due_at is not None and (row.met_at or record.closed_at) > row.due_at for row in limits)


@cache
def _uncounting():
    """The limits of ids `limits` no longer marked overdue, with their places: built once (a command that meets,
    pauses or moves a limit runs it)."""
    d = orm.case_deadlines
    return (d.update().where(d.c.id.in_(bindparam("limits", expanding=True)), d.c.overdue == true())
            .values(overdue=False).returning(d.c.case_id, d.c.agency_code, d.c.hall_code, d.c.item_code))


def _place(session: Session, limit: CaseDeadline) -> None:
    """A new limit carries its case's agency, hall and item (a case never moves): the desk and the statistics read
    one hall's running limits from their own index (migration 0030). The case is the command's, in the session."""
    case_record = session.get(Case, limit.case_id)
    limit.agency_code, limit.hall_code, limit.item_code = (case_record.agency_code, case_record.hall_code,
                                                           case_record.item_code)


def _places_by_case(rows) -> dict[int, tuple[str, str, str]]:
    """(agency, hall, item) by case, of limit rows returned as (case_id, agency_code, hall_code, item_code)."""
    return {row.case_id: tuple(row[1:]) for row in rows}


def _add_overdue(session: Session, places: Counter, sign: int) -> None:
    """Cases joining (sign +1) or leaving (-1) overdue_counts, `places` counting them per (agency, hall, item)."""
    add_counts(session.connection(), orm.overdue_counts,
               [{"agency_code": a, "hall_code": h, "item_code": i, "overdue": sign * n}
                for (a, h, i), n in places.items()])


def _history(record, attribute: str):
    """inspect(record).attrs[attribute].history, without the record's state making a view of each of its
    attributes first (a few dozen objects a command, for the few attributes asked)."""
    return get_history(record, attribute, PASSIVE_NO_INITIALIZE)


def _changed(record, *attributes: str) -> bool:
    return any(_history(record, name).has_changes() for name in attributes)


def _became(record, attribute: str, value: str) -> bool:
    history = _history(record, attribute)
    return value in history.added and value not in history.deleted


def _before(record, attribute: str):
    """The attribute's value as the database had it before this flush."""
    history = _history(record, attribute)
    return history.deleted[0] if history.deleted else getattr(record, attribute)


def _case_key(record: Case, moment: datetime) -> tuple:
    return record.agency_code, record.hall_code, record.item_code, record.item_name, week_of(moment)


def _rows(counter: Counter, table) -> list[dict]:
    """{(key, figure): n} -> one row of the table per key, with every figure (0 where none)."""
    names = [column.name for column in table.primary_key.columns]
    figures = [column.name for column in table.columns if not column.primary_key]
    keys = dict.fromkeys(key for key, _ in counter)
    return [{**dict(zip(names, key)), **{f: int(counter[key, f]) for f in figures}} for key in keys]


def totals(case_rows: list[dict]) -> list[dict]:
    """Rows of case counts summed over their weeks: the closed cases counted and on time per hall and item
    (closed_case_counts), what the statistics' rates read without going through every week."""
    summed = Counter()
    for row in case_rows:
        key = tuple(row[name] for name in ("agency_code", "hall_code", "item_code", "item_name"))
        summed[key, "counted"] += row["counted"]
        summed[key, "on_time"] += row["on_time"]
    return [row for row in _rows(summed, orm.closed_case_counts) if row["counted"]]


# The view whose rows are changes to the counts (migration 0054): each kind's columns, the others left empty.
CHANGED_TABLES = {"open": orm.open_case_counts, "case": orm.case_counts, "task": orm.task_counts}
CHANGES = sql.table("count_changes", column("kind"),
                    *{c.name: column(c.name, c.type) for t in CHANGED_TABLES.values() for c in t.c}.values())
_NO_CHANGE = dict.fromkeys(CHANGES.c.keys())  # every row of one executemany names every column
_CHANGING = CHANGES.insert()  # built once: every command runs it
_KEY_OF = {kind: itemgetter(*(c.name for c in counts.primary_key.columns)) for kind, counts in CHANGED_TABLES.items()}


def change_rows(**kinds: list[dict]) -> list[dict]:
    """Rows of figures of each kind (CHANGED_TABLES; a 'case' row adds to closed_case_counts as well, as `totals`
    sums them) as rows of the view count_changes, whose trigger adds each to its table. Each kind's rows in the
    order of their keys, so that two commits adding to the same rows on PostgreSQL lock them in the same order."""
    return [_NO_CHANGE | row | {"kind": kind}
            for kind, of_kind in kinds.items() for row in sorted(of_kind, key=_KEY_OF[kind])]


def add_changes(connection: Connection, rows: list[dict], ready=None) -> None:
    """Add the rows of change_rows to the counts, all in one statement; `ready`: those rows as the driver takes
    them (repository.driver_rows), made before SQLite's write lock."""
    if rows:
        send_rows(connection, _CHANGING, rows, ready)


def add_counts(connection: Connection, table, rows: list[dict]) -> None:
    """Add rows of figures to the counts: a new key is inserted, an existing one has the figures added."""
    if rows:
        connection.execute(_adding(connection.dialect.name, table), rows)


@cache
def _adding(dialect: str, table):
    """The upsert adding figures to a counts table, built once per dialect (every command runs it)."""
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    figures = [column.name for column in table.columns if not column.primary_key]
    return statement.on_conflict_do_update(index_elements=list(table.primary_key.columns),
                                           set_={name: table.c[name] + statement.excluded[name] for name in figures})


def recount(connection: Connection) -> tuple[list[dict], list[dict]]:
    """The counts computed afresh from every case and task: (case count rows, task count rows)."""
    c, t = orm.cases, orm.case_tasks
    cases = Counter()
    query = select(c.c.agency_code, c.c.hall_code, c.c.item_code, c.c.item_name, c.c.opened_at, c.c.closed_at,
                   c.c.status, c.c.result, missed_limit().label("missed"))
    for row in connection.execute(query.execution_options(yield_per=10_000)):
        head = (row.agency_code, row.hall_code, row.item_code, row.item_name)
        cases[(*head, week_of(row.opened_at)), "opened"] += 1
        if row.status == CLOSED:
            key = (*head, week_of(row.closed_at))
            cases[key, "closed"] += 1
            if row.result not in ENDED_EARLY:
                cases[key, "counted"] += 1
                cases[key, "on_time"] += not row.missed
    tasks = connection.execute(
        select(t.c.agency_code, t.c.hall_code, t.c.completed_by.label("username"), func.count().label("completed"),
               func.coalesce(func.sum(case((task_late(), 0), else_=1)), 0).label("on_time"))
        .where(t.c.state == COMPLETED, t.c.completed_by.is_not(None), t.c.stage != SUPERVISION_STAGE)
        .group_by(t.c.agency_code, t.c.hall_code, t.c.completed_by))
    return _rows(cases, orm.case_counts), [dict(row._mapping) for row in tasks]


def recount_open(connection: Connection) -> list[dict]:
    """The open cases per agency, hall and stage, counted afresh."""
    c = orm.cases
    return [dict(row._mapping) for row in connection.execute(
        select(c.c.agency_code, c.c.hall_code, c.c.stage, func.count().label("open"))
        .where(c.c.status != CLOSED).group_by(c.c.agency_code, c.c.hall_code, c.c.stage))]


def recount_overdue(connection: Connection) -> list[dict]:
    """The open cases with a limit marked overdue, per agency, hall and item, counted afresh from the marks."""
    d = orm.case_deadlines
    return [dict(row._mapping) for row in connection.execute(
        select(d.c.agency_code, d.c.hall_code, d.c.item_code, func.count(d.c.case_id.distinct()).label("overdue"))
        .where(d.c.overdue == true()).group_by(d.c.agency_code, d.c.hall_code, d.c.item_code))]


def rebuild(connection: Connection) -> None:
    """Replace the counts by a recount (after the counts' migration, or data written in bulk)."""
    case_rows, task_rows = recount(connection)
    tables = [(orm.case_counts, case_rows), (orm.task_counts, task_rows)]
    if inspect(connection).has_table("open_case_counts"):  # from migration 0026 on
        tables.append((orm.open_case_counts, recount_open(connection)))
    if inspect(connection).has_table("closed_case_counts"):  # from migration 0030 on
        tables.append((orm.closed_case_counts, totals(case_rows)))
    if inspect(connection).has_table("overdue_counts"):  # from migration 0043 on
        tables.append((orm.overdue_counts, recount_overdue(connection)))
    for table, rows in tables:
        connection.execute(table.delete())
        for start in range(0, len(rows), 5_000):
            connection.execute(table.insert(), rows[start:start + 5_000])
