"""A command's ORM writes prepared before its commit takes the write lock (adapters/prepared_flush.py) store what
the ORM's own flush stores, row for row; a stale write of the case still fails; the objects are left as a flush
leaves them."""
from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from workflows.adapters import database, orm, prepared_flush
from workflows.domain.errors import Busy
from workflows.domain.model import CaseDeadline, CaseMaterial
from workflows.services import cases, tasks

from support.cases import APPLICANT, DATA, OUTPATIENT
from support.libpq import syncs_sent

pytestmark = pytest.mark.both_databases  # the database matters here: SQLite and PostgreSQL

STEPS = (("shouli", "accept"), ("shenhe", "approve"), ("caiwu", "pay"))
# Each table of a case's rows, and its columns that name the case or a row itself (its number, its ids, the numbers
# of its documents and payment, numbered like the case): the two cases compared differ in those alone (the
# workflow's state holds its tasks' ids, a document's PDF and fields its number)
TABLES = {orm.cases: ("id", "number", "workflow_state"), orm.case_tasks: ("id", "case_id", "case_number"),
          orm.case_deadlines: ("id", "case_id"), orm.case_materials: ("case_id",),
          orm.case_documents: ("id", "case_id", "number", "fields", "layout", "content")}
NUMBERED = "payment_reference"  # of the case's data


def _lifecycle(ctx, staff) -> int:
    """A 门诊费用报销 case from its opening to 办结; its id."""
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    for username, decision in STEPS:
        progress = tasks.complete_task(ctx, staff[username], progress.open_tasks[0].id, {"decision": decision})
    assert progress.case.result == "办结"
    return progress.case.id


def _stored(ctx, case_id: int) -> dict:
    """The case's rows as the database holds them, but for what names the case or a row (TABLES)."""
    stored = {}
    with ctx.uow(write=False) as uow:
        for table, naming in TABLES.items():
            key = table.c.id if table is orm.cases else table.c.case_id
            rows = uow.session.execute(select(table).where(key == case_id)).mappings()
            stored[table.name] = sorted(_text({name: _unnumbered(value) for name, value in row.items()
                                               if name not in naming}) for row in rows)
    return stored


def _unnumbered(value):
    return {key: item for key, item in value.items() if key != NUMBERED} if isinstance(value, dict) else value


def _text(row: dict) -> str:
    return json.dumps(row, default=str, ensure_ascii=False, sort_keys=True)


def test_a_cases_rows_are_those_the_orms_own_flush_writes(ctx, staff, monkeypatch):
    prepared = _stored(ctx, _lifecycle(ctx, staff))
    monkeypatch.setattr(prepared_flush, "prepare", prepared_flush.PreparedFlush)  # nothing prepared: all the ORM's
    flushed = _stored(ctx, _lifecycle(ctx, staff))
    assert prepared == flushed
    assert all(prepared.values())  # every table written: the case, its tasks, limits, material marks, documents


def _mark(case) -> CaseMaterial:
    return CaseMaterial(case_id=case.id, material_index=99, name="身份证", status="present", marked_by="shouli",
                        marked_at=case.opened_at)


def _limit(case) -> CaseDeadline:
    return CaseDeadline(case_id=case.id, kind="其他", limit_value=1, limit_unit="working_days",
                        starts_at=case.opened_at, due_at=None, warning_at=None, provisional=False, paused=False,
                        extension_days=0, paused_days=0, met_at=None, agency_code=None, hall_code=None, item_code=None)


def _stale_write(ctx, number: str, stage: str, added=None) -> None:
    """A unit that reads the case, which another unit then moves to `stage`, and writes it (with `added`'s row):
    its write is stale, and refused."""
    with pytest.raises(Busy):
        with ctx.uow() as uow:
            case = uow.cases.get(number)  # read without a lock: only the row version guards the write
            with ctx.uow() as other:
                other.cases.get(number).stage = stage
                other.commit()
            case.stage = "审核"
            if added is not None:
                uow.session.add(added(case))
            uow.commit()


@pytest.mark.parametrize("added", [_mark, _limit])
def test_a_write_of_a_case_changed_since_it_was_read_is_refused_with_the_rest_of_its_commit(ctx, staff, added):
    """On PostgreSQL the server refuses it (database.one_row_or_stale): the writes sent after it in the commit's
    pipeline, and its COMMIT, are not kept either. The refusal is answered with the COMMIT (a material mark added)
    or before, where the commit waits for a new row's id (a limit added)."""
    number = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.number
    _stale_write(ctx, number, "其他", added)
    with ctx.uow(write=False) as uow:
        case = uow.cases.get(number)
        assert uow.session.get(CaseMaterial, (case.id, 99)) is None
        assert [limit.kind for limit in uow.session.scalars(select(CaseDeadline).where(
            CaseDeadline.case_id == case.id))] == []
    assert (case.stage, case.row_version) == ("其他", 2)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # psycopg's pipeline
def test_a_stale_write_refused_before_its_commit_is_sent_leaves_the_connection_fit_for_the_next_unit(
        ctx, staff, monkeypatch):
    """The server's refusal may come back while the COMMIT is still being sent (psycopg reads what has come as it
    sends, and the send raises it): the pooled connection still leaves its pipeline, and the units that take it
    next read and write as ever. The COMMIT is held back a moment here, so that the refusal is there first."""
    send = database.PipelinedCursor.execute

    def commit_late(cursor, query, params=None, **options):
        if query == "COMMIT":
            time.sleep(0.05)
        return send(cursor, query, params, **options)

    monkeypatch.setattr(database.PipelinedCursor, "execute", commit_late)
    number = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.number
    for stage in ("其他", "受理", "其他"):  # each connection of the pool's two taken by a refused write, then read
        _stale_write(ctx, number, stage)
        with ctx.uow(write=False) as uow:
            assert uow.cases.get(number).stage == stage


def test_objects_written_are_the_sessions_as_a_flush_leaves_them(ctx, staff):
    case = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case
    with ctx.uow() as uow:
        record = uow.cases.get_by_id(case.id)
        record.stage = "其他"
        mark = CaseMaterial(case_id=case.id, material_index=99, name="身份证", status="present", marked_by="shouli",
                            marked_at=record.opened_at)
        uow.session.add(mark)
        uow.commit()
        assert not uow.session.dirty and not uow.session.new
        assert record.row_version == 2 and uow.session.get(CaseMaterial, (case.id, 99)) is mark


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_commits_prepared_writes_wait_only_for_the_commit(ctx, staff, tmp_path):
    """The writes go as the driver takes them, in the commit's pipeline: a task's UPDATE and a material mark's INSERT
    unanswered, and the case's versioned UPDATE too (the server refuses a stale one, database.one_row_or_stale),
    all answered with the COMMIT."""
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    with ctx.uow() as uow:
        record = uow.cases.get_by_id(progress.case.id)
        task = uow.tasks.get(progress.open_tasks[0].id)
        record.stage, task.assignee = "其他", "shouli"
        uow.session.add(CaseMaterial(case_id=record.id, material_index=99, name="身份证", status="present",
                                     marked_by="shouli", marked_at=record.opened_at))
        with syncs_sent(uow.session.connection(), tmp_path) as syncs:
            uow.commit()
    assert syncs == [1]
    with ctx.uow(write=False) as uow:
        assert (uow.cases.get_by_id(record.id).stage, uow.tasks.get(task.id).assignee) == ("其他", "shouli")
        assert uow.session.get(CaseMaterial, (record.id, 99)).name == "身份证"
