"""Use cases of process designers on decision tables (DMN): list them, read one, publish a new table.

A decision table lives in the process versions whose business-rule tasks reference it (process_versions.decisions).
Publishing a table deploys, in one transaction, a new version of every process whose latest version uses it,
carrying the new table: new cases apply it, running cases keep the version (and the table) they started with.
Who published which table when is read from those versions.

Tables follow their processes: a designer sees and publishes the tables in force for the designer's agency (its
own versions, else the national ones), and publishing deploys versions for that agency only.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflows.adapters.bpmn_parsing import parse_process
from workflows.adapters.dmn_parsing import read_decision, read_decisions
from workflows.domain.errors import InvalidInput, InvalidProcess, NotFound
from workflows.domain.model import ProcessVersion, User

from .access import require_role
from .context import Context
from .drafts import require_agency_process
from .processes import MAX_DMN_BYTES, in_force_by_key, store_version
from .retries import retried

DESIGNERS = ("designer", "admin")


@dataclass(frozen=True)
class DecisionRevision:
    """One table published under a decision id, and the process versions that carry it."""

    number: int  # 1 for the first table of the id
    published_at: datetime
    published_by: str
    process_versions: tuple[tuple[str, int], ...]  # (process key, version)


@dataclass(frozen=True)
class DecisionSummary:
    id: str
    name: str
    processes: tuple[str, ...]  # the processes whose latest version applies the table
    revisions: tuple[DecisionRevision, ...]  # oldest first; the last one is the table in force

    @property
    def latest(self) -> DecisionRevision:
        return self.revisions[-1]


def list_decisions(ctx: Context, actor: User) -> list[DecisionSummary]:
    """Every decision table, by id, with the processes applying it and its history."""
    require_role(actor, *DESIGNERS)
    with ctx.uow(write=False) as uow:
        versions = uow.processes.with_decisions(actor.agency_code)
    return _summaries(versions, actor.agency_code)


def decision_xml(ctx: Context, actor: User, decision_id: str) -> str:
    """The DMN file of the table in force under the id."""
    require_role(actor, *DESIGNERS)
    with ctx.uow(write=False) as uow:
        versions = uow.processes.with_decisions(actor.agency_code)
    xml = _current_tables(versions).get(decision_id)
    if xml is None:
        raise NotFound(f"决策表“{decision_id}”不存在")
    return xml


@retried
def publish_decision(ctx: Context, actor: User, dmn_xml: str, expected_id: str | None = None) -> list[ProcessVersion]:
    """Check a DMN file and publish it: a new version of every process whose latest version applies its decision
    (by id), with this table. Returns those versions; none when the table is the one in force already.
    `expected_id`: the id the caller means to change (the file's decision must have it)."""
    require_role(actor, *DESIGNERS)
    if not isinstance(dmn_xml, str) or not dmn_xml.strip():
        raise InvalidInput("请提交决策表（DMN XML）", {"xml": "请提交决策表（DMN XML）"})
    if len(dmn_xml.encode("utf-8")) > MAX_DMN_BYTES:
        raise InvalidProcess(f"决策表超过 {MAX_DMN_BYTES // 1_000_000} MB", None, "decision.dmn")
    decision = read_decision(dmn_xml, f"{expected_id or 'decision'}.dmn")
    if expected_id is not None and decision.id != expected_id:
        raise InvalidInput(f"决策表的 id 是“{decision.id}”，不是“{expected_id}”",
                           {"xml": f"决策（decision）的 id 须为 {expected_id}"})
    with ctx.uow() as uow:
        latest = in_force_by_key(uow.processes.with_decisions(actor.agency_code), actor.agency_code)
        file_name = f"{decision.id}.dmn"
        users = [version for version in latest.values() if file_name in version.decisions]
        for version in users:
            require_agency_process(ctx, uow, actor.agency_code, version.process_key)
        if not users:
            raise NotFound(f"没有流程使用决策表“{decision.id}”，无从发布")
        published = []
        for version in users:
            if version.decisions[file_name] == decision.xml:
                continue
            tables = {**read_decisions(version.decisions), decision.id: decision}
            bpmn = version.bpmn_xml.encode("utf-8")
            called = {name: xml.encode("utf-8") for name, xml in (version.called_files or {}).items()}
            definition = parse_process(bpmn, version.file_name, tables, version.process_key, called)
            published.append(store_version(uow, ctx, definition, bpmn, version.file_name, actor.username,
                                           actor.agency_code, deployment_id=version.deployment_id))
        uow.commit()
        return published


def _current_tables(versions: list[ProcessVersion]) -> dict[str, str]:
    """decision id -> the DMN XML published last under it."""
    return {name.removesuffix(".dmn"): xml for version in versions for name, xml in (version.decisions or {}).items()}


def _summaries(versions: list[ProcessVersion], agency_code: str | None) -> list[DecisionSummary]:
    revisions: dict[str, list[tuple[str, DecisionRevision]]] = {}  # id -> (XML, revision), oldest first
    for version in versions:
        for name, xml in sorted((version.decisions or {}).items()):
            history = revisions.setdefault(name.removesuffix(".dmn"), [])
            carried = ((version.process_key, version.version),)
            if history and history[-1][0] == xml:
                last = history[-1][1]
                history[-1] = (xml, DecisionRevision(last.number, last.published_at, last.published_by,
                                                     last.process_versions + carried))
            else:
                history.append((xml, DecisionRevision(len(history) + 1, version.deployed_at, version.deployed_by,
                                                      carried)))
    latest = in_force_by_key(versions, agency_code).values()
    return [DecisionSummary(ref, read_decision(history[-1][0], f"{ref}.dmn").name,
                            tuple(sorted(v.process_key for v in latest if f"{ref}.dmn" in (v.decisions or {}))),
                            tuple(revision for _, revision in history))
            for ref, history in sorted(revisions.items())]
