"""The audit of reads in full of personal data (domain.privacy): written by the services, read by administrators."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.domain.model import PersonalDataRead


class PersonalDataReadRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, read: PersonalDataRead) -> None:
        self.session.add(read)

    def search(self, agency_code: str, case_id: int | None = None, actor: str | None = None, limit: int = 100,
               offset: int = 0) -> list[PersonalDataRead]:
        query = select(PersonalDataRead).where(PersonalDataRead.agency_code == agency_code)
        if case_id is not None:
            query = query.where(PersonalDataRead.case_id == case_id)
        if actor:
            query = query.where(PersonalDataRead.actor == actor)
        query = query.order_by(PersonalDataRead.at.desc(), PersonalDataRead.id.desc())
        return list(self.session.scalars(query.limit(limit).offset(offset)))
