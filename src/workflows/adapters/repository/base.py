"""What every repository is: a session, reads remembered once per transaction, rows kept aside until commit."""
from __future__ import annotations

from functools import cache

from psycopg.types.json import Jsonb
from sqlalchemy import JSON, String, any_, bindparam, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .. import stored_text
from ..database import ANSWER_UNREAD, sent_as_driver_takes


_MEMO = "remembered"  # session.info key: (the transaction, {key: what was read in it})
_AT_COMMIT = "at_commit"  # session.info key: (the transaction, [(statement, parameters, ready) to send at its commit])


def execute_at_commit(session: Session, statement, parameters=None) -> None:
    """Send a write `statement` when the unit commits (write_at_commit), not now: on SQLite the first write takes
    the database-wide write lock (write_lock.py), and everything a command computes after it waits for it. For
    rows the command does not read back (a case's timer and wait rows: the scheduler and the deliveries read them,
    in transactions of their own). Rows of an INSERT or upsert are made ready for the driver here (driver_rows)."""
    ready = driver_rows(session, statement, parameters) if isinstance(parameters, list) else None
    _of_transaction(session, _AT_COMMIT, list).append((statement, parameters, ready))


def _of_transaction(session: Session, key: str, empty):
    """What session.info keeps under `key` for the session's current transaction: `empty()` anew when it was kept
    for another (what a transaction read or kept for its commit ends with it)."""
    held = session.info.get(key)
    transaction = session.get_transaction()
    if held is None or held[0] is not transaction:
        held = session.info[key] = (transaction, empty())
    return held[1]


def write_at_commit(session: Session) -> None:
    """Send, in the order they came, the statements this transaction kept for its commit."""
    held = session.info.pop(_AT_COMMIT, None)
    if held is not None and held[0] is session.get_transaction():
        for statement, parameters, ready in held[1]:
            send_rows(session.connection(), statement, parameters, ready)


@cache
def written_in(value: str):
    """A constant that a partial index's condition names (case_tasks' `state = 'ready'`), written into a statement
    instead of bound: SQLite prepares a statement anew at each execution where a bound value stands in such a
    condition's place (whether the index serves the query depends on the value), and preparing a command's load
    (get_for_update's one query) costs five times running it. PostgreSQL, too, can use the index for a literal
    only, once it plans the prepared statement generically."""
    if "'" in value:
        raise ValueError(value)
    return literal_column(f"'{value}'", String)


def among(session: Session, column, values):
    """`column IN values` for a page's list of ids (a hundred cases' rows): on PostgreSQL `= ANY` of one array
    parameter instead, a statement of one fixed text. A hundred bound values make the statement longer than psycopg
    caches its parsing for, and it is parsed anew at every execution: 2.0 against 0.7 ms of CPU a statement."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


@cache
def rows_of_case(record, order_by: str | None = "id"):
    """The query of a case's rows of `record` (parameter case_id), in the order they were added: built once per
    record (building a statement costs more than running it here), when the records are mapped; `record` a
    mapped class, or a table (its rows)."""
    columns = getattr(record, "c", record)  # a table's columns are under .c, a mapped class's are its attributes
    query = select(record).where(columns.case_id == bindparam("case_id"))
    return query.order_by(getattr(columns, order_by)) if order_by else query


def driver_rows(session: Session, statement, rows: list[dict], json_texts: dict[int, str] | None = None):
    """Rows of a write made ready for the driver before the commit sends them: (the SQL text SQLAlchemy compiles
    for them; each row's values through its columns' bind processors (JSON text or psycopg's JSON wrapper, a moment
    as UTC text), a tuple for SQLite's positional parameters, a dict for psycopg's named ones). `send_rows` then
    hands them to the driver, where SQLAlchemy's execution (its compiled-cache lookup, the processing of every
    value) cost ≈30 µs a statement, on SQLite under the write lock. None for rows SQLAlchemy would complete itself
    (a column default) or of differing columns: those are executed as ever. `json_texts`: the JSON texts the
    stored-text check wrote of the rows' values just before (stored_text.check_rows), sent instead of writing
    them again."""
    if not rows or any(row.keys() != rows[0].keys() for row in rows):
        return None
    dialect = session.get_bind().dialect
    form = _driver_form(statement, dialect, tuple(rows[0]))
    if form is None:
        return None
    text, (keys, processors, json_columns) = form
    if json_texts:
        processors = [_json_written(processor, json_texts, dialect) if json else processor
                      for processor, json in zip(processors, json_columns)]
    pairs = list(zip(keys, processors))
    parameters = tuple if dialect.positional else lambda values: dict(zip(keys, values))
    return text, [parameters(row[key] if processor is None else processor(row[key]) for key, processor in pairs)
                  for row in rows]


def _json_written(processor, json_texts: dict[int, str], dialect):
    """A JSON column's bind processor that takes a value's text from `json_texts` where it is there: as it is for
    SQLite, in psycopg's JSONB wrapper (which would write it with the same json_text) for PostgreSQL."""
    if dialect.name == "sqlite":
        return lambda value: json_texts.get(id(value)) or processor(value)

    def wrapped(value):
        written = json_texts.get(id(value))
        return processor(value) if written is None else Jsonb(value, dumps=lambda _value: written)
    return wrapped


