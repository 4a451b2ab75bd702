"""Draft a BPMN 2.0 diagram for each catalog item (the `workflows draft-bpmn` command).

The drafts follow docs/bpmn-conventions.md: one executable process per file inside a collaboration with one
participant, lanes named after roles, stages as Camunda properties, decision forms with gateways, external service
tasks for the handlers, and full diagram interchange. Designers then edit the files in bpmn-js.

Three small tables drive everything: FORMS (the application data of the start event), SHAPES (the main path of
each process shape, as steps) and PROFILES (which shape, parameter and form each item uses). One layout routine
turns the steps into XML: the main path runs left to right, one node per column, each node centred in its lane's
main row (service tasks and message events take the lane of the node before them); the alternative end event of a
gateway sits right of it and lower, in the same lane.

Time limits (docs/bpmn-conventions.md, "Time limits and escalation"): once per case, not on every task. Each timer
of CASE_TIMERS, and one per stage limit the process's steps name (Step.limits), starts a non-interrupting timer
event sub-process at the process level, drawn in a row along the bottom of the 科室负责人 lane (always the last
lane): its timer start event waits for the limit's moment (FAR_FUTURE until the limit runs), its `escalate` service
task raises the card, and its escalation end event closes it. The 承诺时限超期 one asks whether its red card is a
new one (the handler says escalation_raised): a repeat ends at 已督办过, a new one goes on to the diagram's one 督办
task. The clerks' tasks carry no timers: the main path stays readable.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import yaml
from lxml import etree

from workflows.domain.roles import ROLE_NAMES, TASK_ROLES

NSMAP = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
ESCALATION_LANE = "supervisor"  # 科室负责人: works the 督办 tasks; always the last lane, escalations run down into it
# acceptor, reviewer, finance, hospital, supervisor
LANE_ORDER = tuple(code for code in ROLE_NAMES if code in TASK_ROLES and code != ESCALATION_LANE) + (ESCALATION_LANE,)

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
# The description of a process

@dataclass(frozen=True)
class Field:
    """A camunda:formField."""
    id: str
    type: str
    label: str
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()  # (value, Chinese name) of an enum
    pattern: str | None = None  # text fields: a regular expression the whole value must match
    minimum: str | None = None  # amounts: the least value (Camunda constraint min); none: more than zero


@dataclass(frozen=True)
class Check:
    """The question a gateway asks of an automatic step's answer: a failed check leaves the main path for an end
    event (the 禁办情形 table's rule, the 身份及参保核验 of the handlers' facts)."""
    question: str    # the gateway's name
    passed: str      # its default flow's name: on along the main path
    failed: str      # the name of the conditional flow off it
    condition: str   # that flow's condition, over the case data
    value: str       # id suffix of the end event it leads to


@dataclass(frozen=True)
class Step:
    """One node of the main path: a user task, a service task or an intermediate message event; or the 容缺受理
    question (kind "waive": its gateway and the wait for the waived materials, see WAIVER); or a business-rule task
    (kind "rule": the 禁办情形 check, see PROHIBITIONS). A step with a `check` is followed by its gateway."""
    kind: str            # "user" | "service" | "throw" | "catch" | "waive" | "rule"
    id: str
    name: str
    stage: str
    lane: str | None = None                      # role code; None: the lane of the node before it
    topic: str | None = None                     # service tasks: the handler
    properties: tuple[tuple[str, str], ...] = ()  # handler parameters besides the stage
    decisions: tuple[tuple[str, str], ...] = ()   # user tasks: the main-path value first, then the alternative
    fail_end: str | None = None                  # name of the end event the alternative leads to
    fields: tuple[Field, ...] = ()               # user tasks: form fields besides decision and opinion
    message: str | None = None                   # message events: the message name
    limits: tuple[str, ...] = ()                 # user tasks: stage limits (catalog stage_limits) watched on it
    opinion: Field = Field("opinion", "string", "办理意见")  # user tasks: the free-text field after the decision
    decision_ref: str | None = None              # rule tasks: the decision table (DMN) they apply
    check: Check | None = None                   # rule and service tasks: the gateway after them

    @property
    def alternative(self) -> tuple[str, str, str] | None:
        """The way off the main path at the gateway after this step: (value, flow name, condition); the last
        decision of a user task (受理's 容缺受理 stays on the main path up to the 是否容缺受理 question), or a
        failed check of an automatic step."""
        if self.check:
            return self.check.value, self.check.failed, self.check.condition
        if len(self.decisions) < 2:
            return None
        value, label = self.decisions[-1]
        return value, label, f'decision == "{value}"'

    @property
    def main_label(self) -> str:
        """The name of the gateway's default flow: the decisions that stay on the main path."""
        if self.check:
            return self.check.passed
        return "、".join(label for _, label in self.decisions[:-1])

    @property
    def gateway_name(self) -> str:
        return self.check.question if self.check else f"{self.name}结果"


@dataclass(frozen=True)
class ProcessDraftSpec:
    process_id: str
    name: str
    steps: tuple[Step, ...]
    start_fields: tuple[Field, ...] = ()
    start_message: str | None = None   # a message start event (partner processes) instead of 申请
    start_name: str = "申请"
    participant: str = "医保经办机构"


# ----------------------------------------------------------------------------------------------------------
# Building blocks

DECISIONS = {
    "accept": (("accept", "受理"), ("refuse", "不予受理")),
    "approve": (("approve", "审核通过"), ("reject", "审核不通过")),
    "pass": (("pass", "验收合格"), ("fail", "验收不合格")),
    "sign": (("sign", "签订协议"), ("decline", "不予签订")),
    "pay": (("pay", "确认拨付"),),
    "confirm": (("accept", "确认接续"),),
    "supervise": (("done", "已督办"),),
}
FAIL_ENDS = {"refuse": "不予受理", "reject": "审核不通过", "fail": "验收不通过", "decline": "协议未签订"}
TOPIC_NAMES = {
    "identity_check": "核验身份", "insured_check": "核查参保状态", "arrears_check": "核查欠费", "insurance_query": "查询参保信息",
    "registration": "登记", "filing": "办理备案", "reimbursement_calc": "核算待遇", "payment": "支付",
    "certificate": "出具文书", "fund_transfer": "划转资金", "network_open": "开通医保服务网络",
    "notify_applicant": "告知申请人",
}
# Messages between two agencies' cases: name -> (id, payload expression of the throw, variable it lands in).
# SpiffWorkflow's Camunda parser evaluates camunda:expression when throwing (no expression: the throw fails) and
# stores the payload under the throw's camunda:resultVariable in the catching case.
MESSAGES = {
    "联系函": ("Message_contact_letter",
            '{"certificate_no": certificate_no, "from_region": from_region, "from_agency": from_agency}',
            "contact_letter"),
    "信息表": ("Message_info_sheet", '{"certificate_no": contact_letter["certificate_no"]}', "info_sheet"),
    "容缺材料补齐": ("Message_waived_materials", None, "waived_materials"),
}


def decide(key: str, name: str, lane: str, stage: str, outcome: str, fail_end: str | None = None,
           fields: tuple[Field, ...] = ()) -> Step:
    decisions = DECISIONS[outcome]
    if len(decisions) > 1:
        fail_end = fail_end or FAIL_ENDS[decisions[-1][0]]
    return Step("user", f"Task_{key}", name, stage, lane, decisions=decisions, fail_end=fail_end, fields=fields)


def service(topic: str, stage: str, name: str | None = None, **properties: str) -> Step:
    return Step("service", f"Task_{topic}", name or TOPIC_NAMES[topic], stage, topic=topic,
                properties=tuple(properties.items()))


def registration(operation: str) -> Step:
    return service("registration", "办结", f"办理{operation}", operation=operation)


def certificate(document: str, stage: str = "办结") -> Step:
    return service("certificate", stage, f"出具《{document}》", document=document)


def message_event(kind: str, key: str, name: str, message: str) -> Step:
    return Step(kind, f"Event_{key}", name, message, message=message)


def text(field_id: str, label: str, required: bool = False, type_: str = "string") -> Field:
    return Field(field_id, type_, label, required)


def money(field_id: str, label: str, required: bool = False, minimum: str | None = None) -> Field:
    return Field(field_id, "decimal", label, required, minimum=minimum)


def choice(field_id: str, label: str, options: dict[str, str], required: bool = False) -> Field:
    return Field(field_id, "enum", label, required, tuple(options.items()))


# ----------------------------------------------------------------------------------------------------------
# 容缺受理 (docs/bpmn-conventions.md): an item with materials on some agency's 容缺 list gets a third decision at
# 受理. The question 是否容缺受理 after 受理 then sends a 容缺 case into 容缺补正, an event-based gateway waiting
# for the waived materials (the message 容缺材料补齐: the platform sends it when the clerk marks the last of them
# handed in) or for the 补正期限 (a limit the case clock starts on entering 容缺补正), whichever comes first. With
# the materials the case joins the main path again; when the time is up it ends 补正超时.

WAIVE = ("waive", "容缺受理")
WAIVER_STAGE = "容缺补正"
WAIVER_MESSAGE = "容缺材料补齐"
WAIVER_TIMER = ("补正期限届满", f'deadline("{WAIVER_STAGE}")')
WAIVER_EXPIRED = "补正超时"
WAIVER = Step("waive", "Gateway_waive", "是否容缺受理", "受理", decisions=(("accept", "否"), ("waive", "是")))
WAITING = Step("catch", "Gateway_waiver_wait", WAIVER_STAGE, WAIVER_STAGE)  # stage of the wait and its events
WAIVER_ROWS = 2  # rows of the wait below its lane's main row: the materials, and below them the time limit


# ----------------------------------------------------------------------------------------------------------
# 禁办情形 (docs/bpmn-conventions.md): an item some agency lists 违规禁办 conditions for (catalog `prohibited`) gets a
# decision table, decisions/prohibited_<code>.dmn, applied by a business-rule task 禁办情形核查 after 受理 (before the
# 容缺 question: a prohibited case waits for nothing) and again after 审核. The table has a column for the agency
# (a rule applies where that agency's catalog lists it), the columns its rules read and two outputs: the rule in the
# catalog's words (prohibited_rule; None when none matched) and the list it comes from (prohibited_basis). After the
# task, 是否禁办: a rule matched → end 禁止办理. Handlers whose answers a table reads run just before each check.

PROHIBITED = Check("是否禁办", "否", "是", "prohibited_rule is not None", "hit")
PROHIBITED_END = "禁止办理"
PROHIBITED_CHECK = "禁办情形核查"
PROHIBITED_OUTPUTS = (("prohibited_rule", "禁办情形"), ("prohibited_basis", "依据"))


@dataclass(frozen=True)
class RuleInput:
    """A column of a 禁办情形 table: what it reads of the case, and the handler that answers it (None: the
    application form)."""
    label: str
    expression: str
    type: str = "string"
    handler: str | None = None


AGENCY_INPUT = RuleInput("经办机构", "case_agency()")
RULE_INPUTS = {
    "insured_kind": RuleInput("参保身份", "insured_kind"),
    "household_kind": RuleInput("户籍类别", "household_kind"),
    "residence_permit": RuleInput("持有本地居住证", "has_residence_permit", "boolean"),
    "other_province": RuleInput("省外转入", "from_agency[:2] != case_agency()[:2]", "boolean"),
    "certificate": RuleInput("参保凭证编号", "certificate_no"),
    "from_suspension": RuleInput("转出地参保状态", "from_suspension"),
    "visit_kind": RuleInput("就医类型", "visit_kind"),
    "remote_care": RuleInput("异地就医", "remote_care", "boolean"),
    "remote_filed": RuleInput("已办理异地安置备案", "remote_filed", "boolean"),
    "critical_care": RuleInput("抢救或危重症", "critical_care", "boolean"),
    "insurance_status": RuleInput("参保状态", "insurance_status", handler="arrears_check"),
    "in_arrears": RuleInput("个人医保欠费", "in_arrears", "boolean", "arrears_check"),
    "employer_in_arrears": RuleInput("用人单位医保欠费", "employer_in_arrears", "boolean"),
    "waiting_period": RuleInput("处于待遇封锁期", "in_waiting_period", "boolean"),
    "contribution_months": RuleInput("连续缴费月数", "contribution_months", "number"),
}
NOT = "not ?"  # an unticked checkbox or an empty field counts as 否
INDIVIDUAL = '? in ("self_employed", "flexible")'  # 个体参保人员: who insures themselves, not through an employer
SUSPENDED = '"暂停参保"'  # the national platform's 参保状态 (arrears_check's insurance_status)
# Item code -> 禁办情形 in the catalog's words -> the rows that find it (any one matches): input -> entry. An entry
# is Python: a value the input must equal, or a test on its value `?`.
PROHIBITIONS: dict[str, dict[str, tuple[dict[str, str], ...]]] = {
    "00203601002": {"个体参保人员是外地户口，并且没有抚顺居住证": (
        {"insured_kind": INDIVIDUAL, "household_kind": '"nonlocal"', "residence_permit": NOT},)},
    "00203601003": {"个体参保人员是外地户口，并且没有抚顺居住证": (
        {"household_kind": '"nonlocal"', "residence_permit": NOT},)},
    "002036003001": {"医保欠费": ({"in_arrears": "True"},)},
    "002036003002": {"省外人员办理：无参保凭证": ({"other_province": "True", "certificate": NOT},),
                     "转出地医保未办理暂停": ({"from_suspension": '"active"'},)},
    "002036006001": {"普通门诊未办理异地安置": (
                         {"visit_kind": '"ordinary"', "remote_care": "True", "remote_filed": NOT},),
                     "急诊发生的费用，不是抢救、危重症": ({"visit_kind": '"emergency"', "critical_care": NOT},)},
    "002036006002": {"人员暂停参保": ({"insurance_status": SUSPENDED},),
                     "人员存在待遇封锁期": ({"waiting_period": "True"},)},
    "002036007004": {"医保连续缴费不满十个月": ({"contribution_months": "? is not None and ? < 10"},),
                     "个人或单位医保欠费": ({"in_arrears": "True"}, {"employer_in_arrears": "True"}),
                     "递交完材料后，人员暂停参保（离职）": ({"insurance_status": SUSPENDED},)},
}


def decision_id(item: dict) -> str:
    return f"prohibited_{item['code']}"


def _rows(item: dict) -> list[tuple[str, str, str, dict[str, str]]]:
    """(agency code, basis, 禁办情形, entries) of each rule of the item's table, in the catalogs' order."""
    known = PROHIBITIONS.get(str(item["code"]), {})
    rows = []
    for agency, (basis, conditions) in sorted(item.get("prohibited", {}).items()):
        for condition in conditions:
            if condition not in known:
                raise KeyError(f"{item['code']} {item.get('name')}: no rule for the 禁办情形 “{condition}” of agency "
                               f"{agency}: add it to PROHIBITIONS")
            rows += [(agency, basis, condition, entries) for entries in known[condition]]
    return rows


def _with_rule_checks(steps: tuple[Step, ...], item: dict) -> tuple[Step, ...]:
    """禁办情形核查 after 受理 and after 审核, each with the handlers its table reads run just before it (those handlers
    leave the main path elsewhere: each check asks them afresh)."""
    inputs = [RULE_INPUTS[name] for _, _, _, entries in _rows(item) for name in entries]
    topics = tuple(dict.fromkeys(column.handler for column in inputs if column.handler))
    checked = []
    for step in steps:
        if step.kind == "service" and step.topic in topics:
            continue
        checked.append(step)
        if step.id in (ACCEPT.id, REVIEW.id):
            key = step.id.removeprefix("Task_")
            checked += [replace(service(topic, step.stage), id=f"Task_{topic}_{key}") for topic in topics]
            checked.append(Step("rule", f"Task_prohibited_{key}", PROHIBITED_CHECK, step.stage,
                                fail_end=PROHIBITED_END, decision_ref=decision_id(item), check=PROHIBITED))
    return tuple(checked)


# ----------------------------------------------------------------------------------------------------------
# Time limits and escalation

@dataclass(frozen=True)
class Timer:
    """A limit's timer: the start event of its non-interrupting event sub-process, and the escalation it raises."""
    key: str                # id suffix of its elements
    name: str               # the timer start event
    expression: str         # its bpmn:timeDate: an ISO 8601 date-time, from the functions of the sandbox
    level: str              # escalate handler: yellow | red
    limit: str              # escalate handler: promised | statutory | a stage limit's name
    task_name: str          # the escalate service task
    end: str | None = None  # the sub-process's end event; None: it goes on to 督办

    @property
    def title(self) -> str:
        """The event sub-process's name: the limit's card."""
        return self.name.removesuffix("超期").removesuffix("预警") + ("黄牌" if self.level == "yellow" else "红牌")


# Every process with a clerk's task, left to right along the bottom of the 科室负责人 lane
CASE_TIMERS = (
    Timer("overdue", "承诺时限超期", 'deadline("promised")', "red", "promised", "发出红牌超期"),
    Timer("warning", "承诺时限预警", 'warning_time("promised")', "yellow", "promised", "发出黄牌预警", "预警已发出"),
    Timer("statutory", "法定时限超期", 'deadline("statutory")', "red", "statutory", "发出法定时限红牌", "红牌已发出"),
)
TIMER_FUNCTIONS = ("deadline", "warning_time", "working_days")  # what the platform's sandbox offers timers
ESCALATION_END = (("kind", "escalation"),)  # Camunda property of an escalation's end: not the case result


def stage_timer(limit: str, index: int) -> Timer:
    """The red timer of a stage limit (catalog stage_limits), counted by the platform from that stage's start."""
    return Timer(f"stage_limit{index}", f"{limit}时限超期", f'deadline("{limit}")', "red", limit,
                 f"发出{limit}时限红牌", "红牌已发出")


def timers_of(spec: ProcessDraftSpec) -> tuple[Timer, ...]:
    """The limits' timers of a process, once each: those of every case, then one per stage limit its clerks'
    steps name (none for a process without a clerk's task)."""
    if not any(step.kind == "user" for step in spec.steps):
        return ()
    limits = dict.fromkeys(limit for step in spec.steps for limit in step.limits)
    return CASE_TIMERS + tuple(stage_timer(limit, i) for i, limit in enumerate(limits, 1))


# The 承诺时限超期 sub-process asks the escalate handler's answer before it goes to 督办: the desk records a limit's
# red card once (a case on a diagram that had a timer on every task fired it on each), and only a new one needs
# the supervisor's 督办.
NEW_RED = "是否新的红牌"                               # the exclusive gateway after 发出红牌超期
NEW_RED_ANSWERS = ("是", "否")                         # its default flow (to 督办), its conditional flow
REPEATED_RED = "escalation_raised == False"          # that condition: the handler found the red card raised already
ALREADY_SUPERVISED = "已督办过"                        # ... where that branch ends (kind = escalation)

SUPERVISE = Step("user", "Task_supervise", "督办", "督办", ESCALATION_LANE, decisions=DECISIONS["supervise"],
                 opinion=Field("opinion", "string", "督办意见", True))
SUPERVISED_END = "督办完成"


# ----------------------------------------------------------------------------------------------------------
# Shapes

ACCEPT = decide("accept", "受理", "acceptor", "受理", "accept")
IDENTITY = service("identity_check", "受理")
# Before anything is computed or paid (docs/bpmn-conventions.md, "身份及参保核验"): the identity handler's verdict and
# the platform's 参保 status. A failure is a refusal of the application, its reason the handlers' finding.
ELIGIBILITY = Check("身份及参保核验", "通过", "未通过", "identity_verified == False or insured == False", "fail")
INSURED = replace(service("insured_check", "受理"), fail_end="不予受理", check=ELIGIBILITY)
REVIEW = decide("review", "审核", "reviewer", "审核", "approve")
NOTIFY = service("notify_applicant", "办结")

REQUIRED = True
UNIT = (text("unit_name", "单位名称", REQUIRED), text("credit_code", "统一社会信用代码", REQUIRED))
BANK = (text("bank_name", "开户银行"), text("bank_account", "银行账号", REQUIRED))
CHANGE = text("change_fields", "变更事项", REQUIRED)
QUERY = text("query_purpose", "查询用途")
RESIDENCE_PERMIT = text("has_residence_permit", "持有本地居住证", type_="boolean")
REIMBURSEMENT = (money("expense_total", "医疗费用总额（元）", REQUIRED), money("self_pay_total", "自费金额（元）", minimum="0"),
                 text("hospital_name", "就诊医院"), *BANK)

# Application data of the start event, per kind of item
FORMS: dict[str, tuple[Field, ...]] = {
    "none": (),
    "unit": UNIT,
    "employee": (
        choice("insured_kind", "参保身份",
               {"employee": "单位职工", "self_employed": "个体参保人员", "flexible": "灵活就业人员"}, REQUIRED),
        text("employer_name", "用人单位名称"),
        choice("household_kind", "户籍类别", {"local": "本地户籍", "nonlocal": "非本地户籍"}), RESIDENCE_PERMIT),
    "resident": (
        choice("household_kind", "户籍类别", {"local": "本地户籍", "newborn": "新生儿", "nonlocal": "非本地户籍"}),
        RESIDENCE_PERMIT),
    "change": (CHANGE,),
    "unit_change": UNIT + (CHANGE,),
    "query": (QUERY,),
    "unit_query": UNIT + (QUERY,),
    "unit_base": UNIT + (money("declared_base", "申报缴费基数（元）", REQUIRED),),
    "withdrawal": (
        choice("withdrawal_reason", "支取原因", {"death": "死亡", "emigration": "出国定居",
                                             "terminated": "解除劳动关系", "abandoned": "主动放弃"}, REQUIRED),
        *BANK),
    "transfer": (
        text("from_region", "转出地", REQUIRED),
        Field("from_agency", "string", "转出地经办机构代码（6位行政区划代码）", REQUIRED, pattern="[0-9]{6}"),
        text("certificate_no", "参保凭证编号（省外转入必填）"),
        choice("from_suspension", "转出地参保状态", {"suspended": "已办理暂停参保", "active": "未办理暂停参保"})),
    "filing": (
        text("destination_region", "就医地/安置地", REQUIRED), text("start_date", "备案开始日期", REQUIRED, "date"),
        text("designated_hospital", "就医定点医院")),
    "chronic": (text("disease_name", "病种名称", REQUIRED), text("hospital_name", "鉴定医院", REQUIRED)),
    "reimbursement": REIMBURSEMENT,
    "outpatient": REIMBURSEMENT + (
        choice("visit_kind", "就医类型", {"ordinary": "普通门诊", "emergency": "急诊"}),
        text("remote_care", "异地就医", type_="boolean"), text("remote_filed", "已办理异地安置备案", type_="boolean"),
        text("critical_care", "抢救或危重症", type_="boolean")),
    "inpatient": REIMBURSEMENT + (text("in_waiting_period", "处于待遇封锁期（等待期）", type_="boolean"),),
    "allowance": (
        text("leave_days", "产假天数", REQUIRED, "long"),
        money("average_wage", "单位上年度职工月平均工资（元）", REQUIRED), text("hospital_name", "就诊医院"), *BANK,
        text("contribution_months", "生育保险连续缴费月数", type_="long"),
        text("employer_in_arrears", "用人单位医保欠费", type_="boolean")),
    "subsidy": (
        choice("assistance_kind", "救助对象类别",
               {"extreme_poor": "特困人员", "low_income": "低保对象", "returned_poor": "返贫致贫人口"}, REQUIRED),
        text("bank_account", "银行账号", REQUIRED)),
    "institution": (
        text("institution_name", "机构名称", REQUIRED), text("institution_kind", "机构类别"),
        text("institution_address", "机构地址", REQUIRED), text("credit_code", "统一社会信用代码", REQUIRED)),
    "contribution": BANK,
    "settlement": (
        text("settlement_period", "结算期间", REQUIRED), money("claimed_amount", "申报金额（元）", REQUIRED),
        text("bank_account", "银行账号", REQUIRED)),
}

# What a 申请—受理—审核—办结 item does around its review: (steps before 审核, steps after it)
REVIEW_EFFECTS = {
    "register": ((), (registration("参保登记"),)),
    "change": ((), (registration("信息变更"),)),
    "certify": ((service("arrears_check", "审核"),), (certificate("参保凭证"),)),
    "file": ((), (service("filing", "办结"),)),
    "assess_base": ((), (registration("缴费基数核定"),)),
    "assess_fee": ((), (registration("医疗保险费核定"),)),
    "contribute": ((), (registration("灵活就业人员缴费"),)),
    "lump_sum": ((), (registration("趸缴"),)),
}

# The main path of each shape, given the item's parameter (start event and final end event 办结 are implicit).
# A stage limit of the catalog (stage_limits) is watched on the clerk's task that finishes that stage's work: the
# task of that stage (验收, 办结), or, where the stage's own work is automatic (the 联系函 and the 信息表 are issued by
# service tasks), the review before it. Not watched: 收到信息表 (a catch event, no task to hang a timer on; the
# sending side's review watches 信息表), and 定点's 建立机构信息 and 开通医保服务网络 (no stage of the diagram).
SHAPES = {
    "query": lambda _: (ACCEPT, service("insurance_query", "办结")),
    "review": lambda effect: (ACCEPT, IDENTITY, *REVIEW_EFFECTS[effect][0], REVIEW, *REVIEW_EFFECTS[effect][1],
                              NOTIFY),
    "payment": lambda policy: (
        ACCEPT, IDENTITY, INSURED, service("reimbursement_calc", "审核", policy=policy),
        replace(REVIEW, fields=(money("payable_amount", "核定金额（元）"), text("reduction_reason", "核减理由"))),
        decide("pay", "拨付", "finance", "拨付", "pay"), service("payment", "拨付", "拨付资金"), NOTIFY),
    "designation": lambda _: (
        ACCEPT, replace(decide("inspect", "现场验收", "reviewer", "验收", "pass"), limits=("验收",)),
        decide("sign", "签订协议", "supervisor", "签订协议", "sign"), service("network_open", "签订协议"),
        certificate("定点医药机构服务协议"), NOTIFY),
    "chronic": lambda _: (
        ACCEPT, decide("assess", "医院鉴定", "hospital", "审核", "approve", fail_end="认定不通过"), REVIEW,
        certificate("门诊慢特病待遇认定通知书"), NOTIFY),
    "transfer_in": lambda _: (
        ACCEPT, replace(REVIEW, limits=("联系函",)), certificate("联系函", "联系函"),
        message_event("throw", "send_letter", "发出联系函", "联系函"),
        message_event("catch", "receive_sheet", "收到信息表", "信息表"),
        replace(decide("confirm", "接续确认", "acceptor", "办结", "confirm"), limits=("办结",)),
        registration("转移接续"), NOTIFY),
    "transfer_out": lambda _: (
        replace(REVIEW, limits=("信息表",)), service("fund_transfer", "信息表"), certificate("信息表", "信息表"),
        message_event("throw", "send_sheet", "发出信息表", "信息表")),
}

# The sending side of a two-agency item: shape, start message and its event's name, name suffix, participant
PARTNERS = {"transfer_in": ("transfer_out", "联系函", "收到联系函", "（转出地）", "转出地医保经办机构")}
PARTICIPANTS = {"transfer_in": "转入地医保经办机构"}

# Item code (or, for local items without a national code, item name) -> (shape, parameter, start form)
PROFILES: dict[str, tuple[str, str | None, str]] = {
    "00203601001": ("review", "register", "unit"),             # 单位参保登记
    "00203601002": ("review", "register", "employee"),         # 职工参保登记
    "00203601003": ("review", "register", "resident"),         # 城乡居民参保登记
    "00203601004": ("review", "change", "unit_change"),        # 单位参保信息变更登记
    "00203601005": ("review", "change", "change"),             # 职工参保信息变更登记
    "00203601006": ("review", "change", "change"),             # 城乡居民参保信息变更登记
    "002036002001": ("query", None, "unit_query"),             # 参保单位参保信息查询
    "002036002002": ("query", None, "query"),                  # 参保人员参保信息查询
    "002036002003": ("payment", "account_withdrawal", "withdrawal"),  # 参保人员个人账户一次性支取
    "002036003001": ("review", "certify", "none"),             # 出具《参保凭证》
    "002036003002": ("transfer_in", None, "transfer"),         # 转移接续手续办理
    "002036004001": ("review", "file", "filing"),              # 异地安置退休人员备案
    "002036004002": ("review", "file", "filing"),              # 异地长期居住人员备案
    "002036004003": ("review", "file", "filing"),              # 常驻异地工作人员备案
    "002036004004": ("review", "file", "filing"),              # 异地转诊人员备案
    "002036005000": ("chronic", None, "chronic"),              # 门诊慢特病病种待遇认定
    "002036006001": ("payment", "outpatient", "outpatient"),              # 门诊费用报销
    "002036006002": ("payment", "inpatient", "inpatient"),                # 住院费用报销
    "002036007001": ("payment", "prenatal", "reimbursement"),             # 产前检查费支付
    "002036007002": ("payment", "maternity_medical", "reimbursement"),    # 生育医疗费支付
    "002036007003": ("payment", "family_planning", "reimbursement"),      # 计划生育医疗费支付
    "002036007004": ("payment", "maternity_allowance", "allowance"),      # 生育津贴支付
    "002036008001": ("payment", "assistance_subsidy", "subsidy"),         # 救助对象参保个人缴费补贴
    "002036008002": ("payment", "assistance_reimbursement", "reimbursement"),  # 医疗救助对象手工（零星）报销
    "002036009001": ("designation", None, "institution"),      # 医疗机构申请定点协议管理
    "002036009002": ("designation", None, "institution"),      # 零售药店申请定点协议管理
    "002036010001": ("payment", "institution_settlement", "settlement"),  # 定点医疗机构费用结算
    "002036010002": ("payment", "pharmacy_settlement", "settlement"),     # 定点零售药店费用结算
    # local items (the catalog gives them local L-codes; they are keyed by name here)
    "城镇职工医疗保险、生育保险缴费基数核定": ("review", "assess_base", "unit_base"),  # 林口 29
    "医疗保险费核定": ("review", "assess_fee", "unit_base"),                        # 抚顺 7
    "异地临时就医人员备案": ("review", "file", "filing"),                            # 抚顺 16
    "参保人员电话号码新增和更改": ("review", "change", "change"),                     # 四川
    "灵活就业人员缴纳职工医疗保险费": ("review", "contribute", "contribution"),        # 四川
    "参保单位缴费基数申报": ("review", "assess_base", "unit_base"),                   # 四川
    "职工基本医疗保险费趸缴": ("review", "lump_sum", "none"),                        # 四川
    "城乡居民医保参保人员高血压、糖尿病病种待遇认定": ("chronic", None, "chronic"),     # 四川
}


# ----------------------------------------------------------------------------------------------------------
# Catalog items -> specs

def _profile(item: dict) -> tuple[str, str | None, str]:
    code, name = str(item.get("code") or "").replace(" ", ""), str(item.get("name") or "")
    profile = PROFILES.get(code) or PROFILES.get(name)
    if profile is None:
        raise KeyError(f"no drafting profile for item {code or '-'} {name}: add it to PROFILES")
    return profile


def spec_for_item(item: dict) -> ProcessDraftSpec:
    """The draft of a catalog item's own process."""
    shape, parameter, form = _profile(item)
    steps = SHAPES[shape](parameter)
    if item.get("waivable"):
        steps = _with_waiver(steps)
    if item.get("prohibited"):
        steps = _with_rule_checks(steps, item)
    return ProcessDraftSpec(process_id=item["process"], name=item["name"], steps=steps,
                            start_fields=FORMS[form], participant=PARTICIPANTS.get(shape, "医保经办机构"))


def _with_waiver(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    """受理 with its third decision 容缺受理, and the question 是否容缺受理 right after it."""
    accept, *rest = steps
    assert accept.id == ACCEPT.id, "容缺受理 is a decision of 受理"
    accept_decision, refuse_decision = accept.decisions
    return (replace(accept, decisions=(accept_decision, WAIVE, refuse_decision)), WAIVER, *rest)


def partner_spec_for_item(item: dict) -> ProcessDraftSpec | None:
    """The draft of the partner process (another agency's side) of a catalog item, if it has one."""
    shape, parameter, _ = _profile(item)
    if not item.get("partner_process") or shape not in PARTNERS:
        return None
    partner_shape, message, start_name, suffix, participant = PARTNERS[shape]
    return ProcessDraftSpec(process_id=item["partner_process"], name=item["name"] + suffix,
                            steps=SHAPES[partner_shape](parameter), start_message=message,
                            start_name=start_name, participant=participant)


def load_catalog(items_yaml: Path) -> list[dict]:
    """The national items of items.yaml, each with what the agencies' lists beside it (agencies/*.yaml) say
    that shapes its process: `waivable` (some agency lists a material of it as 容缺) and `prohibited` (agency code
    -> (the list's name, the agency's 禁办情形))."""
    data = yaml.safe_load(Path(items_yaml).read_text(encoding="utf-8"))
    items = data["items"] if isinstance(data, dict) else data
    facts = _agency_facts(Path(items_yaml).parent / "agencies")
    return [{**item, **facts.get(str(item.get("code")), {})} for item in items]


def _agency_facts(agencies_dir: Path) -> dict[str, dict]:
    facts: dict[str, dict] = {}
    for path in sorted(agencies_dir.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        agency = document["agency"]
        for item in document.get("items") or ():
            found = facts.setdefault(str(item["code"]), {})
            if any(material.get("waivable") for material in item.get("materials") or ()):
                found["waivable"] = True
            if item.get("prohibited"):
                found.setdefault("prohibited", {})[str(agency["code"])] = (f"{agency['name']}违规禁办事项清单",
                                                                          tuple(item["prohibited"]))
    return facts


def draft_item(item_code: str, catalog_items: list[dict]) -> bytes:
    """The draft of one item, by item code or process key (a partner process's key drafts the partner side)."""
    for item in catalog_items:
        if item_code in (str(item.get("code")), item.get("process")):
            return draft_process(spec_for_item(item))
        if item_code == item.get("partner_process"):
            return draft_process(partner_spec_for_item(item))
    raise KeyError(f"item {item_code} is not in the catalog")


DECISIONS_DIR = "decisions"  # beside the diagrams: the DMN files of their decision tables
DMN_NSMAP = {None: "https://www.omg.org/spec/DMN/20191111/MODEL/",
             "dmndi": "https://www.omg.org/spec/DMN/20191111/DMNDI/", "dc": "http://www.omg.org/spec/DMN/20180521/DC/"}


def write_all(items_yaml: Path, out_dir: Path, *, overwrite: bool = False) -> list[Path]:
    """Draft every catalog item (and partner process) into out_dir/<process id>.bpmn, and its 禁办情形 table into
    out_dir/decisions/prohibited_<code>.dmn; returns the files written.

    The files are the source of truth once designers edit them: an existing file is kept unless `overwrite`.
    """
    out_dir = Path(out_dir)
    written = []
    for item in load_catalog(items_yaml):
        drafts = [(out_dir / f"{spec.process_id}.bpmn", spec) for spec in
                  (spec_for_item(item), partner_spec_for_item(item)) if spec]
        if item.get("prohibited"):
            drafts.append((out_dir / DECISIONS_DIR / f"{decision_id(item)}.dmn", item))
        for path, source in drafts:
            if overwrite or not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(draft_process(source) if isinstance(source, ProcessDraftSpec)
                                 else draft_decision(source))
                written.append(path)
    return written


def draft_decision(item: dict) -> bytes:
    """The DMN 1.3 decision table of an item's 禁办情形 (hit policy FIRST: the first rule that matches, in the
    catalog's order), with its decision drawn for the DRD view of dmn-js."""
    rows = _rows(item)
    used = list(dict.fromkeys(name for *_, entries in rows for name in entries))  # as the rules first read them
    model = DMN_NSMAP[None]

    def sub(parent, tag: str, attrs: dict | None = None, content: str | None = None):
        namespace = DMN_NSMAP[tag.split(":")[0]] if ":" in tag else model
        element = etree.SubElement(parent, f"{{{namespace}}}{tag.split(':')[-1]}", attrs or {})
        element.text = content
        return element

    ref = decision_id(item)
    root = etree.Element(f"{{{model}}}definitions", nsmap=DMN_NSMAP, attrib={
        "id": f"Definitions_{ref}", "name": f"{item['name']}禁办情形", "namespace": "http://camunda.org/schema/1.0/dmn",
        "exporter": "workflows bpmn_draft", "exporterVersion": "2"})
    decision = sub(root, "decision", {"id": ref, "name": f"{item['name']}{PROHIBITED_CHECK}"})
    table = sub(decision, "decisionTable", {"id": f"DecisionTable_{ref}", "hitPolicy": "FIRST"})
    for key, column in [("agency", AGENCY_INPUT)] + [(name, RULE_INPUTS[name]) for name in used]:
        element = sub(table, "input", {"id": f"Input_{key}", "label": column.label})
        expression = sub(element, "inputExpression", {"id": f"InputExpression_{key}", "typeRef": column.type})
        sub(expression, "text", content=column.expression)
    for name, label in PROHIBITED_OUTPUTS:
        sub(table, "output", {"id": f"Output_{name}", "label": label, "name": name, "typeRef": "string"})
    for number, (agency, basis, condition, entries) in enumerate(rows, 1):
        rule = sub(table, "rule", {"id": f"Rule_{number}"})
        for key, entry in [("agency", json.dumps(agency))] + [(name, entries.get(name, "-")) for name in used]:
            sub(sub(rule, "inputEntry", {"id": f"InputEntry_{number}_{key}"}), "text", content=entry)
        for (name, _), value in zip(PROHIBITED_OUTPUTS, (condition, basis)):
            sub(sub(rule, "outputEntry", {"id": f"OutputEntry_{number}_{name}"}), "text",
                content=json.dumps(value, ensure_ascii=False))
    diagram = sub(sub(root, "dmndi:DMNDI"), "dmndi:DMNDiagram", {"id": f"DMNDiagram_{ref}"})
    shape = sub(diagram, "dmndi:DMNShape", {"id": f"DMNShape_{ref}", "dmnElementRef": ref})
    sub(shape, "dc:Bounds", {"height": "80", "width": "180", "x": "160", "y": "100"})
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


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
