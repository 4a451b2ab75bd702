"""A case's clock: its limits and pauses, its timers and message waits, the escalations they raise."""
from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from workflows.domain.model import CLOSED, Case, CaseDeadline, CasePause, Escalation, ExtensionRequest

from .. import orm
from .base import _MEMO, _Repository, execute_at_commit, insert_of, rows_of_case, written_in


class DeadlineRepository(_Repository):
    """A case's limits, pauses and extension requests, each read once per transaction (_remembered)."""

    def for_case(self, case_id: int) -> list[CaseDeadline]:
        return list(self._remembered(("deadlines", case_id), lambda: self._read(CaseDeadline, case_id)))

    def add(self, deadline: CaseDeadline) -> None:
        self.session.add(deadline)
        self._remember_added(("deadlines", deadline.case_id), deadline)

    def none_yet(self, case_id: int) -> list[CaseDeadline]:
        """A case not accepted yet has no limits and no extension requests (its clock starts at acceptance):
        nothing to read; what this transaction starts is remembered as it is added."""
        self._remembered(("deadlines", case_id), list)
        self._remembered(("extensions", case_id), list)
        return []

    def remembered(self, case_id: int) -> list[CaseDeadline] | None:
        """The case's limits if this transaction read them already (all of them, as they are now), else None."""
        held = self.session.info.get(_MEMO)
        if held is None or held[0] is not self.session.get_transaction():
            return None
        rows = held[1].get(("deadlines", case_id))
        return None if rows is None else list(rows)

    def pauses(self, case_id: int) -> list[CasePause]:
        return list(self._remembered(("pauses", case_id), lambda: self._read(CasePause, case_id)))

    def add_pause(self, pause: CasePause) -> None:
        self.session.add(pause)
        self._remember_added(("pauses", pause.case_id), pause)

    def extensions(self, case_id: int) -> list[ExtensionRequest]:
        return list(self._remembered(("extensions", case_id), lambda: self._read(ExtensionRequest, case_id)))

    def _read(self, record, case_id: int) -> list:
        with self.session.no_autoflush:  # what this transaction adds is remembered, not read back
            return list(self.session.scalars(rows_of_case(record), {"case_id": case_id}))

    def extension(self, request_id: int) -> ExtensionRequest | None:
        return self.session.get(ExtensionRequest, request_id)

    def add_extension(self, request: ExtensionRequest) -> None:
        self.session.add(request)
        self._remember_added(("extensions", request.case_id), request)

    def cases_with_unmet(self, after: int = 0, limit: int | None = None) -> list[int]:
        """The cases not closed with a running limit, by id (those after `after`, at most `limit`: one batch).
        Walks the open cases (ix_cases_open_id), a probe of each one's limits: closing meets every limit, and the
        closed cases, most of all at a million, hold the low ids a walk of the limits would read first."""
        cases, limits = orm.cases, orm.case_deadlines
        running = select(limits.c.id).where(limits.c.case_id == cases.c.id, limits.c.met_at.is_(None)).exists()
        query = (select(cases.c.id).where(cases.c.status != written_in(CLOSED), cases.c.id > after, running)
                 .order_by(cases.c.id).limit(limit))
        return list(self.session.scalars(query))


class TimerRepository(_Repository):
    """The BPMN timers cases wait on, indexed by due moment."""

    def replace(self, case_id: int, timers: list[tuple[str, datetime]],
                previous: list[tuple[str, datetime]] | None = None) -> None:
        """Make the case's rows these timers, writing only what changed: the rows of timers no longer waited on
        are deleted, new ones inserted, moved ones updated; a timer that stays as it was is not rewritten (nor its
        index entry). `previous`: the rows as they are (the timers of the workflow as the command loaded it), so
        that an unchanged set sends nothing; None when they are not known. Two statements at most, none reading,
        sent at commit (execute_at_commit)."""
        table = orm.case_timers
        wanted = dict(timers)
        if previous is not None:
            known = dict(previous)
            gone = [task_id for task_id in known if task_id not in wanted]
            moved = [(task_id, due) for task_id, due in timers if known.get(task_id) != due]
            if gone:
                execute_at_commit(self.session, table.delete().where(table.c.case_id == case_id,
                                                                     table.c.task_id.in_(gone)))
        else:
            stale = table.delete().where(table.c.case_id == case_id)
            if timers:
                stale = stale.where(table.c.task_id.not_in(list(wanted)))
            execute_at_commit(self.session, stale)
            moved = timers
        if moved:
            execute_at_commit(self.session, _timer_upsert(self.session.get_bind().dialect.name),
                              [{"case_id": case_id, "task_id": task_id, "due_at": due} for task_id, due in moved])

    def due_cases(self, now: datetime, limit: int) -> list[int]:
        table = orm.case_timers
        query = (select(table.c.case_id, func.min(table.c.due_at).label("first")).where(table.c.due_at <= now)
                 .group_by(table.c.case_id).order_by("first").limit(limit))
        return [case_id for case_id, _ in self.session.execute(query)]

    def has_due(self, case_id: int, now: datetime) -> bool:
        table = orm.case_timers
        return self.session.scalar(select(func.count()).where(table.c.case_id == case_id,
                                                              table.c.due_at <= now)) > 0

    def next_due(self) -> datetime | None:
        return self.session.scalar(select(func.min(orm.case_timers.c.due_at)))


