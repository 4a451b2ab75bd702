"""JUEL in texts that are shown or filled in rather than run by the engine: a form field's `defaultValue`
(`${applicant.name}`, `#{today}`) and a user task's name or documentation (`审核${applicant_name}的申请`).

Each is translated once, at deploy (juel.py: a whole `${…}` keeps its value's type, a text mixed with
expressions becomes a text), checked by the sandbox (scripting.py) as every diagram expression is, and evaluated
over a case's data when the form is shown, a field is left out, or the task opens. A text without `${` stays the
literal it is.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from .juel import is_juel, mixes_juel, python_or_juel, template_to_python
from .limits import DiagramLimits
from .scripting import RestrictedEnvironment, check_expression, command_budget


def compiled(text: str | None, as_text: bool = False) -> str | None:
    """The sandbox's Python for `text`, None when it holds no JUEL. `as_text`: a whole expression's value is
    made a text too (a name). Raises JuelError or ScriptError for what the sandbox would not run."""
    if not text or not (is_juel(text) or mixes_juel(text)):
        return None
    python = template_to_python(text) if as_text or not is_juel(text) else python_or_juel(text)
    check_expression(python)
    return python


def evaluate(python: str, data: Mapping, clock: Callable[[], datetime], limits: DiagramLimits | None = None):
    """`python`'s value over the case data `data` (a copy: nothing is written back), on the case's clock, within
    the limits of one command; raises what the expression raises."""
    environment = RestrictedEnvironment(limits=limits, clock=clock)
    with command_budget(environment.limits):
        return environment.evaluate(python, dict(data))
