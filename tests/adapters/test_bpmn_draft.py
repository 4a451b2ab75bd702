"""The BPMN drafter: structure, forms, time limits and layout of the diagrams it writes."""
from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

import pytest
import yaml
from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnValidator
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from workflows.adapters.limits import NEVER
from workflows.adapters import bpmn_draft as draft
from workflows.adapters.bpmn_draft import layout, prohibited, shapes
from workflows.adapters.bpmn_draft import spec as draft_spec
from workflows.adapters.bpmn_parsing import parse_process
from workflows.adapters.scripting import RestrictedScriptEngine
from workflows.domain.forms import validate_form

NS = layout.NSMAP
CAMUNDA = "{%s}" % NS["camunda"]
TASK, EVENT, GATEWAY = (layout.SIZES[k] for k in ("task", "event", "gateway"))
FAR = NEVER  # what the limits' functions return while a limit is not running
PAST = "2000-01-03T17:00:00+08:00"


def _engine(due: dict[str, str] | None = None) -> RestrictedScriptEngine:
    """The sandbox with stand-ins for the platform's time-limit functions: every limit is far away unless `due`
    names it (limit name -> ISO date-time; "warning:<limit>" for its warning time)."""
    due = due or {}
    return RestrictedScriptEngine({
        "deadline": lambda limit: due.get(limit, FAR),
        "warning_time": lambda limit: due.get(f"warning:{limit}", FAR),
        "working_days": lambda n: FAR,
    })


SMALL = draft_spec.ProcessDraftSpec(
    process_id="item_test", name="测试事项",
    steps=(draft_spec.ACCEPT, draft_spec.IDENTITY, draft_spec.REVIEW, draft_spec.NOTIFY),
    start_fields=shapes.FORMS["unit"],
)


def _tree(xml: bytes):
    return etree.fromstring(xml)


def _bounds(root) -> dict[str, tuple[float, ...]]:
    return {shape.get("bpmnElement"): tuple(float(shape.find("dc:Bounds", NS).get(k))
                                            for k in ("x", "y", "width", "height"))
            for shape in root.iterfind(".//bpmndi:BPMNShape", NS)}


def _waypoints(root) -> dict[str, list[tuple[float, float]]]:
    return {edge.get("bpmnElement"): [(float(w.get("x")), float(w.get("y")))
                                      for w in edge.iterfind("di:waypoint", NS)]
            for edge in root.iterfind(".//bpmndi:BPMNEdge", NS)}


def _flow_nodes(root) -> dict[str, str]:
    """id -> local tag of every flow node of the process and of its event sub-processes."""
    process = root.find("bpmn:process", NS)
    containers = [process, *process.iterfind("bpmn:subProcess", NS)]
    return {el.get("id"): etree.QName(el).localname for container in containers for el in container
            if etree.QName(el).localname not in ("laneSet", "sequenceFlow", "extensionElements", "incoming",
                                                 "outgoing")}


def _containers(root) -> dict[str, str]:
    """id of a node inside an event sub-process -> that sub-process."""
    return {el.get("id"): sub.get("id") for sub in root.iterfind("bpmn:process/bpmn:subProcess", NS)
            for el in sub if el.get("id") and etree.QName(el).localname != "sequenceFlow"}


def _on_boundary(point, box, tag, tol=1.0) -> bool:
    px, py = point
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    if tag.endswith("Event"):
        return abs(math.hypot(px - cx, py - cy) - w / 2) <= tol
    if tag.endswith("Gateway"):
        return abs(abs(px - cx) / (w / 2) + abs(py - cy) / (h / 2) - 1) <= tol / min(w, h) * 2
    on_vertical = min(abs(px - x), abs(px - x - w)) <= tol and y - tol <= py <= y + h + tol
    on_horizontal = min(abs(py - y), abs(py - y - h)) <= tol and x - tol <= px <= x + w + tol
    return on_vertical or on_horizontal


def _segment_hits(a, b, box, margin=1.0) -> bool:
    """Does the axis-parallel segment a-b pass through the inside of box?"""
    x, y, w, h = box
    left, right, top, bottom = x + margin, x + w - margin, y + margin, y + h - margin
    (x1, y1), (x2, y2) = a, b
    return max(x1, x2) > left and min(x1, x2) < right and max(y1, y2) > top and min(y1, y2) < bottom


