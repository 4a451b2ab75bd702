"""迁移 of running 门诊费用报销 cases to a new version that renames 审核 (初审), removes 拨付 and adds 拨付审批 in the
supervisor's lane: which cases can move and why not, the approval, the move itself (data, limits, history and inbox
rows kept, renamed or re-routed), nothing half-migrated, two migrations of one case at once."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from workflows.adapters.workflow_migration import WorkflowMigration
from workflows.domain.errors import Conflict, Forbidden, InvalidInput
from workflows.domain.model import CLOSED
from workflows.services import case_migration as migration
from workflows.services import cases, materials, migration_runs, processes, tasks, users
from workflows.services import task_operations as operations

from support.cases import (APPLICANT, accept, at, complete_step as complete, limits, open_path_rows, reminder_due,
                           timers_due)
from support.diagrams import OUTPATIENT_PROCESS, migration_target, review_reminder
from support.migration_runs import run_on_all
from support.paths import BPMN_DIR

pytestmark = pytest.mark.both_databases
REASON = "审核环节改名，拨付改由科室负责人审批"



def open_rows(ctx, staff, number):
    return sorted((t.name, t.role, t.assignee) for t in open_path_rows(ctx, staff, number))


@pytest.fixture
def stages(ctx, staff, clock, built_once):
    """Cases at each stage of version 1, then version 2 deployed: number by where each stands. Built once per worker
    and database (built_once): a copy of it for every test."""
    return built_once("test_case_migration.stages", lambda: build_stages(ctx, staff, clock))


def build_stages(ctx, staff, clock):
    at_accept = cases.open_case(ctx, staff["shouli"], "002036006001", {"name": "李明", "id_number": "210402198001011239"},
                                {"expense_total": "600.00", "bank_account": "6222020712001234567"}).case.number
    at_review = accept(ctx, staff, clock, "2026-11-23 09:30")
    at_pay = accept(ctx, staff, clock, "2026-11-23 09:40")
    complete(ctx, staff, "shenhe", at_pay, "approve")
    refused = cases.open_case(ctx, staff["shouli"], "002036006001", {"name": "王五", "id_number": "210402198001011239"},
                              {"expense_total": "500.00", "bank_account": "6222020712001234567"}).case.number
    complete(ctx, staff, "shouli", refused, "refuse", opinion="材料不全")
    other_hall = cases.open_case(ctx, staff["shouli2"], "002036006001", APPLICANT,  # 大厅 02's
                                 {"expense_total": "300.00", "bank_account": "6222020712001234567"}).case.number
    versions = processes.process_versions(ctx, OUTPATIENT_PROCESS)
    target = processes.deploy_process(ctx, staff["sheji"], migration_target(), f"{OUTPATIENT_PROCESS}.bpmn")
    return {"accept": at_accept, "review": at_review, "pay": at_pay, "refused": refused, "other_hall": other_hall,
            "source": versions[0].version, "target": target.version}


def plan(ctx, staff, stages, who="sheji", mapping=None):
    return migration.request_migration(ctx, staff[who], OUTPATIENT_PROCESS, stages["source"], stages["target"],
                                       mapping, REASON)


def test_the_plan_lists_which_open_cases_can_move_and_why_the_others_cannot(ctx, staff, stages):
    details = migration.plan_details(ctx, staff["sheji"], plan(ctx, staff, stages).id)

    by_number = {c.number: c for c in details.candidates}
    assert stages["refused"] not in by_number  # closed: nothing to move
    assert by_number[stages["accept"]].refusal is None and by_number[stages["accept"]].at == ("受理",)
    assert by_number[stages["review"]].refusal is None and by_number[stages["review"]].at == ("审核",)
    refusal = by_number[stages["pay"]].refusal
    assert "当前所在的“拨付”（Task_pay）在目标版本中没有对应元素" in refusal
    assert "可映射到“Task_pay_check”" in refusal  # SpiffWorkflow's diff found it by its neighbours


def test_a_designers_plan_runs_only_once_a_supervisor_approved_it(ctx, staff, stages):
    designed = plan(ctx, staff, stages)
    assert designed.approved_by is None
    with pytest.raises(Conflict, match="尚未经科室负责人批准"):
        migration_runs.start_run(ctx, staff["sheji"], designed.id)
    with pytest.raises(Forbidden):
        migration.approve_plan(ctx, staff["sheji"], designed.id)
    with pytest.raises(Forbidden):  # a clerk neither
        migration.approve_plan(ctx, staff["shouli"], designed.id)
    migration.approve_plan(ctx, staff["kezhang"], designed.id)
    with pytest.raises(Forbidden):  # only who asked for it, or an administrator, runs it
        migration_runs.start_run(ctx, staff["kezhang"], designed.id)

    outcomes = run_on_all(ctx, staff["sheji"], designed.id)

    assert outcomes[stages["accept"]].migrated and outcomes[stages["review"]].migrated
    assert not outcomes[stages["pay"]].migrated and "Task_pay" in outcomes[stages["pay"]].error
    review = cases.case_details(ctx, staff["kezhang"], stages["review"])
    assert review.process.version == stages["target"]
    assert open_rows(ctx, staff, stages["review"]) == [("初审", "reviewer", None)]  # renamed in the inbox
    line = review.history[-1]
    assert line.action == "migrated" and "孙科长批准" in line.message and REASON in line.message
    assert line.actor == "sheji"
    pay = cases.case_details(ctx, staff["kezhang"], stages["pay"])  # refused: exactly as it was
    assert pay.process.version == stages["source"] and open_rows(ctx, staff, stages["pay"]) == [
        ("拨付", "finance", None)]


def test_the_approver_answers_for_the_cases_of_their_own_hall_and_never_for_their_own_plan(ctx, staff, stages):
    """A 科室负责人 whose hall holds none of the plan's open cases may not approve it; one who drafted it neither;
    the approval of 孙科长 (大厅 01) moves the cases of that hall only: the other hall's is listed as refused."""
    other = stages["other_hall"]
    designed = plan(ctx, staff, stages)
    users.save_user(ctx, "sheke", "钱科长", "password123", "210400", "210400-03", ["supervisor"])
    with pytest.raises(Forbidden, match="您所在大厅没有该计划要迁移的在办案件，须由案件所在大厅（.+）的科室负责人批准"):
        migration.approve_plan(ctx, users.get_user(ctx, "sheke"), designed.id)
    users.save_user(ctx, "sheji", "钱设计", "password123", "210400", "210400-01", ["designer", "supervisor"])
    own = plan(ctx, staff, stages)
    with pytest.raises(Forbidden, match="不能批准本人提出的迁移计划"):
        migration.approve_plan(ctx, users.get_user(ctx, "sheji"), own.id)

    seen = {c.number for c in migration.plan_details(ctx, staff["kezhang2"], designed.id).candidates}
    assert seen == {other}  # a supervisor sees the cases of his own hall
    approved = migration.approve_plan(ctx, staff["kezhang"], designed.id)

    assert approved.approved_hall == staff["kezhang"].hall_code
    with pytest.raises(Conflict, match="已批准"):
        migration.approve_plan(ctx, staff["kezhang2"], designed.id)
    listed = {c.number: c for c in migration.plan_details(ctx, staff["sheji"], designed.id).candidates}
    assert "只迁移该大厅的案件" in listed[other].refusal and listed[stages["review"]].refusal is None
    outcomes = run_on_all(ctx, staff["sheji"], designed.id)
    assert other not in outcomes and outcomes[stages["review"]].migrated  # all it covers: its hall's
    with pytest.raises(Conflict, match="本计划经.+科室负责人批准，只迁移该大厅的案件"):
        migration.migrate_case(ctx, staff["sheji"], designed.id, other)
    assert cases.case_details(ctx, staff["kezhang2"], other).process.version == stages["source"]


