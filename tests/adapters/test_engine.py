"""The SpiffWorkflow adapter: compact stored state, stored cases that keep loading, messages between cases."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from decimal import Decimal
from uuid import uuid4

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.defaults import CallActivity, StartEvent
from SpiffWorkflow.task import Task

from handlers.gateways import LocalNationalPlatform, LocalPaymentGateway, LocalSmsNotifier
from workflows.adapters.bpmn_elements import EventSubProcess, TimerStartEvent
from workflows.adapters.bpmn_parsing import DecisionTask, HandlerServiceTask
from workflows.adapters.dmn_parsing import decision_files
from workflows.adapters.case_workflow import CaseWorkflow
from workflows.adapters.engine import CaseBindings, Engine
from workflows.adapters.workflow_state import _IdTexts
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
                        LocalSmsNotifier(record),
                        functions={"deadline": lambda kind="promised": NEVER, "warning_time": lambda kind="promised": NEVER})


def _definition(engine, process_key: str):
    """The diagram of bpmn/ with the decision tables of bpmn/decisions, as installing deploys them."""
    return engine.definition((BPMN_DIR / f"{process_key}.bpmn").read_text(), f"{process_key}.bpmn",
                             {name: xml.decode("utf-8") for name, xml in decision_files(BPMN_DIR / "decisions").items()})


def _stock_serializer() -> BpmnWorkflowSerializer:
    """SpiffWorkflow's own serializer (the spec embedded, its task converter), told of the engine's task specs."""
    config = dict(CAMUNDA_CONFIG)
    config[HandlerServiceTask] = config[next(cls for cls in config if cls.__name__ == "NoneTask")]
    config[DecisionTask] = config[BusinessRuleTask]
    config[EventSubProcess], config[TimerStartEvent] = config[CallActivity], config[StartEvent]
    registry = BpmnWorkflowSerializer.configure(config)
    registry.typenames[CaseWorkflow] = registry.typenames[BpmnWorkflow]  # the engine's BpmnWorkflow, stored as one
    return BpmnWorkflowSerializer(registry)


def test_stored_state_refers_to_the_process_and_is_much_smaller_than_embedding_it(bindings):
    engine = Engine()
    run = engine.start(_definition(engine, "item_002036006001"), {"bank_account": "6222"}, bindings)
    stored = engine.dump(run)

    embedded = _stock_serializer().serialize_json(run.workflow)
    assert "spec" not in json.loads(stored)
    assert len(stored) * 2 < len(embedded)


def test_the_stored_tasks_are_those_spiffworkflow_stores(clocked):
    # The engine's task converter builds SpiffWorkflow's task dicts in one pass (TypeStrictDeltaConverter): with
    # no value equal to its parent's but of another type or scale, every task is stored as the library stores it.
    engine, stock = Engine(), _stock_serializer()
    stock.registry.register(Decimal, lambda value: {"value": str(value)}, lambda dct: Decimal(dct["value"]))
    run = engine.start(_definition(engine, "item_002036006001"),
                       {"applicant": dict(clocked.applicant), "expense_total": "860.00", "self_pay_total": "0.00",
                        "bank_account": "6222020712001234567", "note": float("nan")}, clocked)
    for decision in ("accept", "approve", "pay", None):
        ours, theirs = json.loads(engine.dump(run)), json.loads(stock.serialize_json(run.workflow))
        for key in ("tasks", "subprocesses"):
            assert json.dumps(ours[key]) == json.dumps(theirs[key])
        if decision:
            [task] = run.ready_tasks()
            run.complete(task.id, {"decision": decision, "note": float("nan"), "checked": [1, 2]})
    assert run.completed and run.result == "办结"


def test_a_restored_workflow_s_tasks_refer_to_each_other_by_the_ids_that_key_them(clocked):
    # Each id is parsed once (engine._TasksByIdText): a task's parent and children are the very objects keying
    # them, which _walk and every step between tasks find by identity. And the state gives back what it stored.
    engine = Engine()
    run = engine.start(_definition(engine, "item_002036006001"),
                       {"applicant": dict(clocked.applicant), "expense_total": "860.00"}, clocked)
    [task] = run.ready_tasks()
    run.complete(task.id, {"decision": "accept"})
    state = engine.dump(run)
    restored = engine.resume(run.definition, state, clocked)

    flows = [restored.workflow, *restored.workflow.subprocesses.values()]
    assert len(flows) > 1
    for flow in flows:
        keys = {key: key for key in flow.tasks}
        for key, task in flow.tasks.items():
            assert task.id is key and (task._parent is None or task._parent is keys[task._parent])
            assert all(child is keys[child] for child in task._children)
    assert engine.dump(restored) == state


def test_an_id_is_written_as_its_uuid_s_text_even_once_the_remembered_texts_were_let_go(monkeypatch):
    monkeypatch.setattr(_IdTexts, "KEPT", 3)
    texts, ids = _IdTexts(), [uuid4() for _ in range(10)]
    assert [texts[task_id.int] for task_id in ids + ids] == [str(task_id) for task_id in ids + ids]
    assert len(texts) <= 3


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


OLD_TIMERS = ROOT / "tests" / "fixtures" / "stored_cases" / "outpatient_boundary_timers_at_review.json"
NEVER = "9999-12-31T23:59:59+08:00"


class Limits:
    """The case clock as the diagram's timer expressions see it, with a desk that records the cards raised."""

    def __init__(self):
        self.due: dict[str, str] = {}
        self.raised: list[tuple[str, str, str | None]] = []
        self.now = datetime(2026, 11, 23, 1, 30, tzinfo=timezone.utc)

    def deadline(self, kind: str = "promised") -> str:
        return self.due.get(kind, NEVER)

    def warning_time(self, kind: str = "promised") -> str:
        return self.due.get(f"{kind}_warning", NEVER)

    def raise_escalation(self, level: str, limit: str, stage: str | None) -> bool:
        new = (level, limit) not in [(lvl, lim) for lvl, lim, _ in self.raised]
        self.raised.append((level, limit, stage))
        return new


