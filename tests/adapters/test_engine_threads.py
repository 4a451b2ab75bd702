"""One engine serves all the threads of a gunicorn worker (4 a worker): its commands dump and restore workflows at
once, and each must store what it would alone."""
from __future__ import annotations

import sys
import threading
from datetime import date

import pytest

from workflows.adapters.engine import Engine
from workflows.adapters.workflow_state import WorkflowByReferenceConverter

from adapters.test_engine import _definition, bindings, calls, clocked, limits  # noqa: F401 - fixtures

OUTPATIENT = "item_002036006001"
THREADS, ROUNDS = 4, 40
REST_DAYS = {date(2026, 10, 1), date(2026, 10, 2)}  # a script's set of dates (休息日), in the data of a case that ends


def _case_at(engine, clocked, steps: list[tuple[str, dict]]):
    run = engine.start(_definition(engine, OUTPATIENT), {"applicant": dict(clocked.applicant),
                                                        "expense_total": "800.00",
                                                        "bank_account": "6222020712001234567"}, clocked)
    for decision, values in steps:
        [task] = run.ready_tasks()
        run.complete(task.id, {"decision": decision, **values})
    return run


def _ended(engine, clocked):
    return _case_at(engine, clocked, [("accept", {}), ("approve", {"rest_days": REST_DAYS}), ("pay", {})])


def _outcome(command) -> str:
    """What a command gives, or what it fails with."""
    try:
        return command()
    except Exception as error:  # noqa: BLE001 - a thread's failure, to compare
        return repr(error)


def test_a_dump_stores_what_it_would_alone_though_another_thread_dumps_meanwhile(clocked, monkeypatch):
    # The GIL may hand over anywhere: here, as one thread's dump begins, until another thread's dump is done.
    begun, other_done = threading.Event(), threading.Event()
    to_dict = WorkflowByReferenceConverter.to_dict

    def handing_over(self, workflow):
        if threading.current_thread().name == "interrupted":
            begun.set()
            other_done.wait(timeout=10)
        return to_dict(self, workflow)

    monkeypatch.setattr(WorkflowByReferenceConverter, "to_dict", handing_over)
    engine = Engine()  # (its serializer takes the converter's to_dict as it is built)
    ended, other = _ended(engine, clocked), _case_at(engine, clocked, [])
    alone, found = engine.dump(ended), []
    interrupted = threading.Thread(name="interrupted", target=lambda: found.append(_outcome(lambda: engine.dump(ended))))
    interrupted.start()
    assert begun.wait(timeout=10)
    engine.dump(other)
    other_done.set()
    interrupted.join()
    assert found == [alone]


@pytest.fixture
def switching_often():
    """Threads take turns every microsecond or so, not every 5 ms: a race shows within a few rounds."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def test_threads_dumping_and_restoring_at_once_store_what_one_thread_does(clocked, switching_often):
    engine = Engine()
    ended = [_ended(engine, clocked) for _ in range(THREADS)]
    along = [engine.dump(_case_at(engine, clocked, steps)) for steps in ([], [("accept", {})])]
    alone = [engine.dump(run) for run in ended]
    assert all(run.completed for run in ended)
    start, found = threading.Barrier(THREADS), [[] for _ in range(THREADS)]

    def commands(mine: int) -> None:
        start.wait()
        definition = ended[mine].definition
        for _ in range(ROUNDS):
            found[mine].append(_outcome(lambda: engine.dump(ended[mine])) == alone[mine])
            found[mine] += [_outcome(lambda: engine.dump(engine.resume(definition, state, clocked))) == state
                            for state in along]

    threads = [threading.Thread(target=commands, args=(mine,)) for mine in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [set(results) for results in found] == [{True}] * THREADS  # (each thread: every dump as alone)