def _joined(ready, more):
    """Rows made ready for the driver at two times, as one: None unless both were, for the same SQL text."""
    if ready is None or more is None or ready[0] != more[0]:
        return None
    return ready[0], ready[1] + more[1]


@cache
def _driver_form(statement, dialect, keys: tuple[str, ...]):
    """The SQL text of `statement` for rows of `keys`, (the names of its parameters, in their order where they are
    positional, and their bind processors); None when SQLAlchemy would add values of its own (a column default) or
    rename a parameter."""
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    names = compiled.positiontup if dialect.positional else tuple(dict.fromkeys(compiled.bind_names.values()))
    if compiled.insert_prefetch or compiled.escaped_bind_names or set(names) != set(keys):
        return None
    types = [compiled.binds[name].type.dialect_impl(dialect) for name in names]
    return compiled.string, (tuple(names), tuple(type_.bind_processor(dialect) for type_ in types),
                             tuple(isinstance(type_, JSON) for type_ in types))


def send_rows(connection, statement, rows: list[dict] | None, ready=None) -> None:
    """Execute `statement` for `rows`, as the driver takes them when `ready` (driver_rows) holds them so: then on the
    DBAPI cursor (database.sent_as_driver_takes). Its answer is not read (PostgreSQL's pipeline goes on without
    waiting for its row count)."""
    if ready is not None:
        sent_as_driver_takes(connection, *ready).close()  # its answer unread
    else:
        connection.execute(statement, rows, execution_options=ANSWER_UNREAD)


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
        _of_transaction(self.session, _MEMO, dict)[key] = value  # (the load may have begun the transaction)
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

    def _peek(self, key: tuple):
        """What this transaction remembers under `key`, or None: nothing is read."""
        held = self.session.info.get(_MEMO)
        return held[1].get(key) if held is not None and held[0] is self.session.get_transaction() else None

    def _forget(self, key: tuple) -> None:
        held = self.session.info.get(_MEMO)
        if held is not None:
            held[1].pop(key, None)

    def _upsert(self, table):
        dialect = self.session.get_bind().dialect.name
        return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


class _AppendOnlyRepository(_Repository):
    """Rows that are only ever added, never changed: kept aside and written in one batch when the unit commits.

    Cheaper than the ORM's per-object bookkeeping, and these rows are not read back in the same transaction.
    """

    table = None

    def __init__(self, session: Session):
        super().__init__(session)
        self._pending: list[dict] = []
        self._checked = 0  # the rows of _pending prepare() has checked
        self._ready = None  # those rows as the driver takes them (driver_rows), made by prepare()

    def _append(self, record) -> None:
        """Keep the record's row: its values of the table's columns, an attribute it was not given as None."""
        self._pending.append({name: getattr(record, name, None) for name in _appended_columns(self.table)})

    def _of_case(self, record: type, case_id: int) -> list:
        """The case's rows as `record`s (plain, not mapped: orm.start_mappers), in the order they were added."""
        return [record(**row) for row in self.session.execute(rows_of_case(self.table), {"case_id": case_id})
                .mappings()]

    def prepare(self) -> None:
        """Check the rows kept (as a flush checks the ORM's) and make them ready for the driver before the unit's
        commit sends its first write: on SQLite that takes the write lock, held to the COMMIT, so the commit
        computes first and then only sends. Rows kept after (in the commit, once the ORM has flushed) join them."""
        new = self._pending[self._checked:]
        if not new:
            return
        json_texts = stored_text.check_rows(self.table, new)
        ready = driver_rows(self.session, insert_of(self.table), new, json_texts)
        self._ready = ready if not self._checked else _joined(self._ready, ready)
        self._checked = len(self._pending)

    def write_pending(self) -> None:
        if self._pending:
            self.prepare()
            send_rows(self.session.connection(), insert_of(self.table), self._pending, self._ready)
            self._pending, self._checked, self._ready = [], 0, None


@cache
def _appended_columns(table) -> tuple[str, ...]:
    """The columns an added row gives: all but the id the database hands out."""
    return tuple(column.name for column in table.columns if column.name != "id")


@cache
def insert_of(table):
    """A table's INSERT, built once (its compiled form is then found in the cache by the statement's own key), and
    inline: the new rows' ids are read by no one, where PostgreSQL would return a single row's (implicit RETURNING),
    and the commit's pipeline wait for it (database.PipelinedCursor)."""
    return table.insert().inline()
