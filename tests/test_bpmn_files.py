"""Every diagram in bpmn/ follows docs/bpmn-conventions.md and matches the catalog (catalog/items.yaml)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from lxml import etree
from SpiffWorkflow.bpmn.parser import BpmnValidator
from SpiffWorkflow.camunda.parser import CamundaParser

ROOT = Path(__file__).resolve().parents[1]
BPMN_DIR = ROOT / "bpmn"
CATALOG = ROOT / "catalog" / "items.yaml"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
}
CAMUNDA = "{%s}" % NS["camunda"]
ROLES = {"受理员", "审核员", "财务", "科室负责人", "定点医院"}
TOPICS = {"identity_check", "arrears_check", "insurance_query", "registration", "filing", "reimbursement_calc",
          "payment", "certificate", "fund_transfer", "network_open", "notify_applicant"}
RESULTS = {"办结", "不予受理", "审核不通过", "验收不通过", "协议未签订", "认定不通过"}
NOT_FLOW_NODES = {"laneSet", "sequenceFlow", "extensionElements", "documentation", "textAnnotation", "association",
                  "dataObject", "dataObjectReference", "dataStoreReference", "ioSpecification"}
TASKS = ("userTask", "serviceTask")

FILES = sorted(BPMN_DIR.glob("*.bpmn"))


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
    parser.add_bpmn_file(str(path))
    spec = parser.get_spec(process_id)
    assert spec.name == process_id
    ids = {el.get("id") for el in _flow_nodes(_process(root))}
    assert ids <= set(spec.task_specs), "the parsed spec lacks flow nodes"


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
        assert task.get(CAMUNDA + "formKey") == task.get("id")
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
        for flow in outgoing:
            if flow.get("id") == gateway.get("default"):
                continue
            condition = flow.find("bpmn:conditionExpression", NS)
            assert condition is not None and (condition.text or "").strip(), \
                f"{flow.get('id')} out of {gateway.get('id')} has no condition"


def test_end_events_name_results_and_messages_resolve(diagram):
    _, root = diagram
    process = _process(root)
    for end in process.iterfind("bpmn:endEvent", NS):
        assert end.get("name") in RESULTS, f"{end.get('id')}: {end.get('name')} is no case result"
    messages = {m.get("id"): m.get("name") for m in root.iterfind("bpmn:message", NS)}
    assert len(set(messages.values())) == len(messages), "declare each message once"
    for definition in process.iterfind(".//bpmn:messageEventDefinition", NS):
        assert definition.get("messageRef") in messages


def test_every_catalog_item_has_its_file():
    missing = [key for key in _process_keys() if not (BPMN_DIR / f"{key}.bpmn").exists()]
    assert not missing, f"no diagram for {missing}"
