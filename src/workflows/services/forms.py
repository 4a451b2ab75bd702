"""A step's form and texts for one case: the defaults of its fields (camunda:formData `defaultValue`, a literal or
JUEL over the case's data), shown in the task form and taken for a field a submission leaves out, on every way in;
and its documentation, a JUEL template rendered over the case's data on the task page."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from workflows.adapters import case_expressions
from workflows.adapters.bpmn_parsing import TaskDefinition
from workflows.adapters.limits import DiagramLimits
from workflows.domain.forms import Form

from .context import Context


def defaults(form: Form, data: Mapping, clock: Callable[[], datetime], limits: DiagramLimits) -> dict:
    """Field id -> its default over `data`, on `clock` (the service's). A readonly field has the case's value instead; a default whose
    expression fails in this case (a name the case lacks) gives none: the field is then as if left empty."""
    values = {}
    for form_field in form.fields:
        if form_field.readonly:
            continue
        value = form_field.default
        if form_field.default_expression:
            try:
                value = case_expressions.evaluate(form_field.default_expression, data, clock, limits)
            except Exception:  # noqa: BLE001 - the designer's expression, not the clerk's input, failed
                value = None
        if value is not None and value != "":
            values[form_field.id] = value
    return values


def with_defaults(submitted: Mapping, form_defaults: Mapping) -> dict:
    """The submission with each field it leaves out (no key at all) taken from its default."""
    return {**{key: value for key, value in form_defaults.items() if key not in submitted}, **submitted}


def documentation(ctx: Context, step: TaskDefinition, data: Mapping) -> str:
    """The step's documentation for the case (as written where its template fails here)."""
    if not step.documentation_expression:
        return step.documentation
    try:
        return str(case_expressions.evaluate(step.documentation_expression, data, ctx.now, ctx.engine.limits))
    except Exception:  # noqa: BLE001 - a text to read, not a step of the case
        return step.documentation
