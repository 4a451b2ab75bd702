"""迁移 of every case a plan covers, as background work: the request records the run and returns, the scheduler's
rounds migrate it a batch at a time with its progress (migrated, not migrated with why, of how many); a worker that
dies or fails mid-batch is resumed past the last case it did, none migrated twice and none skipped; a plan runs
once at a time, however two requests meet."""
from __future__ import annotations

import threading

import pytest

from workflows.adapters.migration_plan_repository import MigrationPlanRepository
from workflows.domain.errors import Conflict
from workflows.services import case_migration as migration
from workflows.services import cases, migration_runs, outbox, processes

from support.cases import accept, complete_step as complete
from support.diagrams import OUTPATIENT_PROCESS, migration_target
from support.migration_runs import outcomes

pytestmark = pytest.mark.both_databases


@pytest.fixture
def admin_plan(ctx, staff, clock, built_once):
    """Four accepted cases on version 1, the second at 拨付 (which version 2 lacks: refused), and an administrator's
    plan to version 2; with the cases' numbers in the order of their ids. Built once per worker and database
    (built_once): a copy of it for every test."""
    return built_once("test_migration_runs.admin_plan", lambda: build_admin_plan(ctx, staff, clock))


def build_admin_plan(ctx, staff, clock):
    numbers = [accept(ctx, staff, clock, f"2026-11-23 09:{minute}") for minute in (10, 20, 30, 40)]
    complete(ctx, staff, "shenhe", numbers[1], "approve")
    source = processes.process_versions(ctx, OUTPATIENT_PROCESS)[0]
    target = processes.deploy_process(ctx, staff["sheji"], migration_target(), f"{OUTPATIENT_PROCESS}.bpmn")
    plan = migration.request_migration(ctx, staff["admin"], OUTPATIENT_PROCESS, source.version, target.version,
                                       None, "审核改名，拨付改由科室负责人审批")
    return plan, numbers


def progress_of(ctx, staff, plan, run):
    progress = migration_runs.run_progress(ctx, staff["admin"], plan.id, run.id)
    return progress.migrated, progress.failed, progress.left, progress.run.running


def version_of(ctx, staff, number: str) -> int:
    return cases.case_details(ctx, staff["kezhang"], number).process.version


def migrated_lines(ctx, staff, number: str) -> int:
    return [h.action for h in cases.case_details(ctx, staff["kezhang"], number).history].count("migrated")


def test_the_request_records_the_run_and_the_scheduler_migrates_it_batch_by_batch(ctx, staff, admin_plan,
                                                                                   monkeypatch):
    monkeypatch.setattr(migration_runs, "BATCH", 2)
    plan, numbers = admin_plan

    run = migration_runs.start_run(ctx, staff["admin"], plan.id)

    assert (run.total, run.started_by, run.running) == (4, "admin", True)
    assert progress_of(ctx, staff, plan, run) == (0, 0, 4, True)
    assert {version_of(ctx, staff, n) for n in numbers} == {1}  # nothing migrated in the request
    outbox.work_due(ctx)  # a round of the scheduler: one batch
    assert progress_of(ctx, staff, plan, run) == (1, 1, 2, True)
    [refused] = migration_runs.run_progress(ctx, staff["sheji"], plan.id).failures  # the latest run, for a designer
    assert refused.number == numbers[1] and "“拨付”（Task_pay）在目标版本中没有对应元素" in refused.error
    outbox.work_due(ctx)
    outbox.work_due(ctx)  # the batch after finds none left: the run ends
    assert progress_of(ctx, staff, plan, run) == (3, 1, 0, False)
    assert [version_of(ctx, staff, n) for n in numbers] == [2, 1, 2, 2]
    assert migration_runs.run_progress(ctx, staff["admin"], plan.id).run.finished_at is not None


def test_a_plan_runs_once_at_a_time_and_again_after_its_run_ended(ctx, staff, admin_plan):
    plan, numbers = admin_plan
    first = migration_runs.start_run(ctx, staff["admin"], plan.id)

    with pytest.raises(Conflict, match="该迁移计划正在后台执行，请等本次执行结束后再执行"):
        migration_runs.start_run(ctx, staff["admin"], plan.id)
    outbox.work_due(ctx)
    assert not migration_runs.run_progress(ctx, staff["admin"], plan.id, first.id).run.running

    again = migration_runs.start_run(ctx, staff["admin"], plan.id)

    assert again.total == 1  # the case refused the first time, still on version 1
    outbox.work_due(ctx)
    assert list(outcomes(ctx, again.id)) == [numbers[1]]
    mapped = migration.request_migration(ctx, staff["admin"], OUTPATIENT_PROCESS, 1, 2, {"Task_pay": "Task_pay_check"},
                                         "拨付改由科室负责人审批")
    assert migration.run_plan(ctx, staff["admin"], mapped.id, [numbers[1]])[0].migrated
    with pytest.raises(Conflict, match="源版本上没有本计划要迁移的在办案件"):  # no case left to move
        migration_runs.start_run(ctx, staff["admin"], plan.id)