def test_running_a_plan_on_all_its_cases_reads_on_past_a_page(ctx, staff, clock, monkeypatch):
    """"Run on all" reads the open cases a batch at a time by id, while the ones read so far leave the version: every
    case moves, none twice, however many batches they fill."""
    monkeypatch.setattr(migration_runs, "BATCH", 1)  # a batch of one stands for one of 50
    numbers = [accept(ctx, staff, clock, f"2026-11-23 09:{minute}") for minute in (30, 40, 50)]
    source = processes.process_versions(ctx, OUTPATIENT_PROCESS)[0]
    target = processes.deploy_process(ctx, staff["sheji"], migration_target(), f"{OUTPATIENT_PROCESS}.bpmn")
    admin_plan = migration.request_migration(ctx, staff["admin"], OUTPATIENT_PROCESS, source.version,
                                             target.version, None, REASON)

    outcomes = run_on_all(ctx, staff["admin"], admin_plan.id)

    assert [(o.number, o.migrated) for o in outcomes.values()] == [(number, True) for number in numbers]
    assert {cases.case_details(ctx, staff["kezhang"], n).process.version for n in numbers} == {target.version}


def test_an_explicit_list_of_cases_is_bounded_and_its_refusal_says_so(ctx, staff, stages, monkeypatch):
    monkeypatch.setattr(migration, "MAX_CASES", 2)
    admin_plan = plan(ctx, staff, stages, who="admin")
    with pytest.raises(InvalidInput) as too_many:
        migration.run_plan(ctx, staff["admin"], admin_plan.id, [stages["accept"], stages["review"], stages["pay"]])
    assert too_many.value.field_errors == {"cases": "办件编号的数组，最多 2 个；不填即全部"}
    assert cases.case_details(ctx, staff["kezhang"], stages["accept"]).process.version == stages["source"]

    outcomes = migration.run_plan(ctx, staff["admin"], admin_plan.id, [stages["accept"], stages["review"]])

    assert [o.migrated for o in outcomes] == [True, True]


