"""A fake unit of work (in-memory repositories, the FakeUnitOfWork of "Architecture Patterns with Python") for
service tests of rules where no SQL is under test.

It covers one group of use cases: 申请 refused at intake (cases.open_case's refusals: the applicant's identity, the
agent and the power of attorney, the form's amounts and fields), and the reads those tests check with
(cases.search_cases, users.list_users). Those reach the catalog, the deployed process versions, the users and the
cases' list, nothing else; a use case that asks this unit for another repository fails at once, naming it, so a
test that needs the database cannot pass here by accident. A case opened for real (the engine, its tasks, history
and documents) is a test for the real databases.

The store is seeded once per worker from the installed database (the catalog as loaded, every deployed version
with its diagram, the staff): the rules run on the same content as in the tests over SQLite and PostgreSQL."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

from sqlalchemy import select

from workflows.domain.model import Case, ProcessVersion, User
from workflows.services.context import Context


@dataclass
class Store:
    """What the fake repositories hold: the installed content, and what a test's units committed."""

    catalog_version: object
    documents: dict
    versions: list[ProcessVersion]
    users: list[User]
    cases: list[Case] = field(default_factory=list)

    @classmethod
    def read_from(cls, ctx: Context) -> "Store":
        with ctx.uow(write=False) as uow:
            versions = list(uow.session.scalars(select(ProcessVersion)))
            for version in versions:  # the diagram and its tables are loaded on first use: load them while we can
                version.bpmn_xml, version.decisions, version.called_files
            return cls(uow.versions.catalog(), uow.catalog.documents(), versions, uow.users.all())

    def fresh(self) -> "Store":
        """A copy for one test: what it commits stays its own."""
        return Store(self.catalog_version, self.documents, self.versions, copy.deepcopy(self.users))


class FakeVersions:
    def __init__(self, store: Store):
        self._store = store

    def catalog(self):
        return self._store.catalog_version

    def processes(self) -> int | None:
        return max((version.id for version in self._store.versions), default=None)


class FakeCatalogDocuments:
    def __init__(self, store: Store):
        self._store = store

    def documents(self) -> dict:
        return dict(self._store.documents)  # the caller takes documents out of it


class FakeProcesses:
    """ProcessRepository's reads over the store's versions, with its rules: versions numbered across agencies, an
    agency's own version before the national one."""

    def __init__(self, store: Store):
        self._store = store

    def get(self, version_id: int) -> ProcessVersion | None:
        return next((version for version in self._store.versions if version.id == version_id), None)

    def latest(self, process_key: str) -> ProcessVersion | None:
        return max((v for v in self._store.versions if v.process_key == process_key), key=lambda v: v.version,
                   default=None)

    def in_force(self, process_key: str, agency_code: str | None) -> ProcessVersion | None:
        owned = [v for v in self._store.versions
                 if v.process_key == process_key and v.agency_code in (None, agency_code)]
        return max(owned, key=lambda v: (v.agency_code is not None, v.version), default=None)


class FakeCases:
    def __init__(self, store: Store, added: list[Case]):
        self._store, self._added = store, added

    def add(self, case: Case) -> None:
        self._added.append(case)

    def search(self, agency_code: str, hall_code: str | None = None, status: str | None = None,
               item_code: str | None = None, limit: int = 50, offset: int = 0, task_role: str | None = None):
        wanted = {"agency_code": agency_code, "hall_code": hall_code, "status": status, "item_code": item_code}
        found = [case for case in reversed(self._store.cases)
                 if all(value is None or getattr(case, name) == value for name, value in wanted.items())]
        return copy.deepcopy(found[offset:offset + limit])


class FakeUsers:
    def __init__(self, store: Store):
        self._store = store

    def get(self, username: str) -> User | None:
        return next((user for user in self._store.users if user.username == username), None)

    def all(self) -> list[User]:
        return sorted(self._store.users, key=lambda user: user.username)


class FakeUnitOfWork:
    """The unit of work's contract over the store: what a use case adds is kept only if it commits."""

    def __init__(self, store: Store):
        self._store = store
        self._added: list[Case] = []
        self.events: list = []
        self.committed = False
        self.versions, self.catalog = FakeVersions(store), FakeCatalogDocuments(store)
        self.processes, self.users = FakeProcesses(store), FakeUsers(store)
        self.cases = FakeCases(store, self._added)

    def __enter__(self) -> "FakeUnitOfWork":
        return self

    def __exit__(self, *_exception) -> None:
        self._added.clear()  # uncommitted: forgotten, as a real unit's session is rolled back

    def __getattr__(self, name: str):
        raise AttributeError(f"the fake unit of work has no repository {name!r}: test this use case on a database")

    def publish(self, *events) -> None:
        self.events.extend(events)

    def commit(self) -> None:
        self._store.cases.extend(self._added)
        self._added.clear()
        self.committed = True


class FakeContext(Context):
    """A context whose units of work are fakes over one store (the engine, clock and catalog as a real one's)."""

    def __init__(self, store: Store, **parts):
        super().__init__(session_factory=None, **parts)
        self.store = store

    def uow(self, write: bool = True) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store)

    def page_reads(self):
        raise AttributeError("the fake unit of work shares no reads: test this page on a database")
