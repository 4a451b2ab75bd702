"""The SQL a command sends: what a process caches (the parsed catalog, the working calendar) follows what another
process publishes, a command pays for that check with one small query however often it consults them, and the
checks of a task's 委派/加签/督办 cost one query when there are none."""
from __future__ import annotations

import re
import shutil
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import sessionmaker

from workflows.adapters import orm
from workflows.adapters.database import make_engine
from workflows.services import calendar, catalog, cases, tasks
from workflows.bootstrap import bootstrap
from workflows.domain.model import CANCELLED, COMPLETED, READY
from workflows.services.context import Context

from support.cases import APPLICANT, DATA, OUTPATIENT as ITEM
from support.libpq import waits, waits_sent
from support.paths import CATALOG_DIR
from support.process_driver import drive
from support.statements import statements_of

pytestmark = pytest.mark.both_databases  # the database matters here: SQLite and PostgreSQL

AGENCY = "210400"


def other_process(ctx: Context, clock) -> Context:
    """A second process on the same database: its own engine, its own caches."""
    return bootstrap(sessionmaker(make_engine(str(ctx.session_factory.kw["bind"].url)), expire_on_commit=False),
                     engine=ctx.engine, clock=clock)


def renamed_catalog(tmp_path, name: str):
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, target)
    items = target / "items.yaml"
    items.write_text(items.read_text(encoding="utf-8").replace("name: 门诊费用报销", f"name: {name}"),
                     encoding="utf-8")
    return target


def test_a_catalog_another_process_loads_is_the_one_this_process_uses_next(ctx, clock, tmp_path):
    assert catalog.get_agency_item(ctx, AGENCY, ITEM).name == "门诊费用报销"  # parsed and cached here
    clock.advance(minutes=1)
    other = other_process(ctx, clock)
    catalog.load_catalog(other, renamed_catalog(tmp_path, "门诊费用报销（新）"))
    assert catalog.get_agency_item(ctx, AGENCY, ITEM).name == "门诊费用报销（新）"
    other.session_factory.kw["bind"].dispose()


def test_a_calendar_another_process_publishes_is_the_one_this_process_uses_next(ctx, staff, clock):
    assert not calendar.calendar_year(ctx, 2031).covered  # built and cached here
    other = other_process(ctx, clock)
    calendar.publish_year(other, staff["admin"], 2031, [date(2031, 1, 1)], [], "国办发明电〔2030〕X号")
    year = calendar.calendar_year(ctx, 2031)
    assert year.covered and year.holidays == [date(2031, 1, 1)]
    calendar.correct_day(other, staff["admin"], date(2031, 1, 2), False, "补休", "国办发明电〔2030〕Y号")
    assert calendar.calendar_year(ctx, 2031).holidays == [date(2031, 1, 1), date(2031, 1, 2)]
    other.session_factory.kw["bind"].dispose()


def test_a_reload_in_this_process_is_seen_in_the_same_transaction(ctx, clock, tmp_path):
    """A use case that loads a catalog and reads it in one unit of work sees what it loaded."""
    with ctx.uow() as uow:
        assert ctx.catalog(uow).agency(AGENCY).item(ITEM).name == "门诊费用报销"
        clock.advance(minutes=1)
        uow.catalog.replace({**uow.catalog.documents()} | _renamed(uow, "门诊费用报销（改）"), ctx.now())
        assert ctx.catalog(uow).agency(AGENCY).item(ITEM).name == "门诊费用报销（改）"


def _renamed(uow, name: str) -> dict:
    items = uow.catalog.documents()["items.yaml"]
    for item in items["items"]:
        if item.get("code") == ITEM:
            item["name"] = name
    return {"items.yaml": items}


