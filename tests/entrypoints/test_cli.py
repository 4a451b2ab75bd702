"""The `workflows` command line: installing, and working a case from a terminal."""
from __future__ import annotations

import json
import re

import pytest
import yaml
from click.testing import CliRunner

from workflows.bootstrap import bootstrap
from workflows.domain import pages
from workflows.entrypoints.cli import main
from workflows.services import process_tests
from workflows.services.demo import resident_id

from support.diagrams import OUTPATIENT_PROCESS
from support.paths import BPMN_DIR, CATALOG_DIR, ROOT
from support.process_driver import PERSON_ID


def run(url: str, *args: str, expect: int = 0) -> str:
    result = CliRunner().invoke(main, ["--database-url", url, *args], catch_exceptions=False)
    assert result.exit_code == expect, result.output
    return result.output


# Installing is where the database matters (the migrations and the first rows, on each backend): both databases.
# The other commands run the use cases' SQL, which the tests marked both_databases run on both: SQLite.
# One test of installing on each backend: every install of the catalog and all diagrams costs seconds of CPU.
@pytest.mark.long  # seconds of wall: started first (tests/conftest.py)
@pytest.mark.both_databases
def test_init_installs_a_new_database_with_the_tests_beside_the_diagrams_and_running_it_again_keeps_the_data(
        empty_database_url, tmp_path):
    url = empty_database_url
    files = sorted(BPMN_DIR.glob("*.tests.yaml"))
    first = run(url, "init", "--catalog", str(CATALOG_DIR), "--bpmn", str(BPMN_DIR), "--demo")
    assert "210400 共 24 个事项" in first and "演示数据：已加入" in first
    assert re.search(r"部署：(\d+) 个流程有新版本", first).group(1) == str(len(list(BPMN_DIR.glob("*.bpmn"))))
    assert f"测试用例：{len(files)} 个流程的测试已载入" in first
    tasks_before = run(url, "tasks", "--user", "shenhe")
    assert "门诊费用报销" in tasks_before

    again = run(url, "init", "--catalog", str(CATALOG_DIR), "--bpmn", str(BPMN_DIR), "--demo")
    assert "部署：0 个流程有新版本" in again and "演示数据：已有，未改动" in again
    assert "测试用例：0 个流程的测试已载入" in again
    assert run(url, "tasks", "--user", "shenhe") == tasks_before

    ctx = bootstrap(url)
    assert process_tests.load_test_files(ctx, BPMN_DIR) == []  # unchanged files: nothing rewritten
    with ctx.uow(write=False) as uow:
        suite = process_tests.saved_suite(uow, OUTPATIENT_PROCESS, None)
    assert [test.name for test in suite] == [test["name"] for test in
                                             yaml.safe_load((BPMN_DIR / f"{OUTPATIENT_PROCESS}.tests.yaml")
                                                            .read_text(encoding="utf-8"))["tests"]]

    # a changed diagram whose 审核 step its tests no longer find is refused at install, naming the test
    broken = tmp_path / "bpmn"
    broken.mkdir()
    (broken / "decisions").symlink_to(BPMN_DIR / "decisions")
    xml = (BPMN_DIR / f"{OUTPATIENT_PROCESS}.bpmn").read_text(encoding="utf-8")
    (broken / f"{OUTPATIENT_PROCESS}.bpmn").write_text(xml.replace("Task_review", "Task_check"), encoding="utf-8")
    refused = run(url, "init", "--catalog", str(CATALOG_DIR), "--bpmn", str(broken), expect=1)
    assert suite[0].name in refused


def test_a_clerk_works_a_case_from_the_terminal(database_url):
    opened = run(database_url, "open-case", "--user", "shouli", "--item", "002036006001", "--name", "张伟",
                 "--id-number", PERSON_ID, "expense_total=1200.50", "bank_account=6222020712001234567")
    number = opened.split("\t")[0]
    assert re.fullmatch(r"210400-\d{8}-\d{5}", number)
    task_id = re.search(r"待办：(\S+)\t受理", opened).group(1)

    assert "已认领" in run(database_url, "claim", task_id, "--user", "shouli")
    done = run(database_url, "complete", task_id, "decision=accept", "opinion=材料齐全", "--user", "shouli")
    assert f"{number}\t门诊费用报销\t审核" in done

    details = json.loads(run(database_url, "case", number, "--user", "shouli"))
    assert details["stage"] == "审核"
    # the materials left unmarked at 受理 are attested 已提交 by the accepting clerk, then the step is completed
    assert [entry["action"] for entry in details["history"]][:4] == ["opened", "claimed", "materials_marked",
                                                                    "completed"]


