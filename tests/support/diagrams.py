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


def migration_target(text: str = OUTPATIENT_BPMN) -> bytes:
    """门诊费用报销 as a new version that renames 审核 to 初审 (same element), and removes 拨付 (Task_pay, 财务),
    adding in its place 拨付审批 (Task_pay_check, 科室负责人): a case waiting at 拨付 needs a mapping to move."""
    lane = '<bpmn:flowNodeRef>Task_pay</bpmn:flowNodeRef>'
    assert text.count(lane) == 1 and 'id="Lane_supervisor" name="科室负责人">' in text
    text = text.replace(lane, "").replace('id="Lane_supervisor" name="科室负责人">',
                                          'id="Lane_supervisor" name="科室负责人">' + lane)
    text = re.sub(r"\bTask_pay\b", "Task_pay_check", text)
    for old, new in (RENAMED_REVIEW, ('id="Task_pay_check" name="拨付"', 'id="Task_pay_check" name="拨付审批"')):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text.encode("utf-8")


def review_reminder(duration: str, text: str = OUTPATIENT_BPMN) -> str:
    """The diagram with 审核's own timer: a non-interrupting boundary timer `duration` (ISO 8601) after the task
    opens, ending in 审核提醒 (the path goes on)."""
    timer = ('<bpmn:boundaryEvent id="Event_review_reminder" name="审核满期提醒" cancelActivity="false" '
             'attachedToRef="Task_review"><bpmn:outgoing>Flow_review_reminder</bpmn:outgoing>'
             '<bpmn:timerEventDefinition id="Timer_review_reminder">'
             f'<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"{duration}"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
             '<bpmn:endEvent id="EndEvent_review_reminder" name="审核提醒"><bpmn:incoming>Flow_review_reminder'
             '</bpmn:incoming></bpmn:endEvent><bpmn:sequenceFlow id="Flow_review_reminder" '
             'sourceRef="Event_review_reminder" targetRef="EndEvent_review_reminder"/>')
    lane = "<bpmn:flowNodeRef>Task_review</bpmn:flowNodeRef>"
    anchor = '<bpmn:exclusiveGateway id="Gateway_review"'
    for old, new in ((lane, lane + "<bpmn:flowNodeRef>Event_review_reminder</bpmn:flowNodeRef>"
                      "<bpmn:flowNodeRef>EndEvent_review_reminder</bpmn:flowNodeRef>"), (anchor, timer + anchor)):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def recheck_after_payment() -> bytes:
    """门诊费用报销 with a 复核 by 财务 after the payment: a step after one with outside effects."""
    text = OUTPATIENT_BPMN
    flow = re.search(r'<bpmn:sequenceFlow id="(\w+)" sourceRef="Task_payment" '
                     r'targetRef="Task_notify_applicant"/>', text).group(1)
    recheck = ('<bpmn:userTask id="Task_recheck" name="复核" camunda:formKey="Task_recheck"><bpmn:extensionElements>'
               '<camunda:properties><camunda:property name="stage" value="拨付"/></camunda:properties>'
               '<camunda:formData><camunda:formField id="decision" label="办理结果" type="enum">'
               '<camunda:value id="done" name="复核完成"/></camunda:formField></camunda:formData>'
               f'</bpmn:extensionElements><bpmn:incoming>{flow}</bpmn:incoming>'
               '<bpmn:outgoing>Flow_recheck</bpmn:outgoing></bpmn:userTask>'
               '<bpmn:sequenceFlow id="Flow_recheck" sourceRef="Task_recheck" targetRef="Task_notify_applicant"/>')
    for old, new in (
            ('<bpmn:flowNodeRef>Task_payment</bpmn:flowNodeRef>',
             '<bpmn:flowNodeRef>Task_payment</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_recheck</bpmn:flowNodeRef>'),
            ('sourceRef="Task_payment" targetRef="Task_notify_applicant"',
             'sourceRef="Task_payment" targetRef="Task_recheck"'),
            (f'<bpmn:incoming>{flow}</bpmn:incoming>', '<bpmn:incoming>Flow_recheck</bpmn:incoming>'),
            ('<bpmn:serviceTask id="Task_notify_applicant"', recheck + '<bpmn:serviceTask id="Task_notify_applicant"')):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text.encode("utf-8")