@pytest.fixture
def limits():
    return Limits()


@pytest.fixture
def clocked(bindings, limits):
    from dataclasses import replace
    from workflows.adapters.catalog_files import load_catalog

    policy = load_catalog(ROOT / "catalog").agency("210400").item("002036006001").payment_policy
    return replace(bindings, desk=limits, clock=lambda: limits.now, policy=policy,
                   functions={"deadline": limits.deadline, "warning_time": limits.warning_time})


def _supervision(run) -> list:
    return [task for task in run.ready_tasks() if task.definition.name == "督办"]


def test_a_case_stored_with_boundary_timers_on_its_tasks_still_escalates_and_ends(clocked, limits):
    """Cases stay on the diagram they were opened on: the old one has three timers on every clerk's task."""
    stored = json.loads(OLD_TIMERS.read_text())
    engine = Engine()
    definition = engine.definition(stored["bpmn"], "item_002036006001.bpmn", stored["decisions"])
    run = engine.resume(definition, json.dumps(stored["state"]), clocked)
    assert len(run.pending_timers()) == 3  # on 审核

    limits.due["promised"] = "2026-12-21T17:00:00+08:00"
    limits.now = datetime(2026, 12, 22, 1, 0, tzinfo=timezone.utc)
    run.reset_timers()
    assert limits.raised == [("red", "promised", "审核")] and len(_supervision(run)) == 1
    [review] = [task for task in run.ready_tasks() if task.definition.name == "审核"]
    run.complete(review.id, {"decision": "approve"})
    assert ("red", "promised", "拨付") in limits.raised  # the next task's timer fires too; the desk dedupes
    assert len(_supervision(run)) == 1
    [payment] = [task for task in run.ready_tasks() if task.definition.name == "拨付"]
    run.complete(payment.id, {"decision": "pay"})
    assert run.completed and run.result == "办结"


def _outpatient(engine, clocked):
    run = engine.start(_definition(engine, "item_002036006001"), {"expense_total": "1860.00",
                       "self_pay_total": "120.00", "bank_account": "6222020712001234567"}, clocked)
    [accept] = run.ready_tasks()
    run.complete(accept.id, {"decision": "accept"})
    return run


