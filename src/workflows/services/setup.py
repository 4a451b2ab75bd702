"""Installation: make the database hold the catalog files and every diagram of bpmn/ (changed ones only)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workflows.domain.model import ProcessVersion

from .catalog import load_catalog
from .context import Context
from .processes import deploy_directory


@dataclass(frozen=True)
class InstallReport:
    items_per_agency: dict[str, int]
    deployed: list[ProcessVersion]


def install(ctx: Context, catalog_dir: Path, bpmn_dir: Path) -> InstallReport:
    items = load_catalog(ctx, catalog_dir)
    return InstallReport(items, deploy_directory(ctx, bpmn_dir))
