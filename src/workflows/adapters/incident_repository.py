"""Reading the incidents (故障) of an agency: failed cases with the history line of their latest failure, and the
failed messages to other agencies with their sending case. SQL only; who may see what is the service's business."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from workflows.domain.model import FAILED, MESSAGE_FAILED

from .orm import agency_messages, case_history, cases

FAILURE_ACTIONS = ("failed", "external_failed")  # the history lines a step failure writes (progress, external)


@dataclass(frozen=True)
class FailedCaseRow:
    case_id: int
    number: str
    hall_code: str
    item_code: str
    item_name: str
    process_version_id: int
    since: datetime | None
    task_name: str | None
    error: str | None
    detail: dict | None


@dataclass(frozen=True)
class FailedMessageRow:
    message_id: str
    name: str
    to_agency: str
    error: str | None
    created_at: datetime
    case_id: int
    number: str
    hall_code: str
    item_code: str
    item_name: str


class IncidentRepository:
    def __init__(self, session: Session):
        self.session = session

    def failed_cases(self, agency_code: str, hall_code: str | None) -> list[FailedCaseRow]:
        latest = (select(case_history.c.case_id, func.max(case_history.c.id).label("id"))
                  .where(case_history.c.action.in_(FAILURE_ACTIONS)).group_by(case_history.c.case_id).subquery())
        query = (select(cases.c.id, cases.c.number, cases.c.hall_code, cases.c.item_code, cases.c.item_name,
                        cases.c.process_version_id, case_history.c.at, case_history.c.task_name,
                        case_history.c.message, case_history.c.detail)
                 .outerjoin(latest, latest.c.case_id == cases.c.id)
                 .outerjoin(case_history, case_history.c.id == latest.c.id)
                 .where(cases.c.status == FAILED, cases.c.agency_code == agency_code))
        if hall_code is not None:
            query = query.where(cases.c.hall_code == hall_code)
        return [FailedCaseRow(*row) for row in self.session.execute(query.order_by(cases.c.id))]

    def failed_messages(self, agency_code: str, hall_code: str | None) -> list[FailedMessageRow]:
        m = agency_messages
        query = (select(m.c.id, m.c.name, m.c.to_agency, m.c.error, m.c.created_at, cases.c.id, cases.c.number,
                        cases.c.hall_code, cases.c.item_code, cases.c.item_name)
                 .join(cases, and_(cases.c.id == m.c.source_case_id))
                 .where(m.c.status == MESSAGE_FAILED, cases.c.agency_code == agency_code))
        if hall_code is not None:
            query = query.where(cases.c.hall_code == hall_code)
        return [FailedMessageRow(*row) for row in self.session.execute(query.order_by(m.c.created_at))]
