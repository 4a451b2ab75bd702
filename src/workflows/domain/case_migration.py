"""Rules of migrating running cases to another version of their process (迁移), and of moving a case's token
(跳转). Both change where a case stands without anyone completing a step, so each needs a written reason, and
who may do it is narrow: a designer's migration only once a 科室负责人 approved it (the designer knows the diagram,
the supervisor answers for the cases), an administrator's at once; a token move by a 科室负责人 or an
administrator, and never silently past a step with outside effects (a payment): that takes a compensation note.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .errors import Conflict, Forbidden, InvalidInput
from .model import Record, User
from .text import REASON_LENGTH as MAX_REASON, reason_text

MAX_MAPPING = 100  # elements one plan may map
PENDING, APPROVED = "pending", "approved"
PLAN_STATUS_NAMES = {PENDING: "待科室负责人批准", APPROVED: "已批准"}


class MigrationPlan(Record):
    """Which cases move, from which version of an item's process to which, with the user's mapping of elements
    the target lacks (source element id -> target element id), why, who asked and who approved."""

    id: int
    agency_code: str
    process_key: str
    source_version_id: int
    target_version_id: int
    mapping: dict[str, str]
    reason: str
    requested_by: str
    requested_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    approved_hall: str | None  # the approver's hall, whose cases the plan moves (None: an administrator's, all)

    @property
    def status(self) -> str:
        return APPROVED if self.approved_by else PENDING

    def approve(self, actor: User, at: datetime, halls: dict[str, str]) -> None:
        """A 科室负责人 answers for the cases of their own hall: they approve a designer's plan (never their own)
        for those, and only if their hall holds some of its open cases (`halls`: code -> name of those that do)."""
        require_supervisor(actor)
        if self.approved_by:
            raise Conflict("该迁移计划已批准")
        if self.requested_by == actor.username:
            raise Forbidden("不能批准本人提出的迁移计划")
        if not halls:
            raise Conflict("源版本已没有在办案件，无需批准")
        if actor.hall_code not in halls:
            raise Forbidden(f"您所在大厅没有该计划要迁移的在办案件，须由案件所在大厅（{'、'.join(halls.values())}）"
                            "的科室负责人批准")
        self.approved_by, self.approved_at, self.approved_hall = actor.username, at, actor.hall_code

    def hall_refusal(self, hall_code: str, names: dict[str, str]) -> str | None:
        """Why a case of hall `hall_code` is not this plan's to move, or None (`names`: the agency's halls)."""
        if self.approved_hall is None or hall_code == self.approved_hall:
            return None
        return (f"案件属于{names.get(hall_code, hall_code)}，本计划经{names.get(self.approved_hall, self.approved_hall)}"
                "科室负责人批准，只迁移该大厅的案件")


class MigrationRun(Record):
    """A plan run on every case its approval covers, in the background: who started it, when, how many cases it
    had then (the open cases up to `last_case_id`: one opened later is not this run's), and when it ended. A plan
    runs once at a time; each case's outcome is kept with the run (MigrationOutcome)."""

    id: int
    plan_id: int
    started_by: str
    started_at: datetime
    total: int
    last_case_id: int
    finished_at: datetime | None

    @property
    def running(self) -> bool:
        return self.finished_at is None


@dataclass(frozen=True)
class MigrationOutcome:
    """What a run did with one case: moved it, or why not (a refusal, or a failure rolled back)."""

    number: str
    migrated: bool
    error: str | None = None


@dataclass(frozen=True)
class Unmatched:
    """An element a case stands at (or passed) that has no counterpart in the target version."""

    element_id: str
    name: str
    active: bool  # open or waiting now (else: a step the case has passed)
    suggestion: str | None = None  # the target element its neighbours point to (SpiffWorkflow's diff)


@dataclass(frozen=True)
class MigrationCheck:
    """Whether a case's workflow can move to the target version with the mapping given."""

    active: tuple[str, ...]  # the element ids the case stands at now
    unmatched: tuple[Unmatched, ...] = ()
    failed: bool = False  # a step has failed: it is retried on its own version first
    renamed: dict[str, tuple[str, str]] = field(default_factory=dict)  # element -> (old name, new name)

    @property
    def refusal(self) -> str | None:
        """Why the case cannot move, in the words the list shows; None when it can."""
        if self.failed:
            return "案件有出错的步骤，请先重试（故障处理）后再迁移"
        if not self.unmatched:
            return None
        first = self.unmatched[0]
        where = "当前所在" if first.active else "已办理"
        hint = f"，可映射到“{first.suggestion}”" if first.suggestion else "，请给出映射"
        more = f"等 {len(self.unmatched)} 个环节" if len(self.unmatched) > 1 else ""
        return f"{where}的“{first.name}”（{first.element_id}）{more}在目标版本中没有对应元素{hint}"


def clean_reason(reason, doing: str) -> str:
    return reason_text(reason, doing)


def clean_mapping(mapping, source_elements: set[str], target_elements: set[str]) -> dict[str, str]:
    """The user's mapping, each side an element of its version (a typo would silently map nothing)."""
    if mapping in (None, ""):
        return {}
    if not isinstance(mapping, dict) or len(mapping) > MAX_MAPPING:
        raise InvalidInput("映射有误", {"mapping": f"应为“源版本元素id: 目标版本元素id”的对象，最多 {MAX_MAPPING} 项"})
    errors = {}
    for old, new in mapping.items():
        if not isinstance(new, str) or old not in source_elements:
            errors[f"mapping.{old}"[:80]] = "源版本中没有此元素"
        elif new not in target_elements:
            errors[f"mapping.{old}"[:80]] = f"目标版本中没有元素“{new}”"
    if errors:
        raise InvalidInput("映射有误", errors)
    return dict(mapping)


def may_request(actor: User) -> bool:
    return actor.has_role("designer") or actor.has_role("admin")


def require_may_request(actor: User) -> None:
    if not may_request(actor):
        raise Forbidden("需要岗位：流程设计员、系统管理员")


def require_supervisor(actor: User) -> None:
    if not actor.has_role("supervisor"):
        raise Forbidden("需要岗位：科室负责人")


def require_may_run(actor: User, plan: MigrationPlan) -> None:
    """Who asked for it (or an administrator) runs an approved plan."""
    if not actor.has_role("admin") and plan.requested_by != actor.username:
        raise Forbidden("只有提出迁移计划的设计员或系统管理员可以执行")
    if not plan.approved_by:
        raise Conflict("迁移计划尚未经科室负责人批准，不能执行")


# --- token moves --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MoveTarget:
    """Where a case's token may be moved: a user task, or the first element of a stage."""

    element_id: str
    name: str
    stage: str | None
    effects: tuple[str, ...] = ()  # steps with outside effects the move would skip (forward) or redo (back)


def require_may_move(actor: User) -> None:
    if not (actor.has_role("supervisor") or actor.has_role("admin")):
        raise Forbidden("需要岗位：科室负责人、系统管理员")


def clean_compensation(target: MoveTarget, note) -> str | None:
    """A move past a step with outside effects needs the user's explicit note of how it is made good (补偿)."""
    if not target.effects:
        return None
    text = note.strip() if isinstance(note, str) else ""
    steps = "、".join(f"“{name}”" for name in target.effects)
    if not text:
        raise InvalidInput(f"跳转到“{target.name}”会越过对外办理的{steps}，须填写补偿说明并确认",
                           {"compensation_note": f"越过{steps}：请写明如何补偿或核对"})
    if len(text) > MAX_REASON:
        raise InvalidInput("补偿说明过长", {"compensation_note": f"最多 {MAX_REASON} 个字"})
    return text
