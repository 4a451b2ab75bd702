"""What people ask of each other on a task: 委派, 加签, 督办, and who stands in for whom (外出代理)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from workflows.domain.case import TaskParts
from workflows.domain.model import (PENDING, READY, CaseTask, Substitution, TaskActivity, TaskRequest,
                                    TaskSubmission, TaskSupervision)

from .base import _Repository, written_in


class TaskRequestRepository(_Repository):
    """委派 and 加签 requests on tasks, and the holders' submissions held for after- and parallel signers."""

    def add(self, request: TaskRequest) -> None:
        self.session.add(request)

    def get(self, request_id: int) -> TaskRequest | None:
        return self.session.get(TaskRequest, request_id)

    def task_of(self, request_id: int) -> str | None:
        """The task of a request, read alone: the command loads the task for update, the request with it."""
        return self.session.scalar(select(TaskRequest.task_id).where(TaskRequest.id == request_id))

    def for_task(self, task_id: str) -> list[TaskRequest]:
        return list(self.session.scalars(select(TaskRequest).where(TaskRequest.task_id == task_id)
                                         .order_by(TaskRequest.id)))

    def pending_for(self, username: str) -> list[tuple[TaskRequest, CaseTask]]:
        """The requests waiting for `username` on tasks still open, oldest first."""
        query = (select(TaskRequest, CaseTask).join(CaseTask, CaseTask.id == TaskRequest.task_id)
                 .where(TaskRequest.assignee == username, TaskRequest.status == PENDING,
                        CaseTask.state == written_in(READY))
                 .order_by(TaskRequest.requested_at, TaskRequest.id))
        return [tuple(row) for row in self.session.execute(query)]

    def submission(self, task_id: str) -> TaskSubmission | None:
        return self.session.get(TaskSubmission, task_id)

    def activity(self, task_id: str) -> TaskActivity:
        """Whether the task has requests, a held submission, an unreplied 督办: one query for all three."""
        return TaskActivity(*map(bool, self.session.execute(select(*activity_checks(task_id))).one()))

    def parts(self, task_id: str, activity: TaskActivity | None = None) -> TaskParts:
        """Who else has a part in the task (`activity`: as already read), its requests and unreplied 督办 read only
        where there are any."""
        activity = self.activity(task_id) if activity is None else activity
        with self.session.no_autoflush:
            requests = self.for_task(task_id) if activity.requests else []
            unreplied = [s for s in SupervisionRepository(self.session).for_task(task_id) if s.replied_at is None] \
                if activity.unreplied else []
        return TaskParts(activity, requests, unreplied)

    def add_submission(self, submission: TaskSubmission) -> None:
        self.session.add(submission)

    def drop_submission(self, submission: TaskSubmission) -> None:
        self.session.delete(submission)


def activity_checks(task_id: str) -> tuple:
    """The three EXISTS of TaskActivity, as columns another query can carry."""
    unreplied = select(TaskSupervision.id).where(TaskSupervision.task_id == task_id,
                                                 TaskSupervision.replied_at.is_(None))
    return (select(TaskRequest.id).where(TaskRequest.task_id == task_id).exists(),
            select(TaskSubmission.task_id).where(TaskSubmission.task_id == task_id).exists(), unreplied.exists())


class SupervisionRepository(_Repository):
    """督办 instructions on tasks and their replies."""

    def add(self, supervision: TaskSupervision) -> None:
        self.session.add(supervision)

    def get(self, supervision_id: int) -> TaskSupervision | None:
        return self.session.get(TaskSupervision, supervision_id)

    def task_of(self, supervision_id: int) -> str | None:
        """The task of a 督办, read alone: the reply loads the task for update, its unreplied 督办 with it."""
        return self.session.scalar(select(TaskSupervision.task_id).where(TaskSupervision.id == supervision_id))

    def for_task(self, task_id: str) -> list[TaskSupervision]:
        return list(self.session.scalars(select(TaskSupervision).where(TaskSupervision.task_id == task_id)
                                         .order_by(TaskSupervision.id)))

    def awaiting_reply(self, agency_code: str, hall_code: str, username: str,
                       roles: list[str]) -> list[tuple[TaskSupervision, CaseTask]]:
        """Unreplied 督办 on open tasks `username` handles: held by them, or unclaimed and of one of their roles."""
        handles = (CaseTask.assignee == username) | (CaseTask.assignee.is_(None) & CaseTask.role.in_(roles))
        query = (select(TaskSupervision, CaseTask).join(CaseTask, CaseTask.id == TaskSupervision.task_id)
                 .where(TaskSupervision.agency_code == agency_code, TaskSupervision.hall_code == hall_code,
                        TaskSupervision.replied_at.is_(None), CaseTask.state == written_in(READY), handles)
                 .order_by(TaskSupervision.created_at, TaskSupervision.id))
        return [tuple(row) for row in self.session.execute(query)]


class SubstitutionRepository(_Repository):
    """外出/休假代理 periods."""

    def add(self, substitution: Substitution) -> None:
        self.session.add(substitution)

    def get(self, substitution_id: int) -> Substitution | None:
        return self.session.get(Substitution, substitution_id)

    def of_user(self, username: str) -> list[Substitution]:
        """The periods a user named, the latest first."""
        return list(self.session.scalars(select(Substitution).where(Substitution.username == username)
                                         .order_by(Substitution.starts_at.desc(), Substitution.id.desc())))

    def covered_by(self, substitute: str, after: datetime) -> list[Substitution]:
        """The periods, not over at `after`, in which `substitute` stands in for someone."""
        return list(self.session.scalars(select(Substitution).where(Substitution.substitute == substitute,
                                                                    Substitution.ends_at > after)
                                         .order_by(Substitution.starts_at, Substitution.id)))

    def active(self, username: str, at: datetime) -> Substitution | None:
        return self.session.scalar(select(Substitution).where(Substitution.username == username,
                                                              Substitution.starts_at <= at,
                                                              Substitution.ends_at > at).limit(1))

    def overlapping(self, username: str, starts_at: datetime, ends_at: datetime) -> Substitution | None:
        """A period of the user's sharing a moment with [starts_at, ends_at) (one dropped before it began is empty)."""
        return self.session.scalar(select(Substitution).where(Substitution.username == username,
                                                              Substitution.starts_at < Substitution.ends_at,
                                                              Substitution.starts_at < ends_at,
                                                              Substitution.ends_at > starts_at).limit(1))
