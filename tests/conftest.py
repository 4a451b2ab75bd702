"""Shared fixtures: a real database per test (SQLite file and PostgreSQL), the catalog and every diagram deployed.

How each test gets a fresh installed database cheaply (`make test` runs the suite with pytest-xdist, `-n auto`):
- The installed database (migrations, catalog, every diagram, demo staff, a clerk of every role per hall) is built
  once per run for each backend, by whichever worker asks first (a file lock in the run's shared temporary
  directory), and shared by every worker.
- SQLite: each test gets its own copy of the template file (a file copy: a few milliseconds), at the same path in
  a worker, so that `ctx` builds its context over the worker's one engine per backend (`_worker_engine`) and the
  SQL that engine compiled for earlier tests is not compiled again.
- PostgreSQL: each worker gets ONE database, copied once from the template, and after every test it is put back as
  the template was (`test_reset.reset()`, installed by `_instrument`): statement triggers note which tables the test
  wrote, only those are emptied and refilled from a snapshot of the installed rows, and every sequence is set back.
  The code under test commits for real, over as many connections and processes as it likes (the concurrency tests,
  the CLI, the scheduler processes), which a per-test SAVEPOINT could not offer, and the reset costs a few
  statements where CREATE DATABASE … TEMPLATE and DROP DATABASE cost a checkpoint each.
  The worker's database runs with synchronous_commit off: a test needs no durability across a crash of the server.
  A test that changes the schema (CREATE, ALTER, DROP: an event trigger notes it) gets a new copy instead.
- A fixture writing a fixed set of cases that many tests read builds it once per worker and backend
  (`built_once`): the later tests get a copy of the database it left (the SQLite file; the written PostgreSQL tables,
  kept in a schema of the worker's copy) instead of running its commands again.
- The web app (`app`, `client`, `auth`) is built once per worker and handed each test's context (see `app`).
- Backends: a test that takes `database_url` (so `ctx`, `app`, `client`, `auth`) or `empty_database_url` runs on
  SQLite only, unless it is marked `both_databases`: then on SQLite and on PostgreSQL. Mark the tests where the
  database matters, a whole module at a time where it fits (`pytestmark = pytest.mark.both_databases`): the
  adapters and migrations, concurrency and locking, the scheduler and outbox processes, the item processes end to
  end, SQL counted or written per dialect. Pages, API answers and service rules above the repositories run on
  SQLite; their SQL is the same SQL the marked tests run on both. One backend only:
  `@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)` (an explicit parametrize wins).
- A run's databases are named after the run (`RUN`) and dropped at its end by the process that started it.
"""
from __future__ import annotations

import copy
import fcntl
import itertools
import json
import os
import shutil
import uuid
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
from workflows.services import accounts, catalog, context as context_module, demo, users
from workflows.bootstrap import bootstrap
from workflows.services.context import Context
from workflows.services.setup import install

from support.cases import accept
from support.documented import DocumentedClient
from support.fake_uow import FakeContext, Store
from support.paths import BPMN_DIR, CATALOG_DIR
from support.schedule import pytest_collection_modifyitems  # noqa: F401 - a hook: long tests first

