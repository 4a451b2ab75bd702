"""A command's usual ORM writes, worked out before its commit takes SQLite's write lock, and only sent under it.

The ORM's flush at a command's commit found what changed in each object, built and processed the parameters of
each statement and kept its books on every object, statement by statement: more than a millisecond of CPU a
command, all of it under SQLite's write lock, which its first statement takes. The writes almost every command
makes are simple: an UPDATE of the columns that changed (the case's with its row version checked), an INSERT of a
row whose key is known before it is written (a case, its tasks, its material marks). `prepare` works those out as
the ORM would (the same statements, columns and values, in the same order; the stored-text check of every string,
stored_text.check_states) and makes their rows ready for the driver (repository.driver_rows: that spares
SQLAlchemy's execution of each, on SQLite under the lock); `send` sends them and leaves the objects as a flush does:
persistent, unchanged, the case at its new row version. What is of another kind (a deleted row, a row whose id the
database hands out, a column left to its default, and what refers to those) the ORM's own flush writes after, as
ever.

It relies on what a flush itself uses of SQLAlchemy 2.1: Session._register_persistent (the books), the mapper's
version_id_generator, and the attribute's is_equal (what counts as changed)."""
from __future__ import annotations

from functools import cache

from sqlalchemy import and_, bindparam
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql import ClauseElement

from . import stored_text
from .database import one_row_or_stale, sent_as_driver_takes
from .repository import driver_rows, insert_of, send_rows

_CHECKED = "checked"  # a write's rows each checked to match one row (their version read): PreparedFlush._writes
_WHERE = "w_"  # the prefix of an UPDATE's parameters that find its row (its key, its row version read)


class PreparedFlush:
    """The statements prepared, in the order a flush sends them, and the objects they write."""

    def __init__(self, session: Session, writes: list | None = None, states: list | None = None,
                 versions: list | None = None):
        self._session = session
        # (statement, rows, the rows ready for the driver or None, how: None, _CHECKED, or the state of a new row
        # whose id the database hands out)
        self._writes = writes or []
        self._states = states or []
        self._versions = versions or []  # (state, the row version its statement writes)

    def send(self) -> None:
        """Send the statements (the first takes SQLite's write lock), then keep the ORM's books as a flush does."""
        if not self._states:
            return
        connection = self._session.connection()
        for statement, rows, ready, how in self._writes:
            if how is _CHECKED:
                _send_checked(connection, statement, rows, ready)
            elif how is not None:  # a new row whose id the database hands out: its object takes it
                _insert_with_id(connection, statement, rows[0], ready, how)
            else:
                send_rows(connection, statement, rows, ready)
        for state, version in self._versions:
            state.dict[state.mapper.version_id_col.key] = version
        self._session._register_persistent(set(self._states))


def prepare(session: Session) -> PreparedFlush:
    """The simple writes of what the session holds new or changed (the module says which), ready to be sent."""
    if session.deleted:  # a flush puts deletes among the rest in an order of its own: all of it to the ORM
        return PreparedFlush(session)
    by_table: dict = {}
    for record in session.dirty:
        state = instance_state(record)
        by_table.setdefault(state.mapper.local_table, ([], []))[0].append(state)
    for record in session.new:
        state = instance_state(record)
        by_table.setdefault(state.mapper.local_table, ([], []))[1].append(state)
    writes, states, versions, left_to_orm = [], [], [], set()
    for table in sorted(by_table, key=_table_order(next(iter(by_table)).metadata).get) if by_table else ():
        dirty, new = by_table[table]
        prepared = None if _refers_to(table, left_to_orm) else _table_writes(table, dirty, new)
        if prepared is None:
            left_to_orm.add(table)
            continue
        writes += prepared[0]
        states += dirty + new
        versions += prepared[1]
    json_texts = stored_text.check_states(states)
    return PreparedFlush(session, [(statement, rows, driver_rows(session, statement, rows, json_texts), how)
                                   for statement, rows, how in writes], states, versions)


def _table_writes(table, dirty: list, new: list) -> tuple[list, list] | None:
    """The UPDATEs, then the INSERT, of one table's rows (as a flush orders them), and the row versions they write;
    None if any of its rows is not for us."""
    if not all(map(_simply_mapped, (state.mapper for state in dirty + new))):
        return None
    versions = []
    updates = [_update_row(state, versions) for state in sorted(dirty, key=lambda state: state.key[1])]
    inserts = [_insert_row(state, versions, alone=len(new) == 1)
               for state in sorted(new, key=lambda state: state.insert_order)]
    if any(row is None for row in updates + inserts):
        return None
    checked = _CHECKED if (dirty or new)[0].mapper.version_id_col is not None else None
    groups: dict = {}
    for row in filter(None, updates):  # an empty row: the object was set to what it held, nothing to write
        groups.setdefault(tuple(row), []).append(row)
    writes = [(_update_of(table, keys), rows, checked) for keys, rows in groups.items()]
    if inserts:
        handed_out = table.autoincrement_column is not None and table.autoincrement_column.key not in inserts[0]
        # an id handed out is read back: an INSERT that returns it, not the inline one kept for other rows
        writes.append((_insert_returning_id(table) if handed_out else insert_of(table), inserts,
                       new[0] if handed_out else None))
    return writes, versions


