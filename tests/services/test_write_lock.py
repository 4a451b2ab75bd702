"""Commands compute without SQLite's write lock and take it for their writes (adapters/write_lock.py); one that
was overtaken meanwhile runs again (services/retries.py) or is answered 409, and nothing is lost or doubled.

Each command runs in its own thread with its own connection, as two web workers would.
"""
from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from workflows.adapters.engine import CaseRun
from workflows.adapters.write_lock import lock_at_begin
from workflows.services import cases, retries, tasks
from workflows.services.retries import retried

from support.process_driver import PERSON_ID

pytestmark = pytest.mark.both_databases  # the database matters here: SQLite and PostgreSQL

OUTPATIENT = "002036006001"
APPLICANT = {"name": "张伟", "id_number": PERSON_ID, "phone": "13804130001"}
DATA = {"expense_total": "800.00", "bank_account": "6222020712001234567"}
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _other_writer(ctx, statement: str, **values) -> None:
    """Another process's write, committed at once on a connection of its own (waiting at most a second)."""
    path = make_url(str(ctx.session_factory.kw["bind"].url)).database
    connection = sqlite3.connect(path, timeout=1, isolation_level=None)
    try:
        connection.execute(statement, values)
    finally:
        connection.close()


def _history(ctx, case_id: int, action: str) -> int:
    with ctx.uow(write=False) as uow:
        return uow.session.execute(text("SELECT count(*) FROM case_history WHERE case_id = :id AND action = :a"),
                                   {"id": case_id, "a": action}).scalar()


def test_two_cases_completed_at_once_both_succeed_with_their_engines_running_side_by_side(ctx, staff, monkeypatch):
    opened = [cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA) for _ in range(2)]
    side_by_side = threading.Barrier(2)
    original, waited = CaseRun.complete, []

    def complete(self, task_id, values):  # both engines inside a completion at once: nobody holds the lock yet
        try:
            side_by_side.wait(timeout=10)
            waited.append(True)
        except threading.BrokenBarrierError:
            waited.append(False)
        return original(self, task_id, values)

    monkeypatch.setattr(CaseRun, "complete", complete)
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda p: tasks.complete_task(ctx, staff["shouli"], p.open_tasks[0].id,
                                                           {"decision": "accept"}), opened))

    assert waited == [True, True]
    assert [progress.case.stage for progress in done] == ["审核", "审核"]
    assert [_history(ctx, p.case.id, "completed") for p in opened] == [1, 1]


@SQLITE_ONLY
def test_a_completion_whose_case_changed_before_it_wrote_runs_again_and_completes_once(ctx, staff, monkeypatch):
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    case_id, original, attempts = progress.case.id, CaseRun.complete, []

    def complete(self, task_id, values):
        attempts.append(lock_at_begin.get())
        if len(attempts) == 1:  # another command changes the case while this one computes
            _other_writer(ctx, "UPDATE cases SET row_version = row_version + 1 WHERE id = :id", id=case_id)
        else:  # run again, it holds the lock from its start: another writer now waits, and gives up
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                _other_writer(ctx, "UPDATE cases SET row_version = row_version + 1 WHERE id = :id", id=case_id)
        return original(self, task_id, values)

    monkeypatch.setattr(CaseRun, "complete", complete)
    done = tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"})

    assert attempts == [False, True]
    assert done.case.stage == "审核"
    assert _history(ctx, case_id, "completed") == 1


@SQLITE_ONLY
def test_a_command_overtaken_after_its_first_read_is_run_again_and_both_writes_stay(ctx, staff):
    """A row read for update that no version guards (a message between agencies): the write upgrades the read
    snapshot in place, SQLite refuses it (busy snapshot) because another writer committed since, and the command
    runs again with the lock taken at its start."""
    attempts = []

    @retried
    def rename() -> None:
        with ctx.uow() as uow:
            uow.agency_messages.get("no-such-message", lock=True)
            user = uow.users.get("shouli")
            attempts.append(lock_at_begin.get())
            if len(attempts) == 1:
                _other_writer(ctx, "UPDATE users SET full_name = '审核员（新）' WHERE username = 'shenhe'")
            user.full_name = "受理员（新）"
            uow.commit()

    rename()

    assert attempts == [False, True]
    names = {user.username: user.full_name for user in _users(ctx, "shouli", "shenhe")}
    assert names == {"shouli": "受理员（新）", "shenhe": "审核员（新）"}