PG_URL = os.environ.get("WORKFLOWS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]
CLERK_ROLES = ["acceptor", "reviewer", "finance", "supervisor", "hospital"]
SHARED_ENGINE = Engine()  # parsed process versions are immutable: share the parse cache across tests
_names = itertools.count()
# Stored passwords stay real scrypt hashes, at a work factor 32 times lower than the product's: every install and
# every login of a test would otherwise spend most of its time in scrypt.
accounts.PASSWORD_METHOD = "scrypt:1024:8:1"
_PARSED_CATALOGS: dict = {}  # the content's JSON -> its Catalog
_parse_catalog = context_module.parse_catalog


def _parse_catalog_once(items, documents, *files):
    """The catalog parsed once per worker for each content. A context parses it once per process, and the product
    runs one context a process; the tests run one a test, over copies of one installed catalog: each parsed it again
    (10–30 ms of CPU). parse_catalog is a pure function of its documents and its dataclasses are frozen, so a parse
    of the same content is the same answer; a test that loads other content parses that."""
    key = json.dumps([items, documents, files], sort_keys=True, ensure_ascii=False, default=repr)
    if key not in _PARSED_CATALOGS:
        _PARSED_CATALOGS[key] = _parse_catalog(items, documents, *files)
    return _PARSED_CATALOGS[key]


context_module.parse_catalog = _parse_catalog_once
# One name per run, shared by the xdist workers (they inherit the environment of the process that starts them).
RUN = os.environ.setdefault("WORKFLOWS_TEST_RUN", uuid.uuid4().hex[:8])
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime = datetime(2026, 11, 23, 1, 30, tzinfo=timezone.utc)):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def _context(url: str, clock=None, kick: str = "inline", database=None) -> Context:
    """A context as bootstrap builds it; a 文书's PDF is rendered right after its command (inline) unless the test
    asks for the outbox alone (kick="off")."""
    return bootstrap(sessionmaker(database or make_engine(url), expire_on_commit=False), engine=SHARED_ENGINE,
                     clock=clock or FakeClock(), kick=kick)


_WORKER_ENGINES: dict[str, object] = {}  # the worker's test database URL per backend -> its one engine


def _worker_engine(url: str):
    """The engine of the worker's test database (`database_url` gives each test of a worker the same URL per
    backend, the database put back as installed in between). One engine per worker and backend, its pool disposed
    after each test: SQLAlchemy keeps the compiled SQL of its statements per engine (its dialect is in the cache's
    key), and a new engine per test compiled every statement of every test again (a seventh of an API test's CPU)."""
    if url not in _WORKER_ENGINES:
        _WORKER_ENGINES[url] = make_engine(url)
    return _WORKER_ENGINES[url]


def _install(url: str) -> None:
    migrations = make_engine(url)
    upgrade(migrations)
    migrations.dispose()
    ctx = _context(url)
    # without bpmn/*.tests.yaml as saved tests: the suite deploys its fixtures over the items' processes, which those
    # tests would refuse (tests/entrypoints/test_cli.py checks that `workflows init` loads them)
    install(ctx, CATALOG_DIR, BPMN_DIR, tests=False)
    demo.seed_staff(ctx)
    for agency in catalog.list_agencies(ctx):
        for hall in agency.halls:  # a clerk of every task role in every hall: drives any process anywhere
            users.save_user(ctx, f"clerk_{hall.code.replace('-', '_')}", f"综合窗口{hall.code}", "password123",
                            agency.code, hall.code, CLERK_ROLES)
    _fold_wal(ctx.session_factory.kw["bind"])


def _fold_wal(database) -> None:
    """SQLite: the WAL folded into the file, which is what the tests copy; then no connection is left open."""
    if database.dialect.name == "sqlite":
        with database.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()


def _shared_directory(tmp_path_factory) -> Path:
    """The run's temporary directory, common to all xdist workers (each has its own subdirectory of it)."""
    own = tmp_path_factory.getbasetemp()
    return own.parent if "PYTEST_XDIST_WORKER" in os.environ else own


@contextmanager
def _locked(path: Path, meanwhile=None):
    """One worker at a time (the others wait, after calling `meanwhile()` if given): builds the shared templates."""
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (fcntl.LOCK_NB if meanwhile else 0))
        except BlockingIOError:
            meanwhile()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    shared = _shared_directory(tmp_path_factory)
    path = shared / "template.db"
    # At the start of a run every worker needs this template at once: one builds it, and another builds the
    # PostgreSQL one meanwhile instead of waiting (each takes seconds of CPU; built one after the other, a core idled).
    with _locked(shared / "sqlite.lock", meanwhile=lambda: _unreachable() or _build_postgres_template(shared)):
        if not path.exists():
            building = shared / "building.db"  # renamed once complete: no worker copies a half-built template
            _install(f"sqlite:///{building}")
            building.rename(path)
    return path


