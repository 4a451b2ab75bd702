"""A moment (orm.Moment) is stored in UTC and read back time-zone aware; one without a time zone is refused. On
SQLite, which keeps no zone, Moment writes and reads the text itself: the text SQLAlchemy's DateTime stores for the
UTC moment (so rows written before read the same, and the database's comparisons are unchanged), and a text
written by SQL without its fraction reads back too."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, create_engine, insert, select, text
from sqlalchemy.orm import Session

from workflows.adapters.database import make_engine
from workflows.adapters.orm import Moment, outbox
from workflows.adapters.repository import driver_rows, send_rows

BEIJING = timezone(timedelta(hours=8))
metadata = MetaData()
moments = Table("moments", metadata, Column("id", Integer, primary_key=True), Column("at", Moment()),
                Column("plain", DateTime()))


@pytest.fixture
def sqlite(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'moments.db'}")
    metadata.create_all(engine)
    with engine.begin() as connection:
        yield connection
    engine.dispose()


@pytest.mark.parametrize("at", [datetime(2026, 11, 23, 9, 30, tzinfo=BEIJING),
                                datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone.utc),
                                datetime(1999, 1, 1, 7, 0, 0, 5, tzinfo=BEIJING)])
def test_on_sqlite_a_moment_is_the_utc_text_sqlalchemy_stores_and_reads_back_aware(sqlite, at):
    utc = at.astimezone(timezone.utc)
    sqlite.execute(insert(moments).values(id=1, at=at, plain=utc.replace(tzinfo=None)))
    stored, plain = sqlite.execute(text("SELECT at, plain FROM moments")).one()
    assert stored == plain  # SQLAlchemy's own text for the same UTC moment
    assert sqlite.scalar(select(moments.c.at)) == at and sqlite.scalar(select(moments.c.at)).tzinfo == timezone.utc
    assert sqlite.scalar(select(moments.c.id).where(moments.c.at > at - timedelta(microseconds=1))) == 1


def test_on_sqlite_a_moment_written_as_text_without_its_fraction_reads_back(sqlite):
    sqlite.execute(text("INSERT INTO moments (id, at) VALUES (1, '2026-11-23 01:30:00'), (2, NULL)"))
    assert sqlite.execute(select(moments.c.at).order_by(moments.c.id)).scalars().all() == [
        datetime(2026, 11, 23, 9, 30, tzinfo=BEIJING), None]


def test_on_sqlite_a_moment_without_a_time_zone_is_refused_and_nothing_is_written(sqlite):
    with pytest.raises(Exception, match="a moment needs a time zone"):
        sqlite.execute(insert(moments).values(id=1, at=datetime(2026, 11, 23, 9, 30)))
    assert sqlite.scalar(text("SELECT count(*) FROM moments")) == 0


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_moment_sent_as_the_driver_takes_it_reads_back_the_same_moment(database_url):
    """The commit's prepared writes (driver_rows, send_rows) bind a moment through the same processor."""
    engine = make_engine(database_url)
    at = datetime(2026, 11, 23, 9, 30, 0, 250, tzinfo=BEIJING)
    row = {"kind": "x", "payload": {}, "case_id": None, "created_at": at, "attempts": 0, "next_attempt_at": at,
           "done_at": None, "last_error": None}
    try:
        with Session(engine) as session:
            statement = insert(outbox)
            send_rows(session.connection(), statement, [row], driver_rows(session, statement, [row]))
            assert session.execute(select(outbox.c.created_at, outbox.c.done_at).where(
                outbox.c.kind == "x")).one() == (at, None)
            session.rollback()
    finally:
        engine.dispose()