def test_a_migrated_case_keeps_its_data_and_limits_and_goes_on_along_the_new_version(ctx, staff, stages):
    before = limits(ctx, staff, stages["review"])
    admin_plan = plan(ctx, staff, stages, who="admin")  # an administrator's plan needs no approval
    migration.run_plan(ctx, staff["admin"], admin_plan.id, [stages["review"]])

    after = limits(ctx, staff, stages["review"])
    assert {k: v.due_at for k, v in after.items()} == {k: v.due_at for k, v in before.items()}
    complete(ctx, staff, "shenhe", stages["review"], "approve")
    assert open_rows(ctx, staff, stages["review"]) == [("拨付审批", "supervisor", None)]
    complete(ctx, staff, "kezhang", stages["review"], "pay")
    done = cases.case_details(ctx, staff["kezhang"], stages["review"])
    assert done.case.status == CLOSED and done.case.result == "办结"
    assert done.case.data["expense_total"] == "800.00"


def test_a_migrated_task_keeps_its_open_delegation_and_signatures_under_its_new_name(ctx, staff, stages):
    """审核 (renamed 初审) delegated and with a signer asked before the holder: the requests stay open on the same
    task, shown under its new name; the delegate answers, the signer signs, the holder completes on the target."""
    [review] = open_path_rows(ctx, staff, stages["review"])
    tasks.claim_task(ctx, staff["shenhe"], review.id)
    delegation = operations.delegate_task(ctx, staff["shenhe"], review.id, "clerk_210400_01", "请核对票据")
    signature = operations.add_signer(ctx, staff["shenhe"], review.id, "shouli", "before", "请确认受理材料")
    migration.run_plan(ctx, staff["admin"], plan(ctx, staff, stages, who="admin").id, [stages["review"]])

    [(request, task)] = operations.awaiting(ctx, staff["clerk_210400_01"]).requests
    assert (request.id, request.status, task.id, task.name) == (delegation.id, "pending", review.id, "初审")
    assert [t.name for _, t in operations.awaiting(ctx, staff["shouli"]).requests] == ["初审"]
    with pytest.raises(Conflict, match="委派"):
        complete(ctx, staff, "shenhe", stages["review"], "approve")
    operations.resolve_delegation(ctx, staff["clerk_210400_01"], delegation.id, "票据无误")
    operations.sign(ctx, staff["shouli"], signature.id, "agree", "材料齐全")
    complete(ctx, staff, "shenhe", stages["review"], "approve")
    assert open_rows(ctx, staff, stages["review"]) == [("拨付审批", "supervisor", None)]


