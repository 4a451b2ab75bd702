"""The plans to migrate running cases to another version of their process (domain/case_migration.py), and the
open cases a plan may move."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.domain.case_migration import MigrationPlan
from workflows.domain.model import CLOSED, Case


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
                           limit: int) -> list[tuple[int, str]]:
        """The next `limit` of the agency's cases still running on version `version_id` (of hall `hall_code` only,
        if given) past case id `after_id`, as (id, number), by id: a keyset, so the pages stay whole while the
        cases read so far leave the version (migrated) or others close meanwhile."""
        query = select(Case.id, Case.number).where(*_open_on(agency_code, version_id, hall_code), Case.id > after_id)
        return [tuple(row) for row in self.session.execute(query.order_by(Case.id).limit(limit))]

    def open_halls(self, agency_code: str, version_id: int) -> set[str]:
        """The halls holding the agency's cases still running on version `version_id`."""
        return set(self.session.scalars(select(Case.hall_code).where(*_open_on(agency_code, version_id))
                                        .distinct()))


def _open_on(agency_code: str, version_id: int, hall_code: str | None = None) -> tuple:
    """The conditions of the agency's open cases on the version (of the hall only, if one is given)."""
    conditions = (Case.agency_code == agency_code, Case.process_version_id == version_id, Case.status != CLOSED)
    return conditions if hall_code is None else (*conditions, Case.hall_code == hall_code)
