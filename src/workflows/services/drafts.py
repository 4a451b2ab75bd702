"""A designer's draft read as a deployment would read it: its diagrams parsed with the decision tables they use,
and whether an agency may change the process at all. Publishing (processes.py) and a test run of a draft
(process_tests.py, which publishing asks first) both start here."""
from __future__ import annotations

from workflows.adapters.bpmn_parsing import ProcessDefinition, parse_deployment, referenced_decisions
from workflows.adapters.dmn_parsing import Decision, read_decision
from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain.errors import Forbidden, InvalidProcess

from .context import Context

MAX_BPMN_BYTES = 2_000_000
DECISIONS_FOLDER = "decisions"  # beside the diagrams of a folder: the DMN files of their decision tables


def parse_draft(ctx: Context, files: dict[str, bytes], tables: dict[str, Decision],
                agency_code: str | None) -> list[ProcessDefinition]:
    """BPMN files checked and parsed as a deployment of them would be, the decision tables they reference and
    `tables` lacks being those in force for the agency; raises InvalidProcess naming the element at fault."""
    for file_name, bpmn in files.items():
        if len(bpmn) > MAX_BPMN_BYTES:
            raise InvalidProcess(f"文件超过 {MAX_BPMN_BYTES // 1_000_000} MB", None, file_name)
    missing = [ref for bpmn in files.values() for ref in referenced_decisions(bpmn) if ref not in tables]
    if missing:
        with ctx.uow(write=False) as uow:
            tables = {**_published_tables(uow, missing, agency_code), **tables}
    return parse_deployment(files, tables)


def require_agency_process(ctx: Context, uow: UnitOfWork, agency_code: str, process_key: str) -> None:
    """An agency's designer changes only what the agency's own items run."""
    agency = ctx.catalog(uow).agency(agency_code)
    if agency is None or all(process_key not in (item.process_key, item.item.partner_process_key)
                             for item in agency.items.values()):
        raise Forbidden(f"流程 {process_key} 不是本机构（{agency_code}）事项的流程，不能为本机构部署")


def _published_tables(uow: UnitOfWork, refs: list[str], agency_code: str | None) -> dict[str, Decision]:
    """The tables published last under these decision ids, nationally or by the agency (those no version carries
    are left out)."""
    latest = {}
    for version in uow.processes.with_decisions(agency_code):
        for name, xml in (version.decisions or {}).items():
            if name.removesuffix(".dmn") in refs:
                latest[name.removesuffix(".dmn")] = (name, xml)
    return {ref: read_decision(xml, name) for ref, (name, xml) in latest.items()}
