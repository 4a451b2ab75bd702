"""Reads the catalog directory (`items.yaml`, `documents.yaml` and `agencies/<agency code>.yaml`) and parses it."""
from __future__ import annotations

from pathlib import Path

import yaml

from workflows.domain.catalog import Catalog, CatalogError, parse_catalog

ITEMS_FILE = "items.yaml"
TEMPLATES_FILE = "documents.yaml"  # the default templates of the documents (文书) cases are given
AGENCIES_DIR = "agencies"


class _StrictLoader(yaml.CSafeLoader):
    """yaml.safe_load, except that a key given twice in one mapping is an error instead of the last one winning.
    On libyaml's parser (PyYAML's C extension, in its wheels): the catalog is read in 18 ms of CPU, not 140."""

    def construct_mapping(self, node, deep=False):
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def read_document(path: Path) -> dict:
    """One YAML file as plain data; a missing file or bad YAML is a CatalogError naming the file (and the line)."""
    try:
        with open(path, encoding="utf-8") as stream:
            return yaml.load(stream, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except FileNotFoundError:
        raise CatalogError(str(path), "(file)", "not found") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(document)"
        problem = getattr(error, "problem", None) or str(error)
        raise CatalogError(str(path), where, f"YAML syntax error: {problem}") from None


def read_documents(directory: Path) -> tuple[dict, dict[str, dict], dict]:
    """The raw documents: items.yaml, each agency file keyed by its name relative to `directory`
    (e.g. `agencies/210400.yaml`), and documents.yaml; pass them to `parse_catalog` to get the catalog."""
    directory = Path(directory)
    items = read_document(directory / ITEMS_FILE)
    agencies = {f"{AGENCIES_DIR}/{path.name}": read_document(path)
                for path in sorted((directory / AGENCIES_DIR).glob("*.yaml"))}
    return items, agencies, read_document(directory / TEMPLATES_FILE)


def load_documents(directory: Path) -> tuple[dict, dict[str, dict], dict, Catalog]:
    """Read and validate the whole catalog: the raw documents (as read_documents gives them) and the catalog.

    Errors name the file as found under `directory`; each agency file must be named after its agency code.
    """
    directory = Path(directory)
    items, agencies, templates = read_documents(directory)
    by_path = {str(directory / name): document for name, document in agencies.items()}
    catalog = parse_catalog(items, by_path, items_file=str(directory / ITEMS_FILE), templates_document=templates,
                            templates_file=str(directory / TEMPLATES_FILE))
    for path, document in by_path.items():
        code = str(document["agency"]["code"]).strip()
        if Path(path).stem != code:
            raise CatalogError(path, "agency.code", f"{code!r} does not match the file name {Path(path).name}")
    return items, agencies, templates, catalog


def load_catalog(directory: Path) -> Catalog:
    """Read and validate the whole catalog."""
    return load_documents(directory)[3]
