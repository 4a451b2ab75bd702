"""Which BPMN elements this engine runs, and the refusal at deploy of every other one.

SpiffWorkflow 3.2.0 parses more than the case pages, the inbox and the scheduler can serve: a multi-instance
task, a send task or a cycle timer deploys and then fails (or silently never happens) once a case reaches it. A
diagram is therefore checked against a list of what is known to run (tests/fixtures/conformance/ runs each),
and anything else is refused with the element's id, its name and why. docs/bpmn-conventions.md keeps the list.
"""
from __future__ import annotations

from lxml import etree
from SpiffWorkflow.bpmn.specs.defaults import CallActivity, ManualTask, NoneTask, StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from workflows.domain.errors import InvalidProcess

from .compensation import is_compensation_event_sub_process

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN_NS}
PYTHON_FORMATS = frozenset({"", "python"})  # scriptFormat: none given is Python, as the sandbox runs it
EXPRESSION_LANGUAGES = PYTHON_FORMATS | {"juel"}  # conditions and timers: JUEL is translated at deploy (juel.py)

# Flow elements (children of a process or an embedded sub-process) -> the event definitions each may carry
# (None: the element carries none). An element not listed is refused.
_EVENTS = {"startEvent": {"", "message"}, "endEvent": {"", "signal", "compensate"},
           "intermediateCatchEvent": {"timer", "message", "signal"},
           "intermediateThrowEvent": {"", "message", "signal", "compensate"},
           "boundaryEvent": {"timer", "message", "signal", "compensate"}}
_EVENT_STARTED = {**_EVENTS, "startEvent": {"timer", "message", "signal"}}  # inside an event sub-process: its start
_COMPENSATION_STARTED = {**_EVENTS, "startEvent": {"compensate"}}  # inside a compensation event sub-process
# Inside an embedded sub-process: error and escalation events thrown to its boundary events.
_IN_SUB_PROCESS = {**_EVENTS, "endEvent": _EVENTS["endEvent"] | {"error", "escalation"},
                   "intermediateThrowEvent": _EVENTS["intermediateThrowEvent"] | {"escalation"}}
# Inside a transaction: besides, a cancel end event, which cancels it and takes its cancel boundary event's path.
_IN_TRANSACTION = {**_IN_SUB_PROCESS, "endEvent": _IN_SUB_PROCESS["endEvent"] | {"cancel"}}
_SUB_PROCESSES = frozenset({"subProcess", "callActivity", "transaction"})
_ACTIVITIES = frozenset({"userTask", "serviceTask", "businessRuleTask", "scriptTask", "task", "manualTask",
                         "callActivity", "subProcess", "transaction", "sendTask", "receiveTask"})
_MESSAGE_TASKS = frozenset({"sendTask", "receiveTask"})
_BPMN_LOOP_DATA = ("loopDataInputRef", "loopDataOutputRef", "inputDataItem", "outputDataItem")
_GATEWAYS = frozenset({"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway"})
_NOT_FLOW_NODES = frozenset({"sequenceFlow", "laneSet", "extensionElements", "documentation", "textAnnotation",
                             "association", "group", "dataObject", "dataObjectReference", "dataStoreReference",
                             "ioSpecification", "property", "incoming", "outgoing", "multiInstanceLoopCharacteristics",
                             "standardLoopCharacteristics"})  # (incoming, outgoing, loops: of a sub-process)

_KIND_NAMES = {"adHocSubProcess": "自由子流程（adHocSubProcess）",
               "complexGateway": "复杂网关（complexGateway）"}
_EVENT_NAMES = {"": "空事件", "message": "消息", "timer": "定时", "signal": "信号", "error": "错误",
                "escalation": "升级", "compensate": "补偿", "cancel": "取消", "conditional": "条件", "link": "链接",
                "terminate": "终止"}


