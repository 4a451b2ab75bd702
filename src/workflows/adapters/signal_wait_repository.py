"""The signals open cases wait for, indexed by agency and signal name (migration 0039), kept in line with each
case's workflow by every command (services/progress.py), read when a signal is broadcast (services/signals.py);
and the cases a broadcast has reached (migration 0045), so that a retried broadcast reaches each case once."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .orm import case_signal_waits, signal_deliveries
from .repository import execute_at_commit, insert_of


class SignalWaitRepository:
    def __init__(self, session: Session):
        self.session = session

    def replace(self, case_id: int, agency_code: str, names: list[str], stored: list[str] | None = None) -> None:
        """Make the case's rows these signal names; nothing is written when they are the `stored` ones (what the
        rows held as the case was loaded; None: not known, rewrite). Sent at commit (execute_at_commit)."""
        if stored is not None and set(stored) == set(names):
            return
        table = case_signal_waits
        execute_at_commit(self.session, table.delete().where(table.c.case_id == case_id))
        if names:
            execute_at_commit(self.session, insert_of(table), [{"case_id": case_id, "signal_name": name,
                                                              "agency_code": agency_code}
                                                             for name in dict.fromkeys(names)])

    def waiting(self, agency_code: str, name: str) -> list[int]:
        """The ids of the agency's cases waiting for signal `name`, oldest first."""
        table = case_signal_waits
        return list(self.session.scalars(select(table.c.case_id).where(
            table.c.agency_code == agency_code, table.c.signal_name == name).order_by(table.c.case_id)))

    def delivered(self, outbox_id: int) -> set[int]:
        """The ids of the cases broadcast `outbox_id` has reached."""
        table = signal_deliveries
        return set(self.session.scalars(select(table.c.case_id).where(table.c.outbox_id == outbox_id)))

    def record_delivery(self, outbox_id: int, case_id: int) -> None:
        """The case caught broadcast `outbox_id`: in the transaction of its catch."""
        self.session.execute(signal_deliveries.insert(), [{"outbox_id": outbox_id, "case_id": case_id}])

    def forget_deliveries(self, outbox_id: int) -> None:
        """The broadcast is done: nothing will retry it."""
        table = signal_deliveries
        self.session.execute(table.delete().where(table.c.outbox_id == outbox_id))
