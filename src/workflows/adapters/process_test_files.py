"""Test files beside the diagrams (bpmn/<item>.tests.yaml, or .json): a process's tests as the designer exports
them, run by `workflows test-process` and by `make test` for every diagram in bpmn/."""
from __future__ import annotations

import json
from pathlib import Path

import yaml
from lxml import etree

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


def process_key_of(bpmn: Path) -> str | None:
    """The key a diagram's tests belong to: its executable process named like the file (item_X.bpmn holds
    item_X), else its first executable one."""
    keys = [process.get("id") for process in etree.parse(str(bpmn)).iterfind(
        "{http://www.omg.org/spec/BPMN/20100524/MODEL}process") if process.get("isExecutable") != "false"]
    return bpmn.stem if bpmn.stem in keys else next(iter(keys), None)


def suite_files(directory: Path) -> dict[str, Path]:
    """Process key -> the test file beside its diagram, for every diagram of the folder that has one."""
    found = {}
    for bpmn in sorted(directory.glob("*.bpmn")):
        tests = suite_file_beside(bpmn)
        key = process_key_of(bpmn) if tests else None
        if key:
            found[key] = tests
    return found
