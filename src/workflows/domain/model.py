"""The records of case processing. Plain classes: the database mapping lives in adapters/orm.py."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .roles import ANY_TASK_ROLE, TASK_ROLES

# Case statuses
OPEN, CLOSED, FAILED = "open", "closed", "failed"

# A supervisor's 督办 task beside a late case's own: it is not where the case stands, nor does it keep it open.
SUPERVISION_STAGE = "督办"

# Results of a case ended early, before any decision on the application: not counted in on-time statistics
CASE_WITHDRAWN, CASE_TERMINATED = "撤件", "终止"
ENDED_EARLY = (CASE_WITHDRAWN, CASE_TERMINATED)

# Extension request statuses
REQUESTED, APPROVED, REFUSED = "requested", "approved", "refused"

# Task states
READY, COMPLETED, CANCELLED = "ready", "completed", "cancelled"
TASK_STATE_LABELS = {READY: "待办", COMPLETED: "已办", CANCELLED: "已取消"}
DEFAULT_PRIORITY = 50  # Camunda's: a task whose diagram gives none


class Record:
    """Keyword construction and a readable repr for the plain records below."""

    def __init__(self, **values):
        # Into the instance's dict, not attribute by attribute: a record mapped to a table (adapters/orm.py) is
        # then built without the ORM noting each value as a change, a new row's INSERT writing all of them anyway
        # (5 µs for a task of 26 values, not 18; a dozen new rows a case); its later changes are noted as ever
        vars(self).update(values)

    def __repr__(self):
        key = getattr(self, "number", None) or getattr(self, "id", None)
        return f"<{type(self).__name__} {key}>"


class ProcessVersion(Record):
    """One deployed version of a process; cases keep the version they started on."""

    id: int
    process_key: str
    version: int
    name: str
    bpmn_xml: str
    file_name: str
    checksum: str
    deployed_by: str
    deployed_at: datetime
    decisions: dict[str, str]  # the DMN files of the decisions its business-rule tasks reference: name -> XML
    # The agency whose cases run it; None: national, run by every agency that has not deployed its own version.
    agency_code: str | None = None
    change_note: str | None = None  # what the designer changed and why, given at 发布
    deployment_id: int | None = None  # the deployment it came in (None: deployed before deployments existed)
    called_files: dict[str, str] | None = None  # the other BPMN files of its deployment the process calls


class Deployment(Record):
    """BPMN and DMN files deployed together: call activities resolve across them, and each process they hold
    (each executable pool of a collaboration) is a version pointing at it."""

    id: int
    agency_code: str | None
    deployed_by: str
    deployed_at: datetime
    files: list[str]


class SavedTests(Record):
    """The tests a designer saved with a process (domain/process_tests.py), for the agency's versions of it (None:
    the national ones): run at every publish of the process."""

    id: int
    process_key: str
    agency_code: str | None
    document: dict  # {"tests": [...]}, as a test file holds them
    saved_by: str
    saved_at: datetime


class Case(Record):
    """办件: one application being processed."""

    id: int
    number: str
    agency_code: str
    hall_code: str
    item_code: str
    item_name: str
    process_version_id: int
    stage: str
    status: str
    result: str | None
    applicant: dict
    data: dict
    workflow_state: str
    opened_by: str
    opened_at: datetime
    accepted_at: datetime | None
    closed_at: datetime | None
    row_version: int

    @property
    def is_open(self) -> bool:
        return self.status != CLOSED


class CaseTask(Record):
    """A user task of a case as the inbox sees it, kept in step with the workflow on every change."""

    id: str
    case_id: int
    case_number: str
    agency_code: str
    hall_code: str
    item_code: str
    item_name: str
    spec_id: str
    name: str
    stage: str
    role: str
    state: str
    assignee: str | None
    created_at: datetime
    claimed_at: datetime | None
    completed_at: datetime | None
    completed_by: str | None
    decision: str | None
    due_at: datetime | None
    warning_at: datetime | None
    applicant_name: str | None
    completed_level: str | None  # normal | yellow | red | paused: where the case's limit stood when it was done
    # What the diagram says of the task (camunda:priority, candidateUsers, dueDate, followUpDate). The task's own
    # due date is the designer's, beside the case's statutory limit (due_at), never instead of it.
    priority: int  # DEFAULT_PRIORITY when the diagram gives none
    candidate_users: str | None  # ",wang,li,": only they see and claim the task
    due_date: datetime | None
    follow_up_date: datetime | None

    @property
    def candidates(self) -> tuple[str, ...]:
        return tuple(name for name in (self.candidate_users or "").split(",") if name)

    def offered_to(self, username: str) -> bool:
        """Whether the task is for `username` to see and claim: everyone of its role, unless it names its users."""
        return not self.candidate_users or username in self.candidates


def candidate_column(usernames) -> str | None:
    """Candidate users as stored: comma-framed, so that one name is found by LIKE '%,name,%'."""
    names = [name for name in dict.fromkeys(usernames) if name]
    return f",{','.join(names)}," if names else None


class HistoryEntry(Record):
    """An append-only line of a case's history: who did what, when."""

    id: int
    case_id: int
    at: datetime
    actor: str
    action: str
    stage: str | None
    task_name: str | None
    message: str
    detail: dict


