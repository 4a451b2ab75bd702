"""A spec laid out and written as BPMN 2.0 XML with its diagram interchange: lanes by role, the main path left to
right one node per column, the alternative ends lower right of their gateways, the 容缺补正 wait below its lane,
the limits' event sub-processes along the bottom of the 科室负责人 lane."""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from workflows.domain.roles import ROLE_NAMES

from .spec import (ALREADY_SUPERVISED, ESCALATION_END, ESCALATION_LANE, LANE_ORDER, MESSAGES, NEW_RED,
                   NEW_RED_ANSWERS, REPEATED_RED, SUPERVISE, SUPERVISED_END, WAITING, WAIVER_EXPIRED,
                   WAIVER_MESSAGE, WAIVER_ROWS, WAIVER_TIMER, Field, ProcessDraftSpec, Step, Timer, timers_of)


NSMAP = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}


# Layout (px)
ORIGIN_X, ORIGIN_Y = 160, 80
LABEL_BAND = 30   # participant name band left of the lanes
LANE_HEIGHT = 150  # a lane's main row (a lane without escalation rows is just that)
COLUMN = 180      # distance between the centres of two main-path nodes
ALT_SHIFT = 70    # an alternative end event sits this much right of its gateway
ALT_DROP = 50     # ... and this much lower
SIZES = {"task": (100, 80), "event": (36, 36), "gateway": (50, 50)}
BRANCH_FIRST = 130   # the first row of the 容缺补正 wait is this much below its question's centre (clear of the
                     # gateway's alternative end and its label)
BRANCH_PITCH = 100   # between two rows of the wait
BRANCH_MARGIN = 30   # below the last row of a lane
LABEL_FONT = 11      # px per Chinese character of an external label in bpmn-js (a narrower label wraps)
SUB_PAD = 50         # from an event sub-process's left or right edge to the centre of its first or last node
SUB_PITCH = 130      # between the centres of two nodes of an event sub-process's row
SUB_ROW = 70         # from an event sub-process's top to its row (its name sits above the row)
SUB_GAP = 30         # between two event sub-processes, and around their row in the lane


# ----------------------------------------------------------------------------------------------------------
# Layout and XML