def assert_layout(xml: bytes) -> None:
    """Shapes are sized, inside their lanes (an event sub-process's nodes inside it) and apart; edges are
    orthogonal, start and end on their shapes and pass through no other shape; labels overlap no shape."""
    root = _tree(xml)
    bounds, waypoints, nodes, inside = _bounds(root), _waypoints(root), _flow_nodes(root), _containers(root)

    def related(a: str, b: str) -> bool:  # a node and the event sub-process it is in
        return inside.get(a) == b or inside.get(b) == a
    expected_size = {"userTask": TASK, "serviceTask": TASK, "businessRuleTask": TASK, "exclusiveGateway": GATEWAY,
                     "eventBasedGateway": GATEWAY}
    for node_id, tag in nodes.items():
        assert node_id in bounds, f"{node_id} has no shape"
        width, height = bounds[node_id][2:]
        if tag == "subProcess":
            x, y = bounds[node_id][:2]
            for inner, sub in inside.items():
                if sub == node_id:
                    ix, iy, iw, ih = bounds[inner]
                    assert x < ix and ix + iw < x + width and y < iy and iy + ih < y + height, f"{inner} outside"
        else:
            assert (width, height) == tuple(map(float, expected_size.get(tag, EVENT))), node_id
    participant = bounds[root.find("bpmn:collaboration/bpmn:participant", NS).get("id")]
    lanes = [bounds[lane.get("id")] for lane in root.iterfind(".//bpmn:lane", NS)]
    for (_, ay, _, ah), (_, by, _, _) in zip(lanes, lanes[1:]):
        assert by == ay + ah, "lanes must be stacked without gaps"
    assert lanes[0][1] == participant[1] and lanes[-1][1] + lanes[-1][3] == participant[1] + participant[3]
    for lane in root.iterfind(".//bpmn:lane", NS):
        lx, ly, lw, lh = bounds[lane.get("id")]
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            x, y, w, h = bounds[ref.text]
            assert lx <= x and x + w <= lx + lw and ly <= y and y + h <= ly + lh, f"{ref.text} outside its lane"
    for a, b in itertools.combinations(nodes, 2):
        if related(a, b):
            continue
        (ax, ay, aw, ah), (bx, by, bw, bh) = bounds[a], bounds[b]
        assert not (ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah), f"{a} overlaps {b}"
    labels = []
    for di in itertools.chain(root.iterfind(".//bpmndi:BPMNShape", NS), root.iterfind(".//bpmndi:BPMNEdge", NS)):
        label = di.find("bpmndi:BPMNLabel/dc:Bounds", NS)
        if label is None:
            continue
        box = tuple(float(label.get(k)) for k in ("x", "y", "width", "height"))
        name = root.find(f".//*[@id='{di.get('bpmnElement')}']").get("name")
        assert box[2] >= layout.LABEL_FONT * len(name), f"the label of {di.get('bpmnElement')} would wrap"
        for other in nodes:
            if related(di.get("bpmnElement"), other):
                continue
            x, y, w, h = bounds[other]
            assert not (box[0] < x + w and x < box[0] + box[2] and box[1] < y + h and y < box[1] + box[3]), \
                f"the label of {di.get('bpmnElement')} overlaps {other}"
        for other_id, (x, y, w, h) in labels:
            assert not (box[0] < x + w and x < box[0] + box[2] and box[1] < y + h and y < box[1] + box[3]), \
                f"the label of {di.get('bpmnElement')} overlaps the label of {other_id}"
        labels.append((di.get("bpmnElement"), box))
    for flow in root.iterfind(".//bpmn:sequenceFlow", NS):
        points = waypoints[flow.get("id")]
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        assert len(points) >= 2
        assert _on_boundary(points[0], bounds[source], nodes[source]), f"{flow.get('id')} does not start on {source}"
        assert _on_boundary(points[-1], bounds[target], nodes[target]), f"{flow.get('id')} does not end on {target}"
        for a, b in zip(points, points[1:]):
            assert a[0] == b[0] or a[1] == b[1], f"{flow.get('id')} is not orthogonal"
            for other in nodes.keys() - {source, target, inside.get(source)}:
                assert not _segment_hits(a, b, bounds[other]), f"{flow.get('id')} crosses {other}"


@dataclass(frozen=True)
class Parsed:
    spec: object
    subprocesses: dict  # the limits' event sub-processes


def _parse(xml: bytes, process_id: str) -> Parsed:
    parser = CamundaParser(validator=BpmnValidator())
    parser.add_bpmn_str(xml, filename=f"{process_id}.bpmn")
    return Parsed(parser.get_spec(process_id), parser.get_subprocess_specs(process_id))


def _workflow(parsed: Parsed, due: dict[str, str] | None = None) -> BpmnWorkflow:
    return BpmnWorkflow(parsed.spec, parsed.subprocesses, script_engine=_engine(due))


WATCHERS = re.compile(r"(SubProcess|StartEvent)_(overdue|warning|statutory|stage_limit\d+)")


def _ended(workflow: BpmnWorkflow) -> bool:
    """The case's path reached an end and nothing is open but the limits' event sub-processes still waiting for
    their timers (the engine then ends the case: CaseRun)."""
    ended = any(t.task_spec.name.startswith("EndEvent_") and t.workflow is workflow
                for t in workflow.get_tasks(state=TaskState.COMPLETED))
    open_ = [t.task_spec.name for t in workflow.get_tasks(state=TaskState.READY | TaskState.STARTED | TaskState.WAITING)
             if "." not in t.task_spec.name and t.task_spec.name not in ("Start", "End")]
    return ended and all(WATCHERS.fullmatch(name) for name in open_)


def _end_data(workflow: BpmnWorkflow) -> dict:
    """The case data where its path ended."""
    [end] = [t for t in workflow.get_tasks(state=TaskState.COMPLETED)
             if t.task_spec.name.startswith("EndEvent_") and t.workflow is workflow]
    return end.data


def test_small_spec_has_collaboration_lanes_and_ids():
    root = _tree(layout.draft_process(SMALL))
    participant = root.find("bpmn:collaboration/bpmn:participant", NS)
    assert participant.get("processRef") == "item_test" and participant.get("name") == "医保经办机构"
    process = root.find("bpmn:process", NS)
    assert process.get("isExecutable") == "true" and process.get("name") == "测试事项"
    lanes = {lane.get("name"): [ref.text for ref in lane.iterfind("bpmn:flowNodeRef", NS)]
             for lane in process.iterfind("bpmn:laneSet/bpmn:lane", NS)}
    assert lanes == {  # the clerks' lanes hold the case's path alone; the limits' timers run in 科室负责人's
        "受理员": ["StartEvent_apply", "Task_accept", "Gateway_accept", "EndEvent_accept_refuse",
                "Task_identity_check"],
        "审核员": ["Task_review", "Gateway_review", "EndEvent_review_reject", "Task_notify_applicant",
                "EndEvent_done"],
        "科室负责人": ["SubProcess_overdue", "SubProcess_warning", "SubProcess_statutory"],
    }
    assert [e.get("id") for e in process.find("bpmn:subProcess[@id='SubProcess_overdue']", NS)
            if etree.QName(e).localname not in ("sequenceFlow",)] == [
        "StartEvent_overdue", "Task_overdue", "Gateway_overdue", "Task_supervise", "EndEvent_supervised",
        "EndEvent_overdue"]
    ends = {e.get("id"): e.get("name") for e in process.iterfind(".//bpmn:endEvent", NS)
            if e.find(".//camunda:property[@name='kind']", NS) is None}
    assert ends == {"EndEvent_accept_refuse": "不予受理", "EndEvent_review_reject": "审核不通过", "EndEvent_done": "办结"}
    service = process.find("bpmn:serviceTask", NS)
    assert service.get(f"{{{NS['camunda']}}}type") == "external"
    assert service.get(f"{{{NS['camunda']}}}topic") == "identity_check"