def test_two_requests_to_run_a_plan_at_once_start_one_run(ctx, staff, admin_plan):
    plan, _ = admin_plan
    barrier, results = threading.Barrier(2), []

    def start():
        barrier.wait()
        try:
            results.append(migration_runs.start_run(ctx, staff["admin"], plan.id).id)
        except Conflict as error:
            results.append(str(error))

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    started = [r for r in results if isinstance(r, int)]
    assert len(started) == 1 and [r for r in results if r not in started] == [migration_runs.RUNNING], results


def test_a_run_started_between_the_look_and_the_write_is_refused_by_the_database(ctx, staff, admin_plan,
                                                                                  monkeypatch):
    """The one running run per plan is the database's rule too: a request that looked before the other's commit
    (its look finds none) is refused at its write, with the same words."""
    plan, _ = admin_plan
    first = migration_runs.start_run(ctx, staff["admin"], plan.id)
    monkeypatch.setattr(MigrationPlanRepository, "running_run", lambda self, plan_id: None)

    with pytest.raises(Conflict, match=migration_runs.RUNNING):
        migration_runs.start_run(ctx, staff["admin"], plan.id)

    assert migration_runs.run_progress(ctx, staff["admin"], plan.id).run.id == first.id


class WorkerDied(BaseException):
    """The scheduler process killed mid-batch: nothing catches it, its claim on the entry stays until the lease."""


@pytest.mark.parametrize("failure, wait", [(WorkerDied, {"minutes": 6}),  # the lease of the dead worker's claim
                                           (RuntimeError, {"minutes": 2})])  # the outbox's retry after a failure
def test_a_run_stopped_mid_batch_resumes_past_the_last_case_it_did(ctx, staff, clock, admin_plan, monkeypatch,
                                                                    failure, wait):
    monkeypatch.setattr(migration_runs, "BATCH", 3)
    plan, numbers = admin_plan
    add_outcome = MigrationPlanRepository.add_outcome

    def fail_at_the_third(self, run_id, case_id, outcome, at):
        if outcome.number == numbers[2]:
            raise failure("数据库连接中断")
        add_outcome(self, run_id, case_id, outcome, at)

    run = migration_runs.start_run(ctx, staff["admin"], plan.id)
    monkeypatch.setattr(MigrationPlanRepository, "add_outcome", fail_at_the_third)
    if failure is WorkerDied:
        with pytest.raises(WorkerDied):
            outbox.work_due(ctx)
    else:
        outbox.work_due(ctx)  # the entry fails: kept with its error for 后台任务, retried later
        [failed] = outbox.failures(ctx, staff["admin"])
        assert failed.label == "执行迁移计划（全部办件）" and "数据库连接中断" in failed.entry.last_error
    monkeypatch.setattr(MigrationPlanRepository, "add_outcome", add_outcome)

    assert progress_of(ctx, staff, plan, run) == (1, 1, 2, True)
    assert version_of(ctx, staff, numbers[2]) == 1  # rolled back with its outcome
    assert outbox.work_due(ctx) == 0  # not before the lease ends, or the retry is due
    clock.advance(**wait)
    while outbox.work_due(ctx):
        pass

    assert progress_of(ctx, staff, plan, run) == (3, 1, 0, False)
    assert list(outcomes(ctx, run.id)) == numbers  # each case once, in order: none skipped
    assert [migrated_lines(ctx, staff, n) for n in numbers] == [1, 0, 1, 1]  # none migrated twice


def test_a_supervisor_sees_the_failed_cases_of_their_own_hall_only(ctx, staff, admin_plan):
    """An administrator's plan covers every hall; the 科室负责人 of another hall sees its progress, but not the
    numbers of cases that are not theirs, as the plan's list of cases shows them none."""
    plan, numbers = admin_plan
    run = migration_runs.start_run(ctx, staff["admin"], plan.id)
    while migration_runs.run_progress(ctx, staff["admin"], plan.id, run.id).run.running:
        outbox.work_due(ctx)

    own = migration_runs.run_progress(ctx, staff["kezhang"], plan.id, run.id)
    other = migration_runs.run_progress(ctx, staff["kezhang2"], plan.id, run.id)

    assert [o.number for o in own.failures] == [numbers[1]]  # refused: at 拨付, which version 2 lacks
    assert (other.migrated, other.failed, other.failures) == (own.migrated, own.failed, [])
