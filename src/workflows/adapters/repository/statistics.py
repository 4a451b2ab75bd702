"""The figures of the 统计 page."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import case, func, select, true, union_all
from sqlalchemy.engine import Row

from workflows.domain.model import READY, SUPERVISION_STAGE, CasePause, ExtensionRequest

from .. import orm
from .base import among, written_in
from .desk_queries import DeskQueries, uncounted


class StatisticsRepository(DeskQueries):
    """Figures for the supervisors' desk and statistics, counted by the database: no case is loaded whole.

    Written with operators (`&`, `|`, `~`) and CASE sums only, so the same SQL runs on SQLite and PostgreSQL.
    """

    def overdue_open_cases(self, agency_code: str, now: datetime) -> list[tuple[str, str, int]]:
        """(hall, item code, how many) of the agency's open cases with a running, unpaused limit past its due
        moment at `now`: late whatever happens next. Read from overdue_counts (the cases with a limit counted
        overdue: a row per hall and item), plus the cases whose limits came due since the scheduler's last round
        and have none counted yet (ix_case_deadlines_uncounted past due: a few entries), in one statement. No
        case is read, and no name: the page names the items from the catalog."""
        d, k = orm.case_deadlines, orm.overdue_counts
        counted = d.alias("counted")
        pending = (select(d.c.hall_code, d.c.item_code)
                   .where(*uncounted(), d.c.due_at < now, d.c.agency_code == agency_code,
                          ~select(counted.c.id).where(counted.c.case_id == d.c.case_id,
                                                      counted.c.overdue == true()).exists())
                   .group_by(d.c.hall_code, d.c.item_code, d.c.case_id).subquery())  # a case once
        both = union_all(select(k.c.hall_code, k.c.item_code, k.c.overdue.label("n"))
                         .where(k.c.agency_code == agency_code, k.c.overdue > 0),
                         select(pending.c.hall_code, pending.c.item_code, func.count().label("n"))
                         .group_by(pending.c.hall_code, pending.c.item_code)).subquery()
        query = select(both.c.hall_code, both.c.item_code, func.sum(both.c.n)).group_by(both.c.hall_code,
                                                                                       both.c.item_code)
        return [(hall, item, int(n)) for hall, item, n in self.session.execute(query)]

    def closed_counts(self, agency_code: str) -> list[tuple[str, str, str | None, int, int]]:
        """(hall, item code, item name, cases counted, on time) of the agency's closed cases per hall and item, from
        their running totals (closed_case_counts, a row per hall and item): one read of a few hundred rows serves
        every rate of the statistics page."""
        k = orm.closed_case_counts
        query = (select(k.c.hall_code, k.c.item_code, func.max(k.c.item_name), func.sum(k.c.counted),
                        func.sum(k.c.on_time))
                 .where(k.c.agency_code == agency_code).group_by(k.c.hall_code, k.c.item_code))
        return [(hall, item, name, int(total or 0), int(punctual or 0))
                for hall, item, name, total, punctual in self.session.execute(query)]

    def closed_on_time(self, agency_code: str, hall_code: str | None = None, by: str | None = None,
                       overdue: list[tuple[str, str, str, int]] = (),
                       closed: list[tuple[str, str, str | None, int, int]] | None = None
                       ) -> list[tuple[str, str, int, int]]:
        """(key, name, cases counted, on time) of the agency's (or one hall's) cases, one row per item
        (`by="item"`), per hall (`by="hall"`), or a single total row (`by=None`). Counted: the closed cases, and
        the open ones already past a due moment (`overdue`, from overdue_open_cases), which are late whatever
        happens next. A case withdrawn or terminated (撤件, 终止) was never decided: it counts neither way.

        The closed cases are read from their running counts (`closed`, from closed_counts, read here if not
        given): however many have closed, none is scanned."""
        figures: dict[str, list] = {}
        rows = list(self.closed_counts(agency_code) if closed is None else closed)
        rows += [(hall, item, name, late, 0) for hall, item, name, late in overdue]  # late, whatever comes
        for hall, item_code, name, total, punctual in rows:
            if hall_code in (None, hall):
                known = figures.setdefault({"item": item_code, "hall": hall, None: ""}[by], [None, 0, 0])
                known[0] = max(filter(None, (known[0], name)), default=None)
                known[1], known[2] = known[1] + total, known[2] + punctual
        if by is None:
            _, total, punctual = figures.get("", [None, 0, 0])
            return [("", "", total, punctual)]
        return [(row_key, row_key if by == "hall" else name, total, punctual)
                for row_key, (name, total, punctual) in sorted(figures.items()) if total]

    def tasks_on_time(self, agency_code: str, hall_code: str) -> list[tuple[str, str, int, int]]:
        """(username, full name, tasks completed, completed on time) per person for a hall's completed tasks, from
        their running counts (statistics_counts.py says which count and which are on time)."""
        k, u = orm.task_counts, orm.users
        query = (select(k.c.username, u.c.full_name, k.c.completed, k.c.on_time)
                 .select_from(k.outerjoin(u, u.c.username == k.c.username))
                 .where(k.c.agency_code == agency_code, k.c.hall_code == hall_code, k.c.completed > 0)
                 .order_by(k.c.username))
        return [(username, name or username, total, punctual)
                for username, name, total, punctual in self.session.execute(query)]

    def backlog(self, agency_code: str, hall_code: str) -> list[tuple[str, int, int]]:
        """(stage, open cases in the hall, open cases in the agency) per stage where cases wait, from the open
        cases' running counts (statistics_counts.py): a few rows per hall, however many cases are open."""
        k = orm.open_case_counts
        in_hall = func.coalesce(func.sum(case((k.c.hall_code == hall_code, k.c.open), else_=0)), 0).label("in_hall")
        total = func.sum(k.c.open).label("total")
        query = (select(k.c.stage, in_hall, total).where(k.c.agency_code == agency_code)
                 .group_by(k.c.stage).having(func.sum(k.c.open) > 0)
                 .order_by(in_hall.desc(), total.desc(), k.c.stage))
        return [(stage, int(hall), int(agency)) for stage, hall, agency in self.session.execute(query)]

    def opened_and_closed(self, agency_code: str, hall_code: str,
                          weeks: list[date]) -> list[tuple[int, int, int, int]]:
        """Per week (its Monday, Beijing time): (opened in the hall, closed in the hall, opened in the agency,
        closed in the agency), from the running counts."""
        if not weeks:
            return []
        k = orm.case_counts
        in_hall = k.c.hall_code == hall_code
        query = (select(k.c.week, func.sum(case((in_hall, k.c.opened), else_=0)),
                        func.sum(case((in_hall, k.c.closed), else_=0)), func.sum(k.c.opened), func.sum(k.c.closed))
                 .where(k.c.agency_code == agency_code, k.c.week.in_(weeks)).group_by(k.c.week))
        found = {week: tuple(int(n or 0) for n in figures) for week, *figures in self.session.execute(query)}
        return [found.get(week, (0, 0, 0, 0)) for week in weeks]

    def case_summaries(self, case_ids: list[int]) -> dict[int, dict]:
        """id -> number, item name, stage, status, result of cases (without their workflow state or data)."""
        if not case_ids:
            return {}
        c = orm.cases
        query = select(c.c.id, c.c.number, c.c.item_name, c.c.stage, c.c.status, c.c.result).where(
            among(self.session, c.c.id, case_ids))
        return {row["id"]: dict(row) for row in self.session.execute(query).mappings()}

    def open_tasks(self, case_ids: list[int]) -> list[Row]:
        """(case_id, name, role, assignee) of the cases' open tasks of their own path (not the supervisor's 督办
        beside it): who holds them, for the desk's rows; plain rows, not a hundred task records to track."""
        if not case_ids:
            return []
        t = orm.case_tasks
        return list(self.session.execute(select(t.c.case_id, t.c.name, t.c.role, t.c.assignee)
                                         .where(among(self.session, t.c.case_id, case_ids),
                                                t.c.state == written_in(READY), t.c.stage != SUPERVISION_STAGE)
                                         .order_by(t.c.case_id, t.c.created_at, t.c.id)))

    def pending_extensions(self, case_ids: list[int]) -> list[ExtensionRequest]:
        if not case_ids:
            return []
        query = select(ExtensionRequest).where(among(self.session, ExtensionRequest.case_id, case_ids),
                                               ExtensionRequest.status == "requested")
        return list(self.session.scalars(query.order_by(ExtensionRequest.id)))

    def open_pauses(self, case_ids: list[int]) -> list[CasePause]:
        if not case_ids:
            return []
        return list(self.session.scalars(select(CasePause).where(among(self.session, CasePause.case_id, case_ids),
                                                                 CasePause.ended_at.is_(None))
                                         .order_by(CasePause.id)))