def test_a_command_checks_the_catalog_and_calendar_versions_once(ctx, staff, clock):
    clerk = staff["shouli"]
    progress = cases.open_case(ctx, clerk, ITEM, APPLICANT, DATA)
    clock.advance(minutes=5)
    [task] = progress.open_tasks
    for command in (lambda: cases.open_case(ctx, clerk, ITEM, APPLICANT, DATA),
                    lambda: tasks.complete_task(ctx, clerk, task.id, {"decision": "accept"})):
        seen = statements_of(ctx, command)
        reads = [s for s in seen if "catalog_documents" in s or "calendar_changes" in s]
        assert len(reads) == 1, reads


def test_completing_a_task_nobody_else_has_a_part_in_checks_that_in_one_query(ctx, staff, clock):
    clerk = staff["shouli"]
    [task] = cases.open_case(ctx, clerk, ITEM, APPLICANT, DATA).open_tasks
    seen = statements_of(ctx, lambda: tasks.complete_task(ctx, clerk, task.id, {"decision": "accept"}))
    checks = [s for s in seen if any(name in s for name in ("task_requests", "task_submissions", "task_supervisions"))]
    assert len(checks) == 1, checks
    reads_of_the_task = [s for s in seen if s.lstrip().startswith("SELECT case_tasks.")]
    assert len(reads_of_the_task) == 1, reads_of_the_task  # the task with its case's open tasks, once


def test_opening_a_case_writes_its_row_once_as_its_workflow_left_it(ctx, staff, clock):
    seen = statements_of(ctx, lambda: cases.open_case(ctx, staff["shouli"], ITEM, APPLICANT, DATA))
    writes_of_the_case = [s for s in seen if s.lstrip().startswith(("INSERT INTO cases ", "UPDATE cases "))]
    assert len(writes_of_the_case) == 1 and writes_of_the_case[0].lstrip().startswith("INSERT"), writes_of_the_case
    [case] = cases.search_cases(ctx, staff["shouli"])
    assert (case.stage, case.status) == ("受理", "open") and case.workflow_state  # the row as the command left it
    assert [task.stage for task in cases.case_details(ctx, staff["shouli"], case.number).tasks] == ["受理"]


def test_a_command_on_a_task_loads_its_case_the_tasks_and_the_limits_once(ctx, staff, clock):
    """uow.cases.get_for_update: on PostgreSQL the case locked, then its open tasks with who else has a part in the
    task and, once accepted, its limits, in one query; on SQLite all of it in one query; nothing of it is read
    again in the command."""
    progress = cases.open_case(ctx, staff["shouli"], ITEM, APPLICANT, DATA)
    review = tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"})
    [task] = review.open_tasks
    seen = statements_of(ctx, lambda: tasks.complete_task(ctx, staff["shenhe"], task.id, {"decision": "approve"}))
    reads = [s.lstrip().split()[1] for s in seen if s.lstrip().startswith("SELECT")]
    postgresql = ctx.session_factory.kw["bind"].dialect.name == "postgresql"
    assert reads == (["cases.id,"] if postgresql else []) + ["case_tasks.id,"], reads
    assert not [s for s in seen if "FROM case_deadlines" in s]


def test_a_cases_timer_rows_follow_its_timers_and_only_changes_are_written(ctx, staff, clock):
    progress = cases.open_case(ctx, staff["shouli"], ITEM, APPLICANT, DATA)
    case_id, first, later = progress.case.id, clock.now + timedelta(days=1), clock.now + timedelta(days=2)

    def replaced(timers) -> tuple[dict, list[str]]:
        with ctx.uow() as uow:
            def replace_and_commit() -> None:  # the rows are written at commit (execute_at_commit)
                uow.timers.replace(case_id, timers)
                uow.commit()
            seen = statements_of(ctx, replace_and_commit)
        with ctx.uow(write=False) as uow:
            rows = uow.session.execute(orm.case_timers.select().where(orm.case_timers.c.case_id == case_id))
            return {row.task_id: row.due_at for row in rows}, seen

    assert replaced([("a", first), ("b", first)])[0] == {"a": first, "b": first}
    rows, seen = replaced([("b", first), ("c", later)])
    assert rows == {"b": first, "c": later} and len(seen) == 2  # no read: a delete of "a", an upsert of "c"
    assert replaced([("b", later)])[0] == {"b": later}  # moved
    rows, seen = replaced([])
    assert rows == {} and len(seen) == 1


