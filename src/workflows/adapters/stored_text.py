"""The last check before a flush: no text longer than its column or holding characters the database refuses.

Use cases check the fields a person types with their own words; this catches whatever reaches a row another way
(a message from another system, a CLI argument, a field added later), so that SQLite and PostgreSQL behave alike:
PostgreSQL would refuse a NUL or an overlong VARCHAR with a DataError, SQLite would store it silently.
"""
from __future__ import annotations

from functools import cache

from sqlalchemy import JSON, String, event, inspect
from sqlalchemy.orm import Session

from workflows.domain.errors import InvalidInput
from workflows.domain.text import TEXT_LENGTH, text_problem

_UNBOUNDED = 10 ** 9  # other Text columns (diagrams, workflow state, history): only the characters are checked
# Text columns a person types into: an opinion, a reason, a comment is at most TEXT_LENGTH long
FREE_TEXT = {"substitutions.reason", "case_comments.text", "case_pauses.reason", "escalations.note",
             "extension_requests.reason", "extension_requests.decision_note", "rating_followups.comment",
             "rating_followups.visit_note", "rating_followups.remedy", "ratings.comment", "task_requests.reason",
             "task_requests.opinion", "task_supervisions.instruction", "task_supervisions.reply"}


def install() -> None:
    if not event.contains(Session, "before_flush", _check_pending):
        event.listen(Session, "before_flush", _check_pending)


def _check_pending(session: Session, _context, _instances) -> None:
    """Each new row's text values, and of a changed row only the attributes that changed (the ORM's record of
    their values before the change holds exactly those)."""
    errors = {}
    for instance in session.new:
        state = inspect(instance)
        _check(_checked_columns(state.mapper), state.dict, state.dict, errors)
    for instance in session.dirty:
        state = inspect(instance)
        _check(_checked_columns(state.mapper), state.committed_state, state.dict, errors)
    _refuse(errors)


def check_rows(table, rows: list[dict]) -> None:
    """Rows written without the ORM (the rows kept until commit, repository/base.py), checked as a flush checks
    the ORM's: a history line or an outside system's answer is text like any other."""
    errors = {}
    columns = _table_columns(table)
    for row in rows:
        _check(columns, row, row, errors)
    _refuse(errors)


def _refuse(errors: dict) -> None:
    if errors:
        raise InvalidInput("；".join(f"{key}：{problem}" for key, problem in errors.items()), errors)


def _check(columns: dict, keys, values: dict, errors: dict) -> None:
    for key in keys:
        column = columns.get(key)
        if column is not None and key in values:
            problem = _problem(column, values[key])
            if problem:
                errors[key] = problem


@cache
def _checked_columns(mapper) -> dict:
    """attribute key -> its column, for the attributes holding text or JSON (the only ones checked)."""
    return {attribute.key: attribute.columns[0] for attribute in mapper.column_attrs if _checked(attribute.columns[0])}


@cache
def _table_columns(table) -> dict:
    """column name -> column, for a table's columns holding text or JSON."""
    return {column.name: column for column in table.columns if _checked(column)}


def _checked(column) -> bool:
    column_type = column.type
    return isinstance(column_type, (String, JSON)) or isinstance(getattr(column_type, "impl", None), JSON)


def _problem(column, value) -> str | None:
    column_type = column.type
    if isinstance(column_type, String) and isinstance(value, str):
        free_text = f"{column.table.name}.{column.name}" in FREE_TEXT
        return text_problem(value, column_type.length or (TEXT_LENGTH if free_text else _UNBOUNDED))
    if isinstance(column_type, JSON) or isinstance(getattr(column_type, "impl", None), JSON):
        return next(filter(None, (text_problem(text, _UNBOUNDED) for text in _strings(value))), None)
    return None


def _strings(value):
    """Every key and string in a JSON value, without recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            yield from (key for key in item if isinstance(key, str))
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
        elif isinstance(item, str):
            yield item
