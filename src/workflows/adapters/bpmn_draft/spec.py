"""What a drafted process is made of: its steps (tasks, gateways, events, with their lane, stage and form),
the building blocks of the items' processes and the steps most of them share, 容缺受理's wait, and the limits'
timer event sub-processes with the 督办 task they lead to (docs/bpmn-conventions.md)."""
from __future__ import annotations

from dataclasses import dataclass, replace

from workflows.domain.roles import ROLE_NAMES, TASK_ROLES


ESCALATION_LANE = "supervisor"  # 科室负责人: works the 督办 tasks; always the last lane, escalations run down into it
# acceptor, reviewer, finance, hospital, supervisor
LANE_ORDER = tuple(code for code in ROLE_NAMES if code in TASK_ROLES and code != ESCALATION_LANE) + (ESCALATION_LANE,)


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
# The steps most shapes share

ACCEPT = decide("accept", "受理", "acceptor", "受理", "accept")
IDENTITY = service("identity_check", "受理")
# Before anything is computed or paid (docs/bpmn-conventions.md, "身份及参保核验"): the identity handler's verdict and
# the platform's 参保 status. A failure is a refusal of the application, its reason the handlers' finding.
ELIGIBILITY = Check("身份及参保核验", "通过", "未通过", "identity_verified == False or insured == False", "fail")
INSURED = replace(service("insured_check", "受理"), fail_end="不予受理", check=ELIGIBILITY)
REVIEW = decide("review", "审核", "reviewer", "审核", "approve")
NOTIFY = service("notify_applicant", "办结")