def _pg_admin():
    return create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")


def _pg_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def _pg_create(name: str, template: str | None = None) -> str:
    admin = _pg_admin()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    admin.dispose()
    return _pg_url(name)


def _pg_drop(*names: str) -> None:
    admin = _pg_admin()
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def _pg_database(prefix: str, template: str | None = None):
    """A PostgreSQL database of our own (a copy of `template`, if given), dropped afterwards; yields its URL."""
    name = f"{prefix}_{RUN}_{os.getpid()}_{next(_names)}"
    try:
        yield _pg_create(name, template)
    finally:
        _pg_drop(name)


# Run in the installed template: what `test_reset.reset()` needs to put a copy of it back as it was.
_INSTRUMENT = """
CREATE SCHEMA test_reset;
CREATE SCHEMA test_pristine;
CREATE UNLOGGED TABLE test_reset.written (name text NOT NULL);
CREATE UNLOGGED TABLE test_reset.schema_changed (command text NOT NULL);
CREATE TABLE test_reset.sequences AS
    SELECT sequencename AS name, start_value, last_value FROM pg_sequences WHERE schemaname = 'public';

-- No unique key on purpose: two concurrent transactions of a test must not wait for each other here.
CREATE FUNCTION test_reset.note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM test_reset.written WHERE name = TG_TABLE_NAME) THEN
        INSERT INTO test_reset.written VALUES (TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END $$;

-- False, and nothing done, when the test changed the schema: rows cannot put that back.
CREATE FUNCTION test_reset.reset() RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    written text;
    sequence record;
BEGIN
    IF EXISTS (SELECT 1 FROM test_reset.schema_changed) THEN
        RETURN false;
    END IF;
    -- Replica role: no foreign-key checks and no triggers while the rows are put back, table by table.
    PERFORM set_config('session_replication_role', 'replica', true);
    FOR written IN SELECT DISTINCT name FROM test_reset.written LOOP
        EXECUTE format('DELETE FROM public.%I', written);
        IF to_regclass(format('test_pristine.%I', written)) IS NOT NULL THEN
            EXECUTE format('INSERT INTO public.%1$I OVERRIDING SYSTEM VALUE SELECT * FROM test_pristine.%1$I', written);
        END IF;
    END LOOP;
    DELETE FROM test_reset.written;
    FOR sequence IN SELECT * FROM test_reset.sequences LOOP
        PERFORM setval(format('public.%I', sequence.name), coalesce(sequence.last_value, sequence.start_value),
                       sequence.last_value IS NOT NULL);
    END LOOP;
    RETURN true;
END $$;

DO $$
DECLARE
    installed text;
    has_rows boolean;
BEGIN
    FOR installed IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'
    LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM public.%I)', installed) INTO has_rows;
        IF has_rows THEN
            EXECUTE format('CREATE TABLE test_pristine.%1$I AS SELECT * FROM public.%1$I', installed);
        END IF;
        EXECUTE format('CREATE TRIGGER test_reset_note AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON public.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION test_reset.note()', installed);
    END LOOP;
END $$;

-- A database as a test's fixture left it (`built_once`): the tables written so far, copied into a schema of their
-- own, and every sequence's value; restore() puts the installed rows back, then these.
CREATE TABLE test_reset.snapshots (name text PRIMARY KEY, tables text[] NOT NULL, sequences jsonb NOT NULL);

CREATE FUNCTION test_reset.snapshot(snapshot text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    written text;
    tables text[];
BEGIN
    IF EXISTS (SELECT 1 FROM test_reset.schema_changed) THEN
        RETURN false;
    END IF;
    SELECT coalesce(array_agg(DISTINCT name), '{}') INTO tables FROM test_reset.written;
    EXECUTE format('CREATE SCHEMA %I', 'test_snapshot_' || snapshot);
    FOREACH written IN ARRAY tables LOOP
        EXECUTE format('CREATE TABLE %I.%I AS SELECT * FROM public.%I', 'test_snapshot_' || snapshot, written, written);
    END LOOP;
    INSERT INTO test_reset.snapshots SELECT snapshot, tables, coalesce(jsonb_object_agg(sequencename, last_value), '{}')
        FROM pg_sequences WHERE schemaname = 'public';
    DELETE FROM test_reset.schema_changed;  -- our own statements: the tables under test are as installed
    RETURN true;
END $$;

CREATE FUNCTION test_reset.restore(snapshot text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    saved record;
    written text;
    sequence record;
BEGIN
    IF NOT test_reset.reset() THEN
        RETURN false;
    END IF;
    SELECT * INTO saved FROM test_reset.snapshots WHERE name = snapshot;
    PERFORM set_config('session_replication_role', 'replica', true);  -- no triggers: note the tables ourselves
    FOREACH written IN ARRAY saved.tables LOOP
        EXECUTE format('DELETE FROM public.%I', written);
        EXECUTE format('INSERT INTO public.%1$I OVERRIDING SYSTEM VALUE SELECT * FROM %2$I.%1$I', written,
                       'test_snapshot_' || snapshot);
        INSERT INTO test_reset.written VALUES (written);
    END LOOP;
    FOR sequence IN SELECT key, value FROM jsonb_each(saved.sequences) WHERE value <> 'null'::jsonb LOOP
        PERFORM setval(format('public.%I', sequence.key), sequence.value::bigint, true);
    END LOOP;
    RETURN true;
END $$;

-- Last, or the statements above would count: any later CREATE, ALTER or DROP marks the copy as changed.
CREATE FUNCTION test_reset.note_schema() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO test_reset.schema_changed VALUES (tg_tag);
END $$;
CREATE EVENT TRIGGER test_reset_schema ON ddl_command_end EXECUTE FUNCTION test_reset.note_schema();
"""


