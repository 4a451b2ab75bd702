"""Rows only ever added (a case's history, the outside systems' calls, the outbox) are written without the ORM, a
table's rows in one statement: they come back in the order the command added them, the outbox's ids are those of
the entries given, in their order, and their text is checked as the ORM's rows are (adapters/stored_text.py)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from psycopg.types.json import Json, Jsonb
from sqlalchemy import event

from workflows.adapters import orm, statistics_counts, stored_text
from workflows.adapters.outbox_repository import PAGE
from workflows.adapters.repository import driver_rows, insert_of
from workflows.domain.errors import InvalidInput
from workflows.domain.model import ExternalCall, HistoryEntry
from workflows.services import cases

from support.cases import APPLICANT, DATA, OUTPATIENT as ITEM
from support.libpq import syncs_sent
from support.statements import statements_of

pytestmark = pytest.mark.both_databases  # the database matters here: SQLite and PostgreSQL


@pytest.fixture
def case(ctx, staff):
    return cases.open_case(ctx, staff["shouli"], ITEM, APPLICANT, DATA).case


def _line(case, clock, message: str, **values) -> HistoryEntry:
    return HistoryEntry(case_id=case.id, at=clock.now, actor="shouli", action="comment", stage="受理",
                        task_name=None, message=message, detail=values)


def test_the_history_lines_of_commands_come_back_in_the_order_they_were_added(ctx, case, clock):
    for batch in (["一", "二", "三"], ["四", "五"]):  # two commands, the lines of each at the same moment
        with ctx.uow() as uow:
            for message in batch:
                uow.history.add(_line(case, clock, message))
            uow.commit()
    with ctx.uow(write=False) as uow:
        lines = [line.message for line in uow.history.for_case(case.id) if line.action == "comment"]
    assert lines == ["一", "二", "三", "四", "五"]


@pytest.mark.parametrize("count", [5, 2 * PAGE + 3])  # a command's few; a bulk command's, over several statements
def test_the_outbox_answers_the_ids_of_its_entries_in_the_order_given(ctx, case, clock, count):
    entries = [(f"kind_{n}", {"n": n, "文书": ["受理通知书", {"份数": n}]}, case.id) for n in range(count)]
    with ctx.uow() as uow:
        first, rest = uow.outbox.add_at_commit(entries[:2], clock.now), uow.outbox.add_at_commit(entries[2:], clock.now)
        assert first == [] and rest == []  # answered at the commit
        uow.commit()
    ids = first + rest
    with ctx.uow(write=False) as uow:
        stored = [uow.outbox.get(entry_id) for entry_id in ids]
    assert [(entry.kind, entry.payload, entry.case_id, entry.created_at) for entry in stored] == [
        (kind, payload, case_id, clock.now) for kind, payload, case_id in entries]


def test_an_outbox_entry_finished_by_the_kick_is_done_once(ctx, case, clock):
    with ctx.uow() as uow:
        answer = uow.outbox.add_at_commit([("kind", {}, case.id)], clock.now)
        uow.commit()
    [entry_id] = answer
    for expected in (True, False):  # the second kick finds it done
        with ctx.uow() as uow:
            assert uow.outbox.finish_unclaimed(entry_id, clock.now) is expected
            uow.commit()
    with ctx.uow(write=False) as uow:
        assert uow.outbox.get(entry_id).attempts == 1 and uow.outbox.get(entry_id).done_at is not None


def test_an_entry_held_for_its_kick_is_not_the_schedulers_until_the_hold_ends_and_then_not_the_kicks(ctx, case,
                                                                                                     clock):
    held_until = clock.now + timedelta(seconds=30)
    with ctx.uow() as uow:
        kicked, other = (uow.outbox.add_at_commit([("kicked", {}, case.id)], clock.now, {"kicked": held_until}),
                         uow.outbox.add_at_commit([("other", {}, case.id)], clock.now, {"kicked": held_until}))
        uow.commit()
    with ctx.uow() as uow:
        assert uow.outbox.due_ids(clock.now, 10) == other  # the scheduler's round leaves the kick's entry
        assert set(uow.outbox.due_ids(held_until, 10)) == {*kicked, *other}
        assert uow.outbox.claim(kicked, held_until, timedelta(minutes=5)) != []  # the kick never came
        uow.commit()
    with ctx.uow() as uow:  # a late kick finds it claimed: it neither marks it done nor claims it
        assert not uow.outbox.finish_unclaimed(kicked[0], held_until)
        assert uow.outbox.claim_unclaimed(kicked, held_until, timedelta(minutes=5)) == []
        [claimed] = uow.outbox.claim_unclaimed(other, clock.now, timedelta(minutes=5))
        assert claimed.attempts == 1
        uow.commit()


def test_a_round_claims_the_due_entries_in_one_statement_in_their_order_but_none_done_or_held(ctx, case, clock):
    with ctx.uow() as uow:
        ids = uow.outbox.add_at_commit([(f"kind{index}", {}, case.id) for index in range(4)], clock.now)
        uow.commit()
    with ctx.uow() as uow:
        uow.outbox.finish(ids[1], clock.now)  # done already
        uow.outbox.claim([ids[2]], clock.now, timedelta(minutes=5))  # held by another worker
        uow.commit()
    claimed = []

    def claim_in_one() -> None:
        with ctx.uow() as uow:
            claimed.extend(uow.outbox.claim([ids[3], ids[2], ids[1], ids[0]], clock.now, timedelta(minutes=5)))
            uow.commit()
    statements = statements_of(ctx, claim_in_one)

    assert [(entry.id, entry.kind, entry.attempts) for entry in claimed] == [(ids[3], "kind3", 1), (ids[0], "kind0", 1)]
    assert len([sql for sql in statements if sql.lstrip().upper().startswith("UPDATE")]) == 1
    assert all(entry.next_attempt_at == clock.now + timedelta(minutes=5) for entry in claimed)


def test_a_history_line_with_a_control_character_is_refused_and_nothing_of_the_command_written(ctx, case, clock):
    with pytest.raises(InvalidInput) as refused, ctx.uow() as uow:
        uow.history.add(_line(case, clock, "先写的"))
        uow.history.add(_line(case, clock, "坏\x00行"))
        uow.commit()
    assert "控制字符" in refused.value.field_errors["message"]
    with ctx.uow(write=False) as uow:
        assert not [line for line in uow.history.for_case(case.id) if line.action == "comment"]


def test_an_outside_answer_holding_a_nul_is_refused_naming_the_column(ctx, case, clock):
    with pytest.raises(InvalidInput) as refused, ctx.uow() as uow:
        uow.external.record(ExternalCall(case_id=case.id, system="payment", operation="pay", request={"a": 1},
                                         response={"note": "到账\x00"}, at=clock.now))
        uow.commit()
    assert "控制字符" in refused.value.field_errors["response"]


def test_rows_made_ready_for_the_driver_are_what_sqlalchemy_itself_would_send(ctx, case, clock):
    """The rows kept until commit are put in the form the driver takes (repository.driver_rows) before the commit
    sends them: the same SQL and values, JSON and moments included, as SQLAlchemy's execution sends."""
    history = [{"case_id": case.id, "at": clock.now, "actor": "shouli", "action": "comment", "stage": "受理",
                "task_name": None, "message": message, "detail": detail}
               for message, detail in (("一", {"金额": "1.50", "列表": [1, None]}), ("二", {}))]
    counts = [{"agency_code": "210400", "hall_code": "210400-01", "stage": "受理", "open": 1}]
    statements = [(insert_of(orm.case_history), history),
                  (statistics_counts._adding(ctx.session_factory.kw["bind"].dialect.name, orm.open_case_counts),
                   counts)]
    with ctx.session_factory() as session:
        sent = []
        listener = lambda *arguments: sent.append(arguments[2:4])  # noqa: E731 - (statement, parameters)
        event.listen(session.get_bind(), "before_cursor_execute", listener)
        try:
            for statement, rows in statements:
                ready = driver_rows(session, statement, rows)
                session.connection().execute(statement, rows)
                text, parameters = sent[-1]
                assert _comparable(ready) == _comparable((text, parameters))
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", listener)
        assert driver_rows(session, statements[0][0], [history[0], {**history[1], "extra": 1}]) is None
        session.rollback()


