"""迁移 and 跳转 through the API and the command line: a designer's plan approved by a supervisor and run on all
its cases in the background (202 and the run's address, its progress and the cases not migrated with why, a second
run refused while one goes on); a token move refused without its compensation note; the refusals with the field
named."""
from __future__ import annotations

import re

from click.testing import CliRunner

from workflows.domain import pages
from workflows.entrypoints.cli import main
from workflows.services import migration_runs, outbox

from support.diagrams import migration_target, recheck_after_payment
from support.http import error_of, json_of

from api.test_api import OUTPATIENT_PROCESS, deploy, open_case, take_step, versions_of


def test_a_designer_plans_a_supervisor_approves_and_the_designer_runs_it(client, auth, ctx):
    shouli, designer, supervisor = auth("shouli"), auth("sheji"), auth("kezhang")
    at_accept = open_case(client, shouli)["number"]
    at_pay = open_case(client, shouli)["number"]
    take_step(client, shouli, at_pay, decision="accept")
    take_step(client, auth("shenhe"), at_pay, decision="approve")
    json_of(deploy(client, designer, migration_target(), f"{OUTPATIENT_PROCESS}.bpmn"), 201)
    target, source = versions_of(client, designer)[:2]

    plan = json_of(client.post("/api/migration-plans", headers=designer, json={
        "process_key": OUTPATIENT_PROCESS, "source_version": source, "target_version": target,
        "reason": "拨付改由科室负责人审批"}), 201)
    assert plan["status"] == "pending" and plan["status_name"] == "待科室负责人批准"
    listed = {c["number"]: c for c in json_of(client.get(f"/api/migration-plans/{plan['id']}",
                                                         headers=supervisor))["cases"]}
    assert listed[at_accept]["movable"] and not listed[at_pay]["movable"]
    assert "“拨付”（Task_pay）" in listed[at_pay]["refusal"]
    error_of(client.post(f"/api/migration-plans/{plan['id']}/run", headers=designer, json={}), 409, "conflict")
    error_of(client.post(f"/api/migration-plans/{plan['id']}/approve", headers=designer), 403, "forbidden")
    elsewhere = error_of(client.post(f"/api/migration-plans/{plan['id']}/approve", headers=auth("kezhang2")), 403,
                         "forbidden")  # 冯科长's hall holds none of its cases
    assert "须由案件所在大厅" in elsewhere["message"] and "科室负责人批准" in elsewhere["message"]
    assert json_of(client.post(f"/api/migration-plans/{plan['id']}/approve",
                               headers=supervisor))["approved_by"] == "kezhang"

    started = client.post(f"/api/migration-plans/{plan['id']}/run", headers=designer, json={})

    run = json_of(started, 202)  # recorded, not done: the scheduler migrates the cases
    assert started.headers["Location"] == f"/api/migration-plans/{plan['id']}/runs/{run['id']}"
    assert (run["running"], run["total"], run["migrated"], run["failed"], run["started_by"]) == (True, 2, 0, 0, "sheji")
    again = error_of(client.post(f"/api/migration-plans/{plan['id']}/run", headers=designer, json={}), 409, "conflict")
    assert "正在后台执行" in again["message"]
    assert json_of(client.get(f"/api/migration-plans/{plan['id']}", headers=designer))["run"]["id"] == run["id"]
    outbox.work_due(ctx)  # the scheduler's round
    outbox.work_due(ctx)
    done = json_of(client.get(started.headers["Location"], headers=supervisor))
    assert not done["running"] and done["finished_at"] and (done["migrated"], done["failed"], done["left"]) == (1, 1, 0)
    outcomes = [*done["failures"], {"number": at_accept, "migrated": True, "error": None}]
    assert {o["number"]: o["migrated"] for o in outcomes} == {at_accept: True, at_pay: False}
    assert "Task_pay" in done["failures"][0]["error"]
    error_of(client.get(f"/api/migration-plans/{plan['id']}/runs/{run['id'] + 1}", headers=designer), 404,
             "not_found")
    case = json_of(client.get(f"/api/cases/{at_accept}", headers=supervisor))
    assert case["history"][-1]["action"] == "migrated"
    assert [p["id"] for p in json_of(client.get("/api/migration-plans", headers=designer))] == [plan["id"]]


