"""A test run on a real item diagram (services/process_tests.py): a stubbed handler's outage stops the test at its
service task, a timer the case does not wait on is named, and the real rules hold (an amount above the claim)."""
from __future__ import annotations

import yaml

from workflows.adapters.catalog_files import load_catalog
from workflows.adapters.engine import Engine
from workflows.services.process_tests import run_test_file

from support.paths import BPMN_DIR, CATALOG_DIR

OUTPATIENT = BPMN_DIR / "item_002036006001.bpmn"
APPLICATION = {"applicant": {"name": "张伟", "id_number": "210402198001011239"},
               "people": {"210402198001011239": {"name": "张伟", "status": "参保缴费", "arrears": "0.00"}},
               "data": {"expense_total": "1860.00", "bank_account": "6222020712001234567"}}
ACCEPT = {"task": "Task_accept", "submit": {"decision": "accept", "opinion": "材料齐全"}}
APPROVE = {"task": "Task_review", "submit": {"decision": "approve", "opinion": "同意"}}
PAY = {"task": "Task_pay", "submit": {"decision": "pay", "opinion": "同意"}}
ENGINE, CATALOG = Engine(), load_catalog(CATALOG_DIR)


def run(tmp_path, steps: list, expect: dict):
    path = tmp_path / "t.tests.yaml"
    path.write_text(yaml.safe_dump({"tests": [{"name": "t", **APPLICATION, "steps": steps, "expect": expect}]},
                                   allow_unicode=True), encoding="utf-8")
    return run_test_file(ENGINE, CATALOG, OUTPATIENT, path)[1].outcomes[0]


def test_a_stubbed_payment_outage_stops_the_test_at_the_payment(tmp_path):
    outcome = run(tmp_path, [ACCEPT, APPROVE, PAY, {"service": "Task_payment", "error": "银行接口超时"}],
                  {"result": "办结"})
    assert (outcome.failed_step, outcome.element_id) == (3, "Task_payment")
    assert outcome.problem == "“拨付资金”出错：银行接口超时"
    assert "payment.pay" not in outcome.calls  # the stub answered instead of the stand-in


def test_a_timer_the_case_does_not_wait_on_is_named(tmp_path):
    outcome = run(tmp_path, [{"timer": "Event_waiver_expired"}], {"result": "补正超时"})
    assert (outcome.failed_step, outcome.element_id) == (1, "Event_waiver_expired")
    assert outcome.problem == "定时器“Event_waiver_expired”未在等待中（当前停在 Task_accept）"


def test_an_approved_amount_above_the_proposal_is_refused_as_on_the_task_page(tmp_path):
    review = {"task": "Task_review", "submit": {"decision": "approve", "opinion": "同意", "payable_amount": "5000.00"}}
    outcome = run(tmp_path, [ACCEPT, review], {"waiting": ["Task_pay"]})
    assert (outcome.failed_step, outcome.element_id) == (2, "Task_review")
    assert outcome.problem.startswith("“审核”的表单被拒绝：payable_amount：")
