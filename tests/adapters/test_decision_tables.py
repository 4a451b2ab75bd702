"""Decision tables (DMN) in the engine: parsed with the diagram, run in the case's sandbox, refused when unsafe; and
the event-based gateway of 容缺补正 (a message or a timer, whichever comes first)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from handlers.gateways import LocalNationalPlatform, LocalPaymentGateway, LocalSmsNotifier
from workflows.adapters.limits import NEVER
from workflows.adapters.bpmn_parsing import parse_process
from workflows.adapters.dmn_parsing import decision_files, read_decision, read_decisions
from workflows.adapters.engine import CaseBindings, Engine
from workflows.domain.amounts import PaymentPolicy
from workflows.domain.errors import InvalidProcess

from support.paths import BPMN_DIR
from support.process_driver import PERSON_ID

FAR, PAST = NEVER, "2000-01-03T17:00:00+08:00"
TABLES = {name: xml.decode("utf-8") for name, xml in decision_files(BPMN_DIR / "decisions").items()}
OUTPATIENT = "002036006001"
DIAGRAM = (BPMN_DIR / f"item_{OUTPATIENT}.bpmn").read_text(encoding="utf-8")
TABLE = TABLES[f"prohibited_{OUTPATIENT}.dmn"]


def bindings(agency: str = "210400", due: dict | None = None) -> CaseBindings:
    due = due or {}
    person = {"name": "张伟", "status": "参保缴费", "arrears": "0.00", "account_balance": "0.00"}
    functions = {"deadline": lambda limit: due.get(limit, FAR), "warning_time": lambda limit: FAR,
                 "working_days": lambda n: FAR}
    return CaseBindings(f"{agency}-20261123-00001", agency, OUTPATIENT, "门诊费用报销",
                        {"name": "张伟", "id_number": PERSON_ID}, LocalNationalPlatform({PERSON_ID: person}.get,
                                                                                     lambda *call: None),
                        LocalPaymentGateway(lambda *call: None), LocalSmsNotifier(lambda *call: None),
                        functions=functions, policy=PaymentPolicy(ratio=Decimal("0.5"), cap=Decimal("3000")))


def accepted(data: dict, agency: str = "210400", table: str = TABLE, decision: str = "accept"):
    engine = Engine()
    definition = engine.definition(DIAGRAM, "item.bpmn", {f"prohibited_{OUTPATIENT}.dmn": table})
    run = engine.start(definition, {"expense_total": "100.00", **data}, bindings(agency))
    [accept] = run.ready_tasks()
    run.complete(accept.id, {"decision": decision})
    return run


def test_a_rule_that_matches_ends_the_case_with_its_words_and_the_step_says_so():
    run = accepted({"visit_kind": "emergency"})
    assert run.completed and run.result == "禁止办理"
    assert run.data["prohibited_rule"] == "急诊发生的费用，不是抢救、危重症"
    [check] = [step for step in run.steps if step.kind == "rule"]
    assert (check.name, check.stage) == ("禁办情形核查", "受理")
    assert check.outputs == {"prohibited_rule": "急诊发生的费用，不是抢救、危重症",
                             "prohibited_basis": "抚顺市医疗保障事务服务中心违规禁办事项清单"}


def test_no_rule_matching_sets_the_outputs_to_none_and_empty_answers_read_as_none():
    run = accepted({"visit_kind": "emergency", "critical_care": True})
    assert not run.completed and [t.definition.stage for t in run.ready_tasks()] == ["审核"]
    assert (run.data["prohibited_rule"], run.data["prohibited_basis"]) == (None, None)
    assert (run.data["remote_care"], run.data["remote_filed"]) == (None, None)  # left empty, read by the table
    [check] = [step for step in run.steps if step.kind == "rule"]
    assert check.outputs == {"prohibited_rule": None, "prohibited_basis": None}


def test_the_agency_column_reads_the_agency_handling_the_case():
    assert accepted({"visit_kind": "emergency"}, agency="231025").data["prohibited_rule"] is None


def test_cells_run_in_the_cases_sandbox():
    """A cell that passes the deploy check but reaches for something the sandbox does not give fails the step;
    the case waits for a fix (nothing ran outside the sandbox)."""
    sneaky = TABLE.replace("<text>visit_kind</text>", "<text>visit_kind.encode()</text>")
    run = accepted({"visit_kind": "emergency"}, table=sneaky)
    assert run.failure is not None and "str.encode" in run.failure.message
    assert run.failure.task_name == "禁办情形核查"


@pytest.mark.parametrize("change,reason", [
    (("<text>visit_kind</text>", "<text>__import__('os')</text>"), "下划线开头"),
    (("<text>visit_kind</text>", "<text>open('/etc/passwd')</text>"), "不允许调用 open"),
    (("<text>\"emergency\"</text>", "<text>[x for x in ().__class__.__mro__]</text>"), "下划线开头"),
    (("<text>\"急诊发生的费用，不是抢救、危重症\"</text>", "<text>exec('1')</text>"), "不允许调用 exec"),
    (("<text>\"emergency\"</text>", "<text>&gt;=</text>"), "语法错误"),
    (('hitPolicy="FIRST"', 'hitPolicy="COLLECT" aggregation="SUM"'), "不受支持"),
    (('<inputExpression id="InputExpression_visit_kind" typeRef="string">\n          <text>visit_kind</text>',
      '<inputExpression id="InputExpression_visit_kind" typeRef="string">\n          <text></text>'), "缺少表达式"),
    (("</decision>", '</decision><decision id="other"><decisionTable id="t"/></decision>'), "恰好包含一个决策"),
    (("<decisionTable ", "<decisionTableX "), "不是合法的 XML"),
    (("<output ", "<outputX "), "DMN 文件不符合规范"),  # the DMN schema
    # wording typed without quotes would be a variable, and fail only when a case hits the rule
    (("<text>\"急诊发生的费用，不是抢救、危重症\"</text>", "<text>急诊发生的费用不是抢救危重症</text>"), "文字请加英文引号"),
])
def test_an_unsafe_or_malformed_table_is_refused_naming_the_file(change, reason):
    with pytest.raises(InvalidProcess, match=reason) as refused:
        read_decision(TABLE.replace(*change), "门诊禁办.dmn")
    assert refused.value.file_name == "门诊禁办.dmn"


def test_a_diagram_is_parsed_with_the_tables_it_references_only():
    tables = read_decisions(TABLES)
    definition = parse_process(DIAGRAM.encode("utf-8"), "item.bpmn", tables)
    assert list(definition.decisions) == [f"prohibited_{OUTPATIENT}"]
    assert definition.checksum != parse_process(DIAGRAM.encode("utf-8"), "item.bpmn", {
        **tables, f"prohibited_{OUTPATIENT}": read_decision(TABLE.replace("急诊", "急救"), "x.dmn")}).checksum
    with pytest.raises(InvalidProcess, match="决策表“prohibited_002036006001”不存在") as missing:
        parse_process(DIAGRAM.encode("utf-8"), "item.bpmn")
    assert missing.value.element_id == "Task_prohibited_accept"


def test_a_waived_case_waits_for_the_materials_or_the_time_limit():
    engine = Engine()
    definition = engine.definition(DIAGRAM, "item.bpmn", {f"prohibited_{OUTPATIENT}.dmn": TABLE})
    run = engine.start(definition, {"expense_total": "100.00"}, bindings())
    [accept] = run.ready_tasks()
    run.complete(accept.id, {"decision": "waive"})
    assert run.ready_tasks() == [] and run.stage_waiting() == "容缺补正"
    # the 补正期限 and the case's three limits (their event sub-processes), none started here
    assert [due.year for _, due in run.pending_timers()] == [9999] * 4
    state = engine.dump(run)

    supplied = engine.resume(definition, state, bindings())
    supplied.deliver_message("容缺材料补齐", {"materials": ["医保卡复印件"]})
    assert [t.definition.stage for t in supplied.ready_tasks()] == ["审核"]
    assert supplied.data["waived_materials"] == {"materials": ["医保卡复印件"]}

    late = engine.resume(definition, state, bindings(due={"容缺补正": PAST}))
    late.reset_timers()  # the 补正期限 moved (as the clock tells a waiting case)
    assert late.completed and late.result == "补正超时"
