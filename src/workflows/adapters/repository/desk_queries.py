"""The 督办台's reads, shaped for one page: each list comes with what its rows show (the case's stage now, the
escalated limit, the total) in the statement that finds it, so a page of the desk is a handful of statements in one
transaction however many cases run late. The limits come back as plain rows (the columns of case_deadlines, read
by name like a CaseDeadline): the desk only shows them, and a hundred tracked records cost more than the page."""
from __future__ import annotations

from sqlalchemy import Select, false, func, literal_column, select, union, union_all
from sqlalchemy.engine import Row

from workflows.domain.model import FOLLOWUP_OPEN, CaseTask, Escalation, RatingFollowUp, TaskSupervision

from .. import orm
from .base import _Repository, among


def uncounted():
    """The running limits not counted overdue yet (case_deadlines.overdue, statistics_counts.py): as the partial
    index ix_case_deadlines_uncounted is written (migration 0043), so the database uses it."""
    d = orm.case_deadlines
    return d.c.met_at.is_(None), d.c.paused == false(), d.c.due_at.is_not(None), d.c.overdue == false()


class DeskQueries(_Repository):
    @staticmethod
    def _running(agency_code: str):
        """The agency's running limits that can be late: not met, not paused, with a due moment. As the partial
        indexes ix_case_deadlines_running_* are written (migration 0030), so the database uses them; each limit
        carries its case's place, and a running limit is an open case's (closing a case meets its limits)."""
        d = orm.case_deadlines
        return (d.c.agency_code == agency_code, d.c.met_at.is_(None), d.c.paused == false(),
                d.c.due_at.is_not(None))

    def escalation_page(self, agency_code: str, hall_code: str, sort: str, limit: int,
                        offset: int) -> tuple[list[tuple[Escalation, str, Row | None]], int]:
        """(a page of the hall's open escalations, each with its case's stage now and its escalated limit if that
        still runs, as a row of the limit's columns; how many are open). By level (red before yellow, the oldest
        first: ix_escalations_open serves the order) or by the escalated limit's due moment (the soonest first, a
        paused limit last). The limit and the total (an index-only count of the open ones, a scalar subquery)
        come in the same statement, not in round trips of their own."""
        e, c, d = orm.escalations, orm.cases, orm.case_deadlines
        total = (select(func.count()).select_from(e)
                 .where(e.c.agency_code == agency_code, e.c.hall_code == hall_code, e.c.status == "open"))
        query = (select(Escalation, c.c.stage, *d.c)
                 .join(c, c.c.id == Escalation.case_id)
                 .outerjoin(d, (d.c.case_id == Escalation.case_id) & (d.c.kind == Escalation.limit_kind))
                 .where(Escalation.agency_code == agency_code, Escalation.hall_code == hall_code,
                        Escalation.status == "open"))
        if sort == "due":
            order = (d.c.due_at.is_(None), d.c.due_at, Escalation.id)
        else:
            order = (Escalation.level, Escalation.raised_at, Escalation.id)
        rows, (count,) = self._counted(query.order_by(*order).limit(limit).offset(offset), offset, total)
        return [(row[0], row[1], row if row.id is not None and row.met_at is None else None) for row in rows], count

    def _counted(self, page: Select, offset: int, *counts: Select) -> tuple[list[Row], tuple[int, ...]]:
        """(the rows of `page`, which starts at `offset`; what each of `counts` counts): the counts ride on the
        page's statement as scalar subqueries (the database reads each once); without rows they are nothing on a
        first page, and are read in a statement of their own only for a page past the last."""
        subqueries = [count.scalar_subquery().label(f"count_{n}") for n, count in enumerate(counts)]
        rows = self.session.execute(page.add_columns(*subqueries)).all()
        if rows:
            return rows, tuple(rows[0][-len(counts):])
        return [], tuple(self.session.execute(select(*subqueries)).one()) if offset else (0,) * len(counts)

    def limits_at_risk_rows(self, agency_code: str, hall_code: str, now, limit: int, offset: int = 0) -> list[Row]:
        """The hall's running, unpaused limits past their warning or due moment, soonest due first, as rows of the
        limit's columns with the case's number, item name and stage (StatisticsRepository.limits_at_risk's walk
        of ix_case_deadlines_running_hall, without tracked records)."""
        return self.session.execute(self._at_risk(agency_code, hall_code, now).limit(limit).offset(offset)).all()

    def limits_at_risk_page(self, agency_code: str, hall_code: str, now, limit: int,
                            offset: int) -> tuple[list[Row], int]:
        """(a page of limits_at_risk_rows, how many limits of the hall are at risk): the count reads only
        ix_case_deadlines_at_risk (migration 0052), which holds every column it tests: no limit's row is visited."""
        d = orm.case_deadlines
        total = select(func.count()).select_from(d).where(*self._at_risk_where(agency_code, hall_code, now))
        rows, (count,) = self._counted(self._at_risk(agency_code, hall_code, now).limit(limit).offset(offset), offset,
                                       total)
        return rows, count

    @classmethod
    def _at_risk(cls, agency_code: str, hall_code: str, now) -> Select:
        c, d = orm.cases, orm.case_deadlines
        return (select(*d.c, c.c.number, c.c.item_name, c.c.stage).join(c, c.c.id == d.c.case_id)
                .where(*cls._at_risk_where(agency_code, hall_code, now)).order_by(d.c.due_at, d.c.id))

    @classmethod
    def _at_risk_where(cls, agency_code: str, hall_code: str, now) -> tuple:
        d = orm.case_deadlines
        return (*cls._running(agency_code), d.c.hall_code == hall_code,
                (d.c.warning_at <= now) | (d.c.due_at < now))

    def awaiting_supervisor(self, agency_code: str, hall_code: str, limit: int, offset: int = 0) -> list[Row]:
        """(id, number, item name, stage) of the hall's open cases with an extension request to decide or a
        suspension (中止) to end, by id. Each kind walks its partial index (ix_extension_requests_requested,
        ix_case_pauses_open) in case order to the open case's index entry (ix_cases_open_id) and stops at `limit`
        of the hall's (and the pages before); the two short lists are then merged: not every agency's suspended
        cases hashed first."""
        c, e, p = orm.cases, orm.extension_requests, orm.case_pauses
        kinds = ((e, (e.c.status == "requested",)), (p, (p.c.ended_at.is_(None), p.c.kind == "suspension")))
        found = [select(c.c.id, c.c.number, c.c.item_name, c.c.stage).join(table, table.c.case_id == c.c.id)
                 .where(*where, c.c.agency_code == agency_code, c.c.hall_code == hall_code, c.c.status != "closed")
                 .order_by(c.c.id).limit(offset + limit).subquery() for table, where in kinds]
        both = union(*(select(*part.c) for part in found)).subquery()
        return self.session.execute(select(*both.c).order_by(both.c.id).limit(limit).offset(offset)).all()

    def supervision_page(self, agency_code: str, hall_code: str, limit: int,
                         offset: int) -> tuple[list[tuple[TaskSupervision, CaseTask]], int, int]:
        """(a page of the hall's 督办 with their tasks, those waiting for a reply first, then the newest; how many
        there are; how many wait for a reply). Each half walks its own index in that order and stops at the end of
        this page (the waiting few ix_task_supervisions_unreplied, migration 0052; the replied ones the hall's index
        by created_at, backwards): the hall's years of 督办 are not sorted for one page. The counts are index-only
        and ride on the page's statement."""
        s = orm.task_supervisions
        hall = (s.c.agency_code == agency_code, s.c.hall_code == hall_code)
        halves_where = (s.c.replied_at.is_(None), s.c.replied_at.is_not(None))  # waiting for a reply, replied
        halves = [select(s.c.id, s.c.created_at, literal_column(str(rank)).label("rank")).where(*hall, replied)
                  .order_by(s.c.created_at.desc(), s.c.id.desc()).limit(offset + limit).subquery()
                  for rank, replied in enumerate(halves_where)]
        both = union_all(*(select(*half.c) for half in halves)).subquery()
        page = (select(*both.c).order_by(both.c.rank, both.c.created_at.desc(), both.c.id.desc())
                .limit(limit).offset(offset).subquery())  # the page's ids first: only its rows meet their tasks
        query = (select(TaskSupervision, CaseTask).join(page, page.c.id == TaskSupervision.id)
                 .join(CaseTask, CaseTask.id == TaskSupervision.task_id)
                 .order_by(page.c.rank, page.c.created_at.desc(), page.c.id.desc()))
        rows, (total, waiting) = self._counted(query, offset, select(func.count()).select_from(s).where(*hall),
                                               select(func.count()).select_from(s).where(*hall, halves_where[0]))
        return [(row[0], row[1]) for row in rows], total, waiting

    def followup_page(self, agency_code: str, hall_code: str, limit: int,
                      offset: int) -> tuple[list[RatingFollowUp], int]:
        """(a page of the hall's open 差评回访, the soonest due first; how many are open): the page and the count
        both walk ix_rating_followups_desk (agency, hall, status, due moment)."""
        f = orm.rating_followups
        where = (f.c.agency_code == agency_code, f.c.hall_code == hall_code, f.c.status == FOLLOWUP_OPEN)
        page = (select(RatingFollowUp).where(*where).order_by(RatingFollowUp.due_at, RatingFollowUp.id)
                .limit(limit).offset(offset))
        rows, (total,) = self._counted(page, offset, select(func.count()).select_from(f).where(*where))
        return [row[0] for row in rows], total

    def running_limit_rows(self, case_ids: list[int]) -> list[Row]:
        """The running (not met) limits of the cases, as rows."""
        if not case_ids:
            return []
        d = orm.case_deadlines
        return self.session.execute(select(d).where(among(self.session, d.c.case_id, case_ids), d.c.met_at.is_(None))
                                    .order_by(d.c.case_id, d.c.id)).all()