def _timer_rows(ctx, case_id: int) -> dict:
    with ctx.uow(write=False) as uow:
        rows = uow.session.execute(orm.case_timers.select().where(orm.case_timers.c.case_id == case_id))
        return {row.task_id: row.due_at for row in rows}


def test_a_command_that_moves_no_timer_writes_no_timer_row(ctx, staff, clock):
    progress = cases.open_case(ctx, staff["shouli"], ITEM, APPLICANT, DATA)
    review = tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"})
    accepted = _timer_rows(ctx, progress.case.id)
    assert len(accepted) == 3  # the limits' timers, armed at 受理
    [task] = review.open_tasks
    seen = statements_of(ctx, lambda: tasks.complete_task(ctx, staff["shenhe"], task.id, {"decision": "approve"}))
    assert not [s for s in seen if "case_timers" in s or "case_message_waits" in s]
    assert _timer_rows(ctx, progress.case.id) == accepted  # and the scheduler still finds them


def test_a_case_the_scheduler_set_aside_has_its_timer_rows_again_once_retried(ctx, staff, clock):
    """The scheduler takes a failing case's timers out of its table (services/scheduler.py): a retry that leaves
    the workflow's timers as they were must write them back all the same."""
    from workflows.services import case_operations, scheduler

    progress = cases.open_case(ctx, staff["shouli"], ITEM, APPLICANT, DATA)
    tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"})
    accepted = _timer_rows(ctx, progress.case.id)
    scheduler._set_aside(ctx, progress.case.id, RuntimeError("定时器出错"))
    assert _timer_rows(ctx, progress.case.id) == {}
    case_operations.retry_case(ctx, staff["kezhang"], progress.case.number, "已排除故障")
    assert _timer_rows(ctx, progress.case.id) == accepted


def _flow_statements(ctx: Context, staff, measure=statements_of) -> dict:
    """The statements of each command of the bench's flow (申请—受理—审核—拨付), its PDFs' kick after the commit
    included (or what else `measure(ctx, command)` tells of each)."""
    clerks = {"受理": staff["shouli"], "审核": staff["shenhe"], "拨付": staff["caiwu"]}
    decisions = {"受理": "accept", "审核": "approve", "拨付": "pay"}
    progress = []  # what the last command returned
    seen = {"open": measure(ctx, lambda: progress.append(
        cases.open_case(ctx, staff["shouli"], ITEM, APPLICANT, DATA)))}
    while progress[-1].open_tasks:
        [task] = progress[-1].open_tasks
        seen[task.stage] = measure(ctx, lambda: progress.append(tasks.complete_task(
            ctx, clerks[task.stage], task.id, {"decision": decisions[task.stage]})))
    assert progress[-1].case.result == "办结"
    return seen