def test_small_spec_decisions_and_gateways():
    root = _tree(layout.draft_process(SMALL))
    process = root.find("bpmn:process", NS)
    task = process.find("bpmn:userTask[@id='Task_review']", NS)
    assert task.get(f"{{{NS['camunda']}}}formKey") is None  # the form is its camunda:formData
    fields = task.findall(".//camunda:formField", NS)
    assert [(f.get("id"), f.get("type")) for f in fields] == [("decision", "enum"), ("opinion", "string")]
    assert [(v.get("id"), v.get("name")) for v in fields[0].iterfind("camunda:value", NS)] == \
        [("approve", "审核通过"), ("reject", "审核不通过")]
    assert fields[0].find("camunda:validation/camunda:constraint", NS).get("name") == "required"
    assert fields[1].get("label") == "办理意见"
    gateway = process.find("bpmn:exclusiveGateway[@id='Gateway_review']", NS)
    flows = {f.get("targetRef"): f for f in process.iterfind(f"bpmn:sequenceFlow[@sourceRef='Gateway_review']", NS)}
    assert flows["Task_notify_applicant"].get("id") == gateway.get("default")
    assert flows["EndEvent_review_reject"].findtext("bpmn:conditionExpression", namespaces=NS) == 'decision == "reject"'
    start = process.find("bpmn:startEvent", NS)
    assert [f.get("id") for f in start.iterfind(".//camunda:formField", NS)] == ["unit_name", "credit_code"]


def test_small_spec_diagram_interchange():
    xml = layout.draft_process(SMALL)
    root = _tree(xml)
    bounds = _bounds(root)
    participant = bounds["Participant_item_test"]
    acceptor, reviewer, supervisor = bounds["Lane_acceptor"], bounds["Lane_reviewer"], bounds["Lane_supervisor"]
    assert acceptor[0] == participant[0] + layout.LABEL_BAND and acceptor[3] == reviewer[3] == layout.LANE_HEIGHT
    # only the limits' event sub-processes are in 科室负责人's lane: one row of them, the 承诺时限红牌 the tallest
    band = 2 * layout.SUB_ROW + layout.BRANCH_PITCH
    assert supervisor[3] == band + 2 * layout.SUB_GAP and bounds["SubProcess_overdue"][3] == band
    assert reviewer[1] == acceptor[1] + acceptor[3] and participant[3] == 2 * layout.LANE_HEIGHT + supervisor[3]
    subs = [bounds[f"SubProcess_{key}"] for key in ("overdue", "warning", "statutory")]
    assert all(a[0] + a[2] + layout.SUB_GAP == b[0] and a[1] == b[1] for a, b in zip(subs, subs[1:]))  # a row
    for node_id, lane in (("Task_accept", acceptor), ("Task_review", reviewer), ("Gateway_review", reviewer)):
        x, y, w, h = bounds[node_id]
        assert y + h / 2 == lane[1] + layout.LANE_HEIGHT / 2, f"{node_id} not centred in its lane's main row"
    main = ["StartEvent_apply", "Task_accept", "Gateway_accept", "Task_identity_check", "Task_review",
            "Gateway_review", "Task_notify_applicant", "EndEvent_done"]
    centres = [bounds[n][0] + bounds[n][2] / 2 for n in main]
    assert all(b - a == layout.COLUMN for a, b in zip(centres, centres[1:]))
    refuse, gateway = bounds["EndEvent_accept_refuse"], bounds["Gateway_accept"]
    assert refuse[0] > gateway[0] + gateway[2] and refuse[1] > gateway[1]  # right of and below its gateway
    assert len(_waypoints(root)) == len(root.findall(".//bpmn:sequenceFlow", NS))
    assert_layout(xml)


ESCALATE_TASK = re.compile(r"Task_(overdue|warning|statutory|stage_limit\d+)")
# What the handlers a gateway reads answer for an applicant who passes (身份及参保核验)
PASSING = {"Task_identity_check": {"identity_verified": True}, "Task_insured_check": {"insured": True}}


class StandInDesk:
    """What the `escalate` handler answers (escalation_raised): True the first time a case raises a limit at a
    level, False after that, like the supervisors' desk; or always True (`repeats=True`, every firing new).
    An escalate task's name says its limit and level (发出红牌超期: promised, red)."""

    def __init__(self, repeats: bool = False):
        self.repeats, self.raised = repeats, []

    def escalate(self, task) -> dict:
        new = self.repeats or task.task_spec.bpmn_name not in self.raised
        self.raised.append(task.task_spec.bpmn_name)
        return {"escalation_raised": new}


def _drive(workflow: BpmnWorkflow, decisions: dict[str, str] | None = None, *, hold: tuple[str, ...] = (),
           desk: StandInDesk | None = None, answers: dict[str, dict] | None = None) -> list[str]:
    """Run a workflow, completing service tasks as if their handlers succeeded (escalate answering as `desk`, a
    fresh StandInDesk by default; the checks as `answers`, PASSING by default) and deciding user tasks (the first
    option unless `decisions` says otherwise; the tasks named in `hold` are left open); returns the end events
    reached."""
    decisions, desk, answers = decisions or {}, desk or StandInDesk(), PASSING if answers is None else answers
    for _ in range(100):
        workflow.do_engine_steps()
        started = [t for t in workflow.get_tasks(state=TaskState.STARTED) if t.task_spec.bpmn_id.startswith("Task_")]
        for task in started:
            if ESCALATE_TASK.fullmatch(task.task_spec.bpmn_id):
                task.data.update(desk.escalate(task))
            task.data.update(answers.get(task.task_spec.bpmn_id, {}))
            task.complete()
        ready = [t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.name not in hold]
        if not started and not ready:
            break
        for task in ready:
            task.data["decision"] = decisions.get(task.task_spec.name, task.task_spec.form.fields[0].options[0].id)
            task.run()
    return [t.task_spec.name for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if t.task_spec.name.startswith("EndEvent_")]


