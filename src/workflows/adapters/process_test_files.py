"""Test files beside the diagrams (bpmn/<item>.tests.yaml, or .json): a process's tests as the designer exports
them, run by `workflows test-process` and by `make test` for every diagram in bpmn/."""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from workflows.domain.errors import InvalidInput

SUFFIXES = (".tests.yaml", ".tests.json")


def suite_file_beside(bpmn: Path) -> Path | None:
    """The test file of a diagram: item_X.bpmn -> item_X.tests.yaml (or .json), if there is one."""
    return next((path for suffix in SUFFIXES if (path := bpmn.with_name(bpmn.stem + suffix)).exists()), None)


def read_tests(path: Path):
    """The raw document of a test file; bad YAML or JSON is InvalidInput naming the file and the line."""
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as error:
        raise InvalidInput(f"测试文件 {path.name} 格式有误", {"tests": str(error)[:300]}) from None
