"""好差评 and the 差评回访 that follow a bad rating."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from workflows.domain.model import RatingFollowUp

from .. import orm, write_lock
from .base import _Repository


class RatingRepository(_Repository):
    """好差评: at most one rating per case (the table's unique case_id holds it against two at once)."""

    def for_case(self, case_id: int) -> dict | None:
        table = orm.ratings
        row = self.session.execute(select(table).where(table.c.case_id == case_id)).mappings().first()
        return dict(row) if row else None

    def add(self, case_id: int, score: int, label: str, comment: str | None, at: datetime) -> None:
        self.session.execute(orm.ratings.insert().values(case_id=case_id, score=score, label=label,
                                                         comment=comment, rated_at=at))


class FollowUpRepository(_Repository):
    """差评回访, one per case (the table's unique case_id holds it)."""

    def add(self, followup: RatingFollowUp) -> None:
        self.session.add(followup)

    def get(self, followup_id: int, lock: bool = False) -> RatingFollowUp | None:
        if lock:
            write_lock.watch_unversioned(self.session)
        return self.session.get(RatingFollowUp, followup_id, with_for_update=lock or None)

    def for_case(self, case_id: int) -> RatingFollowUp | None:
        return self.session.scalar(select(RatingFollowUp).where(RatingFollowUp.case_id == case_id))

    def for_hall(self, agency_code: str, hall_code: str, status: str | None, limit: int = 200,
                 offset: int = 0) -> list[RatingFollowUp]:
        query = select(RatingFollowUp).where(RatingFollowUp.agency_code == agency_code,
                                             RatingFollowUp.hall_code == hall_code)
        if status:
            query = query.where(RatingFollowUp.status == status)
        order = (RatingFollowUp.due_at, RatingFollowUp.id)  # the soonest due first
        return list(self.session.scalars(query.order_by(*order).limit(limit).offset(offset)))
