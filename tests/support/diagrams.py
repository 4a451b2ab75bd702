"""Copies of a real diagram with small edits, for deploying new versions in tests."""
from __future__ import annotations

import re

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


def migration_target() -> bytes:
    """门诊费用报销 as a new version that renames 审核 to 初审 (same element), and removes 拨付 (Task_pay, 财务),
    adding in its place 拨付审批 (Task_pay_check, 科室负责人): a case waiting at 拨付 needs a mapping to move."""
    text = OUTPATIENT_BPMN
    lane = '<bpmn:flowNodeRef>Task_pay</bpmn:flowNodeRef>'
    assert text.count(lane) == 1 and 'id="Lane_supervisor" name="科室负责人">' in text
    text = text.replace(lane, "").replace('id="Lane_supervisor" name="科室负责人">',
                                          'id="Lane_supervisor" name="科室负责人">' + lane)
    text = re.sub(r"\bTask_pay\b", "Task_pay_check", text)
    for old, new in (RENAMED_REVIEW, ('id="Task_pay_check" name="拨付"', 'id="Task_pay_check" name="拨付审批"')):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text.encode("utf-8")