def test_a_refusal_from_the_terminal_needs_its_reason(database_url):
    opened = run(database_url, "open-case", "--user", "shouli", "--item", "002036006001", "--name", "张伟",
                 "--id-number", PERSON_ID, "expense_total=1200.50", "bank_account=6222020712001234567")
    task_id = re.search(r"待办：(\S+)\t受理", opened).group(1)
    refused = run(database_url, "complete", task_id, "decision=refuse", "--user", "shouli", expect=1)
    assert "错误：不予受理须写明理由" in refused and "opinion: 请填写不予受理的理由" in refused
    done = run(database_url, "complete", task_id, "decision=refuse", "opinion=非本市参保人员", "--user", "shouli")
    assert "不予受理" in done


def test_a_review_from_the_terminal_keeps_to_the_claim(database_url):
    opened = run(database_url, "open-case", "--user", "shouli", "--item", "002036006001", "--name", "张伟",
                 "--id-number", PERSON_ID, "expense_total=860.00", "bank_account=6222020712001234567")
    accepted = run(database_url, "complete", re.search(r"待办：(\S+)\t受理", opened).group(1), "decision=accept",
                   "--user", "shouli")
    review = re.search(r"待办：(\S+)\t审核", accepted).group(1)
    refused = run(database_url, "complete", review, "decision=approve", "payable_amount=99999", "--user", "shenhe",
                  expect=1)
    assert "payable_amount: 核定金额不得超过申报金额 860.00 元" in refused
    too_big = run(database_url, "open-case", "--user", "shouli", "--item", "002036006001", "--name", "张伟",
                  "--id-number", PERSON_ID, "expense_total=1e30", "bank_account=6222020712001234567", expect=1)
    assert "expense_total: 医疗费用总额（元）应为金额，最多两位小数" in too_big


def test_errors_are_one_clear_line_and_exit_status_1(database_url):
    output = run(database_url, "open-case", "--user", "shouli", "--item", "002036006001", "--name", "张伟",
                 "--id-number", "123", expect=1)
    assert "错误：申请信息填写有误" in output
    assert "applicant.id_number" in output and "expense_total: 请填写" in output
    assert "错误：用户 nobody 不存在" in run(database_url, "tasks", "--user", "nobody", expect=1)


def test_catalog_listings(database_url):
    assert "231025\t林口县医疗保障局\t29 个事项" in run(database_url, "agencies")
    assert "002036006001\t门诊费用报销\t20个工作日\t申请—受理—审核—拨付—办结" in run(database_url, "items", "231025")
    assert "item_002036006001\tv1\t门诊费用报销" in run(database_url, "processes")


def run_draft_bpmn_writes_a_diagram_that_deploys(database_url, tmp_path):
    target = tmp_path / "draft.bpmn"
    run(database_url, "draft-bpmn", "002036006001", "--catalog", str(CATALOG_DIR / "items.yaml"),
        "--output", str(target))
    assert "已部署 item_002036006001 版本 2" in run(database_url, "deploy", str(target), "--user", "sheji",
                                                "--note", "按目录重新生成")
    assert "v2\t门诊费用报销\t210400\tsheji" in run(database_url, "processes", "item_002036006001")
    assert "\t按目录重新生成" in run(database_url, "processes", "item_002036006001").splitlines()[0]


def test_deploy_takes_the_decision_tables_of_the_diagram(database_url, tmp_path):
    diagram, table = BPMN_DIR / "item_002036006001.bpmn", tmp_path / "门诊禁办.dmn"
    table.write_text((BPMN_DIR / "decisions" / "prohibited_002036006001.dmn").read_text(encoding="utf-8")
                     .replace("急诊发生的费用，不是抢救、危重症", "急诊费用非抢救、危重症"), encoding="utf-8")
    deployed = run(database_url, "deploy", str(diagram), "--decision", str(table), "--user", "sheji")
    assert "已部署 item_002036006001 版本 2" in deployed
    table.write_text("<definitions/>", encoding="utf-8")
    refused = run(database_url, "deploy", str(diagram), "--decision", str(table), "--user", "sheji", expect=1)
    assert "错误：" in refused and "门诊禁办.dmn" in refused and "不是 DMN 文件" in refused


