"""转移接续's messages between agencies (the outbox of messages, their exchanges)."""
from __future__ import annotations

from sqlalchemy import select

from workflows.domain.model import AgencyMessage, Case

from .. import orm, write_lock
from .base import _Repository, among


class AgencyMessageRepository(_Repository):
    """Messages between agencies: the outbox the scheduler drains and what each case sent and received."""

    def add(self, message: AgencyMessage) -> None:
        self.session.add(message)

    def get(self, message_id: str, lock: bool = False) -> AgencyMessage | None:
        """The message; with `lock`, its row is held until the transaction ends, so that two deliveries of one
        message (right after the commit and by the scheduler) run one after the other and the second sees it done."""
        if lock:
            write_lock.watch_unversioned(self.session)
        return self.session.get(AgencyMessage, message_id, with_for_update=lock or None)

    def pending_ids(self, limit: int) -> list[str]:
        return list(self.session.scalars(select(AgencyMessage.id).where(AgencyMessage.status == "pending")
                                         .order_by(AgencyMessage.created_at).limit(limit)))

    def search(self, status: str | None, limit: int, offset: int) -> list[AgencyMessage]:
        query = select(AgencyMessage)
        if status:
            query = query.where(AgencyMessage.status == status)
        return list(self.session.scalars(query.order_by(AgencyMessage.created_at, AgencyMessage.id)
                                         .limit(limit).offset(offset)))

    def for_case(self, case_id: int) -> list[AgencyMessage]:
        query = select(AgencyMessage).where((AgencyMessage.source_case_id == case_id)
                                            | (AgencyMessage.target_case_id == case_id))
        return list(self.session.scalars(query.order_by(AgencyMessage.created_at, AgencyMessage.id)))

    def opener(self, case: Case) -> AgencyMessage | None:
        """The message that started the case: one it received whose exchange another case began."""
        return self.session.scalar(select(AgencyMessage).where(AgencyMessage.target_case_id == case.id,
                                                               AgencyMessage.correlation != case.number)
                                   .order_by(AgencyMessage.created_at).limit(1))

    def partner_case_id(self, correlation: str, agency_code: str) -> int | None:
        """The case of `agency_code` that a message of the exchange `correlation` started."""
        c = orm.cases
        return self.session.scalar(select(AgencyMessage.target_case_id)
                                   .join(c, c.c.id == AgencyMessage.target_case_id)
                                   .where(AgencyMessage.correlation == correlation, c.c.agency_code == agency_code,
                                          c.c.number != correlation).limit(1))

    def case_summaries(self, case_ids: set[int]) -> dict[int, dict]:
        """id -> number, agency, stage, status, result of cases (without their workflow state)."""
        if not case_ids:
            return {}
        c = orm.cases
        query = select(c.c.id, c.c.number, c.c.agency_code, c.c.stage, c.c.status, c.c.result).where(
            among(self.session, c.c.id, case_ids))
        return {row["id"]: dict(row) for row in self.session.execute(query).mappings()}