def test_the_json_texts_the_check_wrote_are_sent_as_sqlalchemy_would_write_them(ctx, case, clock):
    """The stored-text check writes each JSON value's text to read its characters; the rows for the driver take
    those texts instead of writing them again: the very text SQLAlchemy's execution would send, a quote and a
    control character (escaped, so not kept by the check) included, and what is read back is what was added."""
    details = [{"金额": "1.50", "材料": ["身份证", "发票"]}, {"说明": '引号"与\n换行'}, [1, None]]
    history = [{"case_id": case.id, "at": clock.now, "actor": "shouli", "action": "comment", "stage": "受理",
                "task_name": None, "message": f"第{index}行", "detail": detail}
               for index, detail in enumerate(details)]
    texts = stored_text.check_rows(orm.case_history, history)
    assert set(texts) == {id(details[0]), id(details[2])}  # the one written with escapes is checked by its strings
    with ctx.session_factory() as session:
        sent = []
        listener = lambda *arguments: sent.append(arguments[2:4])  # noqa: E731 - (statement, parameters)
        event.listen(session.get_bind(), "before_cursor_execute", listener)
        try:
            ready = driver_rows(session, insert_of(orm.case_history), history, texts)
            session.connection().execute(insert_of(orm.case_history), history)
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", listener)
        assert _written(ready) == _written(sent[-1])
        session.rollback()
    reused = [value for row in _row_values(ready) for value in row
              if any(value is text for text in texts.values()) or isinstance(value, Jsonb) and value.dumps]
    assert len(reused) == 2  # the two texts the check wrote, not written again
    with ctx.uow() as uow:
        for row in history:
            uow.history.add(HistoryEntry(**row))
        uow.commit()
    with ctx.uow(write=False) as uow:
        assert [line.detail for line in uow.history.for_case(case.id) if line.action == "comment"] == details