@pytest.mark.parametrize("args", [["deploy", "--user", "sheji"], ["complete"]])
def test_usage_errors_exit_with_status_2(database_url, args):
    run(database_url, *args, expect=2)


@pytest.mark.parametrize("agency, item, accepted, first_line", [
    ("231025", "002036006001", "2026-09-25 10:00", "2026-10-29 17:00"),  # across 中秋 and 国庆 2026
    ("231025", "002036003002", "2026-02-12 15:00", "2026-03-18 17:00"),  # across 春节 2026, 2-14 and 2-28 worked
])
def test_deadline_prints_the_due_time_first(database_url, agency, item, accepted, first_line):
    output = run(database_url, "deadline", "--agency", agency, "--item", item, "--accepted", accepted)
    assert output.splitlines()[0] == first_line
    assert "承诺时限（20个工作日）\t到期 " + first_line in output


def test_deadline_refuses_a_malformed_moment(database_url):
    assert "YYYY-MM-DD HH:MM" in run(database_url, "deadline", "--agency", "231025", "--item", "002036006001",
                                     "--accepted", "2026/09/25", expect=2)


def test_an_administrator_publishes_a_year_and_corrects_a_day(database_url):
    assert "2027 年日历尚未发布" in run(database_url, "calendar", "show", "2027")
    published = run(database_url, "calendar", "publish", "2027", "--source", "国办发明电〔2026〕X号",
                    "--off", "2027-01-01..2027-01-03", "--off", "2027-02-06..2027-02-13", "--work", "2027-02-14",
                    "--user", "admin")
    assert "放假 6 个工作日，调休上班 1 天" in published
    shown = run(database_url, "calendar", "show", "2027")
    assert "国办发明电〔2026〕X号" in shown and "02-14" in shown
    run(database_url, "calendar", "set-day", "2027-02-15", "--off", "--name", "春节", "--source", "补充通知",
        "--user", "admin")
    assert "02-15" in run(database_url, "calendar", "show", "2027").splitlines()[1]
    assert "需要岗位：系统管理员" in run(database_url, "calendar", "publish", "2028", "--source", "x",
                                         "--user", "shouli", expect=1)


def test_deploy_refuses_a_decision_table_over_the_size_limit(database_url, tmp_path):
    diagram, table = BPMN_DIR / "item_002036006001.bpmn", tmp_path / "门诊禁办.dmn"
    original = (BPMN_DIR / "decisions" / "prohibited_002036006001.dmn").read_text(encoding="utf-8")
    table.write_text(original.replace("</definitions>", "<!--" + "x" * 1_100_000 + "--></definitions>"),
                     encoding="utf-8")
    refused = run(database_url, "deploy", str(diagram), "--decision", str(table), "--user", "sheji", expect=1)
    assert "门诊禁办.dmn" in refused and "决策表超过 1 MB" in refused
    assert "item_002036006001\tv1\t门诊费用报销\t全国" in run(database_url, "processes")


def test_deploy_national_takes_an_administrator(database_url):
    diagram = str(BPMN_DIR / "item_002036006001.bpmn")
    assert "需要岗位：系统管理员" in run(database_url, "deploy", diagram, "--user", "sheji", "--national", expect=1)
    assert "已部署 item_002036006001 版本 2" in run(database_url, "deploy", diagram, "--user", "admin", "--national")
    assert "item_002036006001\tv2\t门诊费用报销\t全国\tadmin" in run(database_url, "processes")


@pytest.mark.parametrize("id_number, data, problem", [
    ("210402198001011230", "bank_account=6222020712001234567", "applicant.id_number: 身份证号码校验码不正确，请核对证件"),
    (resident_id("21040219800230123"), "bank_account=6222020712001234567",
     "applicant.id_number: 身份证号码中的出生日期 19800230 不是有效日期"),
    (PERSON_ID, "bank_account=1", "bank_account: 银行账号应为12至25位数字，请核对银行卡或开户许可证"),
])
def test_open_case_refuses_a_wrong_id_number_or_bank_account_naming_the_field(database_url, id_number, data,
                                                                               problem):
    output = run(database_url, "open-case", "--user", "shouli", "--item", "002036006001", "--name", "张伟",
                 "--id-number", id_number, "expense_total=1200.50", data, expect=1)
    assert "错误：申请信息填写有误" in output and problem in output
    assert run(database_url, "tasks", "--user", "shouli") == ""