class PassThroughTask(NoneTask):
    """A plain bpmn:task: nothing to do, the case passes through, as in Camunda. (SpiffWorkflow marks it manual,
    which would make it wait for a person whom no inbox serves.)"""

    def __init__(self, wf_spec, bpmn_id, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.manual = False


class OfflineTask(ManualTask):
    """A bpmn:manualTask: work done outside the system (a 现场核查 on paper). The case passes through, as in
    Camunda, and the history records the step; what needs a clerk's answer is a user task."""

    def __init__(self, wf_spec, bpmn_id, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.manual = False


def _grow_branch(task_spec, my_task) -> None:
    """Add the branch after `my_task` now that it has run (SpiffWorkflow adds it while predicting, which the
    limits' watchers skip)."""
    my_task._sync_children(task_spec.outputs, TaskState.FUTURE)
    for child in my_task.children:
        child.task_spec._predict(child, mask=TaskState.FUTURE | TaskState.PREDICTED_MASK)


class EventSubProcess(CallActivity):
    """An event sub-process (SpiffWorkflow's Camunda parser runs it as an embedded sub-process started beside the
    case's path). Until it has run, nothing after it is predicted: a limit's watcher waits for the whole case, and
    its predicted branch to the process's end would be stored, walked and restored in every command."""

    def _predict_hook(self, my_task):
        pass

    def _on_complete_hook(self, my_task):
        super()._on_complete_hook(my_task)
        _grow_branch(self, my_task)


class TimerStartEvent(StartEvent):
    """A start event; the timer start of an event sub-process predicts the steps after it only once it fires (it
    may wait for FAR_FUTURE all the case long). The start of an interrupting event sub-process ends the case's path
    when it fires (SpiffWorkflow 3.2.0 ignores isInterrupting): every open step outside the sub-process is
    cancelled, and the sub-process's end is the case's."""

    interrupting = False  # set by the parser from isInterrupting (which defaults to true)

    def _predict_hook(self, my_task):
        if not isinstance(self.event_definition, TimerEventDefinition):
            super()._predict_hook(my_task)

    def _on_complete_hook(self, my_task):
        super()._on_complete_hook(my_task)
        if isinstance(self.event_definition, TimerEventDefinition):
            _grow_branch(self, my_task)
        if self.interrupting and interrupts(my_task.workflow):
            _interrupt(my_task.workflow)


def interrupts(workflow) -> bool:
    """Whether `workflow` is an interrupting event sub-process that has started."""
    if workflow.parent_task_id is None:
        return False
    task = workflow.parent_workflow.get_task_from_id(workflow.parent_task_id)
    return isinstance(task.task_spec, EventSubProcess) and any(
        getattr(start.task_spec, "interrupting", False) and start.has_state(TaskState.COMPLETED)
        for start in workflow.get_tasks(spec_class=StartEvent))


def _interrupt(sub_process) -> None:
    """Cancel what the enclosing process still has open, but the event sub-process itself."""
    parent = sub_process.parent_workflow
    own = parent.get_task_from_id(sub_process.parent_task_id)
    keep, ancestor = set(), own
    while ancestor is not None:
        keep.add(ancestor.id)
        ancestor = ancestor.parent
    for task in list(parent.tasks.values()):
        if task.id not in keep and not task.has_state(TaskState.FINISHED_MASK):
            task.cancel()


def check_supported_elements(document, file_name: str, called: set | None = None) -> None:
    """Refuse the first element that this engine does not run correctly, in the processes a case may run: the
    executable ones and those they call, from this file or another of the deployment (`called`: their ids); a
    pool drawn for the picture (not executable) is never run."""
    called = (called or set()) | {call.get("calledElement") for call in document.iterfind(".//bpmn:callActivity", NS)}
    for container in document.iterfind(".//bpmn:process", NS):
        if container.get("isExecutable") != "true" and container.get("id") not in called:
            continue
        _check_flow_elements(container, file_name)
        _check_expression_languages(container, file_name)


def _check_flow_elements(container, file_name: str, events: dict = _EVENTS) -> None:
    for element in container:
        if not isinstance(element.tag, str) or etree.QName(element).namespace != BPMN_NS:
            continue
        kind = etree.QName(element).localname
        reason = _refusal(element, kind, events)
        if reason:
            raise InvalidProcess(f"{named(element)}：{reason}", element.get("id"), file_name)
        if kind == "subProcess":
            _check_flow_elements(element, file_name,
                                 _COMPENSATION_STARTED if is_compensation_event_sub_process(element)
                                 else _EVENT_STARTED if _is_event_sub_process(element) else _IN_SUB_PROCESS)
        elif kind == "transaction":
            _check_flow_elements(element, file_name, _IN_TRANSACTION)


def _is_event_sub_process(element) -> bool:
    return element.get("triggeredByEvent") == "true"


def _event_sub_process_refusal(element) -> str | None:
    """An event sub-process runs here when a timer (the limits' timers: once per case, at the process level) or a
    message starts it; an interrupting one ends the case's path when it starts (TimerStartEvent), as
    SpiffWorkflow 3.2.0 alone would not. Other triggers have not been tried here."""
    starts = element.findall("bpmn:startEvent", NS)
    if any(start.find("bpmn:compensateEventDefinition", NS) is not None for start in starts):
        if etree.QName(element.getparent()).localname not in ("subProcess", "transaction") or len(starts) != 1:
            return ("补偿事件子流程（由补偿开始事件触发）只能画在内嵌子流程中，且只有这一个开始事件："
                    "它是该子流程被补偿时的做法")
        return None
    triggered = [start for start in starts if any(start.find(f"bpmn:{kind}EventDefinition", NS) is not None
                                                  for kind in ("timer", "message", "signal"))]
    if len(starts) != 1 or len(triggered) != 1:
        return ("本引擎只支持由一个定时、消息或信号开始事件触发的事件子流程（triggeredByEvent），"
                "其他触发方式（错误、升级等）请改用边界事件或中间事件")
    return None


def _refusal(element, kind: str, events: dict = _EVENTS) -> str | None:
    """Why the engine cannot run this flow element (None: it can); `events`: the events its container allows."""
    if kind in _NOT_FLOW_NODES:
        return None
    if kind in events:
        return _event_refusal(element, kind, events)
    if kind in _ACTIVITIES:
        return _activity_refusal(element, kind)
    if kind in _GATEWAYS:
        return None
    return f"本引擎不支持{_KIND_NAMES.get(kind, f'元素 {kind}')}，请改用本引擎支持的元素（见 docs/bpmn-conventions.md）"


_COMPENSATION_ACTIVITIES = frozenset({"userTask", "serviceTask", "scriptTask", "task", "manualTask"})


def _activity_refusal(element, kind: str) -> str | None:
    if element.get("isForCompensation") == "true":
        return _compensation_activity_refusal(element, kind)
    loop = element.find("bpmn:multiInstanceLoopCharacteristics", NS)
    if loop is not None:
        return _multi_instance_refusal(loop, kind)
    if element.find("bpmn:standardLoopCharacteristics", NS) is not None:
        return "本引擎暂不支持循环任务（standardLoopCharacteristics），请用排他网关画出回路"
    if kind == "subProcess" and _is_event_sub_process(element):
        return _event_sub_process_refusal(element)
    if kind == "scriptTask":
        return _script_refusal(element)
    if kind in _MESSAGE_TASKS:
        return _message_task_refusal(element, kind)
    return None


_MULTI_INSTANCE = frozenset({"userTask", "serviceTask", "scriptTask", "subProcess"})


def _multi_instance_refusal(loop, kind: str) -> str | None:
    """A multi-instance user task, service task, script task or embedded sub-process runs (multi_instance.py) as
    Camunda 7 writes it: camunda:collection with its camunda:elementVariable, or loopCardinality; BPMN's own data
    references are not read."""
    if kind not in _MULTI_INSTANCE:
        return ("本引擎只支持多实例的用户任务、服务任务、脚本任务和内嵌子流程（multiInstanceLoopCharacteristics），"
                "其他元素的多份办理请为每份各画一个，或用并行网关分支")
    collection = (loop.get(f"{{{CAMUNDA_NS}}}collection") or "").strip()
    cardinality = (loop.findtext("bpmn:loopCardinality", default="", namespaces=NS)).strip()
    element = loop.get(f"{{{CAMUNDA_NS}}}elementVariable")
    if any(loop.find(f"bpmn:{name}", NS) is not None for name in _BPMN_LOOP_DATA):
        return ("多实例任务须用 camunda:collection 和 camunda:elementVariable 指定集合和元素变量，"
                "不支持 loopDataInputRef / inputDataItem 等 BPMN 数据引用")
    if bool(collection) == bool(cardinality):
        return "多实例任务须且只须指定集合（camunda:collection）或实例数（loopCardinality）之一"
    if element is not None and not (collection and element.isidentifier() and not element.startswith("_")):
        return (f"多实例任务的元素变量（camunda:elementVariable）“{element}”应为变量名（不以下划线开头），"
                "且只与集合（camunda:collection）一起使用")
    return None


def _message_task_refusal(element, kind: str) -> str | None:
    """A send task throws, a receive task waits for, the named message its `messageRef` gives: without one the
    engine would pass through it silently."""
    word = "发送任务须用 messageRef 指定要发出的消息" if kind == "sendTask" else "接收任务须用 messageRef 指定等待的消息"
    ref = element.get("messageRef")
    if not ref:
        return word
    message = element.getroottree().getroot().find(f"bpmn:message[@id='{ref}']", NS)
    if message is None or not (message.get("name") or "").strip():
        return f"{word}：消息 {ref} 不存在或没有名称（name）"
    return None


def _script_refusal(element) -> str | None:
    if not _is_python(element.get("scriptFormat")):
        return f"脚本格式“{element.get('scriptFormat')}”不受支持：脚本只能用 Python 写（scriptFormat=\"python\" 或不填）"
    if not (element.findtext("bpmn:script", default="", namespaces=NS)).strip():
        return "脚本任务须在 bpmn:script 中写出 Python 脚本（不支持 camunda:resource 外部脚本）"
    return None


def _is_python(language: str | None) -> bool:
    return (language or "").strip().lower() in PYTHON_FORMATS


def _check_expression_languages(container, file_name: str) -> None:
    """A condition or timer written in another language (language="javascript") would be run as Python."""
    for path in (".//bpmn:conditionExpression", ".//bpmn:timerEventDefinition/*"):
        for node in container.iterfind(path, NS):
            if (node.get("language") or "").strip().lower() not in EXPRESSION_LANGUAGES:
                owner = node.getparent()
                while owner.get("id") is None or owner.tag.endswith("EventDefinition"):
                    owner = owner.getparent()
                raise InvalidProcess(f"{named(owner)}：表达式语言“{node.get('language')}”不受支持："
                                     "条件和定时器只能用 Python 或 JUEL（${…}）表达式", owner.get("id"), file_name)


def _event_refusal(element, kind: str, events: dict = _EVENTS) -> str | None:
    definitions = [etree.QName(node).localname.removesuffix("EventDefinition")
                   for node in element if isinstance(node.tag, str) and node.tag.endswith("EventDefinition")]
    if len(definitions) > 1:
        return "一个事件只能有一种事件定义（不支持多重事件）"
    definition = definitions[0] if definitions else ""
    if definition == "compensate" and kind in events and "compensate" in events[kind]:
        return _compensation_event_refusal(element, kind)
    if kind == "boundaryEvent" and definition in ("error", "escalation"):
        return _thrown_to_boundary_refusal(element, definition)
    if kind == "boundaryEvent" and definition == "cancel":
        return _cancel_boundary_refusal(element)
    if definition == "signal" and kind in events and "signal" in events[kind]:
        return _signal_refusal(element)
    if definition not in events[kind]:
        allowed = "、".join(_EVENT_NAMES[name] for name in sorted(events[kind]))
        hint = ("（错误、升级事件只能在子流程中抛出，由子流程的边界事件捕获）"
                if definition in ("error", "escalation") and kind != "boundaryEvent" else "")
        return (f"{_EVENT_NAMES.get(definition, definition)}{_kind_word(kind)}不受本引擎支持，"
                f"此处可用：{allowed}{hint}")
    if element.find("bpmn:timerEventDefinition/bpmn:timeCycle", NS) is not None and not (
            kind == "boundaryEvent" and element.get("cancelActivity") == "false"):
        # SpiffWorkflow runs the path after a cycle's event once per occurrence: after a catch or start event the
        # rest of the process would run several times; an interrupting boundary event fires only once anyway.
        return ("循环定时器（timeCycle）只能用于非中断边界事件（cancelActivity=\"false\"，如每隔一段时间催办一次），"
                "此处请用 timeDate（到期时刻）或 timeDuration（等待时长）")
    return None


def _compensation_activity_refusal(element, kind: str) -> str | None:
    """A compensation activity (compensation.py) is a task run by itself when its activity is compensated: no
    flow leads to it or from it, and a compensation boundary event is associated with it."""
    if kind not in _COMPENSATION_ACTIVITIES or element.find("bpmn:multiInstanceLoopCharacteristics", NS) is not None:
        return "补偿活动（isForCompensation）只能是单个用户任务、服务任务、脚本任务、空任务或手工任务"
    if element.find("bpmn:incoming", NS) is not None or element.find("bpmn:outgoing", NS) is not None:
        return "补偿活动（isForCompensation）不能有顺序流连入或连出：它只在补偿时单独执行"
    sources = {assoc.get("sourceRef") for assoc in _associations(element) if assoc.get("targetRef") == element.get("id")}
    if not any(event.get("id") in sources for event in element.getparent().iterfind("bpmn:boundaryEvent", NS)
               if event.find("bpmn:compensateEventDefinition", NS) is not None):
        return "补偿活动（isForCompensation）须由同一层中某个补偿边界事件用关联（association）连到，否则永远不会执行"
    return None


def _compensation_event_refusal(element, kind: str) -> str | None:
    """A compensation boundary event names its compensation activity by an association; a throw event's
    activityRef, if any, names an activity of its own scope that has one (in a compensation event sub-process:
    of the sub-process it compensates)."""
    scope = element.getparent()
    if is_compensation_event_sub_process(scope):
        scope = scope.getparent()
    if kind == "boundaryEvent":
        targets = [assoc.get("targetRef") for assoc in _associations(element)
                   if assoc.get("sourceRef") == element.get("id")]
        handler = scope.find(f"*[@id='{targets[0]}']") if len(targets) == 1 else None
        if handler is None or handler.get("isForCompensation") != "true":
            return "补偿边界事件须用一条关联（association）连到同一层中的补偿活动（isForCompensation=\"true\"）"
        return None
    ref = element.find("bpmn:compensateEventDefinition", NS).get("activityRef")
    if ref and ref not in _compensable(scope):
        return (f"补偿事件的 activityRef“{ref}”应为同一层中带补偿边界事件的活动，或含可补偿活动的子流程"
                "（子流程内部的活动随子流程一起补偿，不能单独指定）")
    return None


def _compensable(scope) -> set[str]:
    """The ids of the activities of `scope` that a compensation throw event there may name: those with a
    compensation boundary event, and the embedded sub-processes with one somewhere inside (compensated by default
    through their inner activities, compensation.py) or with a compensation event sub-process."""
    compensated = {event.get("attachedToRef") for event in scope.iterfind("bpmn:boundaryEvent", NS)
                   if event.find("bpmn:compensateEventDefinition", NS) is not None}
    return compensated | {node.get("id") for kind in ("subProcess", "transaction")
                          for node in scope.iterfind(f"bpmn:{kind}", NS)
                          if node.find(".//bpmn:boundaryEvent/bpmn:compensateEventDefinition", NS) is not None
                          or node.find(".//bpmn:startEvent/bpmn:compensateEventDefinition", NS) is not None}


def _associations(element):
    return element.getroottree().getroot().iterfind(".//bpmn:association", NS)


def _cancel_boundary_refusal(element) -> str | None:
    """A cancel boundary event catches the cancel end event of the transaction it is attached to."""
    attached = element.getparent().find(f"*[@id='{element.get('attachedToRef')}']")
    if attached is None or etree.QName(attached).localname != "transaction":
        return "取消边界事件只能附在事务子流程（transaction）上，由其中的取消结束事件触发"
    return None


def _signal_refusal(element) -> str | None:
    """A signal event names its signal (bpmn:signal with a name): cases and POST /api/signals match it by name."""
    ref = element.find("bpmn:signalEventDefinition", NS).get("signalRef")
    signal = element.getroottree().getroot().find(f"bpmn:signal[@id='{ref}']", NS) if ref else None
    if signal is None or not (signal.get("name") or "").strip():
        return f"信号事件须用 signalRef 指定有名称（name）的信号（bpmn:signal）{f'：信号 {ref} 不存在或没有名称' if ref else ''}"
    return None


def _thrown_to_boundary_refusal(element, definition: str) -> str | None:
    """An error or escalation boundary event catches what the element it is attached to throws: a sub-process's
    error or escalation end or throw events, a service task's BPMN error (an external worker's bpmnError, an
    in-process handler's error with a code), a user task's (its clerk reports one). On any other element nothing
    would ever throw one, and the path after it could never be taken."""
    attached = element.getparent().find(f"*[@id='{element.get('attachedToRef')}']")
    kind = etree.QName(attached).localname if attached is not None else None
    if kind in _SUB_PROCESSES and not _is_event_sub_process(attached):
        return None
    if definition == "error" and kind in ("serviceTask", "userTask", "scriptTask"):
        return None
    if definition == "escalation" and kind == "userTask":
        return None
    if definition == "error":
        return ("错误边界事件只能附在用户任务、服务任务、脚本任务或子流程上：由办理人（POST /api/tasks/<id>/bpmn-error）、"
                "外部任务或处理程序报告的 BPMN 错误、脚本中的 bpmn_error(代码, 说明)，或子流程中的错误结束事件触发"
                "（发送任务发出消息即完成，不会出错）")
    return ("升级边界事件只能附在用户任务上（由办理人上报：POST /api/tasks/<id>/escalation）或子流程上"
            "（由子流程中的升级事件（escalation）触发）")


def _kind_word(kind: str) -> str:
    return {"startEvent": "开始事件", "endEvent": "结束事件", "boundaryEvent": "边界事件"}.get(kind, "中间事件")


def named(element) -> str:
    """How a refusal names an element: “name”（id）."""
    name = element.get("name")
    return f"“{name}”（{element.get('id')}）" if name else f"元素 {element.get('id')}"