def _written(ready) -> list:
    """The rows' values as the driver writes them: a psycopg JSON wrapper as the text it dumps."""
    return [[(value.dumps or stored_text.json_text)(value.obj) if isinstance(value, (Json, Jsonb)) else value
             for value in row] for row in _row_values(ready)]


def _row_values(ready) -> list:
    """Each row's values, in their order (psycopg's rows are dicts, SQLite's tuples; one row as a list of one)."""
    _text, rows = ready
    return [list(row.values()) if isinstance(row, dict) else list(row)
            for row in (rows if isinstance(rows, list) else [rows])]


def _comparable(ready) -> tuple:
    """Rows for the driver compared by their values: psycopg's JSON wrappers (made anew each time) by what they
    wrap, one row as a list of one."""
    text, rows = ready
    rows = rows if isinstance(rows, list) else [rows]
    unwrapped = [{key: _unwrapped(value) for key, value in row.items()} if isinstance(row, dict)
                 else tuple(map(_unwrapped, row)) for row in rows]
    return text, unwrapped


def _unwrapped(value):
    return (type(value), value.obj) if isinstance(value, (Json, Jsonb)) else value


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_single_row_kept_until_commit_goes_with_the_commit_unanswered(ctx, case, clock, tmp_path):
    """Its new id is not asked for (no RETURNING): the commit's pipeline waits once, for the COMMIT."""
    with ctx.uow() as uow:
        uow.history.for_case(case.id)  # the unit has read before it writes, as a command does
        uow.history.add(_line(case, clock, "一"))
        with syncs_sent(uow.session.connection(), tmp_path) as syncs:
            uow.commit()
    assert syncs == [1]
    with ctx.uow(write=False) as uow:
        assert [line.message for line in uow.history.for_case(case.id) if line.action == "comment"] == ["一"]