def test_bad_plans_and_strangers_are_refused(client, auth):
    designer = auth("sheji")
    json_of(deploy(client, designer, migration_target(), f"{OUTPATIENT_PROCESS}.bpmn"), 201)
    target, source = versions_of(client, designer)[:2]
    plan = {"process_key": OUTPATIENT_PROCESS, "source_version": source, "target_version": target, "reason": "改版"}
    error_of(client.post("/api/migration-plans", headers=auth("shouli"), json=plan), 403, "forbidden")
    typo = error_of(client.post("/api/migration-plans", headers=designer,
                                json={**plan, "mapping": {"Task_pay": "Task_payy"}}), 422, "invalid_input")
    assert "mapping.Task_pay" in typo["fields"]
    for bad in ({"source_version": "1"}, {"target_version": True}, {"process_key": 7}, {"reason": ""},
                {"mapping": ["Task_pay"]}):
        error_of(client.post("/api/migration-plans", headers=designer, json={**plan, **bad}), 422, "invalid_input")
    error_of(client.get("/api/migration-plans/999999", headers=designer), 404, "not_found")
    made = json_of(client.post("/api/migration-plans", headers=designer, json=plan), 201)
    error_of(client.post(f"/api/migration-plans/{made['id']}/run", headers=auth("admin"), json={"cases": "all"}),
             422, "invalid_input")


def test_a_token_move_through_the_api_needs_its_compensation_note_past_a_payment(client, auth):
    shouli, supervisor = auth("shouli"), auth("kezhang")
    json_of(deploy(client, auth("sheji"), recheck_after_payment(), f"{OUTPATIENT_PROCESS}.bpmn"), 201)
    number = open_case(client, shouli)["number"]
    take_step(client, shouli, number, decision="accept")
    take_step(client, auth("shenhe"), number, decision="approve")
    [source] = json_of(client.get(f"/api/cases/{number}/token-moves", headers=supervisor))
    assert source["element_id"] == "Task_pay"
    assert {t["element_id"]: t["effects"] for t in source["targets"]}["Task_recheck"] == ["拨付资金"]
    move = {"from": "Task_pay", "to": "Task_recheck", "reason": "已线下拨付"}
    error_of(client.post(f"/api/cases/{number}/token-moves", headers=shouli, json=move), 403, "forbidden")
    refused = error_of(client.post(f"/api/cases/{number}/token-moves", headers=supervisor, json=move), 422,
                       "invalid_input")
    assert "compensation_note" in refused["fields"]
    error_of(client.post(f"/api/cases/{number}/token-moves", headers=supervisor, json={**move, "to": "Nowhere"}),
             422, "invalid_input")

    moved = json_of(client.post(f"/api/cases/{number}/token-moves", headers=supervisor,
                                json={**move, "compensation_note": "柜台现金支付，凭证 XJ-001"}))
    assert [t["name"] for t in moved["open_tasks"]] == ["复核"]


def run(url: str, *args: str, expect: int = 0) -> str:
    result = CliRunner().invoke(main, ["--database-url", url, *args], catch_exceptions=False)
    assert result.exit_code == expect, result.output
    return result.output


