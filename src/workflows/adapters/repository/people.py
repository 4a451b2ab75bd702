"""The staff: users and their accounts and sign-in throttles, saved inbox filters, notifications."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update

from workflows.domain.model import SavedFilter, User
from workflows.domain.throttling import Attempts

from .. import orm, write_lock
from .base import _AppendOnlyRepository, _Repository


class UserRepository(_Repository):
    def get(self, username: str) -> User | None:
        return self.session.get(User, username)

    def add(self, user: User) -> None:
        self.session.add(user)

    def all(self) -> list[User]:
        return list(self.session.scalars(select(User).order_by(User.agency_code, User.hall_code, User.username)))

    def in_hall(self, agency_code: str, hall_code: str) -> list[User]:
        return list(self.session.scalars(select(User).where(User.agency_code == agency_code,
                                                            User.hall_code == hall_code).order_by(User.username)))


class AccountRepository(_Repository):
    """Failed guesses per key, the signed-in sessions and tokens, and the account events (migration 0018)."""

    def attempts(self, key: str, lock_at: datetime | None = None) -> Attempts:
        """The key's count; with `lock_at`, its row is made (a window from then) if need be and held until the
        commit, so that concurrent failures all count."""
        table = orm.throttles
        if lock_at:
            self.session.execute(self._upsert(table).values(key=key, failures=0, window_started_at=lock_at)
                                 .on_conflict_do_nothing(index_elements=[table.c.key]))
            write_lock.watch_unversioned(self.session)
        query = select(table).where(table.c.key == key)
        row = self.session.execute(query.with_for_update() if lock_at else query).first()
        return Attempts(key, row.failures, row.window_started_at, row.locked_until) if row else Attempts(key)

    def save_attempts(self, attempts: Attempts) -> None:
        table = orm.throttles
        self.session.execute(update(table).where(table.c.key == attempts.key).values(
            failures=attempts.failures, window_started_at=attempts.window_started_at,
            locked_until=attempts.locked_until))

    def clear(self, key: str) -> bool:
        """Forget the key's failures (and lift its lock); whether there was anything to forget."""
        return self.session.execute(orm.throttles.delete().where(orm.throttles.c.key == key)).rowcount > 0

    def forget_before(self, moment: datetime) -> None:
        """Drop the counts whose window began before `moment` and that lock nothing: guesses leave no rows behind."""
        table = orm.throttles
        self.session.execute(table.delete().where(table.c.window_started_at < moment, or_(
            table.c.locked_until.is_(None), table.c.locked_until < moment)))

    def locked(self, now: datetime) -> list[Attempts]:
        table = orm.throttles
        rows = self.session.execute(select(table).where(table.c.locked_until > now).order_by(table.c.key))
        return [Attempts(row.key, row.failures, row.window_started_at, row.locked_until) for row in rows]

    def open_session(self, token_hash: str, username: str, kind: str, now: datetime, expires_at: datetime,
                     address: str | None) -> None:
        table = orm.user_sessions
        self.session.execute(table.delete().where(table.c.username == username, table.c.expires_at < now))
        self.session.execute(table.insert().values(token_hash=token_hash, username=username, kind=kind,
                                                   created_at=now, expires_at=expires_at, address=address))

    def session_user(self, token_hash: str, now: datetime) -> User | None:
        """The user of a live (unexpired, unrevoked) session or token, in one query."""
        table = orm.user_sessions
        return self.session.scalar(select(User).join(table, table.c.username == User.username).where(
            table.c.token_hash == token_hash, table.c.revoked_at.is_(None), table.c.expires_at > now))

    def revoke(self, token_hash: str, now: datetime) -> None:
        table = orm.user_sessions
        self.session.execute(update(table).where(table.c.token_hash == token_hash, table.c.revoked_at.is_(None))
                             .values(revoked_at=now))

    def revoke_all(self, username: str, now: datetime) -> int:
        table = orm.user_sessions
        return self.session.execute(update(table).where(table.c.username == username, table.c.revoked_at.is_(None),
                                                        table.c.expires_at > now).values(revoked_at=now)).rowcount

    def record(self, event: dict) -> None:
        self.session.execute(orm.account_events.insert().values(**event))

    def events(self, subjects: list[str], prefix: str, limit: int, offset: int = 0) -> list[dict]:
        """A page of the events about `subjects` or any subject starting with `prefix`, the newest first."""
        table = orm.account_events
        query = (select(table).where(or_(table.c.subject.in_(subjects), table.c.subject.startswith(prefix)))
                 .order_by(table.c.id.desc()).limit(limit).offset(offset))
        return [dict(row) for row in self.session.execute(query).mappings()]


