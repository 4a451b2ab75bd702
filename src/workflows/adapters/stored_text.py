"""The last check before a flush: no text longer than its column or holding characters the database refuses.

Use cases check the fields a person types with their own words; this catches whatever reaches a row another way
(a message from another system, a CLI argument, a field added later), so that SQLite and PostgreSQL behave alike:
PostgreSQL would refuse a NUL or an overlong VARCHAR with a DataError, SQLite would store it silently.
"""
from __future__ import annotations

import json
from functools import cache, partial
from itertools import repeat

from sqlalchemy import JSON, String, event
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state

from workflows.domain.errors import InvalidInput
from workflows.domain.text import TEXT_LENGTH, all_storable, text_problem

# How a JSON column's value is written (the engines' json_serializer, database.py): its characters as they are, not
# \u escapes, which the check could not read; a 张 takes 3 bytes so, not 6
json_text = partial(json.dumps, ensure_ascii=False)
_UNBOUNDED = 10 ** 9  # other Text columns (diagrams, workflow state, history): only the characters are checked
_JSON = -1  # _limits: a JSON column, whose keys and strings are checked for their characters only
# Text columns a person types into: an opinion, a reason, a comment is at most TEXT_LENGTH long
FREE_TEXT = {"substitutions.reason", "case_comments.text", "case_pauses.reason", "escalations.note",
             "extension_requests.reason", "extension_requests.decision_note", "rating_followups.comment",
             "rating_followups.visit_note", "rating_followups.remedy", "ratings.comment", "task_requests.reason",
             "task_requests.opinion", "task_supervisions.instruction", "task_supervisions.reply"}


def install() -> None:
    if not event.contains(Session, "before_flush", _check_pending):
        event.listen(Session, "before_flush", _check_pending)


def _check_pending(session: Session, _context, _instances) -> None:
    check_states([*map(instance_state, session.new), *map(instance_state, session.dirty)])


def check_states(states) -> dict[int, str]:
    """The ORM's objects about to be written (their states, new or changed): each new row's text values, and of a
    changed row only the attributes that changed (the ORM's record of their values before the change holds exactly
    those): all in one go (_all_storable), and only when something fails value by value, to name each attribute
    with its problem. At every flush (_check_pending), and for the writes prepared without it (prepared_flush.py).
    Gives the JSON texts the check wrote of the rows' JSON values (id of the value -> its text as json_text writes
    it), for repository.driver_rows to send as they are, if nothing changes the values in between."""
    rows = [(state.mapper, None if state.key is None else state.committed_state, state.dict) for state in states]
    dumped: dict[int, str] = {}
    if _all_storable([(_mapper_limits(mapper), keys, values) for mapper, keys, values in rows], dumped):
        return dumped
    errors = {}
    for mapper, keys, values in rows:
        _check(_checked_columns(mapper), values if keys is None else keys, values, errors)
    _refuse(errors)


def check_rows(table, rows: list[dict]) -> dict[int, str]:
    """Rows written without the ORM (the rows kept until commit, repository/base.py), checked as a flush checks
    the ORM's: a history line or an outside system's answer is text like any other. Gives the JSON texts the check
    wrote, as check_states does."""
    limits = _table_limits(table)
    dumped: dict[int, str] = {}
    if _all_storable([(limits, None, row) for row in rows], dumped):
        return dumped
    errors = {}
    columns = _table_columns(table)
    for row in rows:
        _check(columns, row, row, errors)
    _refuse(errors)


def _all_storable(rows: list, dumped: dict[int, str]) -> bool:
    """Whether _check would find no problem in any of `rows`, (limits, the keys changed or None for all, values)
    each: the rows' strings are gathered with the length each may have, and the rule (domain/text.py) runs over
    them all at once. The JSON texts written for that go into `dumped` (_json_texts)."""
    texts, lengths, json_texts = [], [], []
    for limits, keys, values in rows:
        for key in limits if keys is None else keys:
            limit = limits.get(key)
            if limit is None:
                continue
            value = values.get(key)
            if limit == _JSON:
                _json_texts(value, json_texts, dumped)
            elif isinstance(value, str):
                texts.append(value)
                lengths.append(limit)
    return all_storable(texts, lengths) and all_storable(json_texts, repeat(_UNBOUNDED))


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


@cache
def _mapper_limits(mapper) -> dict:
    return _limits(_checked_columns(mapper))


@cache
def _table_limits(table) -> dict:
    return _limits(_table_columns(table))


def _limits(columns: dict) -> dict:
    """key -> the length a text may have there (as _problem bounds it), or _JSON."""
    return {key: _JSON if _is_json(column.type) else _max_length(column) for key, column in columns.items()}


def _max_length(column) -> int:
    free_text = f"{column.table.name}.{column.name}" in FREE_TEXT
    return column.type.length or (TEXT_LENGTH if free_text else _UNBOUNDED)


def _is_json(column_type) -> bool:
    return isinstance(column_type, JSON) or isinstance(getattr(column_type, "impl", None), JSON)


def _checked(column) -> bool:
    return isinstance(column.type, String) or _is_json(column.type)


def _problem(column, value) -> str | None:
    if isinstance(column.type, String) and isinstance(value, str):
        return text_problem(value, _max_length(column))
    if _is_json(column.type):
        strings = []
        _json_strings(value, strings)
        return next(filter(None, (text_problem(text, _UNBOUNDED) for text in strings)), None)
    return None


def _json_texts(value, texts: list, dumped: dict[int, str]) -> None:
    """Texts holding every key and string of a JSON value, as far as their characters go: its JSON text, one
    string made in C (the walk, in Python, costs more), when that has no escape in it, so that each character of it
    is one of the value's own or of the JSON syntax, which is all allowed; else the keys and strings themselves.
    The JSON text of a list or dict is kept in `dumped` by the value's id: the very text its column's bind
    processor would write (json_text), so the row need not be serialized twice (repository.driver_rows)."""
    try:
        text = json_text(value)
    except (TypeError, ValueError):  # not JSON: the flush will say so, the walk checks what strings it has
        text = "\\"
    if "\\" in text:  # a control character or a quote escaped: their own characters are checked
        _json_strings(value, texts)
        return
    texts.append(text)
    if type(value) in (dict, list):  # (None is SQL NULL to the processor, not the text "null")
        dumped[id(value)] = text


def _json_strings(value, strings: list) -> None:
    """Every key and string in a JSON value added to `strings`, without recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            strings.append(item)
        elif isinstance(item, dict):
            pending += item  # its keys: those that are text are checked as its strings are
            pending += item.values()
        elif isinstance(item, (list, tuple)):
            pending += item