def test_each_command_of_the_flow_reads_its_case_once_and_sends_only_its_writes(ctx, staff, clock):
    """What bench/case_throughput.py counts per command: the reads are the one load (and at 受理 the national
    platform's answer, a stand-in kept in the database); the rest are the writes, the outbox rows of a command in
    one INSERT, and the kick that keeps its PDFs reads nothing back."""
    cases.open_case(ctx, staff["shouli"], ITEM, APPLICANT, DATA)  # what a process caches, cached
    seen = _flow_statements(ctx, staff)
    postgresql = ctx.session_factory.kw["bind"].dialect.name == "postgresql"
    load = ["cases.id,", "case_tasks.id,"] if postgresql else ["case_tasks.id,"]
    reads = {name: [s.lstrip().split()[1] for s in statements if s.lstrip().startswith("SELECT")]
             for name, statements in seen.items()}
    assert reads == {"open": ["(SELECT"], "受理": [*load, "local_platform_people.id_number,"], "审核": load,
                     "拨付": load}, reads
    outbox_rows = {name: len([s for s in statements if s.lstrip().startswith("INSERT INTO outbox")])
                   for name, statements in seen.items()}
    assert outbox_rows == {"open": 0, "受理": 1, "审核": 0, "拨付": 1}, outbox_rows
    counts = {name: len(statements) for name, statements in seen.items()}
    begins = 0 if postgresql else 1  # SQLite's BEGIN is a statement of its own; PostgreSQL's driver sends it
    # PostgreSQL's case number commits apart, without waiting for its WAL flush (a SET LOCAL; database.committed_apart)
    number_apart = 1 if postgresql else 0
    # the statistics' counts are one statement a commit, whatever tables they add to (count_changes, migration 0054)
    assert counts == {"open": 7 + begins + number_apart, "受理": 14 + 2 * begins + len(load),
                      "审核": 5 + begins + len(load), "拨付": 12 + 2 * begins + len(load)}, counts
    counting = {name: len([s for s in statements if "_counts" in s or "count_changes" in s])
                for name, statements in seen.items()}
    assert counting == {"open": 1, "受理": 1, "审核": 1, "拨付": 1}, counting



@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_on_postgresql_each_command_of_the_flow_waits_for_the_server_only_where_it_reads_an_answer(
        ctx, staff, tmp_path):
    """A round trip is a wait for the server (libpq's trace: a Sync, or a Query of the simple protocol). BEGIN is
    none of its own: it goes with the transaction's first statement (database.BeginInTheFirstFlight); nor is the
    case's versioned UPDATE: the server checks its row version (database.one_row_or_stale)."""
    cases.open_case(ctx, staff["shouli"], ITEM, APPLICANT, DATA)  # what a process caches, cached
    seen = _flow_statements(ctx, staff, lambda ctx, command: _messages(ctx, command, tmp_path))
    # open: the catalog's version with BEGIN, its number apart (the SET LOCAL with the upsert, then the COMMIT), then
    # the opening's commit; 受理 and 拨付 render their PDFs after the commit (kick inline), in transactions of their own
    assert {name: waits(messages) for name, messages in seen.items()} == {"open": 4, "受理": 9, "审核": 3, "拨付": 8}
    assert not [line for messages in seen.values() for line in messages if "BEGIN" in line and "\tQuery\t" in line]


def _messages(ctx: Context, command, tmp_path) -> list[str]:
    with waits_sent(ctx.session_factory.kw["bind"], tmp_path) as messages:
        command()
    return messages


def test_claiming_releasing_and_reassigning_a_task_read_it_with_its_case_once(ctx, staff, clock):
    """The task, its case and who else has a part in it come in the one load (on PostgreSQL the case, then the
    rest); the change of hands is a conditional update. (改派 reads besides the person given it and their
    substitutions.)"""
    [task] = cases.open_case(ctx, staff["shouli"], ITEM, APPLICANT, DATA).open_tasks
    postgresql = ctx.session_factory.kw["bind"].dialect.name == "postgresql"
    load = ["cases.id,", "case_tasks.id,"] if postgresql else ["case_tasks.id,"]
    for command in (lambda: tasks.claim_task(ctx, staff["shouli"], task.id),
                    lambda: tasks.release_task(ctx, staff["shouli"], task.id),
                    lambda: tasks.reassign_tasks(ctx, staff["kezhang"], [task.id], "shouli")):
        seen = statements_of(ctx, command)
        reads = [s.lstrip().split()[1] for s in seen if s.lstrip().startswith("SELECT")]
        assert [r for r in reads if r.startswith(("cases.", "case_tasks.", "EXISTS"))] == load, reads
    assert tasks.task_details(ctx, staff["shouli"], task.id).task.assignee == "shouli"


