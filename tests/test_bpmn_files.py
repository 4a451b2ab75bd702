"""Every diagram in bpmn/ follows docs/bpmn-conventions.md and matches the catalog (catalog/items.yaml)."""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest
import yaml
from lxml import etree
from SpiffWorkflow.bpmn.parser import BpmnValidator
from SpiffWorkflow.camunda.parser import CamundaParser

from workflows.adapters.bpmn_draft.layout import NSMAP
from workflows.adapters.bpmn_parsing import parse_process
from workflows.adapters.dmn_parsing import decision_files, read_decisions

ROOT = Path(__file__).resolve().parents[1]
BPMN_DIR = ROOT / "bpmn"
CATALOG = ROOT / "catalog" / "items.yaml"
AGENCIES = sorted((ROOT / "catalog" / "agencies").glob("*.yaml"))
NS = NSMAP
CAMUNDA = "{%s}" % NS["camunda"]
ROLES = {"受理员", "审核员", "财务", "科室负责人", "定点医院"}
TOPICS = {"identity_check", "insured_check", "arrears_check", "insurance_query", "registration", "filing",
          "reimbursement_calc", "payment", "certificate", "fund_transfer", "network_open", "notify_applicant", "escalate"}
RESULTS = {"办结", "不予受理", "审核不通过", "验收不通过", "协议未签订", "认定不通过", "补正超时", "禁止办理"}
# Time limits (docs/bpmn-conventions.md, "Time limits and escalation")
CLERK_TIMERS = {"承诺时限预警": ('warning_time("promised")', "yellow", "promised"),
                "承诺时限超期": ('deadline("promised")', "red", "promised"),
                "法定时限超期": ('deadline("statutory")', "red", "statutory")}
CASE_LIMITS = {"promised", "statutory"}
WAIVER_LIMIT = "容缺补正"  # the 补正期限 of 容缺受理: the case clock starts it when a case enters 容缺补正
SUPERVISE_STAGE = "督办"
# After 发出红牌超期: a red card the desk had raised already (a later task's timer) needs no second 督办
NEW_RED_GATEWAY, REPEATED_RED, ALREADY_SUPERVISED = "是否新的红牌", "escalation_raised == False", "已督办过"
# Stage limits of the catalog that no timer watches, and why
UNWATCHED_STAGE_LIMITS = {
    ("002036003002", "信息表"): "watched on the sending side (item_002036003002_out); 收到信息表 is a catch event",
    ("002036009001", "建立机构信息"): "no stage of the diagram",
    ("002036009001", "开通医保服务网络"): "no stage of the diagram (开通医保服务网络 runs in 签订协议)",
    ("002036009002", "建立机构信息"): "no stage of the diagram",
    ("002036009002", "开通医保服务网络"): "no stage of the diagram (开通医保服务网络 runs in 签订协议)",
}
NOT_FLOW_NODES = {"laneSet", "sequenceFlow", "extensionElements", "documentation", "textAnnotation", "association",
                  "dataObject", "dataObjectReference", "dataStoreReference", "ioSpecification"}
TASKS = ("userTask", "serviceTask")

FILES = sorted(BPMN_DIR.glob("*.bpmn"))
DECISIONS = read_decisions(decision_files(BPMN_DIR / "decisions"))  # decision id -> its DMN file


@cache  # the files do not change during a run; reading them (PyYAML) per item made one test take minutes
def _catalog_items() -> list[dict]:
    data = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    return data["items"] if isinstance(data, dict) else data


def _process_keys() -> dict[str, str]:
    """process key -> item name, for every item's process and partner process."""
    keys = {}
    for item in _catalog_items():
        keys[item["process"]] = item["name"]
        if item.get("partner_process"):
            keys[item["partner_process"]] = item["name"]
    return keys


def _process(root):
    processes = root.findall("bpmn:process", NS)
    assert len(processes) == 1, "one process per file"
    return processes[0]


def _flow_nodes(process) -> list:
    return [el for el in process if etree.QName(el).localname not in NOT_FLOW_NODES]


def _tag(el) -> str:
    return etree.QName(el).localname


