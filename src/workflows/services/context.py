"""What every use case runs with: a way to open units of work, the process engine, the clock, the catalog, the
message bus. Built by workflows/bootstrap.py, the one place that wires them."""
from __future__ import annotations

import os

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy.orm import sessionmaker

from workflows.adapters.bpmn_parsing import ProcessDefinition
from workflows.adapters.engine import Engine
from workflows.adapters.unit_of_work import UnitOfWork, shared_reads
from workflows.domain.amounts import amount_of
from workflows.domain.catalog import Catalog, parse_catalog
from workflows.domain.forms import DEFAULT_MAX_AMOUNT

from .messagebus import MessageBus

CHINA = ZoneInfo("Asia/Shanghai")
ITEMS_DOCUMENT = "items.yaml"
TEMPLATES_DOCUMENT = "documents.yaml"  # the default document templates; every other stored document is an agency's


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


def max_amount_setting() -> Decimal:
    """The greatest amount any form of this installation takes (WORKFLOWS_MAX_AMOUNT, yuan; default 1亿)."""
    text = os.environ.get("WORKFLOWS_MAX_AMOUNT", "").strip()
    if not text:
        return DEFAULT_MAX_AMOUNT
    amount = amount_of(text)
    if amount is None or amount <= 0:
        raise ValueError(f"WORKFLOWS_MAX_AMOUNT 应为大于0、最多两位小数的金额（元），而不是 {text!r}")
    return amount


@dataclass
class Context:
    session_factory: sessionmaker
    engine: Engine = field(default_factory=Engine)
    clock: Callable[[], datetime] = system_clock
    _catalog: tuple[datetime | None, Catalog | None] = (None, None)
    _definitions: dict[int, ProcessDefinition] = field(default_factory=dict)
    _in_force: dict[tuple, tuple] = field(default_factory=dict)  # (process, agency) -> (deployed, version id)
    cache: dict = field(default_factory=dict)  # per-process caches of data that changes rarely (the calendar)
    max_amount: Decimal = field(default_factory=max_amount_setting)  # the installation's bound on every amount
    bus: MessageBus | None = None  # where published events go (bootstrap.py); None: a context that publishes none

    def uow(self, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self.session_factory, write=write, bus=self.bus)

    def page_reads(self):
        """`with ctx.page_reads():` the read-only units of work inside share one session (unit_of_work.shared_reads):
        a page that only reads takes one connection, however many use cases it asks."""
        return shared_reads(self.session_factory)

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.clock().astimezone(CHINA).date()

    def definition(self, uow: UnitOfWork, version_id: int) -> ProcessDefinition:
        """The parsed process of a deployed version. Versions never change: each is read and parsed once."""
        definition = self._definitions.get(version_id)
        if definition is None:
            version = uow.processes.get(version_id)
            definition = self.engine.definition(version.bpmn_xml, version.file_name, version.decisions,
                                                version.called_files, version.process_key)
            self._definitions[version_id] = definition
        return definition

    def in_force(self, uow: UnitOfWork, process_key: str, agency_code: str) -> int | None:
        """The id of the version of a process that the agency's new cases run (ProcessRepository.in_force), looked
        up again only after a deployment, by this process or another (the versions' one query tells)."""
        deployed = uow.versions.processes()
        cached = self._in_force.get((process_key, agency_code))
        if cached is None or cached[0] != deployed:
            version = uow.processes.in_force(process_key, agency_code)
            cached = (deployed, version.id if version else None)
            self._in_force[(process_key, agency_code)] = cached
        return cached[1]

    def catalog(self, uow: UnitOfWork) -> Catalog:
        """The catalog as loaded into the database, parsed once per process and load (and again only after a
        reload, by this process or another: the version is read once per transaction)."""
        version = uow.versions.catalog()
        cached_version, cached = self._catalog
        if cached is None or cached_version != version:
            documents = uow.catalog.documents()
            items = documents.pop(ITEMS_DOCUMENT, {"groups": [], "items": []})
            templates = documents.pop(TEMPLATES_DOCUMENT, None)
            cached = parse_catalog(items, documents, ITEMS_DOCUMENT, templates, TEMPLATES_DOCUMENT)
            self._catalog = (version, cached)
        return cached


def jsonable(value):
    """Case data as JSON can hold it: money as text (no float rounding), dates as ISO text."""
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