def _users(ctx, *names):
    with ctx.uow(write=False) as uow:
        return [uow.users.get(name) for name in names]


@SQLITE_ONLY
def test_a_completion_overtaken_on_its_last_attempt_is_answered_409_and_writes_nothing(client, auth, ctx, staff,
                                                                                      monkeypatch):
    headers = auth("shouli")
    opened = client.post("/api/cases", json={"item_code": OUTPATIENT, "applicant": APPLICANT, "data": DATA},
                         headers=headers).get_json()
    original = CaseRun.complete

    def complete(self, task_id, values):
        _other_writer(ctx, "UPDATE cases SET row_version = row_version + 1 WHERE number = :n", n=opened["number"])
        return original(self, task_id, values)

    monkeypatch.setattr(CaseRun, "complete", complete)
    monkeypatch.setattr(retries, "ATTEMPTS", 1)
    task_id = opened["open_tasks"][0]["id"]
    response = client.post(f"/api/tasks/{task_id}/complete", json={"data": {"decision": "accept"}}, headers=headers)

    assert response.status_code == 409
    assert response.get_json()["error"] == {"code": "conflict", "message": "案件已被他人同时修改，请刷新后重试"}
    details = cases.case_details(ctx, staff["shouli"], opened["number"])
    assert details.case.stage == "受理"
    assert [entry.action for entry in details.history].count("completed") == 0


def test_a_case_opened_while_another_opening_runs_its_workflow_is_not_kept_waiting_and_takes_the_next_number(
        ctx, staff, monkeypatch):
    """The window takes a case's number in a short transaction of its own: a second clerk's opening goes through
    while the first one's workflow still runs (it held SQLite's write lock, or PostgreSQL's lock on the day's
    counter row, until its commit before)."""
    engine_type, original = type(ctx.engine), type(ctx.engine).start
    first_running, second_done, slow = threading.Event(), threading.Event(), []

    def start(self, definition, data, bindings):
        if threading.current_thread().name == "first":  # the first opening computes until the second is done
            first_running.set()
            slow.append(second_done.wait(timeout=20))
        return original(self, definition, data, bindings)

    monkeypatch.setattr(engine_type, "start", start)
    first: list = []
    opening = threading.Thread(name="first", target=lambda: first.append(
        cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)))
    opening.start()
    assert first_running.wait(timeout=20)
    second = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    second_done.set()
    opening.join()

    assert slow == [True]  # the second opening finished while the first was still running its workflow
    [first] = first
    assert (first.case.stage, second.case.stage) == ("受理", "受理")
    prefix, number = first.case.number.rsplit("-", 1)
    assert second.case.number == f"{prefix}-{int(number) + 1:05d}"
    assert [cases.case_details(ctx, staff["shouli"], p.case.number).case.id for p in (first, second)] == [
        first.case.id, second.case.id]


def test_an_opening_that_fails_after_taking_its_number_leaves_it_unused(ctx, staff, monkeypatch):
    """The number is committed as it is taken, so an opening that fails while its workflow runs burns it: the next
    case takes the one after, and no case has the burnt number."""
    before = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.number
    engine_type, original = type(ctx.engine), type(ctx.engine).start

    def broken(self, definition, data, bindings):
        raise RuntimeError("the engine failed")

    monkeypatch.setattr(engine_type, "start", broken)
    with pytest.raises(RuntimeError):
        cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    monkeypatch.setattr(engine_type, "start", original)
    after = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case

    prefix, number = before.rsplit("-", 1)
    assert after.number == f"{prefix}-{int(number) + 2:05d}"
    assert after.stage == "受理"