class SavedFilterRepository(_Repository):
    def add(self, saved: SavedFilter) -> None:
        self.session.add(saved)

    def get(self, filter_id: int) -> SavedFilter | None:
        return self.session.get(SavedFilter, filter_id)

    def find(self, owner: str, name: str) -> SavedFilter | None:
        return self.session.scalar(select(SavedFilter).where(SavedFilter.owner == owner, SavedFilter.name == name))

    def visible(self, agency_code: str, hall_code: str, owner: str) -> list[SavedFilter]:
        """The owner's filters, and those shared in the hall by others."""
        shared = ((SavedFilter.agency_code == agency_code) & (SavedFilter.hall_code == hall_code)
                  & SavedFilter.shared.is_(True))
        query = select(SavedFilter).where((SavedFilter.owner == owner) | shared)
        return list(self.session.scalars(query.order_by(SavedFilter.name, SavedFilter.id)))

    def delete(self, saved: SavedFilter) -> None:
        self.session.delete(saved)


class NotificationRepository(_AppendOnlyRepository):
    table = orm.notifications

    def add(self, username: str, kind: str, message: str, at: datetime, case=None) -> None:
        self._pending.append({"username": username, "kind": kind, "message": message, "created_at": at,
                              "case_id": case.id if case else None, "case_number": case.number if case else None,
                              "read_at": None})

    def prepare(self) -> None:
        """The substitutes' copies of the notifications not prepared yet join them, before the lock too."""
        self._pending.extend(self._for_substitutes(self._pending[self._checked:]))
        super().prepare()

    def _for_substitutes(self, rows: list[dict]) -> list[dict]:
        """外出/休假代理: a notification for someone away goes to their substitute too, marked as such; one step
        (not on to the substitute's own substitute), and not when the substitute is told the same already."""
        if not rows:
            return []
        s, u = orm.substitutions, orm.users
        query = (select(s.c.username, s.c.substitute, s.c.starts_at, s.c.ends_at, u.c.full_name)
                 .join(u, u.c.username == s.c.username)
                 .where(s.c.username.in_({row["username"] for row in rows}),
                        s.c.ends_at > min(row["created_at"] for row in rows)))
        periods = self.session.execute(query).all()
        told = {(row["username"], row["kind"], row["case_id"]) for row in rows}
        copies = []
        for row in rows:
            for username, substitute, starts_at, ends_at, name in periods:
                if (username == row["username"] and starts_at <= row["created_at"] < ends_at
                        and (substitute, row["kind"], row["case_id"]) not in told):
                    told.add((substitute, row["kind"], row["case_id"]))
                    copies.append({**row, "username": substitute, "message": f"【代{name}】{row['message']}"})
        return copies

    def for_user(self, username: str, unread_only: bool = False, limit: int = 100, offset: int = 0) -> list[dict]:
        table = self.table
        query = select(table).where(table.c.username == username)
        if unread_only:
            query = query.where(table.c.read_at.is_(None))
        rows = self.session.execute(query.order_by(table.c.id.desc()).limit(limit).offset(offset)).mappings()
        return [dict(row) for row in rows]
