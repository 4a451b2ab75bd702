"""Writes whose rows are ready for the driver (repository.driver_rows) go straight to the DBAPI cursor of the unit's
connection (database.sent_as_driver_takes), not through SQLAlchemy's execution: they must still be in the unit's
transaction, seen by the cursor listeners (SQLite's write guard, PostgreSQL's notes of a write, the statement
counters) and fail as SQLAlchemy's errors, through the engine's error handling."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from workflows.domain.errors import Conflict
from workflows.domain.model import CaseMaterial
from workflows.services import cases

from support.cases import APPLICANT, DATA, OUTPATIENT
from test_append_only_rows import _line

pytestmark = pytest.mark.both_databases  # the database matters here: SQLite and PostgreSQL


@pytest.fixture
def case(ctx, staff):
    return cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case


def _mark(case, index: int) -> CaseMaterial:
    return CaseMaterial(case_id=case.id, material_index=index, name="身份证", status="present", marked_by="shouli",
                        marked_at=case.opened_at)


def test_every_write_sent_to_the_cursor_is_seen_by_the_cursor_listeners_and_committed_with_its_unit(ctx, case,
                                                                                                    clock):
    seen = []
    database = ctx.session_factory.kw["bind"]
    listener = lambda _connection, _cursor, statement, *_rest: seen.append(statement.split("(")[0].strip())  # noqa: E731
    event.listen(database, "before_cursor_execute", listener)
    try:
        with ctx.uow() as uow:
            uow.cases.get_by_id(case.id).stage = "其他"
            uow.session.add(_mark(case, 99))
            uow.history.add(_line(case, clock, "一行"))
            uow.commit()
    finally:
        event.remove(database, "before_cursor_execute", listener)
    assert {"INSERT INTO case_materials", "INSERT INTO case_history"} <= set(seen)
    # the case's versioned UPDATE (on PostgreSQL inside database.one_row_or_stale's WITH, checked by the server)
    assert any(statement.startswith(("UPDATE cases SET stage", "WITH written AS")) for statement in seen)
    with ctx.uow(write=False) as uow:
        assert uow.cases.get_by_id(case.id).stage == "其他"
        assert uow.session.get(CaseMaterial, (case.id, 99)) is not None
        assert [line.message for line in uow.history.for_case(case.id) if line.action == "comment"] == ["一行"]


def test_a_write_sent_to_the_cursor_that_fails_fails_its_unit_as_sqlalchemys_error_and_nothing_is_kept(ctx, case,
                                                                                                        clock):
    with ctx.uow() as uow:
        uow.session.add(_mark(case, 99))
        uow.commit()
    handled = []
    database = ctx.session_factory.kw["bind"]
    listener = lambda context: handled.append(type(context.sqlalchemy_exception).__name__)  # noqa: E731
    event.listen(database, "handle_error", listener)
    try:
        with pytest.raises(Conflict), ctx.uow() as uow:  # the unit of work's answer to SQLAlchemy's IntegrityError
            uow.cases.get_by_id(case.id).stage = "其他"
            uow.history.add(_line(case, clock, "不该留下"))
            uow.session.add(_mark(case, 99))  # the same key again: refused by the database
            uow.commit()
    finally:
        event.remove(database, "handle_error", listener)
    assert handled == ["IntegrityError"]  # through the engine's own error handling
    with ctx.uow(write=False) as uow:
        assert uow.cases.get_by_id(case.id).stage != "其他"
        assert not [line for line in uow.history.for_case(case.id) if line.action == "comment"]
