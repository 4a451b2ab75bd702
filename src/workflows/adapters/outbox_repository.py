"""The outbox table: rows added in a command's transaction, claimed by one worker at a time, marked done or failed.

A claim pushes `next_attempt_at` past a lease with a conditional UPDATE (the row must still be undone and due; one
statement for all the rows of a scheduler's round), so of two workers (threads, processes, schedulers) only one gets
a row; on PostgreSQL the candidates are selected FOR UPDATE SKIP LOCKED, so a second worker takes the next rows
instead of waiting for the first one's. A worker that dies holding a claim loses it when the lease ends. An entry handed to a kick right after its command is written due a
little later (`add_at_commit`'s `due`), held for the kick as if claimed: the scheduler's round, a second after, does
not take it from under the kick and do the same work twice; the kick takes an entry only while nobody has claimed it
(attempts still 0), so if the kick never comes the scheduler does it once that moment has come.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from workflows.domain.events import OutboxEntry

from .database import sent_as_driver_takes
from .orm import cases, outbox
from .repository import driver_rows

_COLUMNS = (outbox.c.id, outbox.c.kind, outbox.c.payload, outbox.c.case_id, outbox.c.created_at, outbox.c.attempts,
            outbox.c.next_attempt_at, outbox.c.done_at, outbox.c.last_error)

PAGE = 100  # rows a statement at most (SQLite binds 32,766 values at most; a bulk command may publish thousands)


@cache  # built once per count of rows (_rows' keys are always the same): a command that issues something adds 1–3
def _insert_of(keys: tuple[str, ...], count: int):
    """An INSERT of `count` rows of `keys` returning their ids, the values of row i bound as kind_i, payload_i …"""
    return insert(outbox).values([{key: bindparam(f"{key}_{index}", type_=outbox.c[key].type) for key in keys}
                                  for index in range(count)]).returning(outbox.c.id)


_UNCLAIMED = (outbox.c.id == bindparam("entry_id"), outbox.c.done_at.is_(None), outbox.c.attempts == 0)
# Built once too: the kick after every command that issued a document marks its entries done (bindparams entry_id, at)
_FINISH_UNCLAIMED = (update(outbox).where(*_UNCLAIMED)
                     .values(done_at=bindparam("at"), next_attempt_at=None, attempts=outbox.c.attempts + 1))
_FINISH = (update(outbox).where(outbox.c.id == bindparam("entry_id"))
           .values(done_at=bindparam("at"), next_attempt_at=None, last_error=None))


def _claiming(claimable):
    """An UPDATE holding the undone entries of `entry_ids` that are `claimable` until `until`, returning them."""
    return (update(outbox).where(outbox.c.id.in_(bindparam("entry_ids", expanding=True)), outbox.c.done_at.is_(None),
                                 claimable)
            .values(next_attempt_at=bindparam("until"), attempts=outbox.c.attempts + 1).returning(*_COLUMNS))


_CLAIM = _claiming(outbox.c.next_attempt_at <= bindparam("now"))  # (bindparams entry_ids, now, until)
_CLAIM_UNCLAIMED = _claiming(outbox.c.attempts == 0)


class OutboxRepository:
    def __init__(self, session: Session):
        self.session = session
        self._pending: list[dict] = []  # rows add_at_commit keeps for the commit
        self._answers: list[tuple[list[int], int]] = []  # (the list add_at_commit answered, its rows' count)

    def add_at_commit(self, entries: list[tuple[str, dict, int | None]], at: datetime,
                      due: dict[str, datetime] | None = None) -> list[int]:
        """Rows of (kind, payload, case_id), due at once (or, for a kind in `due`, at the moment given), written when
        the unit commits (write_pending: all of the unit's in one statement, up to PAGE), after the rows of the ORM
        they may name: on SQLite the first write takes the lock (write_lock.py). The list answered is given their
        ids, in the order given, at the commit. Both databases number a statement's rows in the order of its VALUES
        (PostgreSQL's serial, SQLite's rowid one above the last), so the ids sorted are in that order (RETURNING
        itself promises none)."""
        self._pending.extend(_rows(entries, at, due or {}))
        self._answers.append(([], len(entries)))
        return self._answers[-1][0]

    def prepare(self) -> None:
        """Nothing to compute before the commit's first write: the rows are ready as kept."""

    def write_pending(self) -> None:
        """The unit's rows in one INSERT … RETURNING for each PAGE of them, sent as the driver takes it
        (driver_rows): SQLAlchemy's execution of the statement cost more than the statement itself."""
        if not self._pending:
            return
        pending = self._pending
        ids = iter([id_ for start in range(0, len(pending), PAGE)
                    for id_ in self._inserted(pending[start:start + PAGE])])
        for answer, count in self._answers:  # each call's rows, in the order they came
            answer.extend(next(ids) for _ in range(count))
        self._pending, self._answers = [], []

    def get(self, entry_id: int) -> OutboxEntry | None:
        row = self.session.execute(select(*_COLUMNS).where(outbox.c.id == entry_id)).first()
        return OutboxEntry(*row) if row else None

    def due_ids(self, now: datetime, limit: int, kind: str | None = None) -> list[int]:
        """Undone entries due now (of one kind only, if given), oldest first; on PostgreSQL those no other
        transaction holds."""
        query = (select(outbox.c.id).where(outbox.c.done_at.is_(None), outbox.c.next_attempt_at <= now)
                 .order_by(outbox.c.next_attempt_at, outbox.c.id).limit(limit))
        if kind is not None:
            query = query.where(outbox.c.kind == kind)
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return list(self.session.scalars(query))

    def claim(self, entry_ids: list[int], now: datetime, lease: timedelta) -> list[OutboxEntry]:
        """Those of the entries that are undone and due, now held by the caller until `now + lease`, in the order
        given; the others are done or held already."""
        return self._claimed(entry_ids, now, lease, _CLAIM)

    def claim_unclaimed(self, entry_ids: list[int], now: datetime, lease: timedelta) -> list[OutboxEntry]:
        """Those of the entries nobody has claimed yet, due or not, now held by the caller (a kick) until
        `now + lease`, in the order given."""
        return self._claimed(entry_ids, now, lease, _CLAIM_UNCLAIMED)

    def _claimed(self, entry_ids: list[int], now: datetime, lease: timedelta, statement) -> list[OutboxEntry]:
        """The entries `statement` claims (one UPDATE for all: the scheduler claims its round's in one), each one
        attempt more."""
        if not entry_ids:
            return []
        rows = self.session.execute(statement, {"entry_ids": entry_ids, "now": now, "until": now + lease})
        claimed = {entry.id: entry for entry in (OutboxEntry(*row) for row in rows)}
        return [claimed[entry_id] for entry_id in entry_ids if entry_id in claimed]

    def finish_unclaimed(self, entry_id: int, at: datetime) -> bool:
        """Mark done an entry nobody has claimed (a kick's work right after its command); False: done or held."""
        return bool(self.session.execute(_FINISH_UNCLAIMED, {"entry_id": entry_id, "at": at}).rowcount)

    def finish(self, entry_id: int, at: datetime) -> None:
        self.session.execute(_FINISH, {"entry_id": entry_id, "at": at})

    def _inserted(self, rows: list[dict]) -> list[int]:
        """The ids of `rows` inserted in one statement, in the order of the rows."""
        numbered = {f"{key}_{index}": value for index, row in enumerate(rows) for key, value in row.items()}
        statement, values = driver_rows(self.session, _insert_of(tuple(rows[0]), len(rows)), [numbered])
        cursor = sent_as_driver_takes(self.session.connection(), statement, values)
        try:
            return sorted(id_ for id_, in cursor.fetchall())
        finally:
            cursor.close()

    def fail(self, entry_id: int, error: str, next_attempt_at: datetime | None) -> None:
        self.session.execute(update(outbox).where(outbox.c.id == entry_id, outbox.c.done_at.is_(None))
                             .values(last_error=error, next_attempt_at=next_attempt_at))

    def retry(self, entry_id: int, now: datetime) -> bool:
        """A failed entry due again now (a person fixed the cause); False when it is done or unknown."""
        return bool(self.session.execute(update(outbox).where(outbox.c.id == entry_id, outbox.c.done_at.is_(None))
                                         .values(next_attempt_at=now)).rowcount)

    def failed(self, limit: int | None = 200, offset: int = 0, case_id: int | None = None,
               hall: tuple[str, str] | None = None) -> list[tuple[OutboxEntry, str | None]]:
        """Undone entries whose last attempt failed, the newest first (all of them for limit None), each with its
        case's number: of one case, or of the cases of one (agency, hall), whose filter is in the statement so
        that a page holds `limit` of that hall's."""
        query = (select(*_COLUMNS, cases.c.number).outerjoin(cases, cases.c.id == outbox.c.case_id)
                 .where(outbox.c.done_at.is_(None), outbox.c.last_error.is_not(None)))
        if case_id is not None:
            query = query.where(outbox.c.case_id == case_id)
        if hall is not None:
            query = query.where(cases.c.agency_code == hall[0], cases.c.hall_code == hall[1])
        rows = self.session.execute(query.order_by(outbox.c.id.desc()).limit(limit).offset(offset))
        return [(OutboxEntry(*row[:-1]), row[-1]) for row in rows]

    def for_case(self, case_id: int, kind: str) -> list[OutboxEntry]:
        """The entries of one kind of a case, done or not, oldest first (the texts on its page)."""
        query = select(*_COLUMNS).where(outbox.c.case_id == case_id, outbox.c.kind == kind).order_by(outbox.c.id)
        return [OutboxEntry(*row) for row in self.session.execute(query)]

    def pending_count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(outbox).where(outbox.c.done_at.is_(None)))


def _rows(entries: list[tuple[str, dict, int | None]], at: datetime, due: dict[str, datetime]) -> list[dict]:
    return [{"kind": kind, "payload": payload, "case_id": case_id, "created_at": at, "attempts": 0,
             "next_attempt_at": due.get(kind, at)} for kind, payload, case_id in entries]
