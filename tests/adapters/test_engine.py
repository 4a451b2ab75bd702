"""The SpiffWorkflow adapter: compact stored state, stored cases that keep loading, messages between cases."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer

from handlers.gateways import LocalNationalPlatform, LocalPaymentGateway, LocalSmsNotifier
from workflows.adapters.bpmn_parsing import DecisionTask, HandlerServiceTask
from workflows.adapters.dmn_parsing import decision_files
from workflows.adapters.engine import CaseBindings, Engine
from workflows.domain.errors import Conflict

from support.paths import BPMN_DIR, ROOT
from support.process_driver import PERSON_ID

STORED = ROOT / "tests" / "fixtures" / "stored_cases" / "outpatient_at_review.json"


@pytest.fixture
def calls():
    return []


@pytest.fixture
def bindings(calls):
    def record(*call):
        calls.append(call)

    person = {"name": "张伟", "status": "参保缴费", "arrears": "0.00", "account_balance": "2360.00"}
    return CaseBindings("210400-20261123-00001", "210400", "002036006001", "门诊费用报销",
                        {"name": "张伟", "id_number": PERSON_ID},
                        LocalNationalPlatform({PERSON_ID: person}.get, record), LocalPaymentGateway(record),
                        LocalSmsNotifier(record))


def _definition(engine, process_key: str):
    """The diagram of bpmn/ with the decision tables of bpmn/decisions, as installing deploys them."""
    return engine.definition((BPMN_DIR / f"{process_key}.bpmn").read_text(), f"{process_key}.bpmn",
                             {name: xml.decode("utf-8") for name, xml in decision_files(BPMN_DIR / "decisions").items()})


def test_stored_state_refers_to_the_process_and_is_much_smaller_than_embedding_it(bindings):
    engine = Engine()
    run = engine.start(_definition(engine, "item_002036006001"), {"bank_account": "6222"}, bindings)
    stored = engine.dump(run)

    config = dict(CAMUNDA_CONFIG)
    config[HandlerServiceTask] = config[next(cls for cls in config if cls.__name__ == "NoneTask")]
    config[DecisionTask] = config[BusinessRuleTask]
    embedded = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config)).serialize_json(run.workflow)
    assert "spec" not in json.loads(stored)
    assert len(stored) * 2 < len(embedded)


def _resume_stored(bindings, identity_verified: bool):
    """The stored 门诊 case at 审核 (its diagram predates 身份及参保核验; its applicant's identity failed the check
    then), with its identity verdict as given."""
    stored = json.loads(STORED.read_text())
    verdict = f'"identity_verified": {json.dumps(identity_verified)}'
    state = json.dumps(stored["state"]).replace('"identity_verified": false', verdict)
    engine = Engine()
    return engine.resume(engine.definition(stored["bpmn"]), state, bindings)


def _approve_and_pay(run) -> None:
    [review] = run.ready_tasks()
    assert review.definition.name == "审核" and run.data["expense_total"] == Decimal("1860.00")
    run.complete(review.id, {"decision": "approve"})
    [payment] = run.ready_tasks()
    run.complete(payment.id, {"decision": "pay"})


def test_a_stored_case_still_resumes_and_completes(bindings, calls):
    run = _resume_stored(bindings, identity_verified=True)
    _approve_and_pay(run)
    assert run.completed and run.result == "办结"
    assert ("payment", "pay") in [(system, operation) for system, operation, *_ in calls]


def test_a_stored_case_whose_identity_failed_is_not_paid(bindings, calls):
    """Defence in depth: an old diagram without the gateway reaches 拨付, the payment handler refuses."""
    run = _resume_stored(bindings, identity_verified=False)
    _approve_and_pay(run)
    assert not run.completed and "不予拨付：身份证号码校验不通过" in run.failure.message
    assert ("payment", "pay") not in [(system, operation) for system, operation, *_ in calls]


def test_the_sending_agency_side_of_a_transfer_starts_on_the_contact_letter(bindings):
    engine = Engine()
    run = engine.start(_definition(engine, "item_002036003002_out"), {}, bindings)
    assert run.ready_tasks() == []
    run.deliver_message("联系函", {"certificate_no": "PZ-1", "from_region": "抚顺市"})
    [review] = run.ready_tasks()
    run.complete(review.id, {"decision": "approve"})
    assert run.completed and run.result == "办结"
    assert [name for name, _ in run.thrown_messages()] == ["信息表"]


def test_a_message_the_case_does_not_wait_for_is_a_conflict(bindings):
    engine = Engine()
    run = engine.start(_definition(engine, "item_002036006001"), {}, bindings)
    with pytest.raises(Conflict):
        run.deliver_message("信息表", {})
    assert isinstance(run.workflow, BpmnWorkflow) and len(run.ready_tasks()) == 1


def test_a_message_payload_expression_is_checked_at_deploy_time():
    from workflows.adapters.bpmn_parsing import parse_process
    from workflows.domain.errors import InvalidProcess

    xml = (BPMN_DIR / "item_002036003002.bpmn").read_text()
    assert 'camunda:expression="' in xml
    start = xml.index('camunda:expression="') + len('camunda:expression="')
    tampered = xml[:start] + "__import__(&quot;os&quot;).getcwd()" + xml[xml.index('"', start):]
    with pytest.raises(InvalidProcess) as refused:
        parse_process(tampered.encode("utf-8"), "tampered.bpmn")
    assert refused.value.element_id and "import" in str(refused.value)


def test_a_juel_timer_is_translated_at_deploy_and_evaluated_over_the_case_data(bindings):
    from datetime import datetime, timedelta, timezone
    from dataclasses import replace

    now = datetime(2026, 11, 23, 1, 30, tzinfo=timezone.utc)
    engine = Engine()
    definition = engine.definition((ROOT / "tests" / "fixtures" / "conformance" / "juel_timer.bpmn").read_text())
    for amount, days in ((2000, 10), (500, 20)):
        run = engine.start(definition, {}, replace(bindings, clock=lambda: now))
        [accept] = run.ready_tasks()
        run.complete(accept.id, {"amount": amount})

        [(_, due)] = run.pending_timers()
        assert due == now + timedelta(days=days)
