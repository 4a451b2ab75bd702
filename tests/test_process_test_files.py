"""Every diagram in bpmn/ passes the tests in the file beside it (bpmn/<process>.tests.yaml), run in memory as
`workflows test-process` runs them: at least its main path and one refusal (issue 13)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from workflows.adapters.catalog_files import load_catalog
from workflows.adapters.engine import Engine
from workflows.adapters.process_test_files import read_tests, suite_file_beside
from workflows.domain.case_states import COMPLETED
from workflows.domain.process_tests import parse_suite
from workflows.entrypoints.cli import main
from workflows.services.process_tests import run_test_file

from support.paths import BPMN_DIR, CATALOG_DIR

FILES = sorted(BPMN_DIR.glob("*.bpmn"))
ENGINE, CATALOG = Engine(), load_catalog(CATALOG_DIR)


@pytest.mark.parametrize("bpmn", FILES, ids=[path.stem for path in FILES])
def test_the_diagram_passes_its_tests(bpmn):
    _, report = run_test_file(ENGINE, CATALOG, bpmn)
    assert report.failure is None, report.failure.summary()


@pytest.mark.parametrize("bpmn", FILES, ids=[path.stem for path in FILES])
def test_the_tests_cover_the_main_path_and_a_refusal(bpmn):
    tests = parse_suite(read_tests(suite_file_beside(bpmn)))
    results = {test.expect.result for test in tests}
    assert COMPLETED in results
    assert results - {COMPLETED, None}, "no test ends in a refusal"


def test_the_cli_reports_each_test_and_the_branches_no_test_takes():
    result = CliRunner().invoke(main, ["test-process", "002036006001", "--bpmn", str(BPMN_DIR),
                                       "--catalog", str(CATALOG_DIR)])
    assert result.exit_code == 0, result.output
    assert "通过：主路径：受理—审核—拨付，办结" in result.output
    assert "未走过的网关分支：" in result.output


def test_the_cli_fails_when_a_test_fails(tmp_path):
    broken = tmp_path / "tests.yaml"
    broken.write_text("tests:\n- name: 期望直接办结\n  applicant: {name: 张伟, id_number: '210402198001011239'}\n"
                      "  data: {expense_total: '1860.00', bank_account: '6222020712001234567'}\n"
                      "  steps: []\n  expect: {result: 办结}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["test-process", "002036006001", "--bpmn", str(BPMN_DIR), "--tests",
                                       str(broken), "--catalog", str(CATALOG_DIR)])
    assert result.exit_code == 1
    assert "未通过：测试“期望直接办结”未通过（期望不符）：期望办理结果“办结”，实际停在 Task_accept（元素 Task_accept）" in result.output
