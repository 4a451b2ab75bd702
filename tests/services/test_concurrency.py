"""Two people (or a person and a process) acting on one case at once: one wins, the other is told so.

Each actor runs in its own thread with its own database connection, as two web workers would; nothing but the
database keeps them apart.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from workflows.adapters.engine import CaseRun
from workflows.domain.errors import Conflict
from workflows.services import case_operations, cases, tasks, users

from support.process_driver import PERSON_ID

pytestmark = pytest.mark.both_databases  # the database matters here: SQLite and PostgreSQL

OUTPATIENT = "002036006001"
APPLICANT = {"name": "张伟", "id_number": PERSON_ID, "phone": "13804130001"}
DATA = {"expense_total": "800.00", "bank_account": "6222020712001234567"}


def _race(*actions):
    """Run the actions at once; return what each returned or raised."""
    with ThreadPoolExecutor(len(actions)) as pool:
        futures = [pool.submit(action) for action in actions]
    outcomes = []
    for future in futures:
        try:
            outcomes.append(future.result())
        except Exception as error:  # the point of the test: which one failed, and how
            outcomes.append(error)
    return outcomes


@pytest.fixture
def rendezvous(monkeypatch):
    """Hold each completion inside its transaction until the other has loaded the case too (where the database
    lets both in at once, as PostgreSQL does), so the race really overlaps."""
    arrived = threading.Barrier(2)
    original = CaseRun.complete

    def complete(self, task_id, values):
        try:
            arrived.wait(timeout=1)
        except threading.BrokenBarrierError:  # SQLite lets one writer in at a time: no overlap to wait for
            pass
        return original(self, task_id, values)

    monkeypatch.setattr(CaseRun, "complete", complete)


def test_two_clerks_completing_one_task_one_wins_the_other_gets_a_conflict(ctx, staff, rendezvous):
    second_acceptor = users.save_user(ctx, "shouli3", "第二受理员", "password123", "210400", "210400-01",
                                      ["acceptor"])
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    [task] = progress.open_tasks

    outcomes = _race(lambda: tasks.complete_task(ctx, staff["shouli"], task.id, {"decision": "accept"}),
                     lambda: tasks.complete_task(ctx, second_acceptor, task.id, {"decision": "refuse", "opinion": "非本市参保人员"}))

    winners = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
    assert len(winners) == 1
    assert [type(outcome) for outcome in outcomes if isinstance(outcome, Exception)] == [Conflict]
    details = cases.case_details(ctx, staff["shouli"], progress.case.number)
    assert [entry.action for entry in details.history].count("completed") == 1
    expected_stage = "审核" if winners[0].case.stage == "审核" else "办结"
    assert details.case.stage == expected_stage
    assert details.case.row_version == winners[0].case.row_version


def test_a_withdrawal_and_a_termination_of_one_case_at_once_one_closes_it_the_other_is_told(ctx, staff,
                                                                                             monkeypatch):
    """Both name the case by its number (get_for_update_by_number): the second sees the case as the first left it."""
    arrived, original = threading.Barrier(2), case_operations._close

    def close(*args):  # both inside their transaction, the case loaded, where the database lets both in at once
        try:
            arrived.wait(timeout=1)
        except threading.BrokenBarrierError:  # one waits for the other's lock (PostgreSQL) or its write (SQLite)
            pass
        return original(*args)

    monkeypatch.setattr(case_operations, "_close", close)
    number = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.number

    outcomes = _race(lambda: case_operations.withdraw_case(ctx, staff["shouli"], number, "申请人书面申请撤回"),
                     lambda: case_operations.terminate_case(ctx, staff["kezhang"], number, "申请人已死亡"))

    [winner] = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
    [refused] = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert isinstance(refused, Conflict) and "已办结" in str(refused)
    details = cases.case_details(ctx, staff["shouli"], number)
    assert (details.case.status, details.case.result) == ("closed", winner.case.result)
    assert details.case.row_version == winner.case.row_version


def test_two_clerks_claiming_one_task_one_gets_it(ctx, staff):
    second_acceptor = users.save_user(ctx, "shouli3", "第二受理员", "password123", "210400", "210400-01",
                                      ["acceptor"])
    [task] = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).open_tasks

    outcomes = _race(lambda: tasks.claim_task(ctx, staff["shouli"], task.id),
                     lambda: tasks.claim_task(ctx, second_acceptor, task.id))

    claimed = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
    assert len(claimed) == 1 and [type(o) for o in outcomes if isinstance(o, Exception)] == [Conflict]
    [task_now] = tasks.list_tasks(ctx, staff["shouli"])
    assert task_now.assignee == claimed[0].assignee


def test_case_numbers_stay_unique_and_consecutive_when_clerks_open_cases_at_once(ctx, staff):
    outcomes = _race(*[lambda: cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)] * 8)

    numbers = sorted(outcome.case.number for outcome in outcomes)
    assert [number[-5:] for number in numbers] == [f"{n:05d}" for n in range(1, 9)]
    assert all(number.startswith("210400-20261123-") for number in numbers)
