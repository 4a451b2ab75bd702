"""Use cases of process designers: deploy BPMN files (with the DMN files of their decision tables) as new versions,
list versions.

A deployment is several files deployed together: a call activity may call a process of another file of it, and
each executable process no call activity calls (each executable pool of a collaboration) becomes a version of its
process, pointing at the deployment and carrying the files it calls, so that running cases keep the processes they
call while later deployments change them.

Processes belong to an agency: a designer deploys for the items of the designer's own agency, and only that
agency's new cases run the version; an administrator may deploy a national version (the shipped diagrams are
national), which every agency runs until it deploys its own. Versions are numbered per process across agencies."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from workflows.adapters.bpmn_parsing import ProcessDefinition
from workflows.adapters.dmn_parsing import Decision, decision_files, read_decisions
from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain.errors import InvalidInput, InvalidProcess, NotFound
from workflows.domain.model import Deployment, ProcessVersion, User
from workflows.domain.text import TEXT_LENGTH, text_problem

from . import process_tests
from .access import require_role
from .context import Context
from .drafts import DECISIONS_FOLDER, parse_draft, require_agency_process
from .retries import retried

MAX_DMN_BYTES = 1_000_000
MAX_FILES = 20  # BPMN files of one deployment


def deploy_process(ctx: Context, actor: User, bpmn: bytes, file_name: str,
                   decisions: Mapping[str, bytes | str] | None = None, national: bool = False,
                   note: str | None = None) -> ProcessVersion:
    """Deploy one BPMN file (see deploy_files); the version answered is that of the agency's item when the file
    is a collaboration of several processes."""
    versions = deploy_files(ctx, actor, {file_name: bpmn}, decisions, national, note)
    return versions[0]


def deploy_files(ctx: Context, actor: User, files: Mapping[str, bytes],
                 decisions: Mapping[str, bytes | str] | None = None, national: bool = False,
                 note: str | None = None) -> list[ProcessVersion]:
    """Validate BPMN files deployed together and store each process of them as the next version of that process,
    for the actor's agency (`national`: for every agency without its own, administrators only); running cases
    keep theirs. Item processes come first in the answer. `note`: the designer's change note, kept with each
    version and shown in its history.

    `decisions` (DMN file name -> XML) are the decision tables their business-rule tasks reference; a table not
    given is the one in force for the agency (services/decisions.py). A version carries the tables it references."""
    if national:
        require_role(actor, "admin")
    else:
        require_role(actor, "designer", "admin")
    if not files:
        raise InvalidProcess("请至少提供一个 BPMN 文件", None, None)
    if len(files) > MAX_FILES:
        raise InvalidProcess(f"一次最多部署 {MAX_FILES} 个 BPMN 文件", None, None)
    check_decision_sizes(decisions or {})
    return _deploy(ctx, dict(files), actor.username, read_decisions(decisions or {}),
                   None if national else actor.agency_code, change_note=change_note(note))


def change_note(note) -> str | None:
    """The designer's change note as it will be kept (None when none was given), or InvalidInput naming it."""
    if note is None:
        return None
    if not isinstance(note, str):
        raise InvalidInput("变更说明有误", {"note": "变更说明应为文字"})
    problem = text_problem(note.strip(), TEXT_LENGTH)
    if problem:
        raise InvalidInput("变更说明有误", {"note": f"变更说明{problem}"})
    return note.strip() or None


def check_decision_sizes(files: Mapping[str, bytes | str]) -> None:
    """DMN files over the size limit are refused before they are parsed, whichever way they come in."""
    for name, xml in files.items():
        size = len(xml.encode("utf-8")) if isinstance(xml, str) else len(xml)
        if size > MAX_DMN_BYTES:
            raise InvalidProcess(f"决策表超过 {MAX_DMN_BYTES // 1_000_000} MB", None, name)


def deploy_directory(ctx: Context, directory: Path, deployed_by: str = "system") -> list[ProcessVersion]:
    """Deploy every diagram of a folder, with the decision tables of its decisions/ folder, whose content (diagram
    and tables) differs from its latest version (used at installation)."""
    files = decision_files(directory / DECISIONS_FOLDER)
    check_decision_sizes(files)
    tables = read_decisions(files)
    deployed = []
    for path in sorted(directory.glob("*.bpmn")):
        deployed += _deploy(ctx, {path.name: path.read_bytes()}, deployed_by, tables, skip_unchanged=True)
    return deployed


