"""Installation: make the database hold the catalog files and every diagram of bpmn/ (changed ones only)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workflows.domain.model import ProcessVersion

from .catalog import load_catalog
from .context import Context
from .process_tests import load_test_files
from .processes import deploy_directory


@dataclass(frozen=True)
class InstallReport:
    items_per_agency: dict[str, int]
    deployed: list[ProcessVersion]
    tests_loaded: list[str]  # the processes whose tests (bpmn/item_X.tests.yaml) were written


def install(ctx: Context, catalog_dir: Path, bpmn_dir: Path, tests: bool = True) -> InstallReport:
    """The catalog, then the diagrams' tests (`tests`), then the changed diagrams: each deployed diagram has passed
    its tests, as any later publish of it must."""
    items = load_catalog(ctx, catalog_dir)
    loaded = load_test_files(ctx, bpmn_dir) if tests else []
    return InstallReport(items, deploy_directory(ctx, bpmn_dir), loaded)