def test_the_task_list_prints_every_page(database_url, monkeypatch):
    monkeypatch.setattr(pages, "MAX_PAGE", 2)  # a page of two stands for one of 500
    for _ in range(5):
        run(database_url, "open-case", "--user", "shouli", "--item", "002036006001", "--name", "张伟",
            "--id-number", PERSON_ID, "expense_total=1200.50", "bank_account=6222020712001234567")
    listed = run(database_url, "tasks", "--user", "shouli").splitlines()
    assert len(listed) == len(set(listed)) == 5  # each task once, none left behind the first page


def test_deploy_takes_several_files_and_a_message_from_the_terminal_reaches_its_case(database_url, tmp_path):
    folder = ROOT / "tests" / "fixtures" / "conformance" / "deployments"
    main_file, recheck = tmp_path / "main.bpmn", tmp_path / "recheck.bpmn"
    main_file.write_bytes((folder / "main_calls_recheck.bpmn").read_bytes()
                          .replace(b'"Process_conformance"', b'"item_002036002002"'))
    recheck.write_bytes((folder / "recheck.bpmn").read_bytes())
    alone = run(database_url, "deploy", str(main_file), "--user", "sheji", expect=1)
    assert "Process_recheck" in alone and "Call_recheck" in alone
    deployed = run(database_url, "deploy", str(main_file), str(recheck), "--user", "sheji")
    assert "已部署 item_002036002002 版本 2（调用 recheck.bpmn）" in deployed

    receipt = tmp_path / "receipt.bpmn"
    receipt.write_bytes((folder / "correlated_receipt.bpmn").read_bytes()
                        .replace(b'"Process_conformance"', b'"item_002036002002"'))
    run(database_url, "deploy", str(receipt), "--user", "sheji")
    opened = run(database_url, "open-case", "--user", "shouli", "--item", "002036002002", "--name", "张伟",
                 "--id-number", PERSON_ID, "order_no=ZF001")
    number, task_id = opened.split("\t")[0], re.search(r"待办：(\S+)\t受理", opened).group(1)
    run(database_url, "complete", task_id, "--user", "shouli")
    delivered = run(database_url, "message", "银行回执", "--agency", "210400", "--payload",
                    '{"order_no": "ZF001", "status": "已入账"}', "--user", "shouli")
    assert delivered.startswith("已送达\n") and f"{number}\t" in delivered and "已办结" in delivered
    missing = run(database_url, "message", "银行回执", "--agency", "210400", "--payload", '{"order_no": "ZF001"}',
                  "--user", "shouli", expect=1)
    assert "没有等待“银行回执”的办件" in missing
    assert "不是合法的 JSON" in run(database_url, "message", "银行回执", "--agency", "210400", "--payload", "{",
                                 "--user", "shouli", expect=2)


def test_a_supervisor_sends_a_signal_from_the_terminal_and_the_waiting_case_catches_it(database_url, tmp_path):
    diagram = tmp_path / "signal_boundary.bpmn"
    diagram.write_bytes((ROOT / "tests" / "fixtures" / "conformance" / "signal_boundary.bpmn").read_bytes()
                        .replace(b'"Process_conformance"', b'"item_002036002002"'))
    run(database_url, "deploy", str(diagram), "--user", "sheji")
    opened = run(database_url, "open-case", "--user", "shouli", "--item", "002036002002", "--name", "张伟",
                 "--id-number", PERSON_ID)
    number, task_id = opened.split("\t")[0], re.search(r"待办：(\S+)\t受理", opened).group(1)
    run(database_url, "complete", task_id, "--user", "shouli")

    assert "已发出信号“撤回通知”：1 件办件在等待" in run(database_url, "signal", "撤回通知", "--user", "kezhang")
    assert "确认撤回" in run(database_url, "case", number, "--user", "shouli")
    assert "错误：需要岗位：科室负责人" in run(database_url, "signal", "撤回通知", "--user", "shouli", expect=1)