@dataclass
class _Node:
    id: str
    kind: str          # start, end, user, service, throw, catch, gateway, eventgateway, rule, eventsub
    name: str
    lane: str
    x: int             # centre
    y: int
    step: Step | None = None
    message: str | None = None
    fields: tuple[Field, ...] = ()   # start event: application data
    default: str | None = None       # gateway: id of its default flow
    width: int | None = None         # an event sub-process: its box
    height: int | None = None
    parent: _Node | None = None      # a node inside an event sub-process: that sub-process
    timer: Timer | None = None       # an event sub-process's start event: the limit it waits for
    properties: tuple[tuple[str, str], ...] = ()   # end events: Camunda properties (kind = escalation)
    label: tuple[int, int, int, int] | None = None  # 是否新的红牌, 容缺补正: where its name goes
    time_date: str | None = None     # a timer catch event: its bpmn:timeDate

    @property
    def size(self) -> tuple[int, int]:
        if self.kind == "eventsub":
            return (self.width, self.height)
        if self.kind in ("user", "service", "rule"):
            return SIZES["task"]
        return SIZES["gateway"] if self.kind in ("gateway", "eventgateway") else SIZES["event"]

    def side(self, where: str) -> tuple[int, int]:
        w, h = self.size
        return {"left": (self.x - w // 2, self.y), "right": (self.x + w // 2, self.y),
                "top": (self.x, self.y - h // 2), "bottom": (self.x, self.y + h // 2)}[where]


@dataclass
class _Flow:
    id: str
    source: _Node
    target: _Node
    name: str | None = None
    condition: str | None = None
    points: list[tuple[int, int]] | None = None  # fixed waypoints (escalation branches)
    label: tuple[int, int, int, int] | None = None  # where its name goes (else bpmn-js puts it mid-flow)
    route: str | None = None  # "down": out of the source's bottom, then right; "up": straight up into the target

    def waypoints(self) -> list[tuple[int, int]]:
        s, t = self.source, self.target
        if self.points:
            return self.points
        if self.condition or self.route == "down":  # to an alternative: down out of the gateway, then right
            return [s.side("bottom"), (s.x, t.y), t.side("left")]
        if self.route == "up":
            return [s.side("top"), t.side("bottom")]
        if s.y == t.y:
            return [s.side("right"), t.side("left")]
        if t.y > s.y:  # down into a lower lane: enter the target from above
            return [s.side("right"), (t.x, s.y), t.side("top")]
        # up into a higher lane: leave upwards and enter from the left (a task's bottom edge holds its timers)
        return [s.side("top"), (s.x, t.y), t.side("left")]


def _layout(spec: ProcessDraftSpec) -> tuple[list[tuple[str, int, int]], list[_Node], list[_Flow]]:
    """Place the nodes (one main-path node per column, escalations below) and connect them.

    Returns the lanes as (role code, top, height), the nodes and the flows."""
    used = {step.lane for step in spec.steps if step.lane} or {"acceptor"}
    lanes = [code for code in LANE_ORDER if code in used or code == ESCALATION_LANE]
    nodes: list[_Node] = []
    flows: list[_Flow] = []

    def add(node_id: str, kind: str, name: str, lane: str, x: int, y: int, **extra) -> _Node:
        nodes.append(_Node(node_id, kind, name, lane, x, y, **extra))
        return nodes[-1]

    def connect(source: _Node, target: _Node, **extra) -> _Flow:
        flows.append(_Flow(f"Flow_{len(flows) + 1}", source, target, **extra))
        if source.kind == "gateway" and source.step and not extra:  # the main path out of a decision's gateway
            source.default, flows[-1].name = flows[-1].id, source.step.main_label  # is its default flow
        return flows[-1]

    # The main path, left to right; y is relative to the main row of the node's lane until the lanes are sized.
    def column_x(column: int) -> int:
        return ORIGIN_X + LABEL_BAND + COLUMN // 2 + column * COLUMN

    first_lane = next(code for code in [step.lane for step in spec.steps] + lanes if code)
    start_id = "StartEvent_message" if spec.start_message else "StartEvent_apply"
    prev = add(start_id, "start", spec.start_name, first_lane, column_x(0), 0, message=spec.start_message,
               fields=spec.start_fields)
    def wait_for_waived_materials(question: _Node, join_x: int) -> _Node:
        """容缺补正 below the main row, between 是否容缺受理 and the gateway where the case joins the main path again
        (right above the materials' arrival): the wait half a column right of the question, the events in the
        join's column, 补正超时 right of the timer."""
        lane, first, second = question.lane, BRANCH_FIRST, BRANCH_FIRST + BRANCH_PITCH
        join = add("Gateway_waiver_join", "gateway", None, lane, join_x, 0)
        label_w = LABEL_FONT * len(WAITING.name) + 10
        wait_x = (question.x + join_x) // 2
        wait = add(WAITING.id, "eventgateway", WAITING.name, lane, wait_x, first, step=WAITING,
                   label=(wait_x - label_w // 2, first - SIZES["gateway"][1] // 2 - 18, label_w, 14))
        _, label, condition = question.step.alternative
        connect(question, wait, name=label, condition=condition)
        supplied = add("Event_waived_materials", "catch", WAIVER_MESSAGE, lane, join_x, first, step=WAITING,
                       message=WAIVER_MESSAGE)
        connect(wait, supplied)
        connect(supplied, join, route="up")
        expired = add("Event_waiver_expired", "catch", WAIVER_TIMER[0], lane, join_x, second, step=WAITING,
                      time_date=WAIVER_TIMER[1])
        connect(wait, expired, route="down")
        connect(expired, add("EndEvent_waiver_expired", "end", WAIVER_EXPIRED, lane, join_x + COLUMN // 2, second))
        connect(question, join)
        return join

    column = 0
    for step in spec.steps:
        column += 1
        node = add(step.id, "gateway" if step.kind == "waive" else step.kind, step.name, step.lane or prev.lane,
                   column_x(column), 0, step=step, message=step.message)
        connect(prev, node)
        prev = node
        if step.kind == "waive":
            column += 1
            prev = wait_for_waived_materials(node, column_x(column))
        elif step.alternative:
            column += 1
            key = step.id.removeprefix("Task_")
            gateway = add(f"Gateway_{key}", "gateway", step.gateway_name, node.lane, column_x(column), 0, step=step)
            connect(node, gateway)
            fail_value, fail_label, condition = step.alternative
            end = add(f"EndEvent_{key}_{fail_value}", "end", step.fail_end, node.lane, gateway.x + ALT_SHIFT,
                      ALT_DROP)
            connect(gateway, end, name=fail_label, condition=condition)
            prev = gateway
    connect(prev, add("EndEvent_done", "end", "办结", prev.lane, column_x(column + 1), 0))
    main = list(nodes)

    # Lanes: a main row (and the rows of the 容缺补正 wait); the escalation lane ends with the row of the limits'
    # event sub-processes (its only row, when no main-path node is in it).
    timers = timers_of(spec)
    band = max((_sub_process_height(timer) for timer in timers), default=0)
    geometry, main_y, top = [], {}, ORIGIN_Y
    for code in lanes:
        rows = max([WAIVER_ROWS for n in main if n.kind == "eventgateway" and n.lane == code], default=0)
        height = LANE_HEIGHT
        if rows:
            height = LANE_HEIGHT // 2 + BRANCH_FIRST + (rows - 1) * BRANCH_PITCH + SIZES["task"][1] // 2 + BRANCH_MARGIN
        if code == ESCALATION_LANE and band:
            height = (height if any(n.lane == code for n in main) else SUB_GAP) + band + SUB_GAP
        geometry.append((code, top, height))
        main_y[code] = top + LANE_HEIGHT // 2
        top += height
    for node in main:
        node.y += main_y[node.lane]
        if node.label:
            x, y, w, h = node.label
            node.label = (x, y + main_y[node.lane], w, h)
    band_top = geometry[-1][1] + geometry[-1][2] - SUB_GAP - band
    left = ORIGIN_X + LABEL_BAND + SUB_GAP
    for timer in timers:
        left = _limit_sub_process(timer, left, band_top, add, connect) + SUB_GAP
    return geometry, nodes, flows


def _sub_process_height(timer: Timer) -> int:
    """The 承诺时限超期 one has a second row, for 已督办过."""
    return SUB_ROW * 2 + (BRANCH_PITCH if timer.end is None else 0)


def _limit_sub_process(timer: Timer, left: int, top: int, add, connect) -> int:
    """One limit's event sub-process, its box's top-left corner at (left, top): the timer start, the escalate task
    and its end in one row; the 承诺时限超期 one has 是否新的红牌 and 督办 (with 督办完成) in that row, and 已督办过
    below the gateway. Returns the box's right edge."""
    steps = 3 if timer.end else 5
    width = 2 * SUB_PAD + (steps - 1) * SUB_PITCH
    height = _sub_process_height(timer)
    box = add(f"SubProcess_{timer.key}", "eventsub", timer.title, ESCALATION_LANE, left + width // 2,
              top + height // 2, width=width, height=height)
    row_y = top + SUB_ROW

    def inner(node_id: str, kind: str, name: str, place: int, y: int = row_y, **extra) -> _Node:
        return add(node_id, kind, name, ESCALATION_LANE, left + SUB_PAD + place * SUB_PITCH, y, parent=box, **extra)

    start = inner(f"StartEvent_{timer.key}", "start", timer.name, 0, timer=timer)
    escalate = inner(f"Task_{timer.key}", "service", timer.task_name, 1,
                     step=Step("service", f"Task_{timer.key}", timer.task_name, "", topic="escalate",
                               properties=(("level", timer.level), ("limit", timer.limit))))
    connect(start, escalate)
    if timer.end:
        connect(escalate, inner(f"EndEvent_{timer.key}", "end", timer.end, 2, properties=ESCALATION_END))
        return left + width
    label_w = LABEL_FONT * len(NEW_RED) + 10
    gateway = inner(f"Gateway_{timer.key}", "gateway", NEW_RED, 2,
                    label=(left + SUB_PAD + 2 * SUB_PITCH - label_w // 2, row_y - SIZES["gateway"][1] // 2 - 18,
                           label_w, 14))
    connect(escalate, gateway)
    yes, no = NEW_RED_ANSWERS
    supervise = inner(SUPERVISE.id, "user", SUPERVISE.name, 3, step=SUPERVISE)
    gateway.default = connect(gateway, supervise, name=yes).id
    connect(supervise, inner("EndEvent_supervised", "end", SUPERVISED_END, 4, properties=ESCALATION_END))
    repeated = inner(f"EndEvent_{timer.key}", "end", ALREADY_SUPERVISED, 3, row_y + BRANCH_PITCH,
                     properties=ESCALATION_END)
    connect(gateway, repeated, name=no, condition=REPEATED_RED)
    return left + width


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NSMAP[prefix]}}}{local}"


def _sub(parent, tag: str, attrs: dict | None = None, content: str | None = None):
    """Append a child element; attribute names may be prefixed (camunda:formKey); None values are left out."""
    element = etree.SubElement(parent, _q(tag), {(_q(k) if ":" in k else k): str(v)
                                                 for k, v in (attrs or {}).items() if v is not None})
    element.text = content
    return element


def _form(extensions, fields: tuple[Field, ...]) -> None:
    form = _sub(extensions, "camunda:formData")
    for field in fields:
        element = _sub(form, "camunda:formField", {"id": field.id, "label": field.label, "type": field.type})
        constraints = [("required", "true")] if field.required else []
        constraints += [("pattern", field.pattern)] if field.pattern else []
        constraints += [("min", field.minimum)] if field.minimum else []
        if constraints:
            validation = _sub(element, "camunda:validation")
            for name, config in constraints:
                _sub(validation, "camunda:constraint", {"name": name, "config": config})
        for value, label in field.options:
            _sub(element, "camunda:value", {"id": value, "name": label})


def _properties(extensions, properties) -> None:
    container = _sub(extensions, "camunda:properties")
    for name, value in properties:
        _sub(container, "camunda:property", {"name": name, "value": value})


TAGS = {"start": "bpmn:startEvent", "end": "bpmn:endEvent", "user": "bpmn:userTask",
        "service": "bpmn:serviceTask", "throw": "bpmn:intermediateThrowEvent",
        "catch": "bpmn:intermediateCatchEvent", "gateway": "bpmn:exclusiveGateway", "eventsub": "bpmn:subProcess",
        "eventgateway": "bpmn:eventBasedGateway", "rule": "bpmn:businessRuleTask"}


def _flow_node(process, node: _Node, flows: list[_Flow], containers: dict) -> None:
    attrs = {"id": node.id, "name": node.name, "default": node.default}
    if node.kind == "service":
        attrs.update({"camunda:type": "external", "camunda:topic": node.step.topic})
    if node.kind == "rule":
        attrs["camunda:decisionRef"] = node.step.decision_ref
    if node.kind == "eventsub":
        attrs["triggeredByEvent"] = "true"
    if node.kind == "start" and node.timer:
        attrs["isInterrupting"] = "false"
    element = _sub(containers[node.parent.id] if node.parent else process, TAGS[node.kind], attrs)
    containers[node.id] = element
    if node.kind in ("user", "service", "rule", "throw", "catch", "eventgateway"):
        extensions = _sub(element, "bpmn:extensionElements")  # (an escalation has no stage: it is the case's)
        _properties(extensions, ((("stage", node.step.stage),) if node.step.stage else ()) + node.step.properties)
        if node.kind == "user":
            _form(extensions, (Field("decision", "enum", "办理结果", True, node.step.decisions), node.step.opinion)
                  + node.step.fields)
    elif node.fields:
        _form(_sub(element, "bpmn:extensionElements"), node.fields)
    elif node.properties:
        _properties(_sub(element, "bpmn:extensionElements"), node.properties)
    for flow in flows:
        if flow.target is node:
            _sub(element, "bpmn:incoming", content=flow.id)
    for flow in flows:
        if flow.source is node:
            _sub(element, "bpmn:outgoing", content=flow.id)
    if node.message:
        message_id, payload, variable = MESSAGES[node.message]
        _sub(element, "bpmn:messageEventDefinition", {
            "id": f"MessageEventDefinition_{node.id}", "messageRef": message_id,
            "camunda:expression": payload if node.kind == "throw" else None, "camunda:resultVariable": variable})
    if node.timer or node.time_date:
        definition = _sub(element, "bpmn:timerEventDefinition", {"id": f"TimerEventDefinition_{node.id}"})
        _sub(definition, "bpmn:timeDate", {"xsi:type": "bpmn:tFormalExpression"},
             node.timer.expression if node.timer else node.time_date)


def _bounds(parent, x: int, y: int, w: int, h: int) -> None:
    _sub(parent, "dc:Bounds", {"x": x, "y": y, "width": w, "height": h})


def draft_process(spec: ProcessDraftSpec) -> bytes:
    """A complete BPMN document (collaboration, lanes, flow, diagram interchange) for one process."""
    lanes, nodes, flows = _layout(spec)
    messages = list(dict.fromkeys(n.message for n in nodes if n.message))

    root = etree.Element(_q("bpmn:definitions"), nsmap=NSMAP, attrib={
        "id": f"Definitions_{spec.process_id}", "targetNamespace": "http://bpmn.io/schema/bpmn",
        "exporter": "workflows bpmn_draft", "exporterVersion": "2"})
    collaboration = _sub(root, "bpmn:collaboration", {"id": f"Collaboration_{spec.process_id}"})
    participant_id = f"Participant_{spec.process_id}"
    _sub(collaboration, "bpmn:participant",
         {"id": participant_id, "name": spec.participant, "processRef": spec.process_id})
    process = _sub(root, "bpmn:process", {"id": spec.process_id, "name": spec.name, "isExecutable": "true"})
    lane_set = _sub(process, "bpmn:laneSet", {"id": f"LaneSet_{spec.process_id}"})
    for code, _, _ in lanes:
        lane = _sub(lane_set, "bpmn:lane", {"id": f"Lane_{code}", "name": ROLE_NAMES[code]})
        for node in nodes:
            if node.lane == code and node.parent is None:  # (an event sub-process's nodes are in its lane)
                _sub(lane, "bpmn:flowNodeRef", content=node.id)
    containers: dict = {}
    for node in nodes:
        _flow_node(process, node, flows, containers)
    for flow in flows:
        container = containers[flow.source.parent.id] if flow.source.parent else process
        element = _sub(container, "bpmn:sequenceFlow", {"id": flow.id, "name": flow.name,
                                                      "sourceRef": flow.source.id, "targetRef": flow.target.id})
        if flow.condition:
            _sub(element, "bpmn:conditionExpression", {"xsi:type": "bpmn:tFormalExpression"}, flow.condition)
    for message in messages:
        _sub(root, "bpmn:message", {"id": MESSAGES[message][0], "name": message})

    diagram = _sub(root, "bpmndi:BPMNDiagram", {"id": f"BPMNDiagram_{spec.process_id}"})
    plane = _sub(diagram, "bpmndi:BPMNPlane", {"id": f"BPMNPlane_{spec.process_id}",
                                                "bpmnElement": collaboration.get("id")})
    width = max(n.x + n.size[0] // 2 for n in nodes) + COLUMN // 2 - SIZES["event"][0] // 2 - ORIGIN_X
    height = sum(lane_height for _, _, lane_height in lanes)
    shape = _sub(plane, "bpmndi:BPMNShape", {"id": f"{participant_id}_di", "bpmnElement": participant_id,
                                             "isHorizontal": "true"})
    _bounds(shape, ORIGIN_X, ORIGIN_Y, width, height)
    for code, top, lane_height in lanes:
        shape = _sub(plane, "bpmndi:BPMNShape", {"id": f"Lane_{code}_di", "bpmnElement": f"Lane_{code}",
                                                 "isHorizontal": "true"})
        _bounds(shape, ORIGIN_X + LABEL_BAND, top, width - LABEL_BAND, lane_height)
    for node in nodes:
        shape = _sub(plane, "bpmndi:BPMNShape", {"id": f"{node.id}_di", "bpmnElement": node.id,
                                                 "isExpanded": "true" if node.kind == "eventsub" else None})
        w, h = node.size
        _bounds(shape, node.x - w // 2, node.y - h // 2, w, h)
        if node.label:
            _bounds(_sub(shape, "bpmndi:BPMNLabel"), *node.label)
    for flow in flows:
        edge = _sub(plane, "bpmndi:BPMNEdge", {"id": f"{flow.id}_di", "bpmnElement": flow.id})
        for x, y in flow.waypoints():
            _sub(edge, "di:waypoint", {"x": x, "y": y})
        if flow.label:
            _bounds(_sub(edge, "bpmndi:BPMNLabel"), *flow.label)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
