"""A designer's tests of a diagram (issue 13): a draft run in memory against scripted tests, nothing written; tests
saved with the process and run at every publish, which they refuse naming the test, the step and the element."""
from __future__ import annotations

import pytest
import yaml
from sqlalchemy import func, select

from support.diagrams import OUTPATIENT_BPMN, outpatient_diagram
from support.http import error_of, json_of
from support.paths import BPMN_DIR

from api.test_api import OUTPATIENT_PROCESS, deploy, versions_of
from workflows.adapters import orm

pytestmark = pytest.mark.both_databases  # the saved tests are rows of their own

TESTS_FILE = BPMN_DIR / f"{OUTPATIENT_PROCESS}.tests.yaml"
# A designer's slip: the review gateway's condition inverted, so that 审核通过 ends the case as 审核不通过
INVERTED_REVIEW = ('decision == "reject"', 'decision != "reject"')


def shipped_tests() -> dict:
    return yaml.safe_load(TESTS_FILE.read_text(encoding="utf-8"))


def save(client, designer, document, status: int = 200):
    return json_of(client.put(f"/api/processes/{OUTPATIENT_PROCESS}/tests", headers=designer, json=document), status)


def count_rows(ctx, table) -> int:
    with ctx.uow(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(table))


def test_a_draft_runs_against_its_tests_in_memory_and_writes_nothing(ctx, client, auth):
    before = [count_rows(ctx, table) for table in (orm.cases, orm.external_calls, orm.case_history)]
    report = json_of(client.post("/api/process-tests/run", headers=auth("sheji"), json={
        "xml": OUTPATIENT_BPMN, "tests": shipped_tests()["tests"]}))
    assert report["process_key"] == OUTPATIENT_PROCESS and report["passed"]
    main = report["tests"][0]
    assert main["passed"] and main["trace"][0]["waiting"] == ["Task_accept"]
    assert "payment.pay" in main["calls"]  # the payment went to the stand-in, not a bank
    assert "Flow_1" in report["coverage"]["taken"]
    assert "Flow_31" in report["coverage"]["missed_branches"]  # a branch no test takes
    assert [count_rows(ctx, table) for table in (orm.cases, orm.external_calls, orm.case_history)] == before


def test_a_failing_step_is_reported_with_its_element(client, auth):
    report = json_of(client.post("/api/process-tests/run", headers=auth("sheji"), json={
        "xml": outpatient_diagram(INVERTED_REVIEW).decode(), "tests": shipped_tests()["tests"][:1]}))
    failed = report["tests"][0]
    assert not report["passed"] and failed["failed_step"] == 3 and failed["element_id"] == "Task_pay"
    assert "EndEvent_review_reject" in failed["problem"]


def test_saved_tests_refuse_a_publish_that_breaks_them(client, auth):
    designer = auth("sheji")
    save(client, designer, shipped_tests())
    error = error_of(deploy(client, designer, outpatient_diagram(INVERTED_REVIEW), "门诊费用报销.bpmn"), 422,
                     "invalid_process")
    assert error["element_id"] == "Task_pay"
    assert error["test"] == {"name": "主路径：受理—审核—拨付，办结", "step": 3}
    assert "已保存的测试“主路径：受理—审核—拨付，办结”未通过（第3步）" in error["message"]
    assert versions_of(client, designer) == [1]
    json_of(deploy(client, designer, outpatient_diagram(('name="审核结果"', 'name="审核结论"'))), 201)
    assert versions_of(client, designer) == [2, 1]


def test_tests_are_saved_and_read_back_as_the_file_beside_the_diagram(client, auth):
    designer = auth("sheji")
    response = client.put(f"/api/processes/{OUTPATIENT_PROCESS}/tests", headers=designer,
                          data=TESTS_FILE.read_bytes(), content_type="application/yaml")
    assert len(json_of(response)["tests"]) == len(shipped_tests()["tests"])
    exported = client.get(f"/api/processes/{OUTPATIENT_PROCESS}/tests?format=yaml", headers=designer)
    assert exported.mimetype == "application/yaml"
    assert yaml.safe_load(exported.get_data(as_text=True)) == shipped_tests()


def test_a_test_without_a_step_kind_is_refused_naming_the_field(client, auth):
    document = {"tests": [{"name": "坏步骤", "steps": [{"submit": {"decision": "accept"}}],
                           "expect": {"result": "办结"}}]}
    error = error_of(client.put(f"/api/processes/{OUTPATIENT_PROCESS}/tests", headers=auth("sheji"),
                                json=document), 422, "invalid_input")
    assert "tests[0].steps[0]" in error["fields"]


def test_a_test_without_an_expectation_is_refused_naming_the_field(client, auth):
    error = error_of(client.put(f"/api/processes/{OUTPATIENT_PROCESS}/tests", headers=auth("sheji"),
                                json={"tests": [{"name": "无期望", "steps": []}]}), 422, "invalid_input")
    assert "tests[0].expect" in error["fields"]


def test_two_tests_of_one_name_are_refused(client, auth):
    test = {"name": "同名", "steps": [], "expect": {"waiting": ["Task_accept"]}}
    error = error_of(client.put(f"/api/processes/{OUTPATIENT_PROCESS}/tests", headers=auth("sheji"),
                                json={"tests": [test, test]}), 422, "invalid_input")
    assert error["fields"] == {"tests[1].name": "测试名称“同名”重复"}


def test_a_draft_without_xml_is_refused_naming_the_field(client, auth):
    error = error_of(client.post("/api/process-tests/run", headers=auth("sheji"), json={"tests": []}), 422,
                     "invalid_input")
    assert "xml" in error["fields"]


def test_only_designers_run_and_save_tests(client, auth):
    clerk = auth("shouli")
    error_of(client.post("/api/process-tests/run", headers=clerk, json={"xml": OUTPATIENT_BPMN}), 403, "forbidden")
    error_of(client.put(f"/api/processes/{OUTPATIENT_PROCESS}/tests", headers=clerk, json=shipped_tests()), 403,
             "forbidden")