def _properties(el) -> dict[str, str]:
    return {p.get("name"): p.get("value")
            for p in el.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", NS)}


@cache
def _stage_limits() -> dict[str, set[str]]:
    """process key -> the names of the stage limits any agency sets for its item (also under the partner key)."""
    keys = {str(item["code"]): [item["process"]] + ([item["partner_process"]] if item.get("partner_process") else [])
            for item in _catalog_items()}
    limits: dict[str, set[str]] = {}
    for path in AGENCIES:
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("items") or []:
            for key in keys.get(str(item.get("code")), []):
                limits.setdefault(key, set()).update(limit["stage"] for limit in item.get("stage_limits") or [])
    return limits


def _reachable(process, starts) -> set[str]:
    """Ids of the flow nodes reached along sequence flows from the given ids (included)."""
    targets: dict[str, list[str]] = {}
    for flow in process.iterfind("bpmn:sequenceFlow", NS):
        targets.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    seen, todo = set(), list(starts)
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(targets.get(node, []))
    return seen


@pytest.fixture(scope="module", params=FILES, ids=[f.name for f in FILES])
def diagram(request):
    path = request.param
    return path, etree.parse(str(path)).getroot()


def test_there_are_diagrams():
    assert FILES, "bpmn/ holds no diagrams"


def test_parses_and_validates(diagram):
    path, root = diagram
    process_id = _process(root).get("id")
    parser = CamundaParser(validator=BpmnValidator())
    parser.add_dmn_files([str(BPMN_DIR / "decisions" / decision.file_name) for decision in DECISIONS.values()])
    parser.add_bpmn_file(str(path))
    spec = parser.get_spec(process_id)
    assert spec.name == process_id
    ids = {el.get("id") for el in _flow_nodes(_process(root))}
    assert ids <= set(spec.task_specs), "the parsed spec lacks flow nodes"


def test_the_platform_accepts_it(diagram):
    path, root = diagram
    definition = parse_process(path.read_bytes(), path.name, DECISIONS)
    assert definition.key == _process(root).get("id")


def test_prohibited_cases_are_checked_after_acceptance_and_review_where_a_catalog_lists_them(diagram):
    """禁办情形核查: a business-rule task applying decisions/prohibited_<code>.dmn after 受理 and after 审核, then 是否禁办,
    whose way off (a rule matched) ends 禁止办理."""
    _, root = diagram
    process = _process(root)
    code = process.get("id").removeprefix("item_")
    listed = any(str(item["code"]) == code and item.get("prohibited") for path in AGENCIES
                 for item in yaml.safe_load(path.read_text(encoding="utf-8"))["items"])
    checks = process.findall("bpmn:businessRuleTask", NS)
    assert [(t.get("name"), _properties(t)["stage"]) for t in checks] == \
        ([("禁办情形核查", "受理"), ("禁办情形核查", "审核")] if listed else [])
    targets = {f.get("sourceRef"): f.get("targetRef") for f in process.iterfind("bpmn:sequenceFlow", NS)}
    for task in checks:
        assert task.get(CAMUNDA + "decisionRef") == f"prohibited_{code}" in DECISIONS
        gateway = process.find(f"*[@id='{targets[task.get('id')]}']")
        assert gateway.get("name") == "是否禁办"
        [hit] = [f for f in process.iterfind(f"bpmn:sequenceFlow[@sourceRef='{gateway.get('id')}']", NS)
                 if f.get("id") != gateway.get("default")]
        assert hit.findtext("bpmn:conditionExpression", namespaces=NS) == "prohibited_rule is not None"
        assert process.find(f"*[@id='{hit.get('targetRef')}']").get("name") == "禁止办理"


def test_file_name_process_id_and_catalog(diagram):
    path, root = diagram
    process = _process(root)
    assert path.stem == process.get("id")
    assert process.get("isExecutable") == "true"
    keys = _process_keys()
    assert process.get("id") in keys, f"{process.get('id')} is no process key of the catalog"
    assert process.get("name", "").startswith(keys[process.get("id")])
    participants = root.findall("bpmn:collaboration/bpmn:participant", NS)
    assert [p.get("processRef") for p in participants] == [process.get("id")]
    assert participants[0].get("name")
    assert len(process.findall("bpmn:laneSet", NS)) == 1


def test_no_reserved_ids(diagram):
    _, root = diagram
    assert not {el.get("id") for el in root.iter() if el.get("id")} & {"Start", "End"}


def test_every_flow_node_in_exactly_one_role_lane(diagram):
    _, root = diagram
    process = _process(root)
    lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
    assert {lane.get("name") for lane in lanes} <= ROLES
    refs = [ref.text for lane in lanes for ref in lane.iterfind("bpmn:flowNodeRef", NS)]
    nodes = [el.get("id") for el in _flow_nodes(process)]
    assert sorted(refs) == sorted(nodes), "every flow node must be in exactly one lane"


def test_diagram_interchange_is_complete(diagram):
    _, root = diagram
    process = _process(root)
    shapes = {s.get("bpmnElement"): s for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    wanted = [p.get("id") for p in root.iterfind("bpmn:collaboration/bpmn:participant", NS)]
    wanted += [lane.get("id") for lane in process.iterfind("bpmn:laneSet/bpmn:lane", NS)]
    wanted += [el.get("id") for el in _flow_nodes(process)]
    for element_id in wanted:
        assert element_id in shapes, f"{element_id} has no BPMNShape"
        assert shapes[element_id].find("dc:Bounds", NS) is not None, f"{element_id} has no bounds"
    for flow in process.iterfind("bpmn:sequenceFlow", NS):
        assert flow.get("id") in edges, f"{flow.get('id')} has no BPMNEdge"
        assert len(edges[flow.get("id")].findall("di:waypoint", NS)) >= 2, f"{flow.get('id')} lacks waypoints"


def test_tasks_have_stage_and_handlers(diagram):
    _, root = diagram
    process = _process(root)
    for task in process:
        if _tag(task) not in TASKS:
            continue
        properties = {p.get("name"): p.get("value")
                      for p in task.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", NS)}
        assert properties.get("stage"), f"{task.get('id')} has no stage"
        if _tag(task) == "serviceTask":
            assert task.get(CAMUNDA + "type") == "external", task.get("id")
            assert task.get(CAMUNDA + "topic") in TOPICS, f"{task.get('id')}: unknown topic"


def test_decision_tasks_have_forms(diagram):
    _, root = diagram
    for task in _process(root).iterfind("bpmn:userTask", NS):
        assert task.get(CAMUNDA + "formKey") is None  # the engine renders camunda:formData, never a form key
        fields = {f.get("id"): f for f in task.iterfind(".//camunda:formData/camunda:formField", NS)}
        decision = fields.get("decision")
        assert decision is not None and decision.get("type") == "enum", task.get("id")
        assert decision.find("camunda:validation/camunda:constraint[@name='required']", NS) is not None
        assert decision.findall("camunda:value", NS)
        assert fields.get("opinion") is not None and fields["opinion"].get("type") == "string"


def test_gateway_flows_have_conditions(diagram):
    _, root = diagram
    process = _process(root)
    for gateway in process.iterfind("bpmn:exclusiveGateway", NS):
        outgoing = process.findall(f"bpmn:sequenceFlow[@sourceRef='{gateway.get('id')}']", NS)
        if len(outgoing) == 1:  # a joining gateway: one way on
            continue
        for flow in outgoing:
            if flow.get("id") == gateway.get("default"):
                continue
            condition = flow.find("bpmn:conditionExpression", NS)
            assert condition is not None and (condition.text or "").strip(), \
                f"{flow.get('id')} out of {gateway.get('id')} has no condition"


def test_end_events_name_results_and_messages_resolve(diagram):
    _, root = diagram
    process = _process(root)
    # The case's paths: from the start, and from interrupting boundary events (they replace their task's path).
    # The rest hangs off non-interrupting boundary events: escalation branches, never the case's result; so do
    # the ends of the limits' event sub-processes.
    main = _reachable(process, [e.get("id") for e in process.iterfind("bpmn:startEvent", NS)]
                      + [e.get("id") for e in process.iterfind("bpmn:boundaryEvent", NS)
                         if e.get("cancelActivity", "true") != "false"])
    for end in process.iterfind("bpmn:endEvent", NS):
        if _properties(end).get("kind") == "escalation":
            assert end.get("id") not in main, f"{end.get('id')} ends a path of the case: it is a result"
        else:
            assert end.get("id") in main, f"{end.get('id')} ends an escalation branch: kind=escalation"
            assert end.get("name") in RESULTS, f"{end.get('id')}: {end.get('name')} is no case result"
    for end in process.iterfind("bpmn:subProcess[@triggeredByEvent='true']/bpmn:endEvent", NS):
        assert _properties(end).get("kind") == "escalation", f"{end.get('id')} ends an escalation: kind=escalation"
    messages = {m.get("id"): m.get("name") for m in root.iterfind("bpmn:message", NS)}
    assert len(set(messages.values())) == len(messages), "declare each message once"
    for definition in process.iterfind(".//bpmn:messageEventDefinition", NS):
        assert definition.get("messageRef") in messages


def test_every_catalog_item_has_its_file():
    missing = [key for key in _process_keys() if not (BPMN_DIR / f"{key}.bpmn").exists()]
    assert not missing, f"no diagram for {missing}"


def _timer_call(expression: str) -> tuple[str, object]:
    """(function, argument) of a timer expression; only the platform's time-limit functions are allowed."""
    tree = ast.parse(expression.strip(), mode="eval").body
    assert isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and not tree.keywords, expression
    assert tree.func.id in ("deadline", "warning_time", "working_days"), f"{expression}: unknown function"
    assert len(tree.args) == 1 and isinstance(tree.args[0], ast.Constant), expression
    argument = tree.args[0].value
    if tree.func.id == "working_days":
        assert isinstance(argument, int) and argument > 0, expression
    else:
        assert isinstance(argument, str), expression
    return tree.func.id, argument


def test_timers_use_the_time_limit_functions(diagram):
    _, root = diagram
    process = _process(root)
    limits = CASE_LIMITS | {WAIVER_LIMIT} | _stage_limits().get(process.get("id"), set())
    for definition in process.iter("{%s}timerEventDefinition" % NS["bpmn"]):
        texts = [el for el in definition if _tag(el) in ("timeDate", "timeDuration", "timeCycle")]
        assert [_tag(el) for el in texts] == ["timeDate"], "a time limit is a date: bpmn:timeDate"
        function, argument = _timer_call(texts[0].text or "")
        if function != "working_days":
            assert argument in limits, f"{texts[0].text}: no such limit for this item"


def test_escalations_name_level_and_limit(diagram):
    _, root = diagram
    process = _process(root)
    limits = CASE_LIMITS | _stage_limits().get(process.get("id"), set())
    for task in process.iterfind(".//bpmn:serviceTask", NS):
        if task.get(CAMUNDA + "topic") != "escalate":
            continue
        properties = _properties(task)
        assert properties.get("level") in ("yellow", "red"), f"{task.get('id')}: level yellow or red"
        assert properties.get("limit") in limits, f"{task.get('id')}: limit {properties.get('limit')}"


def _limit_watchers(process) -> dict[str, tuple]:
    """timer name -> (its sub-process, its timeDate, the escalate task it starts) of each non-interrupting timer
    event sub-process of the process: the limits' timers, once per case."""
    watchers = {}
    for sub in process.iterfind("bpmn:subProcess[@triggeredByEvent='true']", NS):
        [start] = sub.findall("bpmn:startEvent", NS)
        assert start.get("isInterrupting") == "false", f"{start.get('id')} must not interrupt the case"
        assert start.get("name") not in watchers, f"{start.get('name')}: one timer per limit"
        [flow] = sub.findall(f"bpmn:sequenceFlow[@sourceRef='{start.get('id')}']", NS)
        escalate = sub.find(f"*[@id='{flow.get('targetRef')}']")
        assert escalate.get(CAMUNDA + "topic") == "escalate", f"{start.get('id')} must lead to an escalation"
        watchers[start.get("name")] = (sub, start.findtext(".//bpmn:timeDate", namespaces=NS), escalate)
    return watchers


def test_every_process_with_a_clerks_task_watches_its_limits_once(diagram):
    _, root = diagram
    process = _process(root)
    lane_of = {ref.text: lane.get("name") for lane in process.iterfind("bpmn:laneSet/bpmn:lane", NS)
               for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
    assert process.find(".//bpmn:boundaryEvent/bpmn:timerEventDefinition", NS) is None, "no timer on a task"
    supervise = [t for t in process.iterfind(".//bpmn:userTask", NS)
                 if _properties(t).get("stage") == SUPERVISE_STAGE]
    assert len(supervise) == 1, "one 督办 task"
    fields = {f.get("id"): f for f in supervise[0].iterfind(".//camunda:formField", NS)}
    assert [v.get("id") for v in fields["decision"].iterfind("camunda:value", NS)] == ["done"]
    assert fields["opinion"].find("camunda:validation/camunda:constraint[@name='required']", NS) is not None
    watchers = _limit_watchers(process)
    timers = {name: (expression, _properties(escalate)["level"], _properties(escalate)["limit"])
              for name, (_, expression, escalate) in watchers.items()}
    for name, expected in CLERK_TIMERS.items():
        assert timers.get(name) == expected, name
    for name, (expression, level, limit) in timers.items():
        if name not in CLERK_TIMERS:  # a stage limit
            assert (expression, level) == (f'deadline("{limit}")', "red") and name == f"{limit}时限超期", name
    for sub, _, escalate in watchers.values():
        assert lane_of[sub.get("id")] == "科室负责人", f"{sub.get('id')}: the limits run in 科室负责人's lane"
    overdue, _, escalate = watchers["承诺时限超期"]
    [flow] = overdue.findall(f"bpmn:sequenceFlow[@sourceRef='{escalate.get('id')}']", NS)
    _assert_new_red_gateway(overdue, overdue.find(f"*[@id='{flow.get('targetRef')}']"), supervise[0])


def _assert_new_red_gateway(container, gateway, supervise) -> None:
    """是否新的红牌 after 发出红牌超期: the default flow to 督办; the other, `escalation_raised == False` (the escalate
    handler found this red card raised already), to an escalation end 已督办过."""
    where = gateway.get("id")
    assert _tag(gateway) == "exclusiveGateway" and gateway.get("name") == NEW_RED_GATEWAY, where
    outgoing = container.findall(f"bpmn:sequenceFlow[@sourceRef='{where}']", NS)
    defaults = [f for f in outgoing if f.get("id") == gateway.get("default")]
    others = [f for f in outgoing if f.get("id") != gateway.get("default")]
    assert len(defaults) == 1 and len(others) == 1, f"{where}: a default flow and one other"
    assert defaults[0].get("targetRef") == supervise.get("id"), f"{where}: the default flow goes to 督办"
    assert defaults[0].find("bpmn:conditionExpression", NS) is None, where
    condition = others[0].find("bpmn:conditionExpression", NS)
    assert condition is not None and condition.get("{%s}type" % NS["xsi"]) == "bpmn:tFormalExpression", where
    assert (condition.text or "").strip() == REPEATED_RED, f"{where}: {condition.text}"
    end = container.find(f"*[@id='{others[0].get('targetRef')}']")
    assert _tag(end) == "endEvent" and end.get("name") == ALREADY_SUPERVISED, where
    assert _properties(end).get("kind") == "escalation", f"{end.get('id')}: kind=escalation"


def test_only_the_red_promised_card_asks_whether_it_is_new_and_leads_to_supervision(diagram):
    _, root = diagram
    process = _process(root)
    gateways = [g for g in process.iterfind(".//bpmn:exclusiveGateway", NS) if g.get("name") == NEW_RED_GATEWAY]
    assert len(gateways) == 1, "one 是否新的红牌, after 承诺时限超期"
    flows = list(process.iterfind(".//bpmn:sequenceFlow", NS))
    sources = {f.get("targetRef"): f.get("sourceRef") for f in flows}
    nodes = {el.get("id"): el for el in process.iter() if el.get("id")}
    escalate = nodes[sources[gateways[0].get("id")]]
    assert escalate.get(CAMUNDA + "topic") == "escalate", gateways[0].get("id")
    assert (_properties(escalate)["level"], _properties(escalate)["limit"]) == ("red", "promised")
    supervise = {f.get("sourceRef") for f in flows if _properties(nodes[f.get("targetRef")]).get("stage") == SUPERVISE_STAGE}
    assert supervise == {gateways[0].get("id")}, "督办 is reached only through 是否新的红牌"


def test_catalog_stage_limits_are_watched():
    watched: dict[str, set[str]] = {}
    for path in FILES:
        process = _process(etree.parse(str(path)).getroot())
        for text in process.iterfind("bpmn:subProcess/bpmn:startEvent/bpmn:timerEventDefinition/bpmn:timeDate", NS):
            function, argument = _timer_call(text.text)
            if function == "deadline" and argument not in CASE_LIMITS:
                watched.setdefault(process.get("id"), set()).add(argument)
    for item in _catalog_items():
        keys = [item["process"]] + ([item["partner_process"]] if item.get("partner_process") else [])
        limits = _stage_limits().get(item["process"], set())
        found = set().union(*(watched.get(key, set()) for key in keys))
        missing = {limit for limit in limits - found if (str(item["code"]), limit) not in UNWATCHED_STAGE_LIMITS}
        assert not missing, f"{item['code']} {item['name']}: no timer watches {sorted(missing)}"