def _instrument(url: str) -> None:
    database = create_engine(url)
    with database.begin() as connection:  # the driver's own cursor: psycopg reads no placeholders without parameters
        connection.connection.driver_connection.execute(_INSTRUMENT)
    database.dispose()


class _PostgresCopy:
    """A worker's own copy of the installed PostgreSQL database, put back as installed after each test."""

    def __init__(self, name: str, template: str):
        self.name, self.template = name, template
        self.snapshots: set[str] = set()
        self.url = _pg_create(name, template)
        # Waiting longer than lock_timeout for a table means something still holds it: an error, not a hang.
        self._database = create_engine(self.url, isolation_level="AUTOCOMMIT",
                                       connect_args={"options": "-c lock_timeout=30s"})

    def reset(self) -> None:
        if not self._call("SELECT test_reset.reset()"):
            self._recreate()

    def snapshot(self, name: str) -> bool:
        """Keeps the database as it is now under `name`; False when the test changed the schema."""
        if self._call("SELECT test_reset.snapshot(:name)", name=name):
            self.snapshots.add(name)
            return True
        return False

    def restore(self, name: str) -> bool:
        """The database as it was at snapshot(name); False when there is no such snapshot (nothing done)."""
        return name in self.snapshots and self._call("SELECT test_reset.restore(:name)", name=name)

    def _call(self, statement: str, **parameters) -> bool:
        with self._database.connect() as connection:
            # A connection a test left open (a pool not disposed, a killed process) must not hold a lock on a table.
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            return connection.scalar(text(statement), parameters)

    def _recreate(self) -> None:
        self._database.dispose()  # the test changed the schema: a new copy, as before this file's resets
        _pg_drop(self.name)
        _pg_create(self.name, self.template)
        self.snapshots.clear()

    def drop(self) -> None:
        self._database.dispose()
        _pg_drop(self.name)


@pytest.fixture(scope="session")
def postgres_template(tmp_path_factory):
    """The name of the installed PostgreSQL database of this run, built by the first worker that needs it."""
    error = _unreachable()
    if error is not None:  # CI must have PostgreSQL; a developer without it still runs the SQLite half
        if os.environ.get("CI"):
            raise error
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {error}")
    return _build_postgres_template(_shared_directory(tmp_path_factory))