def test_a_task_operation_reads_the_task_with_its_case_once(ctx, staff, clock):
    """催办 and 转办 load the task, its case and who else has a part in it once, for update; what they read besides
    is whom they tell or give it to."""
    from workflows.services import task_operations

    [task] = cases.open_case(ctx, staff["shouli"], ITEM, APPLICANT, DATA).open_tasks
    postgresql = ctx.session_factory.kw["bind"].dialect.name == "postgresql"
    load = ["cases.id,", "case_tasks.id,"] if postgresql else ["case_tasks.id,"]
    for command in (lambda: task_operations.urge_task(ctx, staff["kezhang"], task.id, "请尽快办理"),
                    lambda: task_operations.transfer_task(ctx, staff["shouli"], task.id, "clerk_210400_01", "外出")):
        seen = statements_of(ctx, command)
        reads = [s.lstrip().split()[1] for s in seen if s.lstrip().startswith("SELECT")]
        assert [r for r in reads if r.startswith(("cases.", "case_tasks.", "EXISTS"))] == load, reads
    assert tasks.task_details(ctx, staff["kezhang"], task.id).task.assignee == "clerk_210400_01"


def test_a_signature_that_releases_a_held_submission_reads_the_task_and_its_requests_once(ctx, staff, clock):
    """加签: the request's task, its case, its requests and the held submission come with the one load (the
    request's own row first, to know its task); the step then moves on without reading any of them again."""
    from workflows.services import task_operations

    progress = cases.open_case(ctx, staff["shouli"], ITEM, APPLICANT, DATA)
    [review] = tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"}).open_tasks
    request = task_operations.add_signer(ctx, staff["shenhe"], review.id, "kezhang", "after", "请科长复核")
    tasks.complete_task(ctx, staff["shenhe"], review.id, {"decision": "approve", "opinion": "票据齐全"})
    outcome = []
    seen = statements_of(ctx, lambda: outcome.append(
        task_operations.sign(ctx, staff["kezhang"], request.id, "agree", "同意报销")))
    assert outcome[0].progress.case.stage == "拨付"
    reads = [s.lstrip().split()[1] for s in seen if s.lstrip().startswith("SELECT")]
    postgresql = ctx.session_factory.kw["bind"].dialect.name == "postgresql"
    load = ["cases.id,", "case_tasks.id,"] if postgresql else ["case_tasks.id,"]
    assert [r for r in reads if r.startswith(("cases.", "case_tasks.", "EXISTS"))] == load, reads
    of_requests = [r for r in reads if r.startswith(("task_requests.", "task_submissions.", "task_supervisions."))]
    assert of_requests == ["task_requests.task_id", "task_requests.id,", "task_submissions.task_id,"], reads


def test_a_command_on_a_case_named_by_its_number_loads_it_once(ctx, staff, clock):
    """uow.cases.get_for_update_by_number: a 中止 and a 恢复 (the web and the API name the case by its number) load
    the case with its open tasks and limits once, for update: on PostgreSQL the case locked by its number, then the
    rest; on SQLite one query; its pauses are read only once it has any, and nothing of it is read again."""
    from workflows.services import case_operations, time_limits

    progress = cases.open_case(ctx, staff["shouli"], ITEM, APPLICANT, DATA)
    number = progress.case.number
    tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"})
    postgresql = ctx.session_factory.kw["bind"].dialect.name == "postgresql"
    load = ["cases.id,", "case_tasks.id,"] if postgresql else ["case_tasks.id,"]
    for command, pauses in ((lambda: time_limits.pause_clock(ctx, staff["kezhang"], number, "suspension", "待司法鉴定"),
                             []),
                            (lambda: time_limits.resume_clock(ctx, staff["kezhang"], number), ["case_pauses.id,"])):
        seen = statements_of(ctx, command)
        reads = [s.lstrip().split()[1] for s in seen if s.lstrip().startswith("SELECT")]
        assert [r for r in reads if r.startswith(("cases.", "case_tasks.", "case_pauses.", "EXISTS"))] == \
            load + pauses, reads
        assert not [s for s in seen if "FROM case_deadlines" in s]
    assert not case_operations.is_suspended(ctx, staff["kezhang"], number)


