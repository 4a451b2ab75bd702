"""A user task's Camunda attributes: literals checked at deploy, expressions (JUEL or not) worked out per case,
and what a case's values make unusable reported instead of failing the case."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from workflows.adapters.bpmn_parsing import parse_process
from workflows.adapters.scripting import RestrictedEnvironment
from workflows.adapters.task_assignment import resolve
from workflows.domain.errors import InvalidProcess

from support.paths import ROOT

FIXTURE = (ROOT / "tests" / "fixtures" / "conformance" / "task_attributes.bpmn").read_bytes()
OPENED = datetime(2026, 11, 23, 1, 30, tzinfo=timezone.utc)
BEIJING = timezone(timedelta(hours=8))


def with_attributes(attributes: str) -> bytes:
    return FIXTURE.replace(b'camunda:assignee="${handled_by}"', attributes.encode())


def rules_of(attributes: str):
    return parse_process(with_attributes(attributes), "attributes.bpmn").user_tasks["Task_accept"].assignment


def resolved(attributes: str, data: dict):
    environment = RestrictedEnvironment(clock=lambda: OPENED)
    return resolve(rules_of(attributes), lambda source: environment.evaluate(source, dict(data)), OPENED)


@pytest.mark.parametrize(("attributes", "reason"), [
    ('camunda:assignee="${user.getName()}"', "camunda:assignee（办理人）：JUEL 表达式不受支持：方法调用 user.getName() 第 1 列"),
    ('camunda:assignee="user_${id.trim()}"', "camunda:assignee（办理人）：JUEL 表达式不受支持：方法调用 id.trim() 第 8 列"),
    ('camunda:dueDate="soon"', "camunda:dueDate（到期时间）：应为 ISO 8601 日期时间、日期或时长"),
    ('camunda:candidateUsers="#{__import__}"', "变量名“__import__”"),
])
def test_an_attribute_the_task_could_never_use_is_refused_at_deploy_naming_the_task(attributes, reason):
    bpmn = with_attributes(attributes)
    if b"camunda:dueDate=\"soon\"" in bpmn:  # the fixture's own dueDate gives way to the one tried
        bpmn = bpmn.replace(b' camunda:dueDate="2026-12-31T17:00:00+08:00"', b"")
    with pytest.raises(InvalidProcess) as refused:
        parse_process(bpmn, "attributes.bpmn")
    assert refused.value.element_id == "Task_accept"
    assert "“受理”（Task_accept）的 " in refused.value.reason and reason in refused.value.reason


def test_expressions_are_worked_out_over_the_case_data():
    assignment = resolved('camunda:assignee="${people.reviewer}" camunda:candidateUsers="${team}"',
                          {"people": {"reviewer": "shenhe"}, "team": ["shenhe", "shouli"], "urgent": False,
                           "follow_up": date(2026, 11, 25)})
    assert (assignment.assignee, assignment.candidate_users, assignment.priority) == ("shenhe",
                                                                                      ("shenhe", "shouli"), 50)
    assert assignment.due_date == datetime(2026, 12, 31, 17, tzinfo=BEIJING)
    assert assignment.follow_up_date == datetime(2026, 11, 25, 23, 59, 59, tzinfo=BEIJING)
    assert assignment.problems == ()


def test_groups_given_by_an_expression_route_the_task_to_the_role_they_name():
    rules = with_attributes("").replace(b'camunda:candidateGroups="acceptor"', b'camunda:candidateGroups="${groups}"')
    definition = parse_process(rules, "groups.bpmn").user_tasks["Task_accept"]
    environment = RestrictedEnvironment(clock=lambda: OPENED)
    data = {"groups": "外部组, 审核员", "urgent": True, "follow_up": "P3D"}
    assignment = resolve(definition.assignment, lambda source: environment.evaluate(source, data), OPENED)

    assert (definition.role, assignment.role) == ("any", "reviewer")  # known only in the case
    assert assignment.follow_up_date == OPENED + timedelta(days=3)


def test_a_value_the_task_cannot_use_is_left_out_and_said_instead_of_failing_the_case():
    assignment = resolved('camunda:assignee="${42}"', {"follow_up": "soon"})

    assert (assignment.assignee, assignment.priority, assignment.follow_up_date) == (None, 50, None)
    assert assignment.problems == (
        "办理人（camunda:assignee）应为用户名，而不是 42，未采用",
        "优先级（camunda:priority）求值出错：NameError: name 'urgent' is not defined，未采用",
        "跟进时间（camunda:followUpDate）应为 ISO 8601 日期时间、日期或时长（如 2026-12-31T17:00:00+08:00、P3D），"
        "而不是 'soon'，未采用")