def _unreachable() -> Exception | None:
    try:
        _pg_admin().connect().close()
    except Exception as error:  # noqa: BLE001 - any failure to connect: no PostgreSQL for this run
        return error
    return None


def _build_postgres_template(shared: Path) -> str:
    name = f"wf_template_{RUN}"
    with _locked(shared / "postgres.lock"):
        if not (shared / "postgres.built").exists():
            url = _pg_create(name)
            _install(url)
            _instrument(url)
            (shared / "postgres.built").touch()
    return name


@pytest.fixture(scope="session")
def postgres_copy(postgres_template):
    copy = _PostgresCopy(f"wf_test_{RUN}_{WORKER}", postgres_template)
    yield copy
    copy.drop()


def pytest_sessionfinish(session):
    """The process that started the run drops the run's PostgreSQL databases (the template, any left behind)."""
    if hasattr(session.config, "workerinput"):
        return
    try:
        admin = _pg_admin()
        with admin.connect() as connection:
            names = connection.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :pattern"),
                                       {"pattern": f"wf\\_%\\_{RUN}%"}).scalars().all()
        admin.dispose()
    except Exception:  # no PostgreSQL here: nothing of ours to drop
        return
    _pg_drop(*names)


def pytest_configure(config):
    config.addinivalue_line("markers", "both_databases: run on PostgreSQL as well as SQLite (the database matters)")
    config.addinivalue_line("markers", "long: seconds of wall time (a browser, servers, processes): started first")


def pytest_generate_tests(metafunc):
    """SQLite, or both backends for a test marked both_databases (see the top of this file)."""
    for name in ("database_url", "empty_database_url"):
        if name in metafunc.fixturenames and not _parametrized(metafunc, name):
            backends = BACKENDS if metafunc.definition.get_closest_marker("both_databases") else BACKENDS[:1]
            metafunc.parametrize(name, backends, indirect=True)


def _parametrized(metafunc, name: str) -> bool:
    """The test (or its module or class) parametrizes `name` itself."""
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        if name in ([part.strip() for part in names.split(",")] if isinstance(names, str) else names):
            return True
    return False


@pytest.fixture
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        yield sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path_factory)
        return
    copy = request.getfixturevalue("postgres_copy")
    yield copy.url
    copy.reset()


def sqlite_copy(template: Path, tmp_path_factory) -> str:
    """A fresh copy of the installed SQLite database, always at the same path in a worker (so the same URL, and
    `_worker_engine`'s one engine): the previous test's file and its WAL, shared-memory and writers' files are
    removed first, so a connection a test left open keeps the removed file and never sees the new one."""
    path = tmp_path_factory.getbasetemp() / "database" / "workflows.db"
    path.parent.mkdir(exist_ok=True)
    for left in (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-writers"))):
        left.unlink(missing_ok=True)
    shutil.copy(template, path)
    return f"sqlite:///{path}"


@pytest.fixture
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
    context = _context(database_url, clock, database=_worker_engine(database_url))
    yield context
    context.session_factory.kw["bind"].dispose()


_BUILT: dict[tuple, tuple] = {}  # (backend, key) -> (snapshot, the build's answer, the clock after it)


@pytest.fixture
def built_once(request, database_url, ctx, clock):
    """built_once(key, build) -> build()'s answer, the database and the clock as build() left them. build() runs
    once per worker and backend; every later test asking for the same key gets a copy of the database it left (the
    SQLite file, or the written PostgreSQL tables and the sequences) and its answer, instead of running it again.
    For a fixture that writes a fixed set of cases many tests read: build() must depend only on the installed
    database and the test's clock, and run before anything else of the test writes (nothing written before it
    survives the copy). The answer is deep-copied per test, so it may hold anything picklable."""

    def use(key: str, build):
        backend = make_url(database_url).get_backend_name()
        built = _BUILT.get((backend, key))
        if built is not None and _restore(request, database_url, ctx, built[0]):
            clock.now = built[2]
            return copy.deepcopy(built[1])
        answer = build()
        snapshot = _snapshot(request, database_url, ctx, f"s{len(_BUILT)}")
        if snapshot is not None:
            _BUILT[(backend, key)] = (snapshot, copy.deepcopy(answer), clock.now)
        return answer

    return use


def _snapshot(request, url: str, ctx: Context, name: str):
    """Keeps the test's database as it is now; returns what _restore needs, or None (the test changed the schema)."""
    ctx.session_factory.kw["bind"].dispose()
    if make_url(url).get_backend_name() == "sqlite":
        _fold_wal(create_engine(url))
        kept = request.getfixturevalue("tmp_path_factory").mktemp("snapshot") / "workflows.db"
        shutil.copy(make_url(url).database, kept)
        return kept
    return name if request.getfixturevalue("postgres_copy").snapshot(name) else None


def _restore(request, url: str, ctx: Context, snapshot) -> bool:
    ctx.session_factory.kw["bind"].dispose()  # no pooled connection of the test's over the replaced database
    if make_url(url).get_backend_name() == "sqlite":
        path = Path(make_url(url).database)
        for leftover in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)
        shutil.copy(snapshot, path)
        return True
    return request.getfixturevalue("postgres_copy").restore(snapshot)


