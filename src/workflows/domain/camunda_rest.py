"""Camunda 7's REST terms for user tasks and process instances, mapped onto the platform's (for
entrypoints/engine_rest.py): what a Camunda client sends is only typed variables, where our API has a form's `data`
beside `variables`; a case is Camunda's process instance, its number the instance id.

The rules stay the platform's: a variable named as a field of the step's form is that field, checked as the form
checks it (domain/variables.py); what a completion carries beside its form (the material marks, a refusal's
reason, the 容缺承诺书) goes where our API takes it; the applicant of a new case is the variable `applicant`.
"""
from __future__ import annotations

from collections.abc import Mapping

from . import pages
from .errors import InvalidInput, NotFound
from .forms import Form
from .model import ProcessVersion
from .variables import WITH_COMPLETION

APPLICANT = "applicant"
BUSINESS_KEY = "businessKey"  # kept as a variable of the case: its number is the instance id
# A form field's type in Camunda's typed variables; amounts (decimal, ours) travel as text, exact to the fen.
FIELD_TYPES = {"string": "String", "long": "Long", "boolean": "Boolean", "date": "Date", "enum": "String",
               "decimal": "String"}


def definition_id(version: ProcessVersion) -> str:
    """Camunda's process definition id, key:version:id (invoice:2:c3a63aaa-…); ours ends in the version's row id."""
    return f"{version.process_key}:{version.version}:{version.id}"


def version_id_of(definition: str) -> tuple[str, int, int]:
    """The (key, version, row id) a process definition id names; a text not of that shape names nothing."""
    key, _, rest = definition.partition(":")
    number, _, row = rest.partition(":")
    if not (key and number.isdigit() and row.isdigit() and len(definition) <= 300):
        raise NotFound(f"流程定义 {definition} 不存在：应为 流程标识:版本号:编号（如 claim:2:17）")
    return key, int(number), int(row)


def completion_parts(variables: Mapping) -> tuple[dict, dict]:
    """A Camunda completion's variables as our completion's (data, variables)."""
    data = {name: value for name, value in variables.items() if name in WITH_COMPLETION}
    return data, {name: value for name, value in variables.items() if name not in WITH_COMPLETION}


def start_parts(variables: Mapping, business_key) -> tuple[dict, dict]:
    """A Camunda start's variables as the new case's (applicant, variables): the applicant is required, an
    object; the business key, if any, is kept as the variable businessKey."""
    applicant = variables.get(APPLICANT)
    if not isinstance(applicant, dict):
        raise InvalidInput("请在变量 applicant 中给出申请人", {f"variables.{APPLICANT}": (
            "必填，Json 对象：{\"name\": 姓名, \"id_number\": 身份证号, \"phone\": 手机号}")})
    if business_key is not None and (not isinstance(business_key, str) or not 0 < len(business_key) <= 200):
        raise InvalidInput("businessKey 有误", {BUSINESS_KEY: "应为 1–200 个字符的文字"})
    others = {name: value for name, value in variables.items() if name != APPLICANT}
    return applicant, {**others, **({BUSINESS_KEY: business_key} if business_key else {})}


def form_variables(form: Form, data: Mapping, defaults: Mapping, names: tuple[str, ...] | None = None) -> dict:
    """Camunda's form-variables: each field of the form (or those named) with its value in the case, else its
    default, typed as the field is."""
    typed = {}
    for field in form.fields:
        if names is not None and field.id not in names:
            continue
        value = data.get(field.id, defaults.get(field.id))
        kind = "Null" if value is None else FIELD_TYPES.get(field.type, "String")
        if kind in ("String", "Date") and value is not None:
            value = str(value)
        typed[field.id] = {"type": kind, "value": value, "valueInfo": {}}
    return typed


def paging(first, maximum) -> tuple[int, int]:
    """firstResult and maxResults of a query, as query-string texts."""
    errors = {"firstResult": "应为非负整数", "maxResults": f"应为 1–{pages.MAX_PAGE} 的整数"}
    try:
        offset, limit = int(first or 0), int(maximum or pages.MAX_PAGE)
    except (TypeError, ValueError):
        raise InvalidInput("分页参数有误", errors) from None
    if not 0 <= offset < 2 ** 31 or not 0 < limit <= pages.MAX_PAGE:
        raise InvalidInput("分页参数有误", errors)
    return offset, limit
