"""Turns a BPMN file (with the DMN files of its decisions) into a ProcessDefinition the engine can run, refusing
what it could not run safely.

SpiffWorkflow's CamundaParser reads the diagram; we add what it ignores (service-task topics, start-event forms)
and check what it does not: service tasks name a handler or an external topic, expressions pass the sandbox (JUEL translated to it first: juel.py),
ids are not reserved, the decision tables the business-rule tasks reference are there and safe (dmn_parsing.py).
A user task's role is its lane's, when the lane names a role, else the first of its candidateGroups naming one,
else any role of the hall (a diagram drawn elsewhere names none); its Camunda assignment attributes are read by
task_assignment.py.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.parser.event_parsers import SendTaskParser
from SpiffWorkflow.bpmn.specs.defaults import ReceiveTask, SendTask
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.bpmn.parser.task_parsers import SubprocessParser
from SpiffWorkflow.camunda.parser.event_parsers import CamundaEventDefinitionParser, CamundaStartEventParser
from SpiffWorkflow.camunda.parser.task_spec import (CAMUNDA_MODEL_NS, BusinessRuleTaskParser, CamundaTaskParser,
                                                   SubWorkflowParser)
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask
from SpiffWorkflow.exceptions import SpiffWorkflowException

from handlers import HANDLERS, HandlerError
from workflows.domain.amounts import amount_of
from workflows.domain.errors import InvalidProcess
from workflows.domain.forms import FIELD_TYPES, Form, FormField
from workflows.domain.text import TEXT_LENGTH
from workflows.domain.refusals import END, ONWARD, RETURN, DecisionOutcome
from workflows.domain.assignment import task_role
from workflows.domain.roles import ANY_TASK_ROLE, role_for_lane

from . import case_expressions
from .bpmn_elements import (EventSubProcess, OfflineTask, PassThroughTask, TimerStartEvent,
                            check_supported_elements, named)
from .dmn_parsing import Decision, schema_validator
from .error_events import ErrorScriptTask, ScriptTaskParser, catch_error
from .juel import JuelError, python_or_juel
from .multi_instance import CamundaMultiInstance, MultiInstanceUserTaskParser, instances_spec_name
from .compensation import (CompensationEndEventParser, CompensationProcessParser, IntermediateThrowEventParser,
                           is_compensation_event_sub_process)
from .scripting import ScriptError, ScriptSyntaxError, check_expression, check_script, check_timer_expression
from .task_assignment import AssignmentRules, read_rules
from .xml_reading import read_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_MODEL_NS}
RESERVED_IDS = frozenset({"Start", "End"})  # SpiffWorkflow's own task names: a process using them parses to nothing


class HandlerServiceTask(ServiceTask):
    """A service task with a `camunda:topic` (SpiffWorkflow's own one does nothing). A topic that names a
    registered handler (handlers/) runs that handler in-process; any other topic is an external task, as in
    Camunda: the task waits (STARTED) until a worker fetches and completes it through the external-task API
    (services/external_tasks.py), so diagrams drawn for Camunda's workers run unchanged."""

    def __init__(self, wf_spec, bpmn_id, topic=None, priority=0, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.topic = topic
        self.priority = priority

    @property
    def external(self) -> bool:
        return self.topic not in HANDLERS

    def _execute(self, task):
        if self.external:
            return None  # STARTED: waits for an external worker
        try:
            return task.workflow.script_engine.run_handler(task, self.topic)
        except HandlerError as error:
            if error.code and catch_error(task, error.code):
                return None  # the error boundary event's path is taken, and it ends this task
            raise


class HandlerServiceTaskParser(CamundaMultiInstance, CamundaTaskParser):
    def create_task(self):
        topic = self.node.get(f"{{{CAMUNDA_MODEL_NS}}}topic")
        priority = int(self.node.get(f"{{{CAMUNDA_MODEL_NS}}}taskPriority") or 0)  # checked at deploy
        return self.spec_class(self.spec, self.bpmn_id, topic=topic, priority=priority, **self.bpmn_attributes)


class DecisionTask(BusinessRuleTask):
    """A business-rule task: its decision table, evaluated over the case data by the case's script engine (the
    sandbox). Every output of the table is set, None when no rule matches (a gateway after it can always test
    it); an input the case data lacks (a form field left empty) reads as None, and stays so in the case data."""

    def _run_hook(self, task):
        environment = task.workflow.script_engine.environment
        for name in self.input_names:
            if name not in task.data and not environment.provides(name):
                task.data[name] = None
        task.data.update(dict.fromkeys(self.decision_outputs))
        return super()._run_hook(task)

    @property
    def decision_outputs(self) -> tuple[str, ...]:
        return tuple(output.name or output.label for output in self.dmnEngine.decision_table.outputs)

    @cached_property
    def input_names(self) -> tuple[str, ...]:
        """The names the table's input expressions read (not those they bind, as a comprehension does)."""
        names: dict[str, None] = {}
        for column in self.dmnEngine.decision_table.inputs:
            nodes = [node for node in ast.walk(ast.parse(column.expression.strip(), mode="eval"))
                     if isinstance(node, ast.Name)]
            bound = {node.id for node in nodes if not isinstance(node.ctx, ast.Load)}
            names.update(dict.fromkeys(node.id for node in nodes if node.id not in bound))
        return tuple(names)


class DecisionTaskParser(BusinessRuleTaskParser):
    def create_task(self):
        engine = self.process_parser.parser.get_engine(self.get_decision_ref(self.node), self.node)
        return self.spec_class(self.spec, self.bpmn_id, dmnEngine=engine, **self.bpmn_attributes)


class MessageTaskParser(CamundaEventDefinitionParser, SendTaskParser):
    """A bpmn:sendTask or receiveTask with its `messageRef`, read as a Camunda message event (SpiffWorkflow's
    CamundaParser keeps the plain-BPMN one, which matches no Camunda catch event and cannot be stored). A send
    task's payload is its `camunda:expression` (Camunda 7's expression implementation), none without it
    (_prepare_messages)."""

    def create_task(self):
        return SendTaskParser.create_task(self)


class SubProcessParser(CamundaMultiInstance, SubWorkflowParser):
    """An embedded sub-process, or (triggeredByEvent) an event sub-process: the limits' watchers."""

    def create_task(self):
        spec_class = EventSubProcess if self.node.get("triggeredByEvent") == "true" else self.spec_class
        return spec_class(self.spec, self.bpmn_id, subworkflow_spec=SubprocessParser.get_subprocess_spec(self),
                          **self.bpmn_attributes)


class StartEventParser(CamundaStartEventParser):
    def create_task(self):
        spec = super().create_task()
        # (a compensation event sub-process runs when the throw event asks, nothing to interrupt: compensation.py)
        spec.interrupting = self.node.get("isInterrupting") != "false" and not is_compensation_event_sub_process(
            self.node.getparent())
        return spec


class EngineParser(CamundaParser):
    PROCESS_PARSER_CLASS = CompensationProcessParser
    OVERRIDE_PARSER_CLASSES = {**CamundaParser.OVERRIDE_PARSER_CLASSES,
                               full_tag("serviceTask"): (HandlerServiceTaskParser, HandlerServiceTask),
                               full_tag("businessRuleTask"): (DecisionTaskParser, DecisionTask),
                               full_tag("scriptTask"): (ScriptTaskParser, ErrorScriptTask),
                               full_tag("task"): (CamundaTaskParser, PassThroughTask),
                               full_tag("manualTask"): (CamundaTaskParser, OfflineTask),
                               full_tag("sendTask"): (MessageTaskParser, SendTask),
                               full_tag("receiveTask"): (MessageTaskParser, ReceiveTask),
                               full_tag("startEvent"): (StartEventParser, TimerStartEvent),
                               full_tag("endEvent"): (CompensationEndEventParser, CamundaParser.OVERRIDE_PARSER_CLASSES[
                                   full_tag("endEvent")][1]),
                               full_tag("intermediateThrowEvent"): (
                                   IntermediateThrowEventParser,
                                   CamundaParser.OVERRIDE_PARSER_CLASSES[full_tag("intermediateThrowEvent")][1]),
                               full_tag("userTask"): (MultiInstanceUserTaskParser, CamundaParser.OVERRIDE_PARSER_CLASSES[
                                   full_tag("userTask")][1]),
                               full_tag("subProcess"): (SubProcessParser, CamundaParser.OVERRIDE_PARSER_CLASSES[
                                   full_tag("subProcess")][1])}

    def create_parser(self, node, filename=None, lane=None):
        """A sub-process's parser, once per element: a compensation event sub-process is parsed in its own
        sub-process and beside the path of each scope around it (compensation.py)."""
        known = self.process_parsers.get(node.get("id"))
        if known is None or known.node is not node:
            super().create_parser(node, filename, lane)


@dataclass(frozen=True)
class TaskDefinition:
    """A user task as clerks see it: who does it, in which stage, with which form."""

    spec_id: str
    name: str
    role: str
    stage: str
    form: Form
    outcomes: dict[str, DecisionOutcome] = field(default_factory=dict)  # decision value -> where it leads
    assignment: AssignmentRules = field(default_factory=AssignmentRules)  # camunda:assignee, priority, dueDate …
    # A name or documentation with JUEL in it (审核${applicant.name}的申请), as the sandbox's Python giving the text:
    # the name is rendered when the task opens (inbox, history), the documentation on the task page.
    name_expression: str | None = None
    documentation: str = ""
    documentation_expression: str | None = None
    # the error boundary events on the task, each (errorCode, what it is called); code "" catches any error: what a
    # clerk may report as a business error (报告业务错误) and the path the case then takes
    caught_errors: tuple[tuple[str, str], ...] = ()
    # the escalation boundary events on the task, alike: what a clerk may escalate (上报) and where it leads
    caught_escalations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ProcessDefinition:
    key: str
    name: str
    file_name: str  # the file of its deployment that holds it
    spec: object
    subprocess_specs: dict
    start_form: Form
    user_tasks: dict[str, TaskDefinition]
    properties: dict[str, dict[str, str]]  # element id -> its Camunda properties (stage, kind, level …)
    checksum: str  # of the BPMN file and the DMN files of its decisions
    decisions: dict[str, Decision] = field(default_factory=dict)  # decision id -> the DMN file it references
    called_files: dict[str, str] = field(default_factory=dict)  # other BPMN files of its deployment it calls
    correlations: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)  # message -> properties
    initiator: str | None = None  # the start event's camunda:initiator: the variable naming who opened the case
    # The event sub-processes (a limit's timer, once per case; a designer's message or timer) and their start
    # events: they wait beside the case's path, and a case whose path has ended does not wait for them.
    limit_watchers: frozenset[str] = frozenset()

    @cached_property
    def stages(self) -> dict[str, str]:
        """Element id -> stage, for every element that names its stage."""
        return {element: props["stage"] for element, props in self.properties.items() if props.get("stage")}

    @cached_property
    def form_fields(self) -> frozenset[str]:
        """Every form field of the process, its start event's and each user task's."""
        return frozenset(f.id for form in (self.start_form, *(task.form for task in self.user_tasks.values()))
                         for f in form.fields)

    @cached_property
    def start_messages(self) -> frozenset[str]:
        """The messages that start the process (a partner's side: 转移接续's 转出地 starts on 联系函)."""
        return frozenset(spec.event_definition.name for spec in self.spec.start.outputs
                         if isinstance(getattr(spec, "event_definition", None), MessageEventDefinition))

    @property
    def starts_only_by_message(self) -> bool:
        """Every start event waits for a message: a case of it is opened by its message, not at the window."""
        return bool(self.start_messages) and all(
            isinstance(getattr(spec, "event_definition", None), MessageEventDefinition)
            for spec in self.spec.start.outputs)

    @cached_property
    def has_external_tasks(self) -> bool:
        """Whether any service task of the process waits for an external worker (else a command skips them)."""
        return any(isinstance(task, HandlerServiceTask) and task.external
                   for spec in (self.spec, *self.subprocess_specs.values()) for task in spec.task_specs.values())

    @cached_property
    def escalation_ends(self) -> frozenset[str]:
        """End events of escalation branches: reaching one is not the case's result."""
        return frozenset(element for element, props in self.properties.items() if props.get("kind") == "escalation")


def parse_process(bpmn: bytes, file_name: str = "process.bpmn",
                  decisions: Mapping[str, Decision] | None = None, process_key: str | None = None,
                  called_files: Mapping[str, bytes] | None = None) -> ProcessDefinition:
    """Parse and validate one BPMN file (with the other files of its deployment its call activities reach) and the
    decision tables (id -> DMN file read by dmn_parsing) its business-rule tasks may reference; raise
    InvalidProcess naming the file and the element at fault. `process_key`: which executable process of the file
    (a collaboration has several); without it the file must hold exactly one."""
    definitions = parse_deployment({file_name: bpmn, **(called_files or {})}, decisions, main_files={file_name})
    if process_key is not None:
        found = [definition for definition in definitions if definition.key == process_key]
        if not found:
            raise InvalidProcess(f"文件中没有可执行的流程 {process_key}", None, file_name)
        return found[0]
    if len(definitions) != 1:
        raise InvalidProcess(f"文件须恰好包含一个可执行的主流程（isExecutable=\"true\"），现有 {len(definitions)} 个",
                             None, file_name)
    return definitions[0]


def parse_deployment(files: Mapping[str, bytes], decisions: Mapping[str, Decision] | None = None,
                     main_files: set[str] | None = None) -> list[ProcessDefinition]:
    """Parse a deployment: several BPMN files together, whose call activities may call a process of another file.
    Each executable process that no call activity calls (each executable pool of a collaboration) becomes a
    process of its own; a called process travels with its callers. `main_files`: only the processes of these
    files are wanted (a stored version re-read with the files it calls)."""
    documents = {name: _read_document(bpmn, name) for name, bpmn in files.items()}
    called = {c.get("calledElement") for document in documents.values()
              for c in document.iterfind(".//bpmn:callActivity", NS)}
    for name, document in documents.items():
        _check_document(document, name, called)
    mains = _main_processes(documents, called, main_files or set(documents))
    tables = {ref: table for name, document in documents.items()
              for ref, table in _referenced_decisions(document, decisions or {}, name).items()}
    parser = EngineParser(validator=schema_validator())
    current = None
    try:
        for table in tables.values():
            current = table.file_name
            parser.add_dmn_str(table.engine_xml.encode("utf-8"), filename=table.file_name)
        for name, document in documents.items():
            current = name
            parser.add_bpmn_xml(document, filename=name)
        return [_definition(parser, documents, files, tables, process_id, name) for process_id, name in mains]
    except ValidationException as error:
        raise InvalidProcess(str(error).split("\n")[0], error.id or None, error.file_name or current) from None
    except SpiffWorkflowException as error:
        raise InvalidProcess(str(error), None, current) from None


def _check_document(document, file_name: str, called: set) -> None:
    _check_reserved_ids(document, file_name)
    check_supported_elements(document, file_name, called)
    _check_service_tasks(document, file_name)
    _translate_juel(document, file_name)
    _check_expressions(document, file_name)


def _main_processes(documents: dict, called: set, main_files: set[str]) -> list[tuple[str, str]]:
    """(process id, file name) of each executable process that no call activity calls; a process id used twice
    in a deployment is refused (a call would be ambiguous)."""
    seen: dict[str, str] = {}
    mains = []
    for name, document in documents.items():
        for process in document.findall("bpmn:process", NS):
            process_id = process.get("id")
            if process_id in seen:
                raise InvalidProcess(f"流程 id“{process_id}”在 {seen[process_id]} 和 {name} 中重复", process_id, name)
            seen[process_id] = name
            if process.get("isExecutable") == "true" and process_id not in called and name in main_files:
                mains.append((process_id, name))
    missing = sorted(ref for ref in called if ref and ref not in seen)
    if missing:
        caller = next(c for document in documents.values() for c in document.iterfind(".//bpmn:callActivity", NS)
                      if c.get("calledElement") == missing[0])
        raise InvalidProcess(f"调用活动所调用的流程“{missing[0]}”不在本次部署的文件中：请一并部署定义它的 BPMN 文件",
                             caller.get("id"), _file_of(documents, caller))
    if not mains:
        raise InvalidProcess("文件须恰好包含一个可执行的主流程（isExecutable=\"true\"），现有 0 个", None,
                             next(iter(sorted(main_files)), None))
    return mains


def _file_of(documents: dict, element) -> str | None:
    root = element.getroottree().getroot()
    return next((name for name, document in documents.items() if document is root), None)


def _definition(parser, documents: dict, files: Mapping[str, bytes], tables: dict[str, Decision],
                process_id: str, file_name: str) -> ProcessDefinition:
    """One process of a deployment, with the processes it calls (and the files they come from)."""
    spec = parser.get_spec(process_id)
    subprocess_specs = parser.get_subprocess_specs(process_id)
    _prepare_messages([spec, *subprocess_specs.values()])
    processes = {process.get("id"): (name, process) for name, document in documents.items()
                 for process in document.findall("bpmn:process", NS)}
    used = [processes[key] for key in (process_id, *subprocess_specs) if key in processes]
    called_files = {name: files[name].decode("utf-8") for name, _ in used if name != file_name}
    own_tables = {ref: table for ref, table in tables.items()
                  if ref in {r for name in {file_name, *called_files} for r in _decision_refs(documents[name])}}
    process = processes[process_id][1]
    properties: dict[str, dict[str, str]] = {}
    for _, element in used:
        properties.update(_properties(element))
    return ProcessDefinition(
        key=process_id,
        name=process.get("name") or process_id,
        file_name=file_name,
        spec=spec,
        subprocess_specs=subprocess_specs,
        start_form=_start_form(process, file_name),
        user_tasks={key: task for name in {file_name, *called_files}
                    for key, task in _user_tasks(documents[name], [spec, *subprocess_specs.values()], name).items()},
        properties=properties,
        checksum=_checksum(files[file_name], own_tables, called_files),
        decisions=own_tables,
        called_files=called_files,
        correlations=_correlations([documents[name] for name in {file_name, *called_files}]),
        initiator=_initiator(process, file_name),
        limit_watchers=_event_sub_processes(process),
    )


def _prepare_messages(specs: list) -> None:
    """SpiffWorkflow's Camunda message events would evaluate correlation properties over the {payload,
    result_var} wrapper and fail: messages are routed between cases by the application instead (correlations).
    A message thrown without a `camunda:expression` has no payload (the library would evaluate nothing and fail)."""
    for spec in specs:
        for task_spec in spec.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            for event in getattr(definition, "event_definitions", [definition]):
                if isinstance(event, MessageEventDefinition):
                    event.correlation_properties = []
                    if hasattr(event, "expression") and not event.expression:
                        event.expression = "None"
        spec.correlation_keys = {}


def _correlations(documents: list) -> dict[str, tuple[tuple[str, str], ...]]:
    """message name -> (correlation property id, retrieval expression) of each property the message carries: a
    message is routed to the waiting case whose data gives every property the value the payload gives."""
    found: dict[str, list[tuple[str, str]]] = {}
    for document in documents:
        names = {m.get("id"): m.get("name") or m.get("id") for m in document.iterfind(".//bpmn:message", NS)}
        for prop in document.iterfind(".//bpmn:correlationProperty", NS):
            for retrieval in prop.iterfind("bpmn:correlationPropertyRetrievalExpression", NS):
                expression = "".join(retrieval.itertext()).strip()
                name = names.get(retrieval.get("messageRef"))
                if name and expression:
                    found.setdefault(name, []).append((prop.get("id"), expression))
    return {name: tuple(props) for name, props in found.items()}


def referenced_decisions(bpmn: bytes) -> list[str]:
    """The ids of the decision tables a BPMN file's business-rule tasks reference ([] if it is no XML: parsing
    it says why)."""
    try:
        return [ref for ref in _decision_refs(read_xml(bpmn)) if ref]
    except etree.XMLSyntaxError:
        return []


def _decision_refs(document) -> dict[str, str]:
    """decision id -> the id of the first business-rule task that references it."""
    refs: dict[str, str] = {}
    for task in document.iterfind(".//bpmn:businessRuleTask", NS):
        refs.setdefault(task.get(f"{{{CAMUNDA_MODEL_NS}}}decisionRef") or "", task.get("id"))
    return refs


def _referenced_decisions(document, available: Mapping[str, Decision], file_name: str) -> dict[str, Decision]:
    tables = {}
    for ref, task_id in _decision_refs(document).items():
        if not ref:
            raise InvalidProcess("业务规则任务须用 camunda:decisionRef 指定决策表", task_id, file_name)
        if ref not in available:
            raise InvalidProcess(f"业务规则任务引用的决策表“{ref}”不存在：请随流程一并提供该 DMN 文件", task_id,
                                 file_name)
        tables[ref] = available[ref]
    return tables


def _checksum(bpmn: bytes, tables: dict[str, Decision], called_files: Mapping[str, str] | None = None) -> str:
    """Of the diagram alone when it uses no decision table nor other file (as before deployments of several files
    existed), else of it, its tables and the files of the processes it calls."""
    digest = hashlib.sha256(bpmn)
    for ref in sorted(tables):
        digest.update(b"\0" + tables[ref].xml.encode("utf-8"))
    for name in sorted(called_files or {}):
        digest.update(b"\1" + name.encode("utf-8") + b"\0" + called_files[name].encode("utf-8"))
    return digest.hexdigest()


def _read_document(bpmn: bytes, file_name: str):
    try:
        bpmn.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidProcess(f"BPMN 文件须为 UTF-8 编码（第 {error.start} 字节起不是 UTF-8）", None, file_name) from None
    try:
        return read_xml(bpmn)
    except etree.XMLSyntaxError as error:
        raise InvalidProcess(f"不是合法的 XML：{error.msg}（第 {error.lineno} 行）", None, file_name) from None


def _check_reserved_ids(document, file_name: str) -> None:
    for element in document.iter():
        if element.get("id") in RESERVED_IDS:
            raise InvalidProcess("元素 id 不能是 Start 或 End（与引擎内部名称冲突），请改名", element.get("id"),
                                 file_name)


# Where a text is an expression the engine evaluates: conditions, timers, a multi-instance task's cardinality and
# completion condition; and attributes: a message's payload, a multi-instance task's collection.
_EXPRESSION_TEXTS = (".//bpmn:conditionExpression", ".//bpmn:timeDuration", ".//bpmn:timeDate", ".//bpmn:timeCycle",
                     ".//bpmn:loopCardinality", ".//bpmn:completionCondition")
_PAYLOAD = f"{{{CAMUNDA_MODEL_NS}}}expression"
_EXPRESSION_ATTRIBUTES = ((".//bpmn:messageEventDefinition", _PAYLOAD),
                          (".//bpmn:multiInstanceLoopCharacteristics", f"{{{CAMUNDA_MODEL_NS}}}collection"))


def _translate_juel(document, file_name: str) -> None:
    """Replace, in the document SpiffWorkflow is given, every JUEL expression by its Python (the stored file keeps
    what the designer wrote); an expression outside the subset is refused naming its element."""
    for path in _EXPRESSION_TEXTS:
        for node in document.iterfind(path, NS):
            node.text = _python(node, node.text or "", file_name)
    for path, attribute in _EXPRESSION_ATTRIBUTES:
        for node in document.iterfind(path, NS):
            if node.get(attribute):
                node.set(attribute, _python(node, node.get(attribute), file_name))


def _python(node, text: str, file_name: str) -> str:
    try:
        return python_or_juel(text)
    except JuelError as error:
        owner = _owner(node)
        raise InvalidProcess(f"{named(owner)}：{error}", owner.get("id"), file_name) from None


def _owner(node):
    """The element an expression belongs to: its flow, its event, its task."""
    owner = (node if node.get("id") and (node.tag.endswith("Event") or node.tag == f"{{{BPMN_NS}}}sendTask")
             else node.getparent())
    while owner.getparent() is not None and owner.get("id") is None:
        owner = owner.getparent()
    return owner


def _owner_id(node) -> str | None:
    return _owner(node).get("id")


TOPIC = re.compile(r"[A-Za-z0-9_.:\-]{1,100}")  # what a worker can subscribe to: no spaces, no expressions


def _check_service_tasks(document, file_name: str) -> None:
    """Every service task names its topic: a registered handler, or an external worker's topic (a plain name);
    an external task's camunda:taskPriority is a whole number (expressions are not evaluated)."""
    for task in document.iterfind(".//bpmn:serviceTask", NS):
        topic = task.get(f"{{{CAMUNDA_MODEL_NS}}}topic")
        if not topic:
            raise InvalidProcess("服务任务须用 camunda:type=\"external\" 和 camunda:topic 指定处理程序或外部任务主题",
                                 task.get("id"), file_name)
        if topic not in HANDLERS and not TOPIC.fullmatch(topic):
            raise InvalidProcess(f"外部任务主题“{topic}”无效：只能由字母、数字和 _ . : - 组成，最长 100 个字符",
                                 task.get("id"), file_name)
        priority = task.get(f"{{{CAMUNDA_MODEL_NS}}}taskPriority")
        if priority is not None and not re.fullmatch(r"-?\d{1,9}", priority):
            raise InvalidProcess(f"camunda:taskPriority“{priority}”应为整数", task.get("id"), file_name)


def _check_expressions(document, file_name: str) -> None:
    checks = [(".//bpmn:conditionExpression", check_expression), (".//bpmn:loopCardinality", check_expression),
              (".//bpmn:completionCondition", check_expression),
              (".//bpmn:timeDuration", functools.partial(check_timer_expression, "duration")),
              (".//bpmn:timeDate", functools.partial(check_timer_expression, "date")),
              (".//bpmn:timeCycle", functools.partial(check_timer_expression, "cycle")),
              (".//bpmn:script", check_script)]
    sources = [(node, (node.text or "").strip(), check) for path, check in checks
               for node in document.iterfind(path, NS)]
    # A message's payload is an expression too (camunda:expression on its event or send task), evaluated when the
    # message is thrown, as is a multi-instance task's collection when it starts, and each correlation property's
    # retrieval expression, read when a message arrives.
    sources += [(node, node.get(attribute), check_expression)
                for path, attribute in (*_EXPRESSION_ATTRIBUTES, (".//bpmn:sendTask", _PAYLOAD))
                for node in document.iterfind(path, NS) if node.get(attribute)]
    sources += [(node, "".join(node.itertext()).strip(), check_expression)
                for node in document.iterfind(".//bpmn:correlationPropertyRetrievalExpression", NS)]
    for node, source, check in sources:
        try:
            check(source)
        except ScriptError as error:
            hint = "（条件、定时器为 Python 表达式，或整体写成 JUEL：${…}）" if (
                isinstance(error, ScriptSyntaxError) and check is not check_script) else ""
            raise InvalidProcess(f"{error}{hint}", _owner_id(node), file_name) from None


def _initiator(process, file_name: str) -> str | None:
    """The variable the start event's camunda:initiator names (Camunda sets it to the user who started the case)."""
    start = process.find("bpmn:startEvent", NS)
    name = (start.get(f"{{{CAMUNDA_MODEL_NS}}}initiator") or "").strip() if start is not None else ""
    if name and (not name.isidentifier() or name.startswith("_") or keyword.iskeyword(name)):
        raise InvalidProcess(f"camunda:initiator 应为变量名（不以下划线开头），而不是“{name}”", start.get("id"),
                             file_name)
    return name or None


def _start_form(process, file_name: str) -> Form:
    start = process.find("bpmn:startEvent", NS)
    return _read_form(start, file_name) if start is not None else Form()


def _event_sub_processes(process) -> frozenset[str]:
    """The ids of the event sub-processes (SpiffWorkflow's Camunda parser runs them as embedded sub-processes
    started beside the path) and of their start events."""
    found = set()
    for sub_process in process.iterfind(".//bpmn:subProcess[@triggeredByEvent='true']", NS):
        found.add(sub_process.get("id"))
        found.update(start.get("id") for start in sub_process.iterfind("bpmn:startEvent", NS))
    return frozenset(found)


def _properties(process) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for element in process.iter():
        for prop in element.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", NS):
            if element.get("id") and prop.get("name"):
                found.setdefault(element.get("id"), {})[prop.get("name")] = prop.get("value") or ""
    return found


def _user_tasks(document, specs: list, file_name: str) -> dict[str, TaskDefinition]:
    """Every user task the case may reach: the main process's and those of the processes it calls."""
    tasks = {}
    graph = _FlowGraph(document)
    for node in document.iterfind(".//bpmn:userTask", NS):
        task_spec = next((spec.task_specs[node.get("id")] for spec in specs if node.get("id") in spec.task_specs),
                         None)
        if task_spec is None:  # a process of the file that the main one never calls
            continue
        assignment = read_rules(node, file_name)
        role = role_for_lane(task_spec.lane) or task_role(assignment.static_groups) or ANY_TASK_ROLE
        # a name that is a template (审核${applicant.name}的申请) names no stage: its literal words do
        stage = ((task_spec.extensions or {}).get("stage")
                 or re.sub(r"[$#]\{[^}]*\}", "", task_spec.bpmn_name or "").strip() or node.get("id"))
        form = _read_form(node, file_name)
        documentation = (node.findtext("bpmn:documentation", default="", namespaces=NS) or "").strip()
        tasks[node.get("id")] = TaskDefinition(node.get("id"), task_spec.bpmn_name or node.get("id"), role,
                                               stage, form, graph.outcomes(node.get("id"), form.decisions),
                                               assignment, _text_template(node, "名称", node.get("name"), file_name),
                                               documentation,
                                               _text_template(node, "说明（documentation）", documentation, file_name),
                                               caught_errors=_caught(document, node.get("id"), "error"),
                                               caught_escalations=_caught(document, node.get("id"), "escalation"))
        if instances := instances_spec_name(task_spec):  # a multi-instance task: each instance is the user task
            tasks[instances] = tasks[node.get("id")]
    return tasks


def _caught(document, task_id: str, kind: str) -> tuple[tuple[str, str], ...]:
    """(code, name) of each error (`kind` "error") or escalation ("escalation") boundary event attached to the
    task; ("", its name) for one catching any."""
    caught = []
    for boundary in document.iterfind(f".//bpmn:boundaryEvent[@attachedToRef='{task_id}']", NS):
        definition = boundary.find(f"bpmn:{kind}EventDefinition", NS)
        if definition is None:
            continue
        ref = definition.get(f"{kind}Ref")
        thrown = document.find(f".//bpmn:{kind}[@id='{ref}']", NS) if ref else None
        code = (thrown.get(f"{kind}Code") or "") if thrown is not None else ""
        name = (thrown.get("name") if thrown is not None else None) or boundary.get("name") or code
        caught.append((code, name or ("任意业务错误" if kind == "error" else "任意升级")))
    return tuple(caught)


_DECISION_TEST = re.compile(r"""^\s*decision\s*==\s*(?:"([^"]*)"|'([^']*)')\s*$""")


class _FlowGraph:
    """The sequence flows of a file, to read where each decision of a user task leads: the exclusive gateway
    after the task sends each value down the flow whose condition is `decision == "value"` (or its default flow);
    that path is followed through automatic steps with a single way on, to the first end event or user task."""

    def __init__(self, document):
        self.nodes = {node.get("id"): node for node in document.iter() if node.get("id")}
        self.outgoing: dict[str, list] = {}
        for flow in document.iterfind(".//bpmn:sequenceFlow", NS):
            self.outgoing.setdefault(flow.get("sourceRef"), []).append(flow)

    def outcomes(self, task_id: str, decisions) -> dict[str, DecisionOutcome]:
        flows = self.outgoing.get(task_id, [])
        gateway = self.nodes.get(flows[0].get("targetRef")) if len(flows) == 1 else None
        if gateway is None or etree.QName(gateway).localname != "exclusiveGateway":
            return {}
        by_value, default = {}, None
        for flow in self.outgoing.get(gateway.get("id"), []):
            match = _DECISION_TEST.match(flow.findtext("bpmn:conditionExpression", default="", namespaces=NS))
            if match:
                by_value[match.group(1) if match.group(1) is not None else match.group(2)] = flow
            elif flow.get("id") == gateway.get("default"):
                default = flow
        chosen = {value: by_value.get(value, default) for value, _ in decisions}
        return {value: self._lead(task_id, flow.get("targetRef")) for value, flow in chosen.items()
                if flow is not None}

    def _lead(self, task_id: str, target: str) -> DecisionOutcome:
        seen = set()
        while target not in seen and target in self.nodes:
            seen.add(target)
            node = self.nodes[target]
            kind = etree.QName(node).localname
            if kind == "endEvent":
                return DecisionOutcome(END, node.get("name") or target)
            if kind == "userTask":
                back = self._reaches(target, task_id)
                return DecisionOutcome(RETURN, node.get("name") or target) if back else DecisionOutcome(ONWARD)
            onward = self.outgoing.get(target, [])
            if len(onward) != 1:
                break
            target = onward[0].get("targetRef")
        return DecisionOutcome(ONWARD)

    def _reaches(self, start: str, goal: str) -> bool:
        """Whether `goal` follows `start` on some path: a decision leading to such a task sends the case back."""
        todo, seen = [start], set()
        while todo:
            current = todo.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                todo.extend(flow.get("targetRef") for flow in self.outgoing.get(current, []))
        return False


CONSTRAINTS = ("required", "readonly", "min", "max", "minlength", "maxlength", "pattern")


def _read_form(node, file_name: str) -> Form:
    fields = []
    for xml_field in node.iterfind("bpmn:extensionElements/camunda:formData/camunda:formField", NS):
        field_type = xml_field.get("type") or "string"
        if field_type not in FIELD_TYPES:
            raise _field_refused(xml_field, node, file_name, f"的类型 {field_type} 不受支持，可用：{', '.join(FIELD_TYPES)}")
        options = tuple((value.get("id"), value.get("name") or value.get("id"))
                        for value in xml_field.iterfind("camunda:value", NS))
        constraints = _constraints(xml_field, node, file_name)
        fields.append(FormField(xml_field.get("id"), xml_field.get("label") or xml_field.get("id"), field_type,
                                _flag(constraints, "required"), options, xml_field.get("defaultValue"),
                                _pattern(constraints.get("pattern"), xml_field, node, file_name),
                                _bound(constraints, "min", xml_field, node, file_name),
                                _bound(constraints, "max", xml_field, node, file_name),
                                _length(constraints, "minlength", xml_field, node, file_name),
                                _length(constraints, "maxlength", xml_field, node, file_name),
                                _flag(constraints, "readonly"), _default_expression(xml_field, node, file_name)))
    return Form(tuple(fields))


def _text_template(node, what: str, text: str | None, file_name: str) -> str | None:
    """A user task's name or documentation with JUEL in it, as the Python giving its text; refused at deploy,
    naming the task, when the sandbox would not run it."""
    try:
        return case_expressions.compiled(text, as_text=True)
    except (JuelError, ScriptError) as error:
        raise InvalidProcess(f"{named(node)}的{what}：{error}", node.get("id"), file_name) from None


def _default_expression(xml_field, node, file_name: str) -> str | None:
    """A `defaultValue` in JUEL, translated and checked now: one the sandbox would refuse is refused at deploy."""
    try:
        return case_expressions.compiled(xml_field.get("defaultValue"))
    except (JuelError, ScriptError) as error:
        raise _field_refused(xml_field, node, file_name, f"的默认值 defaultValue：{error}") from None


def _constraints(xml_field, node, file_name: str) -> dict[str, str]:
    """A field's `camunda:validation` constraints by name; one we do not enforce (a custom `validator`) is
    refused, since a form the server does not check as drawn would let through what the designer meant to stop."""
    constraints = {}
    for constraint in xml_field.iterfind("camunda:validation/camunda:constraint", NS):
        name = constraint.get("name")
        if name not in CONSTRAINTS:
            raise _field_refused(xml_field, node, file_name, f"的校验规则 {name} 不受支持，可用：{', '.join(CONSTRAINTS)}")
        constraints[name] = constraint.get("config", "true")
    return constraints


def _flag(constraints: dict, name: str) -> bool:
    return name in constraints and constraints[name] != "false"


def _bound(constraints: dict, name: str, xml_field, node, file_name: str) -> Decimal | None:
    """An amount field's `min` or `max` constraint: a decimal number (min 0 lets the amount be zero); a whole
    number field's: an integer."""
    if name not in constraints:
        return None
    field_type = xml_field.get("type")
    if field_type not in ("decimal", "long"):
        raise _field_refused(xml_field, node, file_name, f"的 {name} 只适用于 long 或 decimal 类型")
    config = constraints[name].strip()
    bound = amount_of(config) if field_type == "decimal" else (
        Decimal(config) if re.fullmatch(r"-?\d{1,18}", config) else None)
    if bound is None:
        what = "不带符号、最多两位小数的金额" if field_type == "decimal" else "整数"
        raise _field_refused(xml_field, node, file_name, f"的 {name} 应为{what}")
    return bound


def _length(constraints: dict, name: str, xml_field, node, file_name: str) -> int | None:
    """A text field's `minlength` or `maxlength`: a whole number of characters, up to what a text may hold."""
    if name not in constraints:
        return None
    config = constraints[name].strip()
    if (xml_field.get("type") or "string") != "string" or not config.isdigit() or int(config) > TEXT_LENGTH:
        raise _field_refused(xml_field, node, file_name,
                             f"的 {name} 应为 0–{TEXT_LENGTH} 的整数，且只适用于 string 类型")
    return int(config)


def _pattern(pattern: str | None, xml_field, node, file_name: str) -> str | None:
    """A text field's `pattern` constraint: a regular expression its whole value must match."""
    if pattern is None:
        return None
    try:
        re.compile(pattern)
    except re.error as error:
        raise _field_refused(xml_field, node, file_name, f"的 pattern 不是合法的正则表达式：{error}") from None
    return pattern


def _field_refused(xml_field, node, file_name: str, problem: str) -> InvalidProcess:
    """A form field that cannot be enforced as drawn, named with its task: “受理”（Task_accept）的表单字段 x …"""
    return InvalidProcess(f"{named(node)}的表单字段 {xml_field.get('id')} {problem}", node.get("id"), file_name)
