"""A fake unit of work (in-memory repositories, the FakeUnitOfWork of "Architecture Patterns with Python") for
service tests of rules where no SQL is under test.

It covers two groups of use cases: 申请 refused at intake (cases.open_case's refusals: the applicant's identity, the
agent and the power of attorney, the form's amounts and fields), and the reads those tests check with
(cases.search_cases, users.list_users); and the clock's decisions on an accepted case that move no workflow (a
延期申请: time_limits.request_extension, its refusals and the request kept with its history line). Those reach the
catalog, the deployed process versions, the working calendar, the users, the cases by number with their limits,
pauses and extension requests, and the history, nothing else; a use case that asks this unit for another
repository fails at once, naming it, so a test that needs the database cannot pass here by accident. A case opened
or moved for real (the engine, its tasks and documents) is a test for the real databases.

The store is seeded once per worker from the installed database (the catalog as loaded, every deployed version
with its diagram, the calendar, the staff, and a 门诊 case opened and accepted there for real, with its limits,
which a test puts in its store with `accepted()`): the rules run on the same content as in the tests over SQLite
and PostgreSQL."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

from sqlalchemy import select

from workflows.domain.model import Case, CaseDeadline, CasePause, ExtensionRequest, HistoryEntry, ProcessVersion, User
from workflows.services.context import Context


@dataclass
class Calendar:
    version: tuple
    years: list[dict]
    days: list[dict]


@dataclass
class Store:
    """What the fake repositories hold: the installed content, and what a test's units committed."""

    catalog_version: object
    documents: dict
    versions: list[ProcessVersion]
    users: list[User]
    calendar: Calendar
    accepted_case: tuple[Case, list[CaseDeadline]] | None = None  # as read_from found it, for accepted()
    cases: list[Case] = field(default_factory=list)
    deadlines: list[CaseDeadline] = field(default_factory=list)
    pauses: list[CasePause] = field(default_factory=list)
    extensions: list[ExtensionRequest] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)

    @classmethod
    def read_from(cls, ctx: Context, accepted_number: str | None = None) -> "Store":
        """The installed content of `ctx`'s database; `accepted_number`: the accepted case kept for accepted()."""
        with ctx.uow(write=False) as uow:
            versions = list(uow.session.scalars(select(ProcessVersion)))
            for version in versions:  # the diagram and its tables are loaded on first use: load them while we can
                version.bpmn_xml, version.decisions, version.called_files
            calendar = Calendar(uow.versions.calendar(), uow.calendar.years(), uow.calendar.days())
            case = uow.cases.get(accepted_number) if accepted_number else None
            accepted = (case, uow.deadlines.for_case(case.id)) if case else None
            return cls(uow.versions.catalog(), uow.catalog.documents(), versions, uow.users.all(), calendar,
                       accepted)

    def fresh(self) -> "Store":
        """A copy for one test: what it commits stays its own."""
        return Store(self.catalog_version, self.documents, self.versions, copy.deepcopy(self.users), self.calendar,
                     self.accepted_case)

    def accepted(self) -> str:
        """The accepted 门诊 case (its limits running) put in this test's store; its number."""
        case, deadlines = copy.deepcopy(self.accepted_case)
        self.cases.append(case)
        self.deadlines.extend(deadlines)
        return case.number


class FakeVersions:
    def __init__(self, store: Store):
        self._store = store

    def catalog(self):
        return self._store.catalog_version

    def calendar(self) -> tuple:
        return self._store.calendar.version

    def processes(self) -> int | None:
        return max((version.id for version in self._store.versions), default=None)


class FakeCalendar:
    def __init__(self, store: Store):
        self._store = store

    def years(self) -> list[dict]:
        return copy.deepcopy(self._store.calendar.years)

    def days(self) -> list[dict]:
        return copy.deepcopy(self._store.calendar.days)


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

    def get(self, number: str, agency_code: str | None = None, lock: bool = False) -> Case | None:
        return next((case for case in self._store.cases
                     if case.number == number and agency_code in (None, case.agency_code)), None)

    def search(self, agency_code: str, hall_code: str | None = None, status: str | None = None,
               item_code: str | None = None, limit: int = 50, offset: int = 0, task_role: str | None = None):
        wanted = {"agency_code": agency_code, "hall_code": hall_code, "status": status, "item_code": item_code}
        found = [case for case in reversed(self._store.cases)
                 if all(value is None or getattr(case, name) == value for name, value in wanted.items())]
        return copy.deepcopy(found[offset:offset + limit])


class FakeDeadlines:
    """DeadlineRepository's reads of a case's limits, pauses and extension requests; what is added is kept only if
    the unit commits."""

    def __init__(self, store: Store, added: list):
        self._store, self._added = store, added

    def for_case(self, case_id: int) -> list[CaseDeadline]:
        return [row for row in self._store.deadlines if row.case_id == case_id]

    def none_yet(self, case_id: int) -> list[CaseDeadline]:
        return []

    def pauses(self, case_id: int) -> list[CasePause]:
        return [row for row in self._store.pauses if row.case_id == case_id]

    def extensions(self, case_id: int) -> list[ExtensionRequest]:
        return [row for row in self._store.extensions + self._added if row.case_id == case_id]

    def add_extension(self, request: ExtensionRequest) -> None:
        self._added.append(request)


class FakeHistory:
    def __init__(self, store: Store, added: list):
        self._store, self._added = store, added

    def add(self, entry: HistoryEntry) -> None:
        self._added.append(entry)

    def for_case(self, case_id: int) -> list[HistoryEntry]:
        return [entry for entry in self._store.history if entry.case_id == case_id]


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
        self._extensions: list[ExtensionRequest] = []
        self._history: list[HistoryEntry] = []
        self.events: list = []
        self.committed = False
        self.versions, self.catalog = FakeVersions(store), FakeCatalogDocuments(store)
        self.processes, self.users = FakeProcesses(store), FakeUsers(store)
        self.cases, self.calendar = FakeCases(store, self._added), FakeCalendar(store)
        self.deadlines = FakeDeadlines(store, self._extensions)
        self.history = FakeHistory(store, self._history)

    def __enter__(self) -> "FakeUnitOfWork":
        return self

    def __exit__(self, *_exception) -> None:
        for added in (self._added, self._extensions, self._history):
            added.clear()  # uncommitted: forgotten, as a real unit's session is rolled back

    def __getattr__(self, name: str):
        raise AttributeError(f"the fake unit of work has no repository {name!r}: test this use case on a database")

    def publish(self, *events) -> None:
        self.events.extend(events)

    def commit(self) -> None:
        for kept, added in ((self._store.cases, self._added), (self._store.extensions, self._extensions),
                            (self._store.history, self._history)):
            kept.extend(added)
            added.clear()
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