def test_the_limits_timers_wait_once_per_case_and_each_fires_once(clocked, limits):
    engine = Engine()
    run = _outpatient(engine, clocked)
    assert len(run.pending_timers()) == 3  # 承诺时限预警, 承诺时限超期, 法定时限超期: for the case, not per task

    limits.due.update({"promised": "2026-12-21T17:00:00+08:00", "promised_warning": "2026-12-15T17:00:00+08:00"})
    run.reset_timers()
    assert sorted(due.isoformat() for _, due in run.pending_timers()) == [
        "2026-12-15T09:00:00+00:00", "2026-12-21T09:00:00+00:00", "9999-12-31T15:59:59+00:00"]

    limits.now = datetime(2026, 12, 16, 1, 0, tzinfo=timezone.utc)
    run = engine.resume(run.definition, engine.dump(run), clocked)
    run.advance()
    assert limits.raised == [("yellow", "promised", None)] and _supervision(run) == []
    run.reset_timers()  # the limits moved (an extension): a timer that went off does not go off again
    run.advance()
    assert limits.raised == [("yellow", "promised", None)]

    limits.now = datetime(2026, 12, 22, 1, 0, tzinfo=timezone.utc)
    run.advance()
    assert limits.raised[-1] == ("red", "promised", None) and len(_supervision(run)) == 1
    assert len(run.pending_timers()) == 1  # 法定时限超期 still waits

    [review] = [task for task in run.ready_tasks() if task.definition.name == "审核"]
    run.complete(review.id, {"decision": "approve"})
    [payment] = [task for task in run.ready_tasks() if task.definition.name == "拨付"]
    assert len(limits.raised) == 2 and len(_supervision(run)) == 1  # no timer of its own on 拨付
    run.complete(payment.id, {"decision": "pay"})
    assert run.completed and run.result == "办结"  # the open 督办 and the waiting timer end with the case
    assert run.data["expense_total"] == "1860.00"  # the data of the case's own path


def test_a_case_whose_timers_never_fired_ends_with_its_own_result(clocked, limits):
    engine = Engine()
    run = _outpatient(engine, clocked)
    for name, decision in (("审核", "approve"), ("拨付", "pay")):
        [task] = run.ready_tasks()
        assert task.definition.name == name
        run.complete(task.id, {"decision": decision})
    assert run.completed and run.result == "办结" and limits.raised == []
    assert run.pending_timers() == []


def test_spiffworkflow_s_trace_is_as_it_logs_it_when_its_loggers_take_it(bindings, caplog):
    """The engine builds SpiffWorkflow's log extras only for records that are kept (its trace is dropped below
    WARNING in the app): with its loggers at DEBUG, a case logs each change of state and each sub-process's start
    and cancel with the extras SpiffWorkflow gives them."""
    caplog.set_level(logging.DEBUG, logger="spiff")
    engine = Engine()
    run = engine.start(_definition(engine, "item_002036006001"), {"bank_account": "6222"}, bindings)
    [task] = run.ready_tasks()
    run.close("撤件")

    changes = [record for record in caplog.records if record.getMessage() == "State changed to READY"]
    assert str(task.id) in {str(record.task_id) for record in changes}
    assert all(record.elapsed >= 0 and "data" in record.__dict__ and record.workflow_spec for record in changes)
    started = [record for record in caplog.records if record.getMessage() == "Initialized workflow"]
    cancelled = [record for record in caplog.records if record.getMessage() == "Workflow cancelled"]
    assert started and cancelled and all(record.tasks for record in started + cancelled)


def test_nothing_of_spiffworkflow_s_trace_is_built_when_its_loggers_drop_it(bindings, caplog, monkeypatch):
    caplog.set_level(logging.WARNING, logger="spiff")
    built = []
    monkeypatch.setattr(Task, "collect_log_extras", lambda task, dct=None: built.append(task) or {})
    engine = Engine()
    run = engine.start(_definition(engine, "item_002036006001"), {"bank_account": "6222"}, bindings)
    run.close("撤件")
    assert run.ready_tasks() == [] and built == [] and not caplog.records