def test_small_spec_parses_and_runs_to_its_ends():
    spec = _parse(layout.draft_process(SMALL), "item_test")
    assert spec.spec.task_specs["Task_review"].lane == "审核员"
    assert spec.spec.task_specs["Task_review"].extensions == {"stage": "审核"}
    workflow = _workflow(spec)
    workflow.do_engine_steps()
    [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert task.task_spec.name == "Task_accept"
    assert _drive(workflow, {"Task_accept": "refuse"}) == ["EndEvent_accept_refuse"]
    assert _drive(_workflow(spec), {"Task_review": "reject"}) == ["EndEvent_review_reject"]
    workflow = _workflow(spec)
    assert _drive(workflow) == ["EndEvent_done"] and _ended(workflow)


def _catalog() -> list[dict]:
    items = [{"code": key, "name": key, "process": f"item_{i}"} for i, key in enumerate(shapes.PROFILES)]
    items[list(shapes.PROFILES).index("002036003002")]["partner_process"] = "item_002036003002_out"
    return items


ALL_SPECS = [spec for item in _catalog() for spec in (shapes.spec_for_item(item), shapes.partner_spec_for_item(item))
             if spec is not None]


@pytest.mark.parametrize("spec", ALL_SPECS, ids=[s.process_id for s in ALL_SPECS])
def test_every_profile_drafts_a_valid_laid_out_process(spec):
    xml = layout.draft_process(spec)
    parsed = _parse(xml, spec.process_id)
    assert_layout(xml)
    definition = parse_process(xml, f"{spec.process_id}.bpmn")  # the platform's own checks
    assert definition.user_tasks["Task_supervise"].role == "supervisor"
    if not any(step.message for step in spec.steps):
        workflow = _workflow(parsed)
        assert _drive(workflow) == ["EndEvent_done"] and _ended(workflow)


def test_profiles_use_known_shapes_forms_and_stages():
    for code, (shape, parameter, form) in shapes.PROFILES.items():
        assert shape in shapes.SHAPES and form in shapes.FORMS, code
        steps = shapes.SHAPES[shape](parameter)
        assert len({s.id for s in steps}) == len(steps), f"{code}: duplicate step ids"
        assert {s.stage for s in steps} <= {"受理", "审核", "拨付", "验收", "签订协议", "办结", "联系函", "信息表"}
        assert all(s.kind == "user" for s in steps if s.limits), f"{code}: only user tasks watch stage limits"


def test_transfer_pair_exchanges_messages():
    item = {"code": "002036003002", "name": "转移接续手续办理", "process": "item_002036003002",
            "partner_process": "item_002036003002_out"}
    receiving = _tree(draft.draft_item("002036003002", [item]))
    sending = _tree(draft.draft_item("item_002036003002_out", [item]))
    for root in (receiving, sending):
        messages = [m.get("name") for m in root.iterfind("bpmn:message", NS)]
        assert sorted(messages) == ["信息表", "联系函"]
    process = sending.find("bpmn:process", NS)
    assert process.get("name") == "转移接续手续办理（转出地）"
    start = process.find("bpmn:startEvent", NS)
    assert start.get("name") == "收到联系函"
    assert start.find("bpmn:messageEventDefinition", NS).get("messageRef") == "Message_contact_letter"
    throw = receiving.find(".//bpmn:intermediateThrowEvent", NS)
    assert throw.get("name") == "发出联系函"
    assert receiving.find(".//bpmn:intermediateCatchEvent", NS).get("name") == "收到信息表"


def test_transfer_pair_runs_with_messages():
    item = {"code": "002036003002", "name": "转移接续手续办理", "process": "item_002036003002",
            "partner_process": "item_002036003002_out"}
    receiving = _workflow(_parse(draft.draft_item("item_002036003002", [item]), "item_002036003002"))
    sending = _workflow(_parse(draft.draft_item("item_002036003002_out", [item]), "item_002036003002_out"))
    receiving.task_tree.data.update({"certificate_no": "C-001", "from_region": "沈阳市", "from_agency": "210100"})
    assert _drive(receiving) == []  # waits for the 信息表
    [letter] = receiving.get_events()
    assert letter.event_definition.name == "联系函"
    sending.do_engine_steps()
    sending.catch(letter)
    assert _drive(sending) == ["EndEvent_done"]
    assert sending.last_task.data["contact_letter"] == {"certificate_no": "C-001", "from_region": "沈阳市",
                                                        "from_agency": "210100"}
    [sheet] = sending.get_events()
    assert sheet.event_definition.name == "信息表"
    receiving.catch(sheet)
    assert _drive(receiving) == ["EndEvent_done"]
    assert receiving.last_task.data["info_sheet"] == {"certificate_no": "C-001"}


def test_transfer_form_asks_for_the_sending_agency_and_the_letter_carries_it():
    item = {"code": "002036003002", "name": "转移接续手续办理", "process": "item_002036003002"}
    definition = parse_process(draft.draft_item("002036003002", [item]), "item_002036003002.bpmn")
    [field] = [f for f in definition.start_form.fields if f.id == "from_agency"]
    assert (field.label, field.required, field.pattern) == ("转出地经办机构代码（6位行政区划代码）", True, "[0-9]{6}")
    for wrong in ("21010", "2101000", "21010A", "２１０１００"):
        assert validate_form(definition.start_form, {"from_agency": wrong})[1]["from_agency"] == \
            "转出地经办机构代码（6位行政区划代码）格式不正确"
    values, errors = validate_form(definition.start_form, {"from_agency": " 210100 "})
    assert values["from_agency"] == "210100" and "from_agency" not in errors
    root = _tree(draft.draft_item("002036003002", [item]))
    throw = root.find(".//bpmn:intermediateThrowEvent/bpmn:messageEventDefinition", NS)
    assert "from_agency" in throw.get(CAMUNDA + "expression")


# ----------------------------------------------------------------------------------------------------------
# 容缺受理

WAIVABLE = {"code": "002036006001", "name": "门诊费用报销", "process": "item_x", "waivable": True}


def test_the_catalog_tells_which_items_are_waivable_and_which_have_prohibited_cases(tmp_path):
    (tmp_path / "agencies").mkdir()
    (tmp_path / "items.yaml").write_text(yaml.safe_dump({"items": [
        {"code": "002036006001", "name": "门诊费用报销", "process": "item_a"},
        {"code": "002036006002", "name": "住院费用报销", "process": "item_b"}]}, allow_unicode=True), encoding="utf-8")
    for code, waivable in (("210400", True), ("231025", False)):
        inpatient = {"code": "002036006002", "materials": [{"name": "住院发票"}]}
        document = {"agency": {"code": code, "name": code}, "items": [
            {"code": "002036006001", "materials": [{"name": "医保卡复印件", "waivable": waivable}]},
            {**inpatient, "prohibited": ["人员暂停参保"]} if waivable else inpatient]}
        (tmp_path / "agencies" / f"{code}.yaml").write_text(yaml.safe_dump(document, allow_unicode=True),
                                                             encoding="utf-8")
    items = draft.load_catalog(tmp_path / "items.yaml")
    assert [item.get("waivable", False) for item in items] == [True, False]
    assert [item.get("prohibited") for item in items] == [None, {"210400": ("210400违规禁办事项清单", ("人员暂停参保",))}]
    written = draft.write_all(tmp_path / "items.yaml", tmp_path / "bpmn")
    assert [p.relative_to(tmp_path / "bpmn").as_posix() for p in written] == [
        "item_a.bpmn", "item_b.bpmn", "decisions/prohibited_002036006002.dmn"]
    accept = _tree(draft.draft_item("002036006001", items)).find(".//bpmn:userTask[@id='Task_accept']", NS)
    assert [v.get("id") for v in accept.iterfind(".//camunda:formField[@id='decision']/camunda:value", NS)] == \
        ["accept", "waive", "refuse"]
    assert _tree(draft.draft_item("002036006002", items)).find(".//bpmn:eventBasedGateway", NS) is None


def _flows_from(process, node_id: str) -> dict[str, object]:
    return {f.get("targetRef"): f for f in process.iterfind(f"bpmn:sequenceFlow[@sourceRef='{node_id}']", NS)}


def test_a_waived_case_waits_in_its_own_stage_for_the_materials_or_the_time_limit():
    xml = layout.draft_process(shapes.spec_for_item(WAIVABLE))
    assert_layout(xml)
    process = _tree(xml).find("bpmn:process", NS)
    decision = process.find("bpmn:userTask[@id='Task_accept']//camunda:formField[@id='decision']", NS)
    assert [(v.get("id"), v.get("name")) for v in decision.iterfind("camunda:value", NS)] == \
        [("accept", "受理"), ("waive", "容缺受理"), ("refuse", "不予受理")]
    after_accept = _flows_from(process, "Gateway_accept")
    assert after_accept["Gateway_waive"].get("name") == "受理、容缺受理"
    assert process.find("bpmn:exclusiveGateway[@id='Gateway_accept']", NS).get("default") == \
        after_accept["Gateway_waive"].get("id")
    question = process.find("bpmn:exclusiveGateway[@id='Gateway_waive']", NS)
    assert question.get("name") == "是否容缺受理"
    ways = _flows_from(process, "Gateway_waive")
    assert question.get("default") == ways["Gateway_waiver_join"].get("id")
    assert ways["Gateway_waiver_wait"].findtext("bpmn:conditionExpression", namespaces=NS) == 'decision == "waive"'
    wait = process.find("bpmn:eventBasedGateway[@id='Gateway_waiver_wait']", NS)
    assert _properties(wait) == {"stage": "容缺补正"}
    supplied, expired = (process.find(f"bpmn:intermediateCatchEvent[@id='{i}']", NS)
                         for i in ("Event_waived_materials", "Event_waiver_expired"))
    assert set(_flows_from(process, wait.get("id"))) == {supplied.get("id"), expired.get("id")}
    message = supplied.find("bpmn:messageEventDefinition", NS)
    assert _tree(xml).find(f"bpmn:message[@id='{message.get('messageRef')}']", NS).get("name") == "容缺材料补齐"
    assert _next(process, supplied).get("id") == "Gateway_waiver_join"
    assert _next(process, _next(process, supplied)).get("id") == "Task_identity_check"  # on like 受理
    assert expired.findtext(".//bpmn:timeDate", namespaces=NS) == 'deadline("容缺补正")'
    assert _next(process, expired).get("name") == "补正超时" and _properties(_next(process, expired)) == {}
    definition = parse_process(xml, "item_x.bpmn")
    assert definition.stages["Gateway_waiver_wait"] == "容缺补正"


def _waiting(workflow) -> list[str]:
    return [t.task_spec.name for t in workflow.get_tasks(state=TaskState.WAITING)
            if not WATCHERS.fullmatch(t.task_spec.name)]


def test_a_waived_case_goes_on_when_the_materials_arrive_and_ends_when_time_is_up():
    spec = _parse(layout.draft_process(shapes.spec_for_item(WAIVABLE)), "item_x")
    supplied = _workflow(spec)
    assert _drive(supplied, {"Task_accept": "waive"}) == []
    assert _waiting(supplied) == ["Gateway_waiver_wait"]
    supplied.catch(BpmnEvent(MessageEventDefinition("容缺材料补齐"),
                             {"payload": {"materials": ["医保卡复印件"]}, "result_var": "waived_materials"}))
    assert _drive(supplied) == ["EndEvent_done"] and _ended(supplied)
    assert _end_data(supplied)["waived_materials"] == {"materials": ["医保卡复印件"]}

    late = _workflow(spec, {"容缺补正": PAST})
    assert _drive(late, {"Task_accept": "waive"}) == ["EndEvent_waiver_expired"] and _ended(late)
    accepted = _workflow(spec, {"容缺补正": PAST})  # accepted outright: no wait, whatever the limit says
    assert _drive(accepted) == ["EndEvent_done"]


# ----------------------------------------------------------------------------------------------------------
# 禁办情形

ALLOWANCE = {"code": "002036007004", "name": "生育津贴支付", "process": "item_x", "waivable": True,
             "prohibited": {"210400": ("抚顺市医疗保障事务服务中心违规禁办事项清单",
                                       ("医保连续缴费不满十个月", "个人或单位医保欠费"))}}
DMN = {"dmn": prohibited.DMN_NSMAP[None]}


def test_prohibited_cases_are_checked_after_acceptance_before_the_waiver_and_after_review():
    spec = shapes.spec_for_item(ALLOWANCE)
    assert [s.id for s in spec.steps][:8] == [
        "Task_accept", "Task_arrears_check_accept", "Task_prohibited_accept", "Gateway_waive",
        "Task_identity_check", "Task_insured_check", "Task_reimbursement_calc", "Task_review"]
    checks = [s for s in spec.steps if s.kind == "rule"]
    assert [(s.stage, s.decision_ref, s.fail_end) for s in checks] == [
        ("受理", "prohibited_002036007004", "禁止办理"), ("审核", "prohibited_002036007004", "禁止办理")]
    xml = layout.draft_process(spec)
    assert_layout(xml)
    process = _tree(xml).find("bpmn:process", NS)
    task = process.find("bpmn:businessRuleTask[@id='Task_prohibited_accept']", NS)
    assert (task.get("name"), task.get(CAMUNDA + "decisionRef"), _properties(task)) == (
        "禁办情形核查", "prohibited_002036007004", {"stage": "受理"})
    gateway = _next(process, task)
    assert gateway.get("name") == "是否禁办"
    ways = _flows_from(process, gateway.get("id"))
    assert gateway.get("default") == ways["Gateway_waive"].get("id") and ways["Gateway_waive"].get("name") == "否"
    [hit] = [flow for target, flow in ways.items() if target != "Gateway_waive"]
    assert (hit.get("name"), hit.findtext("bpmn:conditionExpression", namespaces=NS)) == (
        "是", "prohibited_rule is not None")
    assert process.find(f"*[@id='{hit.get('targetRef')}']").get("name") == "禁止办理"


def test_the_decision_table_has_the_agency_the_inputs_its_rules_read_and_the_catalogs_words():
    root = etree.fromstring(prohibited.draft_decision(ALLOWANCE))
    table = root.find("dmn:decision/dmn:decisionTable", DMN)
    assert (root.find("dmn:decision", DMN).get("id"), table.get("hitPolicy")) == ("prohibited_002036007004", "FIRST")
    assert [(i.get("label"), i.findtext("dmn:inputExpression/dmn:text", namespaces=DMN))
            for i in table.iterfind("dmn:input", DMN)] == [
        ("经办机构", "case_agency()"), ("连续缴费月数", "contribution_months"), ("个人医保欠费", "in_arrears"),
        ("用人单位医保欠费", "employer_in_arrears")]
    assert [o.get("name") for o in table.iterfind("dmn:output", DMN)] == ["prohibited_rule", "prohibited_basis"]
    rows = [[e.findtext("dmn:text", namespaces=DMN) for e in rule.iterfind("dmn:inputEntry", DMN)]
            + [e.findtext("dmn:text", namespaces=DMN) for e in rule.iterfind("dmn:outputEntry", DMN)]
            for rule in table.iterfind("dmn:rule", DMN)]
    basis = '"抚顺市医疗保障事务服务中心违规禁办事项清单"'
    assert rows == [['"210400"', "? is not None and ? < 10", "-", "-", '"医保连续缴费不满十个月"', basis],
                    ['"210400"', "-", "True", "-", '"个人或单位医保欠费"', basis],
                    ['"210400"', "-", "-", "True", '"个人或单位医保欠费"', basis]]
    with pytest.raises(KeyError, match="add it to PROHIBITIONS"):
        prohibited.draft_decision({**ALLOWANCE, "prohibited": {"231025": ("林口县医疗保障局违规禁办事项清单", ("未知情形",))}})


def test_write_all_and_unknown_items(tmp_path):
    catalog = tmp_path / "items.yaml"
    items = [{"code": "002036002002", "name": "参保人员参保信息查询", "group": "x", "stages": ["申请", "受理", "办结"],
              "process": "item_002036002002"},
             {"code": "002036003002", "name": "转移接续手续办理", "group": "x", "stages": ["申请", "受理", "审核", "办结"],
              "process": "item_002036003002", "partner_process": "item_002036003002_out"}]
    catalog.write_text(yaml.safe_dump({"items": items}, allow_unicode=True), encoding="utf-8")
    written = draft.write_all(catalog, tmp_path / "bpmn")
    assert [p.name for p in written] == ["item_002036002002.bpmn", "item_002036003002.bpmn",
                                         "item_002036003002_out.bpmn"]
    assert written[0].read_bytes() == draft.draft_item("002036002002", items)
    written[0].write_text("edited by a designer", encoding="utf-8")
    assert draft.write_all(catalog, tmp_path / "bpmn") == []  # existing diagrams are kept
    assert written[0].read_text(encoding="utf-8") == "edited by a designer"
    assert len(draft.write_all(catalog, tmp_path / "bpmn", overwrite=True)) == 3
    with pytest.raises(KeyError):
        draft.draft_item("999", items)
    with pytest.raises(KeyError):
        shapes.spec_for_item({"code": "999", "name": "未知事项", "process": "item_999"})


# ----------------------------------------------------------------------------------------------------------
# Time limits and escalation

def _properties(element) -> dict[str, str]:
    return {p.get("name"): p.get("value")
            for p in element.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", NS)}


def _next(container, element):
    """The one element a flow node leads to (in the process or the event sub-process `container`)."""
    [flow] = container.findall(f"bpmn:sequenceFlow[@sourceRef='{element.get('id')}']", NS)
    return container.find(f"*[@id='{flow.get('targetRef')}']")


def _new_red_gateway(container, gateway, supervise) -> None:
    """是否新的红牌: its default flow goes to 督办, its other flow (the red card was raised already) to 已督办过."""
    assert etree.QName(gateway).localname == "exclusiveGateway" and gateway.get("name") == "是否新的红牌"
    flows = container.findall(f"bpmn:sequenceFlow[@sourceRef='{gateway.get('id')}']", NS)
    assert len(flows) == 2, gateway.get("id")
    [default] = [f for f in flows if f.get("id") == gateway.get("default")]
    [repeated] = [f for f in flows if f is not default]
    assert default.get("targetRef") == supervise.get("id") and default.find("bpmn:conditionExpression", NS) is None
    assert (default.get("name"), repeated.get("name")) == ("是", "否")  # bpmnlint: a conditional flow has a name
    condition = repeated.find("bpmn:conditionExpression", NS)
    assert condition.get("{%s}type" % NS["xsi"]) == "bpmn:tFormalExpression"
    assert condition.text == "escalation_raised == False"
    end = container.find(f"*[@id='{repeated.get('targetRef')}']")
    assert etree.QName(end).localname == "endEvent" and end.get("name") == "已督办过"
    assert _properties(end) == {"kind": "escalation"}


@pytest.mark.parametrize("spec", ALL_SPECS, ids=[s.process_id for s in ALL_SPECS])
def test_every_process_watches_its_limits_once_with_event_sub_processes(spec):
    """No timer on any task: each limit starts a non-interrupting timer event sub-process of the process, in the
    科室负责人 lane, whose escalate task raises the card; only 承诺时限超期 goes on to the diagram's one 督办."""
    root = _tree(layout.draft_process(spec))
    process = root.find("bpmn:process", NS)
    assert process.find(".//bpmn:boundaryEvent", NS) is None
    lane_of = {ref.text: lane.get("name") for lane in process.iterfind("bpmn:laneSet/bpmn:lane", NS)
               for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
    limits = list(dict.fromkeys(limit for step in spec.steps for limit in step.limits))
    expected = [("承诺时限红牌", "承诺时限超期", 'deadline("promised")', "red", "promised", "Task_supervise"),
                ("承诺时限黄牌", "承诺时限预警", 'warning_time("promised")', "yellow", "promised", "预警已发出"),
                ("法定时限红牌", "法定时限超期", 'deadline("statutory")', "red", "statutory", "红牌已发出")]
    expected += [(f"{limit}时限红牌", f"{limit}时限超期", f'deadline("{limit}")', "red", limit, "红牌已发出")
                 for limit in limits]
    found = []
    for sub in process.iterfind("bpmn:subProcess", NS):
        assert sub.get("triggeredByEvent") == "true" and lane_of[sub.get("id")] == "科室负责人"
        [start] = sub.findall("bpmn:startEvent", NS)
        assert start.get("isInterrupting") == "false"
        time_date = start.find("bpmn:timerEventDefinition/bpmn:timeDate", NS)
        escalate = _next(sub, start)
        assert escalate.get(CAMUNDA + "type") == "external" and escalate.get(CAMUNDA + "topic") == "escalate"
        properties = _properties(escalate)
        assert "stage" not in properties  # the case's stage when it fires: the desk reads it from the case
        after = _next(sub, escalate)
        if etree.QName(after).localname == "exclusiveGateway":
            supervise = sub.find("bpmn:userTask[@id='Task_supervise']", NS)
            _new_red_gateway(sub, after, supervise)
            outcome = "Task_supervise"
        else:
            assert etree.QName(after).localname == "endEvent" and _properties(after) == {"kind": "escalation"}
            outcome = after.get("name")
        found.append((sub.get("name"), start.get("name"), time_date.text, properties["level"], properties["limit"],
                      outcome))
    assert found == expected
    # the one 督办 of the diagram
    [supervise] = process.findall(".//bpmn:userTask[@id='Task_supervise']", NS)
    assert _properties(supervise) == {"stage": "督办"}
    fields = {f.get("id"): f for f in supervise.iterfind(".//camunda:formField", NS)}
    assert [(v.get("id"), v.get("name")) for v in fields["decision"].iterfind("camunda:value", NS)] == \
        [("done", "已督办")]
    assert fields["opinion"].get("label") == "督办意见"
    assert fields["opinion"].find("camunda:validation/camunda:constraint[@name='required']", NS) is not None
    sub = process.find("bpmn:subProcess[@id='SubProcess_overdue']", NS)
    end = _next(sub, supervise)
    assert end.get("name") == "督办完成" and _properties(end) == {"kind": "escalation"}
    definition = parse_process(layout.draft_process(spec), f"{spec.process_id}.bpmn")
    assert definition.user_tasks["Task_supervise"].role == "supervisor"
    assert definition.limit_watchers == {f"{prefix}_{key}" for prefix in ("SubProcess", "StartEvent")
                                         for key in ["overdue", "warning", "statutory"]
                                         + [f"stage_limit{i}" for i in range(1, len(limits) + 1)]}


def test_stage_limits_are_watched_where_the_stage_is_worked():
    watched = {}
    for spec in ALL_SPECS:
        for step in spec.steps:
            if step.limits:
                watched.setdefault(spec.name, []).append((step.id, step.limits))
    code = {key: key for key in shapes.PROFILES}
    assert watched == {
        code["002036003002"]: [("Task_review", ("联系函",)), ("Task_confirm", ("办结",))],
        code["002036003002"] + "（转出地）": [("Task_review", ("信息表",))],
        code["002036009001"]: [("Task_inspect", ("验收",))],
        code["002036009002"]: [("Task_inspect", ("验收",))],
    }


def test_a_process_without_a_clerks_task_watches_no_limit():
    spec = draft_spec.ProcessDraftSpec("item_auto", "自动办结", (draft_spec.IDENTITY, draft_spec.NOTIFY))
    assert draft_spec.timers_of(spec) == ()
    assert _tree(layout.draft_process(spec)).find(".//bpmn:subProcess", NS) is None


def _supervisions(workflow) -> int:
    return len([t for t in workflow.get_tasks() if t.task_spec.name == "Task_supervise"])


def test_timers_escalate_without_interrupting_the_case():
    spec = _parse(layout.draft_process(SMALL), "item_test")
    workflow = _workflow(spec, {"promised": PAST, "warning:promised": PAST})
    desk = StandInDesk()
    assert _drive(workflow, hold=("Task_accept", "Task_supervise"), desk=desk) == ["EndEvent_warning"]
    ready = {t.task_spec.name: t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
    assert set(ready) == {"Task_accept", "Task_supervise"}  # the clerk's task goes on; 督办 waits for 科室负责人
    assert ready["Task_supervise"].task_spec.lane == "科室负责人"
    assert sorted(desk.raised) == ["发出红牌超期", "发出黄牌预警"]
    # The path reaches its result while a 督办 is open: the case waits for it (or the engine cancels it: CaseRun)
    ends = _drive(workflow, hold=("Task_supervise",), desk=desk)
    assert "EndEvent_done" in ends and not _ended(workflow)
    ends = _drive(workflow, desk=desk)
    # the next task, late too, raises nothing: the timers watch the case, not each task
    assert sorted(ends) == ["EndEvent_done", "EndEvent_supervised", "EndEvent_warning"]
    assert sorted(desk.raised) == ["发出红牌超期", "发出黄牌预警"] and _ended(workflow)


def test_a_late_case_gets_one_supervision_however_many_tasks_it_passes():
    """Once the promised limit has passed, the case's red timer has fired once: the later clerks' tasks start no
    timer of their own (a diagram with a timer on every task asked the desk each time, and ended at 已督办过)."""
    item = {"code": "002036006001", "name": "门诊费用报销", "process": "item_x"}  # 受理, 审核, 拨付: three clerks
    spec = _parse(draft.draft_item("002036006001", [item]), "item_x")
    workflow = _workflow(spec, {"promised": PAST})
    desk = StandInDesk()
    ends = _drive(workflow, desk=desk)
    assert desk.raised == ["发出红牌超期"]
    assert sorted(ends) == ["EndEvent_done", "EndEvent_supervised"]
    assert _supervisions(workflow) == 1 and _ended(workflow)


def test_a_red_card_raised_already_makes_no_second_supervision():
    """The desk answers escalation_raised False (the case's card was raised before it moved to this diagram, or by
    another way in): the sub-process ends at 已督办过."""
    item = {"code": "002036006001", "name": "门诊费用报销", "process": "item_x"}
    spec = _parse(draft.draft_item("002036006001", [item]), "item_x")
    workflow = _workflow(spec, {"promised": PAST})
    desk = StandInDesk()
    desk.raised.append("发出红牌超期")
    ends = _drive(workflow, desk=desk)
    assert sorted(ends) == ["EndEvent_done", "EndEvent_overdue"] and _supervisions(workflow) == 0


def test_the_limits_sub_processes_stand_in_a_row_along_the_bottom_of_the_escalation_lane():
    """承诺时限红牌: its timer, escalate task, 是否新的红牌, 督办 and 督办完成 in one row, 已督办过 below the gateway
    under 督办, the gateway's name above it; the others: timer, escalate task, end."""
    root = _tree(layout.draft_process(SMALL))
    bounds = _bounds(root)
    centre = {k: (x + w / 2, y + h / 2) for k, (x, y, w, h) in bounds.items()}
    row = [centre[i] for i in ("StartEvent_overdue", "Task_overdue", "Gateway_overdue", "Task_supervise",
                               "EndEvent_supervised")]
    assert len({y for _, y in row}) == 1 and all(a[0] < b[0] for a, b in zip(row, row[1:]))
    assert centre["EndEvent_overdue"][0] == centre["Task_supervise"][0]
    assert centre["EndEvent_overdue"][1] == row[0][1] + layout.BRANCH_PITCH
    for key in ("warning", "statutory"):
        others = [centre[f"{prefix}_{key}"] for prefix in ("StartEvent", "Task", "EndEvent")]
        assert {y for _, y in others} == {row[0][1]}
    x, y, w, h = bounds["Gateway_overdue"]
    label = root.find(".//bpmndi:BPMNShape[@bpmnElement='Gateway_overdue']/bpmndi:BPMNLabel/dc:Bounds", NS)
    assert float(label.get("y")) + float(label.get("height")) < y  # above the gateway
    shape = root.find(".//bpmndi:BPMNShape[@bpmnElement='SubProcess_overdue']", NS)
    assert shape.get("isExpanded") == "true"
    lane = bounds["Lane_supervisor"]
    assert all(bounds[f"SubProcess_{key}"][1] + bounds[f"SubProcess_{key}"][3] <= lane[1] + lane[3] - layout.SUB_GAP
               for key in ("overdue", "warning", "statutory"))


def test_statutory_and_stage_timers_end_their_sub_process():
    item = {"code": "002036009001", "name": "医疗机构申请定点协议管理", "process": "item_x"}
    spec = _parse(draft.draft_item("002036009001", [item]), "item_x")
    workflow = _workflow(spec, {"statutory": PAST, "验收": PAST})
    ends = _drive(workflow)
    assert sorted(ends) == ["EndEvent_done", "EndEvent_stage_limit1", "EndEvent_statutory"]
    assert _ended(workflow)


# 身份及参保核验: every paying diagram refuses an unverified identity or an uninsured applicant before 拨付

PAYING = [item for item in _catalog() if shapes._profile(item)[0] == "payment"]
NEVER_PAID = ("Task_reimbursement_calc", "Task_review", "Task_pay", "Task_payment")


@pytest.mark.parametrize("item", PAYING, ids=[item["code"] for item in PAYING])
@pytest.mark.parametrize("answers", [
    {"Task_identity_check": {"identity_verified": False}, "Task_insured_check": {"insured": True}},
    {"Task_identity_check": {"identity_verified": True}, "Task_insured_check": {"insured": False}},
    {"Task_identity_check": {"identity_verified": False}, "Task_insured_check": {"insured": None}},
], ids=["unverified", "uninsured", "unverified unit"])
def test_a_paying_process_refuses_an_unverified_or_uninsured_applicant_before_any_payment(item, answers):
    spec = shapes.spec_for_item(item)
    workflow = _workflow(_parse(layout.draft_process(spec), spec.process_id))

    assert _drive(workflow, answers=answers) == ["EndEvent_insured_check_fail"] and _ended(workflow)
    done = {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)}
    assert {"Task_accept", "Task_identity_check", "Task_insured_check"} <= done and not done & set(NEVER_PAID)


@pytest.mark.parametrize("insured", [True, None], ids=["insured person", "unit or institution"])
def test_a_paying_process_goes_on_when_identity_and_insurance_pass(insured):
    spec = shapes.spec_for_item(PAYING[0])
    workflow = _workflow(_parse(layout.draft_process(spec), spec.process_id))
    answers = {"Task_identity_check": {"identity_verified": True}, "Task_insured_check": {"insured": insured}}
    assert _drive(workflow, answers=answers) == ["EndEvent_done"]
    assert {"Task_payment"} <= {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)}


def test_the_eligibility_gateway_shows_its_condition_and_refusal_in_the_diagram():
    process = _tree(layout.draft_process(shapes.spec_for_item(PAYING[0]))).find("bpmn:process", NS)
    task = process.find("bpmn:serviceTask[@id='Task_insured_check']", NS)
    assert (task.get("name"), task.get(CAMUNDA + "topic"), _properties(task)) == (
        "核查参保状态", "insured_check", {"stage": "受理"})
    assert _next(process, process.find("*[@id='Task_identity_check']")).get("id") == "Task_insured_check"
    gateway = _next(process, task)
    assert gateway.get("name") == "身份及参保核验"
    ways = _flows_from(process, gateway.get("id"))
    assert ways["Task_reimbursement_calc"].get("id") == gateway.get("default")
    assert ways["Task_reimbursement_calc"].get("name") == "通过"
    refused = ways["EndEvent_insured_check_fail"]
    assert (refused.get("name"), refused.findtext("bpmn:conditionExpression", namespaces=NS)) == (
        "未通过", "identity_verified == False or insured == False")
    assert process.find("*[@id='EndEvent_insured_check_fail']").get("name") == "不予受理"
