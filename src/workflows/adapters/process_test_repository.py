"""The tests designers saved with their processes (domain/process_tests.py)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.domain.model import SavedTests


class ProcessTestRepository:
    def __init__(self, session: Session):
        self.session = session

    def own(self, process_key: str, agency_code: str | None) -> SavedTests | None:
        """The suite saved for the agency's versions of the process (None: the national one)."""
        owner = (SavedTests.agency_code.is_(None) if agency_code is None
                 else SavedTests.agency_code == agency_code)
        return self.session.scalar(select(SavedTests).where(SavedTests.process_key == process_key, owner))

    def suite(self, process_key: str, agency_code: str | None) -> SavedTests | None:
        """What a publish for the agency runs: its own suite, else the national one."""
        return (self.own(process_key, agency_code) if agency_code is not None else None) or self.own(process_key,
                                                                                                     None)

    def add(self, saved: SavedTests) -> None:
        self.session.add(saved)