def _update_row(state, versions: list) -> dict | None:
    """The parameters of the object's UPDATE as a flush makes them: the columns whose value is not equal to the
    one read, the key, the row version read and the next (none if nothing changed); None if not for us."""
    mapper, committed, values = state.mapper, state.committed_state, state.dict
    columns = _columns(mapper)
    row = {}
    for key in committed:
        column = columns.get(key)
        if column is None:
            continue
        if column.primary_key or column is mapper.version_id_col or isinstance(values.get(key), ClauseElement):
            return None  # a key or a row version changed by hand, an SQL expression: the ORM's
        if state.manager[key].impl.is_equal(values.get(key), committed[key]) is not True:
            row[column.key] = values.get(key)
    if not row:
        return row
    for column in mapper.local_table.primary_key:
        row[_WHERE + column.key] = values[mapper.get_property_by_column(column).key]
    version_column = mapper.version_id_col
    if version_column is not None:
        read = values[mapper.get_property_by_column(version_column).key]
        row[_WHERE + version_column.key] = read
        row[version_column.key] = mapper.version_id_generator(read)
        versions.append((state, row[version_column.key]))
    return row


def _insert_row(state, versions: list, alone: bool) -> dict | None:
    """The parameters of the object's INSERT as a flush makes them: every column given, but a column the mapping
    leaves out (its default) and the id the database hands out (`alone`: the table's only new row, whose id the
    statement's answer gives); None if a column would be left to the database's default, or holds an SQL
    expression."""
    mapper, values = state.mapper, state.dict
    attributes = _attributes(mapper)
    row = {}
    for column in mapper.local_table.columns:
        key = attributes.get(column.key)
        value = None if key is None else values.get(key)
        if isinstance(value, ClauseElement):
            return None
        if value is None and not column.type.should_evaluate_none:
            if column is mapper.local_table.autoincrement_column and alone:
                continue
            if column.default is not None and column.default.is_scalar:  # as the statement would fill it in
                value = column.default.arg
            elif column.default is not None or column.server_default is not None or column.primary_key:
                return None
        row[column.key] = value
    version_column = mapper.version_id_col
    if version_column is not None:
        row[version_column.key] = mapper.version_id_generator(None)
        versions.append((state, row[version_column.key]))
    return row


def _insert_with_id(connection, statement, row: dict, ready, state) -> None:
    """Insert the one row, and give its object the id the database handed out."""
    if ready is not None:
        cursor = sent_as_driver_takes(connection, ready[0], ready[1][:1])
        handed_out = cursor.fetchone()[0] if cursor.description else cursor.lastrowid  # PostgreSQL's RETURNING
        cursor.close()
    else:
        handed_out = connection.execute(statement, row).inserted_primary_key[0]
    column = statement.table.autoincrement_column
    state.dict[state.mapper.get_property_by_column(column).key] = handed_out


def _send_checked(connection, statement, rows: list[dict], ready) -> None:
    """A versioned UPDATE, row by row as a flush sends it: a row whose version is no longer the one read matches
    nothing, and the write is stale (StaleDataError, as the ORM raises it: the unit of work says Busy). psycopg:
    checked by the server instead (database.one_row_or_stale), so the commit's pipeline waits for no row count."""
    if ready is not None and connection.dialect.driver == "psycopg":
        sent_as_driver_takes(connection, one_row_or_stale(ready[0]), ready[1]).close()  # its answer unread
        return
    for index, row in enumerate(rows):
        if ready is not None:
            cursor = sent_as_driver_takes(connection, ready[0], ready[1][index:index + 1])
            matched = cursor.rowcount
            cursor.close()
        else:
            matched = connection.execute(statement, row).rowcount
        if matched != 1:
            raise StaleDataError(f"UPDATE statement on table '{statement.table.name}' expected to update 1 row(s); "
                                 f"{matched} were matched.")


def _refers_to(table, tables: set) -> bool:
    """Whether a row of `table` may refer to one of `tables` (a foreign key): it is written after them."""
    return any(key.column.table in tables for key in table.foreign_keys)


@cache
def _insert_returning_id(table):
    """A table's INSERT of a row whose id the database hands out (PostgreSQL: RETURNING it), built once."""
    return table.insert()


@cache
def _simply_mapped(mapper) -> bool:
    """A mapper of one table, of columns only, with no values the database computes at an UPDATE."""
    table = mapper.local_table
    return (mapper.inherits is None and not mapper.relationships and mapper.persist_selectable is table
            and not any(column.onupdate is not None or column.server_onupdate is not None for column in table.columns)
            and len(_columns(mapper)) == len(mapper.column_attrs))


@cache
def _columns(mapper) -> dict:
    """attribute key -> its column, for the mapper's column attributes of one column each."""
    return {attribute.key: attribute.columns[0] for attribute in mapper.column_attrs
            if len(attribute.columns) == 1 and attribute.columns[0].table is mapper.local_table}


@cache
def _attributes(mapper) -> dict:
    """column key -> the attribute key it is mapped to (_columns the other way round)."""
    return {column.key: key for key, column in _columns(mapper).items()}


@cache
def _table_order(metadata) -> dict:
    """table -> its place in the order a flush writes tables in (a row after those it refers to)."""
    return {table: place for place, table in enumerate(metadata.sorted_tables)}


@cache
def _update_of(table, keys: tuple[str, ...]):
    """The UPDATE of `table` in the row its _WHERE parameters of `keys` find (its key, and its row version read): it
    sets the columns the other keys name (a statement sets those its parameters name). Built once for each set."""
    return table.update().where(and_(*[column == bindparam(_WHERE + column.key) for column in table.columns
                                       if _WHERE + column.key in keys]))