@pytest.fixture
def staff(ctx):
    """Users by name: the demo staff of 抚顺 (one role each) and a clerk of every role per hall."""
    return {user.username: user for user in users.list_users(ctx)}


_STORE: list[Store] = []  # the installed content, read once per worker for the fake units of work


@pytest.fixture
def fake_ctx(sqlite_template, tmp_path_factory, clock) -> FakeContext:
    """A context over a fake unit of work (support/fake_uow.py) seeded with the installed catalog, processes,
    calendar and staff (and a case accepted there, for `fake_accepted`): for the rules of 申请 refused at intake
    and of the clock's decisions on an accepted case, where no SQL is under test."""
    if not _STORE:
        path = tmp_path_factory.mktemp("store") / "workflows.db"
        shutil.copy(sqlite_template, path)  # read from a copy: opening the shared template could write to it
        installed = _context(f"sqlite:///{path}", FakeClock())
        number = accept(installed, {user.username: user for user in users.list_users(installed)},
                        installed.clock, "2026-11-23 09:30")
        _STORE.append(Store.read_from(installed, number))
        installed.session_factory.kw["bind"].dispose()
    return FakeContext(_STORE[0].fresh(), engine=SHARED_ENGINE, clock=clock)


@pytest.fixture
def fake_accepted(fake_ctx) -> str:
    """The number of a 门诊 case accepted at 2026-11-23 09:30 (its limits running), in the fake context's store."""
    return fake_ctx.store.accepted()


@pytest.fixture
def fake_staff(fake_ctx):
    """`staff` of the fake context."""
    return {user.username: user for user in users.list_users(fake_ctx)}


_WORKER_APP = {}  # the one app of this worker, built by the first test that asks for it


@pytest.fixture
def app(ctx):
    """The web app over this test's context. One app per worker, pointed at each test's context: compiling its
    few hundred routes costs more CPU than most tests do. The app keeps no state of its own between requests (the
    sessions, throttles and locks are in the database). A test that changes the app itself (adds a route, sets an
    environment variable read at start) builds its own with create_app(ctx, ...)."""
    from workflows.entrypoints.app import create_app

    if not _WORKER_APP:
        _WORKER_APP["app"] = create_app(ctx, secret_key="test-secret")
    shared = _WORKER_APP["app"]
    shared.extensions["workflows"] = ctx
    shared.test_client_class = None  # Flask's own client, unless the test takes `client`
    return shared


@pytest.fixture
def client(app):
    """The app's test client; every API answer it gets must match the OpenAPI document (support.documented)."""
    app.test_client_class = DocumentedClient
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