def test_with_a_mapping_a_case_at_the_removed_task_moves_and_is_re_routed(ctx, staff, stages):
    [row] = [t for t in tasks.list_tasks(ctx, staff["caiwu"]) if t.case_number == stages["pay"]]
    tasks.claim_task(ctx, staff["caiwu"], row.id)
    mapped = plan(ctx, staff, stages, who="admin", mapping={"Task_pay": "Task_pay_check"})
    assert all(c.refusal is None for c in migration.plan_details(ctx, staff["admin"], mapped.id).candidates)

    [outcome] = migration.run_plan(ctx, staff["admin"], mapped.id, [stages["pay"]])

    assert outcome.migrated
    assert open_rows(ctx, staff, stages["pay"]) == [("拨付审批", "supervisor", None)]  # 财务 holds it no more
    assert not [t for t in tasks.list_tasks(ctx, staff["caiwu"]) if t.case_number == stages["pay"]]
    complete(ctx, staff, "kezhang", stages["pay"], "pay")
    assert cases.case_details(ctx, staff["kezhang"], stages["pay"]).case.status == CLOSED


def test_bad_plans_are_refused_with_the_field_named(ctx, staff, stages):
    with pytest.raises(Forbidden):
        plan(ctx, staff, stages, who="shouli")
    with pytest.raises(InvalidInput) as typo:
        plan(ctx, staff, stages, mapping={"Task_pay": "Task_nowhere"})
    assert "目标版本中没有元素“Task_nowhere”" in typo.value.field_errors["mapping.Task_pay"]
    with pytest.raises(InvalidInput) as unknown:
        plan(ctx, staff, stages, mapping={"Task_gone": "Task_pay_check"})
    assert "mapping.Task_gone" in unknown.value.field_errors
    with pytest.raises(InvalidInput) as same:
        migration.request_migration(ctx, staff["sheji"], OUTPATIENT_PROCESS, stages["target"], stages["target"],
                                    None, REASON)
    assert "target_version" in same.value.field_errors
    with pytest.raises(InvalidInput) as no_reason:
        migration.request_migration(ctx, staff["sheji"], OUTPATIENT_PROCESS, stages["source"], stages["target"],
                                    None, " ")
    assert "reason" in no_reason.value.field_errors
    with pytest.raises(InvalidInput) as no_version:
        migration.request_migration(ctx, staff["sheji"], OUTPATIENT_PROCESS, stages["source"], 99, None, REASON)
    assert "version" in no_version.value.field_errors


def test_a_migration_that_fails_halfway_leaves_the_case_as_it_was(ctx, staff, stages, monkeypatch):
    before = cases.case_details(ctx, staff["kezhang"], stages["review"])
    applied = WorkflowMigration.apply

    def apply_then_fail(self):
        applied(self)
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(WorkflowMigration, "apply", apply_then_fail)
    admin_plan = plan(ctx, staff, stages, who="admin")
    [outcome] = migration.run_plan(ctx, staff["admin"], admin_plan.id, [stages["review"]])

    assert not outcome.migrated and "迁移失败" in outcome.error
    after = cases.case_details(ctx, staff["kezhang"], stages["review"])
    assert after.process.version == stages["source"]
    assert after.case.workflow_state == before.case.workflow_state
    assert open_rows(ctx, staff, stages["review"]) == [("审核", "reviewer", None)]
    assert [h.action for h in after.history] == [h.action for h in before.history]