def test_plan_approve_migrate_and_move_from_the_terminal(database_url, client, auth):
    shouli = auth("shouli")
    number = open_case(client, shouli)["number"]
    take_step(client, shouli, number, decision="accept")
    json_of(deploy(client, auth("sheji"), migration_target(), f"{OUTPATIENT_PROCESS}.bpmn"), 201)
    target, source = versions_of(client, shouli)[:2]

    planned = run(database_url, "migration-plan", OUTPATIENT_PROCESS, "--from", str(source), "--to", str(target),
                  "--map", "Task_pay=Task_pay_check", "--reason", "拨付改由科室负责人审批", "--user", "sheji")
    assert "待科室负责人批准" in planned and f"{number}\t审核\t可迁移" in planned
    plan_id = re.search(r"迁移计划 (\d+)：", planned).group(1)
    assert "尚未经科室负责人批准" in run(database_url, "migrate", plan_id, "--user", "sheji", expect=1)
    refused = run(database_url, "migration-approve", plan_id, "--user", "kezhang2", expect=1)
    assert "您所在大厅没有该计划要迁移的在办案件" in refused
    run(database_url, "migration-approve", plan_id, "--user", "kezhang")
    assert f"{number}\t已迁移" in run(database_url, "migrate", plan_id, number, "--user", "sheji")
    moved = run(database_url, "move-token", number, "--from", "Task_review", "--to", "Task_accept",
                "--reason", "重新受理", "--user", "kezhang")
    assert "现处于：受理" in moved
    assert "错误：" in run(database_url, "move-token", number, "--from", "Task_review", "--to", "Task_accept",
                          "--reason", "重新受理", "--user", "kezhang", expect=1)


def test_migrating_all_from_the_terminal_works_the_run_through_and_prints_its_progress(database_url, client, auth,
                                                                                       monkeypatch):
    monkeypatch.setattr(migration_runs, "BATCH", 2)
    shouli = auth("shouli")
    numbers = [open_case(client, shouli)["number"] for _ in range(3)]
    take_step(client, shouli, numbers[1], decision="accept")
    take_step(client, auth("shenhe"), numbers[1], decision="approve")  # at 拨付, which the target lacks
    json_of(deploy(client, auth("sheji"), migration_target(), f"{OUTPATIENT_PROCESS}.bpmn"), 201)
    target, source = versions_of(client, shouli)[:2]
    planned = run(database_url, "migration-plan", OUTPATIENT_PROCESS, "--from", str(source), "--to", str(target),
                  "--reason", "拨付改由科室负责人审批", "--user", "admin")
    plan_id = re.search(r"迁移计划 (\d+)：", planned).group(1)

    lines = run(database_url, "migrate", plan_id, "--user", "admin", expect=1).splitlines()

    assert re.fullmatch(rf"迁移计划 {plan_id}：执行 \d+ 已开始，共 3 件（.+）", lines[0])
    assert lines[1:-1] == ["已迁移 0 件，未迁移 0 件，共 3 件", "已迁移 1 件，未迁移 1 件，共 3 件",  # a batch of two
                           "已迁移 2 件，未迁移 1 件，共 3 件"]  # the last one, and the run ends
    assert lines[-1].startswith(f"{numbers[1]}\t未迁移：") and "Task_pay" in lines[-1]
    again = run(database_url, "migrate", plan_id, "--user", "admin", expect=1).splitlines()
    assert "共 1 件" in again[0] and again[-1] == lines[-1]  # a new run: the one case left, refused as before


def test_the_terminals_plan_lists_every_open_case_page_after_page(database_url, client, auth, monkeypatch):
    monkeypatch.setattr(pages, "MAX_PAGE", 2)  # a page of two stands for one of 500
    numbers = [open_case(client, auth("shouli"))["number"] for _ in range(3)]
    json_of(deploy(client, auth("sheji"), migration_target(), f"{OUTPATIENT_PROCESS}.bpmn"), 201)
    target, source = versions_of(client, auth("shouli"))[:2]

    planned = run(database_url, "migration-plan", OUTPATIENT_PROCESS, "--from", str(source), "--to", str(target),
                  "--reason", "审核改名", "--user", "admin").splitlines()

    assert planned[1:] == [f"{number}\t受理\t可迁移" for number in numbers]
