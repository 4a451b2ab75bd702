"""A designer's tests as written (domain/process_tests.py): each malformed part refused naming its field, a file
read back as it was written, values compared as a test file writes them, coverage over the flows."""
from __future__ import annotations

from decimal import Decimal

import pytest

from workflows.domain.errors import InvalidInput
from workflows.domain.process_tests import (Flow, RunOutcome, StepTrace, coverage, expectation_problems,
                                            Expectation, parse_suite, same_value, suite_document)

GOOD = {"name": "主路径", "applicant": {"name": "张伟"}, "data": {"expense_total": "1860.00"},
        "steps": [{"task": "Task_accept", "submit": {"decision": "accept"}},
                  {"service": "Task_payment", "answer": {"paid_amount": "930.00"}},
                  {"timer": "Event_waiver_expired"}, {"message": "信息表", "payload": {"n": 1}},
                  {"task": "Task_review", "submit": {"decision": "approve"}, "refused": ["reduction_reason"]}],
        "expect": {"result": "办结", "variables": {"paid_amount": "930.00"}}}


def refusal(test: dict) -> dict:
    with pytest.raises(InvalidInput) as refused:
        parse_suite([test])
    return refused.value.field_errors


def test_a_suite_is_read_back_as_it_was_written():
    assert suite_document(parse_suite({"tests": [GOOD]})) == {"tests": [GOOD]}


def test_a_step_naming_two_kinds_is_refused():
    assert "tests[0].steps[0]" in refusal({**GOOD, "steps": [{"task": "A", "timer": "B"}]})


def test_a_service_step_without_answer_or_error_is_refused():
    assert "tests[0].steps[0].answer" in refusal({**GOOD, "steps": [{"service": "Task_payment"}]})


def test_only_a_service_step_may_fail():
    assert "tests[0].steps[0].error" in refusal({**GOOD, "steps": [{"task": "Task_accept", "error": "断网"}]})


def test_only_a_task_step_may_expect_a_refusal():
    assert "tests[0].steps[0].refused" in refusal({**GOOD, "steps": [{"timer": "T", "refused": ["x"]}]})


def test_a_test_without_a_name_is_refused():
    assert refusal({**GOOD, "name": " "}) == {"tests[0].name": "请填写测试名称"}


def test_form_values_that_are_no_mapping_are_refused():
    assert "tests[0].steps[0].submit" in refusal({**GOOD, "steps": [{"task": "A", "submit": ["accept"]}]})


def test_a_suite_that_is_no_list_is_refused():
    with pytest.raises(InvalidInput) as refused:
        parse_suite({"tests": "主路径"})
    assert refused.value.field_errors == {"tests": "应为测试用例的列表"}


def test_values_match_as_a_test_file_writes_them():
    assert same_value(Decimal("930.00"), "930.00") and same_value({"amount": Decimal("1")}, {"amount": "1"})
    assert not same_value(None, "930.00") and not same_value(True, "True") and same_value(False, False)


def test_the_expectations_say_where_the_run_came_to():
    expect = Expectation(end="EndEvent_done", variables={"paid_amount": "930.00"})
    assert expectation_problems(expect, None, None, ["Task_pay"], {}) == [
        "期望到达结束事件“EndEvent_done”，实际停在 Task_pay", "变量 paid_amount 期望为 '930.00'，实际为 None"]


def test_coverage_counts_flows_taken_by_any_run_and_the_gateway_branches_none_took():
    flows = [Flow("F1", "Start", "Gate"), Flow("F2", "Gate", "A", True), Flow("F3", "Gate", "B", True)]
    runs = [RunOutcome("一", None, trace=(StepTrace(0, "申请", ("A",), ("Start", "Gate")),),
                       pairs=frozenset({("Start", "Gate"), ("Gate", "A")}))]
    found = coverage(flows, runs)
    assert (found.taken, found.missed, found.missed_branches) == (("F1", "F2"), ("F3",), ("F3",))
    assert found.elements == ("A", "Gate", "Start") and round(found.ratio, 2) == 0.67