@retried
def _deploy(ctx: Context, files: dict[str, bytes], deployed_by: str, tables: dict[str, Decision],
            agency_code: str | None = None, skip_unchanged: bool = False,
            change_note: str | None = None) -> list[ProcessVersion]:
    definitions = parse_draft(ctx, files, tables, agency_code)  # outside the write transaction: it takes a while
    process_tests.check_before_publish(ctx, definitions, files, agency_code)
    with ctx.uow() as uow:
        if agency_code is not None:
            for definition in definitions:
                require_agency_process(ctx, uow, agency_code, definition.key)
        if skip_unchanged:
            definitions = [definition for definition in definitions
                           if getattr(uow.processes.in_force(definition.key, agency_code), "checksum", None)
                           != definition.checksum]
        if not definitions:
            return []
        deployment = Deployment(agency_code=agency_code, deployed_by=deployed_by, deployed_at=ctx.now(),
                                files=list(files))
        uow.processes.add_deployment(deployment)
        uow.flush()
        versions = [store_version(uow, ctx, definition, files[definition.file_name], definition.file_name,
                                  deployed_by, agency_code, change_note, deployment.id)
                    for definition in _items_first(ctx, uow, definitions, agency_code)]
        uow.commit()
        return versions


def _items_first(ctx: Context, uow: UnitOfWork, definitions: list[ProcessDefinition],
                 agency_code: str | None) -> list[ProcessDefinition]:
    """The processes of a deployment, those an item of the catalog runs first (the item's process of a
    collaboration whose other pool is a partner's)."""
    keys = {item.process_key for item in ctx.catalog(uow).items.values()}
    return sorted(definitions, key=lambda definition: definition.key not in keys)


def store_version(uow: UnitOfWork, ctx: Context, definition: ProcessDefinition, bpmn: bytes, file_name: str,
                  deployed_by: str, agency_code: str | None, change_note: str | None = None,
                  deployment_id: int | None = None) -> ProcessVersion:
    """The parsed process as its next version for the agency (None: national), with the decision tables it
    references and the other files of its deployment it calls, in the caller's transaction."""
    latest = uow.processes.latest(definition.key)
    version = ProcessVersion(process_key=definition.key, version=(latest.version + 1) if latest else 1,
                             name=definition.name, bpmn_xml=bpmn.decode("utf-8"), file_name=file_name,
                             checksum=definition.checksum, deployed_by=deployed_by, deployed_at=ctx.now(),
                             decisions={f"{ref}.dmn": table.xml for ref, table in sorted(definition.decisions.items())},
                             agency_code=agency_code, change_note=change_note, deployment_id=deployment_id,
                             called_files=dict(definition.called_files))
    uow.processes.add(version)
    uow.flush()
    return version


def application_form(ctx: Context, process_key: str, agency_code: str):
    """The application form (start event) of the version in force for the agency: what 申请 asks for."""
    with ctx.uow(write=False) as uow:
        latest = uow.processes.in_force(process_key, agency_code)
        if latest is None:
            raise NotFound(f"流程 {process_key} 尚未部署")
        return ctx.definition(uow, latest.id).start_form


def list_processes(ctx: Context, agency_code: str | None = None) -> list[ProcessVersion]:
    """The latest version of each process; for an agency, the version its new cases run."""
    with ctx.uow(write=False) as uow:
        if agency_code is None:
            return uow.processes.latest_of_each()
        versions = in_force_by_key(uow.processes.visible(agency_code), agency_code)
    return [versions[key] for key in sorted(versions)]


def in_force_by_key(versions: list[ProcessVersion], agency_code: str | None) -> dict[str, ProcessVersion]:
    """process key -> the version the agency's new cases run, among `versions` (oldest first, national and the
    agency's): its own newest, else the newest national one."""
    latest: dict[str, ProcessVersion] = {}
    for version in versions:
        current = latest.get(version.process_key)
        own = version.agency_code is not None and version.agency_code == agency_code
        if current is None or own or current.agency_code is None:
            latest[version.process_key] = version
    return latest


def process_versions(ctx: Context, process_key: str) -> list[ProcessVersion]:
    with ctx.uow(write=False) as uow:
        versions = uow.processes.versions(process_key)
    if not versions:
        raise NotFound(f"流程 {process_key} 不存在")
    return versions


def process_version(ctx: Context, process_key: str, version: int | None = None,
                    agency_code: str | None = None) -> ProcessVersion:
    """One version, with its BPMN XML; when `version` is None, the latest, or the one in force for the agency."""
    with ctx.uow(write=False) as uow:
        if version is None and agency_code is not None:
            in_force = uow.processes.in_force(process_key, agency_code)
            version = in_force.version if in_force else 0
        found = uow.processes.with_xml(process_key, version)
    if found is None:
        raise NotFound(f"流程 {process_key} 版本 {version or ''} 不存在")
    return found
