"""The external tasks cases wait on (domain/external_tasks.py): kept in line with the workflows by every command,
fetched and locked by workers.

Two workers fetching at once never get the same task: on PostgreSQL the candidates are selected FOR UPDATE SKIP
LOCKED (a row another fetch is locking is passed over, not waited for); on SQLite a fetch's read is watched by the
write guard (write_lock.py): its locks are written against the snapshot it read, and a fetch overtaken by another
is run again (services/retries.py), so the second fetch sees the first one's locks.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from workflows.domain.external_tasks import ExternalTask, FetchRequest

from . import write_lock
from .orm import cases


class ExternalTaskRepository:
    def __init__(self, session: Session):
        self.session = session

    def get(self, task_id: str, lock: bool = False) -> ExternalTask | None:
        """`lock`: read again from the database and locked (None if another transaction removed it meanwhile)."""
        if not lock:
            return self.session.get(ExternalTask, task_id)
        query = select(ExternalTask).where(ExternalTask.id == task_id).with_for_update()
        write_lock.watch_unversioned(self.session)
        return self.session.scalar(query.execution_options(populate_existing=True))

    def for_case(self, case_id: int) -> list[ExternalTask]:
        query = select(ExternalTask).where(ExternalTask.case_id == case_id).order_by(ExternalTask.created_at)
        return list(self.session.scalars(query))

    def sync(self, case_id: int, waiting: list[ExternalTask]) -> None:
        """The case's rows become those of `waiting` (the tasks its workflow waits on now): a row already there
        keeps its lock and retries, a new one is added, one whose task is gone (done, cancelled, failed) goes."""
        existing = {row.id: row for row in self.for_case(case_id)}
        for row in waiting:
            if existing.pop(row.id, None) is None:
                self.session.add(row)
        for row in existing.values():
            self.session.delete(row)

    def fetchable(self, agency_code: str, request: FetchRequest, now: datetime,
                  lock: bool = True) -> list[ExternalTask]:
        """Up to `max_tasks` tasks of the agency on the request's topics that no live lock holds and no failure's
        retry timeout keeps back; `lock`: locked for this transaction (PostgreSQL: skipping rows another fetch
        holds)."""
        free = and_(or_(ExternalTask.lock_expires_at.is_(None), ExternalTask.lock_expires_at <= now),
                    or_(ExternalTask.retry_at.is_(None), ExternalTask.retry_at <= now))
        query = (select(ExternalTask).where(ExternalTask.agency_code == agency_code, free,
                                            or_(*[self._topic_filter(topic) for topic in request.topics]))
                 .order_by(*self._order(request)).limit(request.max_tasks))
        if not lock:
            return list(self.session.scalars(query))
        write_lock.watch_unversioned(self.session)
        return list(self.session.scalars(query.with_for_update(skip_locked=True)))

    @staticmethod
    def _topic_filter(topic):
        condition = ExternalTask.topic == topic.name
        if topic.business_key is not None:
            condition = and_(condition, ExternalTask.case_number == topic.business_key)
        if topic.process_keys is not None:
            condition = and_(condition, ExternalTask.process_key.in_(topic.process_keys))
        if topic.process_variables:
            held = [_json_value(cases.c.data[name], value) == value for name, value in topic.process_variables]
            condition = and_(condition, exists().where(cases.c.id == ExternalTask.case_id, *held))
        return condition

    @staticmethod
    def _order(request: FetchRequest) -> list:
        created = ExternalTask.created_at.desc() if request.newest_first else ExternalTask.created_at
        return ([ExternalTask.priority.desc()] if request.use_priority else []) + [created, ExternalTask.id]


def _json_value(element, value):
    """A case data item read as the type of the value it is compared with (SQLite json_extract, PostgreSQL ->>)."""
    if isinstance(value, bool):
        return element.as_boolean()
    if isinstance(value, int):
        return element.as_integer()
    return element.as_float() if isinstance(value, float) else element.as_string()