def test_two_migrations_of_one_case_at_once_one_wins_the_other_is_refused(ctx, staff, stages):
    first = plan(ctx, staff, stages, who="admin")
    second = plan(ctx, staff, stages, who="admin")
    barrier, results = threading.Barrier(2), {}

    def run(plan_id):
        barrier.wait()
        try:
            migration.migrate_case(ctx, staff["admin"], plan_id, stages["review"])
            results[plan_id] = "migrated"
        except Conflict as error:
            results[plan_id] = str(error)

    threads = [threading.Thread(target=run, args=(p.id,)) for p in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    won, lost = sorted(results.values(), key=lambda outcome: outcome != "migrated")
    assert won == "migrated" and "已不在源版本上" in lost, results
    history = cases.case_details(ctx, staff["kezhang"], stages["review"]).history
    assert [h.action for h in history].count("migrated") == 1


def test_a_case_waiting_in_waiver_correction_moves_and_goes_on_when_the_materials_come(ctx, staff, clock):
    """容缺补正: the case waits on an event-based gateway (the materials, or the 补正期限) — a waiting event with its
    counterpart in the target: it moves, still waiting, its pause kept, and resumes on the new version."""
    from services.test_waiver import BIRTH, CHECKED, DATA, MARRIAGE, MATERNITY, WAIVE

    opened = cases.open_case(ctx, staff["shouli"], MATERNITY, APPLICANT, DATA)
    number = opened.case.number
    materials.mark_materials(ctx, staff["shouli"], number, CHECKED)
    tasks.complete_task(ctx, staff["shouli"], opened.open_tasks[0].id, WAIVE)
    key = "item_002036007004"
    source = processes.process_versions(ctx, key)[0].version
    renamed = (BPMN_DIR / f"{key}.bpmn").read_text(encoding="utf-8").replace(
        'id="Task_review" name="审核"', 'id="Task_review" name="待遇审核"')
    target = processes.deploy_process(ctx, staff["sheji"], renamed.encode("utf-8"), f"{key}.bpmn").version
    admin_plan = migration.request_migration(ctx, staff["admin"], key, source, target, None, REASON)
    waiting = timers_due(ctx, number)  # the 补正期限 among them
    [candidate] = [c for c in migration.plan_details(ctx, staff["admin"], admin_plan.id).candidates
                   if c.number == number]
    assert candidate.refusal is None and candidate.at == ("容缺补正",)

    [outcome] = migration.run_plan(ctx, staff["admin"], admin_plan.id, [number])

    assert outcome.migrated, outcome.error
    assert timers_due(ctx, number) == waiting
    details = cases.case_details(ctx, staff["kezhang"], number)
    assert details.case.stage == "容缺补正" and details.pauses[0].ended_at is None
    materials.mark_materials(ctx, staff["shouli"], number, {MARRIAGE: "present", BIRTH: "present"})
    assert [(r.name, r.role) for r in open_path_rows(ctx, staff, number)] == [("待遇审核", "reviewer")]


@pytest.mark.parametrize("target_duration, days", [("P3D", 3), ("P5D", 5)])
def test_a_migrated_tasks_own_timer_keeps_counting_from_when_the_task_opened(ctx, staff, clock, target_duration,
                                                                            days):
    """审核 has its own 3-day reminder; a day later the case moves: the reminder is due when it was (the target's
    timer unchanged), or 5 days after the task opened (the target made it 5), never counted from the migration."""
    source = processes.deploy_process(ctx, staff["sheji"], review_reminder("P3D").encode("utf-8"),
                                      f"{OUTPATIENT_PROCESS}.bpmn").version
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    opened = at("2026-11-23 09:30")
    assert reminder_due(ctx, number) == opened + timedelta(days=3)
    clock.advance(days=1)
    target = processes.deploy_process(ctx, staff["sheji"], migration_target(review_reminder(target_duration)),
                                      f"{OUTPATIENT_PROCESS}.bpmn").version
    admin_plan = migration.request_migration(ctx, staff["admin"], OUTPATIENT_PROCESS, source, target, None, REASON)

    [outcome] = migration.run_plan(ctx, staff["admin"], admin_plan.id, [number])

    assert outcome.migrated, outcome.error
    assert reminder_due(ctx, number) == opened + timedelta(days=days)