def _partial_index_columns() -> list[tuple[str, str]]:
    """(table, column) of each partial index whose condition compares a column with a constant (state = 'ready')."""
    found = []
    for table in orm.metadata.tables.values():
        for index in table.indexes:
            condition = index.dialect_options["sqlite"]["where"]
            for column in table.columns if condition is not None else ():
                if re.search(rf"\b{column.name} *(=|<>|!=) *'", str(condition)):
                    found.append((table.name, column.name))
    return found


def test_a_commands_statements_bind_no_value_a_partial_index_names(ctx, staff, clock):
    """SQLite prepares a statement again at every execution where a bound value stands in the place of a partial
    index's constant (the planner decides by the value whether the index serves), and the command's load of its
    case is the longest statement it sends: the constants are written into the SQL (repository.written_in). So
    are the inbox's reads, whatever its tab."""
    clerk = staff["shouli"]
    seen = statements_of(ctx, lambda: cases.open_case(ctx, clerk, ITEM, APPLICANT, DATA))
    [task] = cases.open_case(ctx, clerk, ITEM, APPLICANT, DATA).open_tasks
    seen += statements_of(ctx, lambda: tasks.complete_task(ctx, clerk, task.id, {"decision": "accept"}))
    for state in (READY, COMPLETED, CANCELLED):  # the inbox's tabs: a read each clerk sends all day
        seen += statements_of(ctx, lambda: tasks.list_tasks(ctx, clerk, state=state))
    seen += statements_of(ctx, lambda: tasks.next_task(ctx, clerk, task.id))
    assert tasks.list_tasks(ctx, clerk, state="ready' OR '1'='1") == []  # no state: bound, and matching nothing
    columns = _partial_index_columns()
    assert ("case_tasks", "state") in columns
    bound = [(statement, column) for statement in seen for table, column in columns
             if re.search(rf"\b{table}\.{column} *(=|<>|!=) *(\?|%\(\w+\)s)", statement)]
    assert not bound, bound


def test_the_recompute_after_a_calendar_change_walks_the_open_cases_not_every_limit(ctx, staff, clock):
    """A batch of the recompute (time_limits.recompute_batch) takes the next open cases with a running limit by id;
    closed cases (every limit met) are left out by the index of open cases, not read limit by limit: at a million
    cases they hold the low ids, and the first batch would otherwise walk all their limits."""
    clerk = staff["shouli"]
    closed = drive(ctx, staff["clerk_210400_01"], ITEM).case  # a clerk of every role works it to 办结
    running = [cases.open_case(ctx, clerk, ITEM, APPLICANT, DATA).case for _ in range(3)]
    for case in running[:2]:  # accepted: their promised and statutory limits run (the third has none yet)
        [task] = [t for t in tasks.list_tasks(ctx, clerk) if t.case_number == case.number]
        tasks.complete_task(ctx, clerk, task.id, {"decision": "accept"})
    with ctx.uow(write=False) as uow:
        found = []
        seen = statements_of(ctx, lambda: found.extend(uow.deadlines.cases_with_unmet(after=closed.id - 1,
                                                                                       limit=1)))
        assert found == [running[0].id]
        assert uow.deadlines.cases_with_unmet(after=running[0].id, limit=10) == [running[1].id]
        if ctx.session_factory.kw["bind"].dialect.name == "sqlite":
            [statement] = [s for s in seen if "case_deadlines" in s]
            plan = uow.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                           (closed.id - 1, 1, 0)).all()
            assert "ix_cases_open_id" in plan[0][-1], plan
