"""The case aggregate: a case with what a command on it decides by — its open tasks, its limits and pauses, and
who else has a part in the task commanded (委派, 加签, a held submission, a 督办 not replied to) — loaded once for
update by its repository (`uow.cases.get_for_update`).

A use case loads it, asks it, lets the engine run, commits. Its methods are the rules that were queries: who may
complete a task now, whether a request blocks a completion or a change of hands, what completing a task marks on
it; what follows from a command is recorded as a domain event (domain/events.py) for the unit of work to publish.
Pure: no SQL, no clock but the `now` a method is given; a person's name comes from the `name_of` it is given.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from .case_limits import open_pause, task_level
from .errors import Conflict, Forbidden
from .events import Event, TaskCompleted
from .model import (AFTER, BEFORE, COMPLETED, DELEGATE, PARALLEL, PENDING, READY, Case, CaseDeadline, CasePause,
                    CaseTask, TaskActivity, TaskRequest, TaskSupervision)

NameOf = Callable[[str | None], str]  # a username's full name, for what the rules say


@dataclass
class TaskParts:
    """Who besides its holder has a part in a task: whether anyone does (`activity`, one query's answer), and then
    its 委派/加签 requests and its unreplied 督办 (loaded only where `activity` says there are any)."""

    activity: TaskActivity = TaskActivity(False, False, False)
    requests: list[TaskRequest] = field(default_factory=list)
    supervisions: list[TaskSupervision] = field(default_factory=list)

    def pending(self, *kinds: str) -> list[TaskRequest]:
        return [r for r in self.requests if r.status == PENDING and (not kinds or r.kind in kinds)]

    def delegation(self) -> TaskRequest | None:
        return next(iter(self.pending(DELEGATE)), None)

    def refuse_delegate(self, task: CaseTask, actor: str, name_of: NameOf) -> None:
        """A delegate answers with an opinion; the holder decides (403 for the delegate)."""
        if task.assignee != actor and any(r.assignee == actor for r in self.pending(DELEGATE)):
            raise Forbidden(f"您受{name_of(task.assignee)}委派，只能填写办理意见，由其办理决定")

    def require_completable(self, name_of: NameOf) -> None:
        """Refuse (409) while someone must act first: a held submission's signers, the delegate, 前加签 signers, or
        the handler's reply to a 督办."""
        if self.activity.submission:
            raise Conflict(f"已提交，待{self.pending_names(name_of, AFTER, PARALLEL)}签署后流转")
        delegation = self.delegation()
        if delegation:
            raise Conflict(f"任务已委派给{name_of(delegation.assignee)}，待其办理意见后再办理，或先收回委派")
        if self.pending(BEFORE):
            raise Conflict(f"须待{self.pending_names(name_of, BEFORE)}前加签签署后再办理")
        unreplied = next((s for s in self.supervisions if s.replied_at is None), None)
        if unreplied:
            raise Conflict(f"{name_of(unreplied.supervisor)}督办：“{unreplied.instruction}”，请先回复督办意见再办理")

    def transfer_obstacle(self, name_of: NameOf) -> str | None:
        """Why the task cannot change hands now (a release, a supervisor's 改派), or None."""
        if self.activity.submission:
            return "已提交，待加签人签署"
        delegation = self.delegation()
        return f"已委派给{name_of(delegation.assignee)}，尚未办理" if delegation else None

    def pending_names(self, name_of: NameOf, *kinds: str) -> str:
        return "、".join(dict.fromkeys(name_of(r.assignee) for r in self.pending(*kinds))) or "加签人"


@dataclass
class CaseAggregate:
    """One case as a command on one of its tasks finds it (the case row locked, or watched on SQLite): `task`, the
    task commanded, with `parts`, who else has a part in it."""

    case: Case
    open_tasks: list[CaseTask]
    task: CaseTask | None = None
    parts: TaskParts = field(default_factory=TaskParts)
    deadlines: list[CaseDeadline] = field(default_factory=list)
    pauses: list[CasePause] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def level_of(self, task: CaseTask, now: datetime) -> str:
        """正常, 黄牌, 红牌 or 暂停: where the task stands against its limit at `now`."""
        return task_level(task, self.pauses, now)

    def open_pause(self) -> CasePause | None:
        return open_pause(self.pauses)

    def complete(self, actor: str, values: dict, submitted: dict, now: datetime) -> None:
        """The task is done by `actor` with its cleaned `values` (`submitted`: as sent), its limit's level kept as
        it stood; TaskCompleted tells what follows (acceptance's consequences)."""
        task = self.task
        if task.state != READY:
            raise Conflict("任务已办理或已取消")
        task.completed_level = self.level_of(task, now)
        task.state, task.completed_at, task.completed_by = COMPLETED, now, actor
        task.assignee, task.decision = actor, values.get("decision")
        self.events.append(TaskCompleted(self.case.id, task.id, actor, task.decision, values, submitted))

    def take_events(self) -> list[Event]:
        """What the commands on it decided since it was loaded, for the unit of work to publish (once)."""
        events, self.events = self.events, []
        return events
