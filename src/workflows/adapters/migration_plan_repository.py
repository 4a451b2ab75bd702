"""The plans to migrate running cases to another version of their process (domain/case_migration.py), the open
cases a plan may move, and the runs of a plan on all of them with each case's outcome."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflows.domain.case_migration import MigrationOutcome, MigrationPlan, MigrationRun
from workflows.domain.model import CLOSED, Case

from .orm import case_migration_outcomes as outcomes


class MigrationPlanRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, plan: MigrationPlan) -> None:
        self.session.add(plan)
        self.session.flush()  # its id, for the answer

    def get(self, plan_id: int) -> MigrationPlan | None:
        return self.session.get(MigrationPlan, plan_id) if isinstance(plan_id, int) else None

    def of_agency(self, agency_code: str, limit: int = 100, offset: int = 0) -> list[MigrationPlan]:
        return list(self.session.scalars(select(MigrationPlan).where(MigrationPlan.agency_code == agency_code)
                                         .order_by(MigrationPlan.id.desc()).limit(limit).offset(offset)))

    def open_cases(self, agency_code: str, version_id: int, limit: int = 1000, hall_code: str | None = None,
                   offset: int = 0) -> list[Case]:
        """A page of the agency's cases still running on version `version_id` (of hall `hall_code` only, if
        given), the oldest first."""
        query = select(Case).where(*_open_on(agency_code, version_id, hall_code))
        return list(self.session.scalars(query.order_by(Case.id).limit(limit).offset(offset)))

    def open_numbers_after(self, agency_code: str, version_id: int, hall_code: str | None, after_id: int,
                           limit: int, up_to_id: int) -> list[tuple[int, str]]:
        """The next `limit` of the agency's cases still running on version `version_id` (of hall `hall_code` only,
        if given) past case id `after_id` and up to `up_to_id`, as (id, number), by id: a keyset, so the pages stay
        whole while the cases read so far leave the version (migrated) or others close meanwhile."""
        query = select(Case.id, Case.number).where(*_open_on(agency_code, version_id, hall_code),
                                                   Case.id > after_id, Case.id <= up_to_id)
        return [tuple(row) for row in self.session.execute(query.order_by(Case.id).limit(limit))]

    def open_span(self, agency_code: str, version_id: int, hall_code: str | None) -> tuple[int, int]:
        """How many of the agency's cases run on the version (of the hall only, if given), and the newest's id."""
        count, newest = self.session.execute(select(func.count(), func.max(Case.id))
                                             .where(*_open_on(agency_code, version_id, hall_code))).one()
        return count, newest or 0

    def add_run(self, run: MigrationRun) -> bool:
        """Keep a new run, its id given; False (nothing kept) when another run of its plan is running: the unique
        index of the running runs refuses it, whoever started theirs a moment before."""
        self.session.add(run)
        try:
            self.session.flush()
        except IntegrityError:
            self.session.rollback()
            return False
        return True

    def get_run(self, run_id: int) -> MigrationRun | None:
        return self.session.get(MigrationRun, run_id) if isinstance(run_id, int) else None

    def running_run(self, plan_id: int) -> MigrationRun | None:
        return self.session.scalar(select(MigrationRun).where(MigrationRun.plan_id == plan_id,
                                                              MigrationRun.finished_at.is_(None)))

    def latest_run(self, plan_id: int) -> MigrationRun | None:
        return self.session.scalar(select(MigrationRun).where(MigrationRun.plan_id == plan_id)
                                   .order_by(MigrationRun.id.desc()).limit(1))

    def add_outcome(self, run_id: int, case_id: int, outcome: MigrationOutcome, at: datetime) -> None:
        """One case's outcome in the run; a second for the same case is refused (the primary key): never twice."""
        self.session.execute(insert(outcomes).values(run_id=run_id, case_id=case_id, number=outcome.number,
                                                     migrated=outcome.migrated, error=outcome.error, at=at))

    def last_case_done(self, run_id: int) -> int:
        """The id of the last case the run has an outcome of (it goes by id): where it goes on; 0 before any."""
        return self.session.scalar(select(func.max(outcomes.c.case_id)).where(outcomes.c.run_id == run_id)) or 0

    def outcome_counts(self, run_id: int) -> tuple[int, int]:
        """(migrated, not migrated) of the run's cases so far."""
        rows = self.session.execute(select(outcomes.c.migrated, func.count()).where(outcomes.c.run_id == run_id)
                                    .group_by(outcomes.c.migrated))
        counts = {bool(migrated): count for migrated, count in rows}
        return counts.get(True, 0), counts.get(False, 0)

    def run_outcomes(self, run_id: int, migrated: bool | None = None, limit: int | None = None,
                     offset: int = 0, hall_code: str | None = None) -> list[MigrationOutcome]:
        """The run's outcomes in the order it did the cases (those migrated, or not, only, if `migrated` is given;
        of hall `hall_code`'s cases only, if given)."""
        query = select(outcomes.c.number, outcomes.c.migrated, outcomes.c.error).where(outcomes.c.run_id == run_id)
        if migrated is not None:
            query = query.where(outcomes.c.migrated == migrated)
        if hall_code is not None:
            query = query.join(Case, Case.id == outcomes.c.case_id).where(Case.hall_code == hall_code)
        rows = self.session.execute(query.order_by(outcomes.c.case_id).limit(limit).offset(offset))
        return [MigrationOutcome(number, bool(moved), error) for number, moved, error in rows]

    def open_halls(self, agency_code: str, version_id: int) -> set[str]:
        """The halls holding the agency's cases still running on version `version_id`."""
        return set(self.session.scalars(select(Case.hall_code).where(*_open_on(agency_code, version_id))
                                        .distinct()))


def _open_on(agency_code: str, version_id: int, hall_code: str | None = None) -> tuple:
    """The conditions of the agency's open cases on the version (of the hall only, if one is given)."""
    conditions = (Case.agency_code == agency_code, Case.process_version_id == version_id, Case.status != CLOSED)
    return conditions if hall_code is None else (*conditions, Case.hall_code == hall_code)