class User(Record):
    username: str
    full_name: str
    password_hash: str
    agency_code: str
    hall_code: str
    roles: list[str]

    def has_role(self, role: str) -> bool:
        """Whether the user holds `role`; a task for any role of the hall is for whoever works tasks."""
        if role == ANY_TASK_ROLE:
            return any(own in TASK_ROLES for own in self.roles)
        return role in self.roles


class CaseDeadline(Record):
    """A time limit of a case as it stands: 承诺 (promised), 法定 (statutory) or a stage's own limit."""

    id: int
    case_id: int
    kind: str  # promised | statutory | the stage limit's name
    limit_value: int
    limit_unit: str
    starts_at: datetime
    due_at: datetime | None
    warning_at: datetime | None
    provisional: bool
    paused: bool
    extension_days: int
    paused_days: int
    met_at: datetime | None
    # the case's place, copied when the limit is written: a hall's limits are read without their cases
    agency_code: str | None
    hall_code: str | None
    item_code: str | None


class CasePause(Record):
    """The clock stopped: waiting for the applicant (补正, 容缺) or a 特别程序 the law excludes from the limit."""

    id: int
    case_id: int
    kind: str
    reason: str
    started_at: datetime
    started_by: str
    ended_at: datetime | None
    ended_by: str | None


class ExtensionRequest(Record):
    """延期: more working days asked for a case, approved or refused by a supervisor."""

    id: int
    case_id: int
    days: int
    reason: str
    requested_by: str
    requested_at: datetime
    status: str  # requested | approved | refused
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


class Escalation(Record):
    """A 黄牌 (warning) or 红牌 (overdue) of a case's limit, for the supervisors of its hall to act on (督办)."""

    id: int
    case_id: int
    case_number: str
    agency_code: str
    hall_code: str
    item_name: str
    limit_kind: str
    level: str  # yellow | red
    stage: str | None
    raised_at: datetime
    status: str  # open | handled
    handled_by: str | None
    handled_at: datetime | None
    action: str | None  # urge | reassign | extend | note
    note: str | None


class ExternalCall(Record):
    """What a local stand-in for an outside system (payment, national platform, SMS) was asked and answered."""

    id: int
    case_id: int | None
    system: str
    operation: str
    request: dict
    response: dict
    at: datetime


class CaseComment(Record):
    """备注: a staff member's note on a case, for colleagues handling it later."""

    id: int
    case_id: int
    author: str
    text: str
    created_at: datetime


class CaseAttachment(Record):
    """附件: a file kept with a case (a scanned receipt, a letter). `content` is loaded only when downloaded."""

    id: int
    case_id: int
    file_name: str
    media_type: str
    size: int
    content: bytes
    uploaded_by: str
    uploaded_at: datetime


class CaseDocument(Record):
    """文书: a notice or decision issued for a case (受理通知书, 一次性告知书 …), kept as the PDF handed out. Never
    changed: issuing again makes a new one with a new number. `content` is loaded only when downloaded."""

    id: int
    case_id: int
    kind: str  # acceptance_notice | missing_materials_notice | … (domain/documents.py KINDS)
    title: str
    number: str  # 文书编号, unique
    fields: dict  # what the template was filled in with
    layout: dict | None  # its text as laid out at the command (domain/documents.py layout_of): what the PDF shows
    content: bytes | None  # the PDF; None until rendered after the command (services/documents.py)
    issued_by: str
    issued_at: datetime


class CaseMaterial(Record):
    """One 申请材料 of a case as checked by staff: present (已提交), missing (缺少), waived (容缺) or committed (承诺)."""

    case_id: int
    material_index: int
    name: str
    status: str
    marked_by: str
    marked_at: datetime


class CaseWaiver(Record):
    """容缺受理: the case was accepted with `materials` ([{index, name}]) waived, on the applicant's signed
    《容缺承诺书》; `supplied_at` once they were all handed in."""

    id: int
    case_id: int
    materials: list
    accepted_by: str
    accepted_at: datetime
    supplied_by: str | None
    supplied_at: datetime | None


class SavedFilter(Record):
    """A clerk's named inbox filter (事项, 环节, 搜索, 待办/已办, 本人), optionally shared with the hall."""

    id: int
    agency_code: str
    hall_code: str
    owner: str
    name: str
    query: dict  # item_code, stage, search, view, mine: the inbox's query arguments
    shared: bool
    created_at: datetime


