"""Use cases of process designers: deploy a BPMN file as a new version, list versions."""
from __future__ import annotations

from pathlib import Path

from workflows.adapters.bpmn_parsing import parse_process
from workflows.domain.errors import InvalidProcess, NotFound
from workflows.domain.model import ProcessVersion, User

from .access import require_role
from .context import Context

MAX_BPMN_BYTES = 2_000_000


def deploy_process(ctx: Context, actor: User, bpmn: bytes, file_name: str) -> ProcessVersion:
    """Validate a BPMN file and store it as the next version of its process; running cases keep theirs."""
    require_role(actor, "designer", "admin")
    return _deploy(ctx, bpmn, file_name, actor.username)


def deploy_directory(ctx: Context, directory: Path, deployed_by: str = "system") -> list[ProcessVersion]:
    """Deploy every diagram of a folder whose content differs from its latest version (used at installation)."""
    deployed = []
    for path in sorted(directory.glob("*.bpmn")):
        version = _deploy(ctx, path.read_bytes(), path.name, deployed_by, skip_unchanged=True)
        if version is not None:
            deployed.append(version)
    return deployed


def _deploy(ctx: Context, bpmn: bytes, file_name: str, deployed_by: str,
            skip_unchanged: bool = False) -> ProcessVersion | None:
    if len(bpmn) > MAX_BPMN_BYTES:
        raise InvalidProcess(f"文件超过 {MAX_BPMN_BYTES // 1_000_000} MB", None, file_name)
    definition = parse_process(bpmn, file_name)
    with ctx.uow() as uow:
        latest = uow.processes.latest(definition.key)
        if skip_unchanged and latest is not None and latest.checksum == definition.checksum:
            return None
        version = ProcessVersion(process_key=definition.key, version=(latest.version + 1) if latest else 1,
                                 name=definition.name, bpmn_xml=bpmn.decode("utf-8"), file_name=file_name,
                                 checksum=definition.checksum, deployed_by=deployed_by, deployed_at=ctx.now())
        uow.processes.add(version)
        uow.commit()
        return version


def application_form(ctx: Context, process_key: str):
    """The application form (start event) of a process's latest version: what 申请 asks for."""
    with ctx.uow(write=False) as uow:
        latest = uow.processes.latest(process_key)
        if latest is None:
            raise NotFound(f"流程 {process_key} 尚未部署")
        return ctx.definition(uow, latest.id).start_form


def list_processes(ctx: Context) -> list[ProcessVersion]:
    with ctx.uow(write=False) as uow:
        return uow.processes.latest_of_each()


def process_versions(ctx: Context, process_key: str) -> list[ProcessVersion]:
    with ctx.uow(write=False) as uow:
        versions = uow.processes.versions(process_key)
    if not versions:
        raise NotFound(f"流程 {process_key} 不存在")
    return versions


def process_version(ctx: Context, process_key: str, version: int | None = None) -> ProcessVersion:
    """One version (the latest when `version` is None), with its BPMN XML."""
    with ctx.uow(write=False) as uow:
        found = uow.processes.with_xml(process_key, version)
    if found is None:
        raise NotFound(f"流程 {process_key} 版本 {version or ''} 不存在")
    return found
