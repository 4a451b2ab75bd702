"""Copies of a real diagram with small edits, for deploying new versions in tests."""
from __future__ import annotations

from support.paths import BPMN_DIR

OUTPATIENT_PROCESS = "item_002036006001"
OUTPATIENT_BPMN = (BPMN_DIR / f"{OUTPATIENT_PROCESS}.bpmn").read_text(encoding="utf-8")
RENAMED_REVIEW = ('id="Task_review" name="审核"', 'id="Task_review" name="初审"')


def outpatient_diagram(*replacements: tuple[str, str]) -> bytes:
    """The deployed 门诊费用报销 diagram with each (old, new) text replaced everywhere."""
    text = OUTPATIENT_BPMN
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode("utf-8")
