"""Diagrams read in several threads at once: a gunicorn worker's threads parse the catalog on their first requests
together, the scheduler's jobs beside them. Run in a fresh interpreter, so that no thread has its parser or its
schema yet, as in a worker just forked."""
from __future__ import annotations

import subprocess
import sys

import pytest

from support.paths import BPMN_DIR, ROOT

THREADS = 3
ROUNDS = 1

SCRIPT = f"""
import sys, threading
from pathlib import Path
from lxml import etree
from workflows.adapters.dmn_parsing import decision_files
from workflows.adapters.engine import Engine
from workflows.adapters.xml_reading import read_xml

bpmn = Path({str(BPMN_DIR)!r})
tables = {{name: xml.decode("utf-8") for name, xml in decision_files(bpmn / "decisions").items()}}
files = {{path.name: path.read_text("utf-8") for path in sorted(bpmn.glob("*.bpmn"))}}
start = threading.Barrier({THREADS} + 1)
failures, keys = [], []

def read_catalog():
    start.wait()
    for _ in range({ROUNDS}):
        engine = Engine()  # its own cache: every thread parses every file
        for name, xml in files.items():
            try:
                keys.append((name, engine.definition(xml, name, tables).key))
            except Exception as error:
                failures.append(f"{{name}}: {{error}}")

threads = [threading.Thread(target=read_catalog) for _ in range({THREADS})]
for thread in threads:
    thread.start()
start.wait()
for _ in range(200):  # the main thread at work with lxml meanwhile, as a worker's own thread may be
    root = read_xml(b"<a><b c='d'/></a>")
    etree.SubElement(root, "e", f="g")
for thread in threads:
    thread.join()
print(len(set(keys)), len(keys))
print("\\n".join(failures), file=sys.stderr)
"""


@pytest.mark.long  # seconds of wall: started first (tests/conftest.py)
def test_the_whole_catalog_parses_in_several_threads_at_once():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""
    distinct, parsed = map(int, result.stdout.split())
    files = len(list(BPMN_DIR.glob("*.bpmn")))
    assert parsed == files * THREADS * ROUNDS
    assert distinct == files
