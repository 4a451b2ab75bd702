"""Shared fixtures: a real database per test (SQLite file and PostgreSQL), the catalog and every diagram deployed.

Each backend's installed database is built once per session as a template; each test gets its own copy
(a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL), so tests never see each other's cases.
"""
from __future__ import annotations

import itertools
import os
import shutil
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from workflows.adapters.database import make_engine
from workflows.adapters.engine import Engine
from workflows.adapters.migrate import upgrade
from workflows.adapters.orm import start_mappers
from workflows.services import catalog, demo, users
from workflows.services.context import Context
from workflows.services.setup import install

from support.paths import BPMN_DIR, CATALOG_DIR

PG_URL = os.environ.get("WORKFLOWS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]
CLERK_ROLES = ["acceptor", "reviewer", "finance", "supervisor", "hospital"]
SHARED_ENGINE = Engine()  # parsed process versions are immutable: share the parse cache across tests
_names = itertools.count()


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime = datetime(2026, 11, 23, 1, 30, tzinfo=timezone.utc)):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def _context(url: str, clock=None) -> Context:
    start_mappers()
    return Context(sessionmaker(make_engine(url), expire_on_commit=False), engine=SHARED_ENGINE,
                   clock=clock or FakeClock())


def _install(url: str) -> None:
    migrations = make_engine(url)
    upgrade(migrations)
    migrations.dispose()
    ctx = _context(url)
    install(ctx, CATALOG_DIR, BPMN_DIR)
    demo.seed_staff(ctx)
    for agency in catalog.list_agencies(ctx):
        for hall in agency.halls:  # a clerk of every task role in every hall: drives any process anywhere
            users.save_user(ctx, f"clerk_{hall.code.replace('-', '_')}", f"综合窗口{hall.code}", "password123",
                            agency.code, hall.code, CLERK_ROLES)
    database = ctx.session_factory.kw["bind"]
    if database.dialect.name == "sqlite":  # fold the WAL into the file, which is what the tests copy
        with database.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _install(f"sqlite:///{path}")
    return path


def _pg_admin():
    return create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")


@contextmanager
def _pg_database(prefix: str, template: str | None = None):
    """A PostgreSQL database of our own (a copy of `template`, if given), dropped afterwards; yields its URL."""
    name = f"{prefix}_{os.getpid()}_{next(_names)}"
    admin = _pg_admin()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_template():
    try:
        _pg_admin().connect().close()
    except Exception as error:  # CI must have PostgreSQL; a developer without it still runs the SQLite half
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {error}")
    with _pg_database("wf_template") as url:
        _install(url)
        yield make_url(url).database


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "workflows.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    with _pg_database("wf_test", request.getfixturevalue("postgres_template")) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def empty_database_url(request, tmp_path):
    """A database with nothing in it, not even tables: what a new installation starts from."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'new.db'}"
        return
    request.getfixturevalue("postgres_template")  # skips without PostgreSQL, as the other tests do
    with _pg_database("wf_empty") as url:
        yield url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ctx(database_url, clock) -> Context:
    context = _context(database_url, clock)
    yield context
    context.session_factory.kw["bind"].dispose()


@pytest.fixture
def staff(ctx):
    """Users by name: the demo staff of 抚顺 (one role each) and a clerk of every role per hall."""
    return {user.username: user for user in users.list_users(ctx)}


@pytest.fixture
def app(ctx):
    from workflows.entrypoints.app import create_app

    return create_app(ctx, secret_key="test-secret")


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth(client):
    """auth("shouli") -> the Authorization header of that user, after a real login through the API."""

    def login(username: str, password: str | None = None) -> dict:
        password = password or ("password123" if username.startswith("clerk_") else demo.DEMO_PASSWORD)
        response = client.post("/api/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return login
