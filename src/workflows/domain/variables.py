"""Process variables passed with a case's start or a task's completion (`variables` in the API), besides the form.

Camunda lets a client set any variable; here a variable is taken with its JSON value as sent (numbers, booleans,
lists, objects, null, empty strings), and refused, named, when taking it would let a client write what the
platform's rules decide:
- a field of the step's own form is that field: it is checked as the form checks it;
- a field of another step's form (an amount, an identity, a decision) is set only by that step, with its checks;
- the platform's own data (the applicant, the proposal, the 核定金额, a step's decision and opinion, the marks);
- a variable the case already holds: a rule or a handler set it, and a client does not overwrite it.
"""
from __future__ import annotations

import keyword
import re
from typing import Mapping

from .acceptance import COMMITMENT_FIELD
from .amounts import APPROVED, PROPOSAL, REASON
from .forms import Form
from .errors import Forbidden
from .refusals import REASON_FIELD
from .roles import ANY_TASK_ROLE, TASK_ROLES

MAX_VARIABLES = 200
PLATFORM_DATA = frozenset({"applicant", "agent", "decision", "materials", REASON_FIELD, PROPOSAL, APPROVED, REASON,
                           COMMITMENT_FIELD})
_PLATFORM_PREFIXES = ("material_",)  # the task page's marks of each material
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")  # what the diagram's expressions can read


def split_variables(variables: Mapping, form: Form, held: Mapping, process_fields: frozenset[str]
                    ) -> tuple[dict, dict, dict[str, str]]:
    """The variables that are fields of `form` (to be checked as the form's), the other variables taken as sent,
    and the errors per `variables.<name>`. `held`: the case's data; `process_fields`: every form field of the
    process, whichever step has it."""
    own = {f.id for f in form.fields}
    fields, others, errors = {}, {}, {}
    if len(variables) > MAX_VARIABLES:
        return {}, {}, {"variables": f"最多 {MAX_VARIABLES} 个变量"}
    for name, value in variables.items():
        problem = None if name in own else _problem(name, held, process_fields)
        if problem:
            errors[f"variables.{name}"] = problem
        else:
            (fields if name in own else others)[name] = value
    return fields, others, errors


def _problem(name: str, held: Mapping, process_fields: frozenset[str]) -> str | None:
    if not _NAME.fullmatch(name) or keyword.iskeyword(name):
        return "变量名只能由字母、数字和下划线组成，以字母开头，最长 64 个字符，且不能是 Python 关键字"
    if name in PLATFORM_DATA or name.startswith(_PLATFORM_PREFIXES):
        return f"变量 {name} 由平台设置，不能传入"
    if name in process_fields:
        return f"变量 {name} 是流程中另一步骤的表单字段，只能在该步骤的表单中填写"
    if name in held:
        return f"案件已有变量 {name}，不能覆盖"
    return None


INTEGRATOR = "integrator"  # an agency's own system (外部系统), whose workers pass variables with their results


def require_variable_source(user, step_role: str, variables: Mapping | None) -> None:
    """Who may pass process variables: a clerk of the step (holding its role: the 受理员 opening a case, the
    reviewer of 审核) or the agency's own system (外部系统). Not an applicant (no account here), a designer, an
    administrator or a colleague of another role: they work no step of the case, and a variable steers its path."""
    if not variables:
        return
    roles = set(getattr(user, "roles", ()) or ())
    clerk = step_role in roles & TASK_ROLES or (step_role == ANY_TASK_ROLE and bool(roles & TASK_ROLES))
    if not (clerk or INTEGRATOR in roles):
        raise Forbidden("只有本步骤的经办人员或外部系统可以传入流程变量")


UNDECLARED = "未声明的字段，流程变量请放在 variables 中"
# What a task's completion carries in `data` beside its form's fields: the material marks (`materials`, or the
# task page's material_<n>), a refusal's reason and the 容缺承诺书 checkbox, which the platform reads itself.
WITH_COMPLETION = frozenset({"materials", "decision", REASON_FIELD, COMMITMENT_FIELD})


def undeclared_errors(form: Form, data: Mapping, platform: frozenset[str] = frozenset()) -> dict[str, str]:
    """Each key of `data` that is no field of `form` (nor one of the `platform` keys read beside it): refused,
    named, where it was dropped before with a 200 answer. A process variable goes in `variables`, with its checks."""
    own = {f.id for f in form.fields} | platform
    return {str(key): UNDECLARED for key in data
            if key not in own and not (platform and str(key).startswith(_PLATFORM_PREFIXES))}


_HELD = "__variables__"  # the key a held submission (后加签) keeps its variables under, beside the form's values


def held_with(values: dict, variables: dict | None) -> dict:
    """A submission as it is kept until its signers have signed: its values and its variables."""
    return {**values, _HELD: variables} if variables else values


def held_parts(submission: dict) -> tuple[dict, dict]:
    """A kept submission's values and variables, to be checked again when it completes."""
    values = dict(submission)
    return values, values.pop(_HELD, None) or {}
