"""The records of case processing. Plain classes: the database mapping lives in adapters/orm.py."""
from __future__ import annotations

from datetime import datetime

# Case statuses
OPEN, CLOSED, FAILED = "open", "closed", "failed"
STATUS_LABELS = {OPEN: "办理中", CLOSED: "已办结", FAILED: "故障待处理"}

# A supervisor's 督办 task beside a late case's own: it is not where the case stands, nor does it keep it open.
SUPERVISION_STAGE = "督办"

# Extension request statuses
REQUESTED, APPROVED, REFUSED = "requested", "approved", "refused"

# Task states
READY, COMPLETED, CANCELLED = "ready", "completed", "cancelled"
TASK_STATE_LABELS = {READY: "待办", COMPLETED: "已办", CANCELLED: "已取消"}


class Record:
    """Keyword construction and a readable repr for the plain records below."""

    def __init__(self, **values):
        for name, value in values.items():
            setattr(self, name, value)

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


class CaseMaterial(Record):
    """One 申请材料 of a case as checked by staff: present (已提交), missing (缺少) or waived (容缺)."""

    case_id: int
    material_index: int
    name: str
    status: str
    marked_by: str
    marked_at: datetime


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
