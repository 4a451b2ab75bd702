"""The Camunda task attributes of a user task (assignee, candidateUsers, candidateGroups, priority, dueDate,
followUpDate), read at deploy and worked out for each case when its task opens.

SpiffWorkflow's CamundaParser drops them all. Each is a literal (`camunda:assignee="wangfang"`, `priority="80"`)
or an expression (`${initiator}`, `${reviewers}`, `#{deadline}`): JUEL translated to the sandbox's Python at
deploy (juel.py), then checked there as every other expression. A literal the task could never use (priority
"high", dueDate "soon") is refused at deploy naming the element and the attribute; an expression's value is only
known in the case, and one the task cannot use is reported in the history (domain/assignment.py).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS

from workflows.domain import assignment as rules
from workflows.domain.assignment import ATTRIBUTES, Assignment, UnusableValue
from workflows.domain.errors import InvalidProcess

from .bpmn_elements import named
from .juel import JuelError, is_juel, mixes_juel, python_or_juel, template_to_python
from .scripting import ScriptError, check_expression

_CHECKS = {"assignee": rules.assignee, "candidateUsers": rules.names, "candidateGroups": rules.names,
           "priority": rules.priority}
_DEPLOYED = datetime(2000, 1, 1, tzinfo=timezone.utc)  # a start for checking a literal due date or duration


@dataclass(frozen=True)
class AssignmentRules:
    """A user task's attributes: attribute -> literal text, or -> Python expression."""

    literals: dict[str, str] = field(default_factory=dict)
    expressions: dict[str, str] = field(default_factory=dict)

    @property
    def static_groups(self) -> tuple[str, ...]:
        return rules.names(self.literals.get("candidateGroups", ""))


def read_rules(node, file_name: str) -> AssignmentRules:
    """The attributes of the user task `node`; InvalidProcess naming the task and the attribute at fault."""
    literals, expressions = {}, {}
    for attribute, label in ATTRIBUTES.items():
        text = (node.get(f"{{{CAMUNDA_MODEL_NS}}}{attribute}") or "").strip()
        if not text:
            continue
        try:
            if is_juel(text) or mixes_juel(text):  # mixed: a text template (clerk_${hall})
                expressions[attribute] = python_or_juel(text) if is_juel(text) else template_to_python(text)
                check_expression(expressions[attribute])
            else:
                _check_literal(attribute, text)
                literals[attribute] = text
        except (JuelError, ScriptError, UnusableValue) as error:
            raise InvalidProcess(f"{named(node)}的 camunda:{attribute}（{label}）：{error}", node.get("id"),
                                 file_name) from None
    return AssignmentRules(literals, expressions)


def _check_literal(attribute: str, text: str) -> None:
    if attribute in _CHECKS:
        _CHECKS[attribute](text)
    else:
        rules.moment(text, _DEPLOYED)


def resolve(assignment_rules: AssignmentRules, evaluate: Callable[[str], object], opened_at: datetime) -> Assignment:
    """The task's attributes for its case: expressions evaluated over the task's data by `evaluate`. An attribute
    that fails or gives what the task cannot use is left out, with the reason among `problems`."""
    values, problems = {}, []
    for attribute, label in ATTRIBUTES.items():
        try:
            value = (evaluate(assignment_rules.expressions[attribute]) if attribute in assignment_rules.expressions
                     else assignment_rules.literals.get(attribute))
            if value is not None:
                values[attribute] = _converted(attribute, value, opened_at)
        except UnusableValue as error:
            problems.append(f"{label}（camunda:{attribute}）{error}，未采用")
        except Exception as error:  # the expression failed in this case: the task still opens, for the hall
            problems.append(f"{label}（camunda:{attribute}）求值出错：{type(error).__name__}: {error}，未采用")
    groups = values.get("candidateGroups", ())
    return Assignment(assignee=values.get("assignee"), candidate_users=values.get("candidateUsers", ()),
                      role=rules.task_role(groups), priority=values.get("priority", rules.DEFAULT_PRIORITY),
                      due_date=values.get("dueDate"), follow_up_date=values.get("followUpDate"),
                      problems=tuple(problems))


def _converted(attribute: str, value, opened_at: datetime):
    if attribute in _CHECKS:
        return _CHECKS[attribute](value)
    return rules.moment(value, opened_at)