# Requests on a task (委派, 加签): kinds and statuses
DELEGATE, BEFORE, AFTER, PARALLEL = "delegate", "before", "after", "parallel"
REQUEST_KINDS = {DELEGATE: "委派", BEFORE: "前加签", AFTER: "后加签", PARALLEL: "并行加签"}
PENDING, DONE, WITHDRAWN = "pending", "done", "withdrawn"
AGREE, DISAGREE = "agree", "disagree"
SIGN_DECISIONS = {AGREE: "同意", DISAGREE: "不同意"}


class TaskRequest(Record):
    """委派 or 加签: the holder of a task asks another person of the hall to act on it. A delegate answers with an
    opinion (办理意见); a signer signs 同意 or 不同意 with an opinion — before the holder (前加签), after the holder's
    submission (后加签) or beside it (并行). Withdrawn when the holder recalls a delegation or a signer is removed."""

    id: int
    task_id: str
    case_id: int
    kind: str  # delegate | before | after | parallel
    requested_by: str
    assignee: str
    reason: str
    substitute_note: str | None
    status: str  # pending | done | withdrawn
    decision: str | None  # agree | disagree (signers)
    opinion: str | None
    requested_at: datetime
    done_at: datetime | None
    withdrawn_by: str | None

    def withdraw(self, by: str, at: datetime) -> None:
        """Recalled (委派), removed (减签) or closed with its task (a token move) by `by`."""
        self.status, self.done_at, self.withdrawn_by = WITHDRAWN, at, by


class TaskSubmission(Record):
    """The holder's completion of a task, held until its after- and parallel signers have signed."""

    task_id: str
    case_id: int
    submitted_by: str
    data: dict
    submitted_at: datetime


class TaskSupervision(Record):
    """督办: a supervisor's written instruction on a task; its handler must reply before completing the task."""

    id: int
    task_id: str
    case_id: int
    case_number: str
    agency_code: str
    hall_code: str
    supervisor: str
    instruction: str
    created_at: datetime
    reply: str | None
    replied_by: str | None
    replied_at: datetime | None


@dataclass(frozen=True)
class TaskActivity:
    """Whether anyone besides the holder has a part in a task: a 委派 or 加签 request (in any state), a held
    submission, a 督办 not replied to. Most tasks have none: then a completion needs no look at the details."""

    requests: bool
    submission: bool
    unreplied: bool

    @property
    def any(self) -> bool:
        return self.requests or self.submission or self.unreplied


class Substitution(Record):
    """外出/休假代理: from `starts_at` until `ends_at` (exclusive), what is given to `username` goes to `substitute`."""

    id: int
    username: str
    substitute: str
    agency_code: str
    hall_code: str
    kind: str
    reason: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    ended_at: datetime | None  # ended early by the user

    def active_at(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at


# Messages between agencies (转移接续): statuses
MESSAGE_PENDING, MESSAGE_DELIVERED, MESSAGE_FAILED = "pending", "delivered", "failed"
MESSAGE_OUTBOUND, MESSAGE_SENT = "outbound", "sent"  # for an agency of another installation: relayed, then sent
MESSAGE_STATUS_LABELS = {MESSAGE_PENDING: "待送达", MESSAGE_DELIVERED: "已送达", MESSAGE_FAILED: "送达失败",
                         MESSAGE_OUTBOUND: "待转发", MESSAGE_SENT: "已转发"}


class AgencyMessage(Record):
    """A message between two agencies' cases (联系函, 信息表), kept in the outbox by the thrower's transaction and
    delivered after it; `correlation` is the number of the case that began the exchange (the receiving agency's)."""

    id: str  # a UUID: a message replayed by another installation is recognised by it
    name: str
    from_agency: str
    to_agency: str
    correlation: str
    payload: dict
    source_case_id: int | None  # the case that threw it (None: it came from another installation)
    target_case_id: int | None  # the case it reached or started
    status: str  # pending | delivered | failed | outbound | sent
    error: str | None
    created_at: datetime
    delivered_at: datetime | None


# 差评回访 statuses
FOLLOWUP_OPEN, FOLLOWUP_DONE = "open", "done"


class RatingFollowUp(Record):
    """差评回访: a rating of 不满意 or 非常不满意 makes the case's hall supervisors call the applicant back within
    the agency's limit and record what they heard (回访情况) and what is being changed (整改措施)."""

    id: int
    case_id: int
    case_number: str
    agency_code: str
    hall_code: str
    item_name: str
    score: int
    rating_label: str
    comment: str | None
    opened_at: datetime
    due_at: datetime
    warning_at: datetime
    status: str  # open | done
    visit_note: str | None
    remedy: str | None
    recorded_by: str | None
    recorded_at: datetime | None


class PersonalDataRead(Record):
    """A read in full of personal data (an ID number, a bank account) by a person: the audit domain.privacy asks."""

    id: int
    case_id: int
    case_number: str
    agency_code: str
    actor: str
    kinds: str  # comma-separated kinds of domain.privacy, sorted
    purpose: str
    at: datetime