class MessageWaitRepository(_Repository):
    """The messages open cases wait for, with their correlation values, indexed by agency and message name."""

    def replace(self, case: Case, waits: list[tuple[str, dict]],
                previous: list[tuple[str, dict]] | None = None) -> None:
        """Make the case's rows these waits; `previous`: the rows as they are (None: not known): equal, nothing is
        written. Sent at commit (execute_at_commit)."""
        if previous is not None and list(previous) == list(waits):
            return
        table = orm.case_message_waits
        if previous != []:
            execute_at_commit(self.session, table.delete().where(table.c.case_id == case.id))
        if waits:
            execute_at_commit(self.session, insert_of(table), [
                {"case_id": case.id, "position": position, "agency_code": case.agency_code, "message_name": name,
                 "correlation": correlation} for position, (name, correlation) in enumerate(waits)])

    def waiting(self, agency_code: str, name: str) -> list[tuple[int, dict]]:
        """(case id, correlation values) of each wait of the agency's open cases for message `name`."""
        table = orm.case_message_waits
        query = (select(table.c.case_id, table.c.correlation)
                 .where(table.c.agency_code == agency_code, table.c.message_name == name).order_by(table.c.case_id))
        return [(case_id, correlation) for case_id, correlation in self.session.execute(query)]


@cache
def _timer_upsert(dialect: str):
    """Insert a timer row, or move its due moment if it moved (else leave the row as it is); built once."""
    table = orm.case_timers
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    return statement.on_conflict_do_update(index_elements=[table.c.case_id, table.c.task_id],
                                           set_={"due_at": statement.excluded.due_at},
                                           where=table.c.due_at != statement.excluded.due_at)


class EscalationRepository(_Repository):
    def find(self, case_id: int, limit_kind: str, level: str) -> Escalation | None:
        return self.session.scalar(select(Escalation).where(Escalation.case_id == case_id,
                                                            Escalation.limit_kind == limit_kind,
                                                            Escalation.level == level))

    def get(self, escalation_id: int) -> Escalation | None:
        return self.session.get(Escalation, escalation_id)

    def add(self, escalation: Escalation) -> None:
        self.session.add(escalation)

    def for_case(self, case_id: int) -> list[Escalation]:
        return list(self.session.scalars(select(Escalation).where(Escalation.case_id == case_id)
                                         .order_by(Escalation.id)))

    def desk(self, agency_code: str, hall_code: str, status: str | None = "open", limit: int = 200,
             offset: int = 0, sort: str = "level") -> list[Escalation]:
        """A page of the hall's escalations: by level (red before yellow, the oldest first) or by the escalated
        limit's due moment (the soonest first, a paused limit last). 'red' < 'yellow' as text, so the level order
        is a plain ORDER BY level that the open escalations' partial index (ix_escalations_open) serves."""
        query = select(Escalation).where(Escalation.agency_code == agency_code, Escalation.hall_code == hall_code)
        if status:
            query = query.where(Escalation.status == status)
        if sort == "due":
            d = orm.case_deadlines
            query = query.outerjoin(d, (d.c.case_id == Escalation.case_id) & (d.c.kind == Escalation.limit_kind))
            order = (d.c.due_at.is_(None), d.c.due_at, Escalation.id)
        else:
            order = (Escalation.level, Escalation.raised_at, Escalation.id)
        return list(self.session.scalars(query.order_by(*order).limit(limit).offset(offset)))

    def count_open(self, agency_code: str, hall_code: str) -> int:
        """How many escalations of the hall wait for a supervisor (an index-only count of the open ones)."""
        return self.session.scalar(select(func.count()).select_from(Escalation).where(
            Escalation.agency_code == agency_code, Escalation.hall_code == hall_code, Escalation.status == "open"))
