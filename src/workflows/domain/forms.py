"""Forms of BPMN user tasks and start events, and the validation of what a user submits."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from .identity import field_problem

FIELD_TYPES = ("string", "long", "boolean", "date", "enum", "decimal")
_MONEY = re.compile(r"^-?\d+(\.\d{1,2})?$")


@dataclass(frozen=True)
class FormField:
    id: str
    label: str
    type: str
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()  # (value, label) pairs of an enum
    default: str | None = None
    pattern: str | None = None  # a text field's whole value must match this regular expression (e.g. \d{6})

    def to_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "type": self.type, "required": self.required,
                "options": [{"value": value, "label": label} for value, label in self.options],
                "default": self.default, "pattern": self.pattern}


@dataclass(frozen=True)
class Form:
    fields: tuple[FormField, ...] = field(default_factory=tuple)

    @property
    def decisions(self) -> tuple[tuple[str, str], ...]:
        """The decision buttons of a step: the options of its `decision` field."""
        return next((f.options for f in self.fields if f.id == "decision"), ())

    def to_dict(self) -> dict:
        return {"fields": [f.to_dict() for f in self.fields]}


def validate_form(form: Form, submitted: dict) -> tuple[dict, dict[str, str]]:
    """Return the cleaned values of the form's fields and the errors per field id.

    Values arrive as JSON or form text; each is converted to its field's type. Keys that are not fields of the
    form are dropped, so a request cannot write arbitrary case data.
    """
    values: dict = {}
    errors: dict[str, str] = {}
    for form_field in form.fields:
        raw = submitted.get(form_field.id)
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            if form_field.required:
                errors[form_field.id] = f"请填写{form_field.label or form_field.id}"
            continue
        try:
            values[form_field.id] = _convert(form_field, raw)
        except ValueError as error:
            errors[form_field.id] = str(error)
    return values, errors


def _convert(form_field: FormField, raw):
    converter = _CONVERTERS.get(form_field.type, _to_string)
    return converter(form_field, raw)


def _to_string(form_field: FormField, raw) -> str:
    if isinstance(raw, (dict, list)):
        raise ValueError(f"{form_field.label}应为文本")
    text = str(raw).strip()
    if form_field.pattern and not re.fullmatch(form_field.pattern, text):
        raise ValueError(f"{form_field.label}格式不正确")
    if problem := field_problem(form_field.id, text):  # a bank account, a credit code: whichever form has them
        raise ValueError(problem)
    return text


def _to_long(form_field: FormField, raw) -> int:
    if isinstance(raw, bool):
        raise ValueError(f"{form_field.label}应为整数")
    try:
        return int(str(raw).strip())
    except ValueError:
        raise ValueError(f"{form_field.label}应为整数") from None


def _to_decimal(form_field: FormField, raw) -> Decimal:
    text = str(raw).strip()
    if isinstance(raw, bool) or not _MONEY.match(text):
        raise ValueError(f"{form_field.label}应为金额，最多两位小数")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{form_field.label}应为金额，最多两位小数") from None


def _to_boolean(form_field: FormField, raw) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes", "on", "是"):
        return True
    if text in ("false", "0", "no", "off", "否"):
        return False
    raise ValueError(f"{form_field.label}应为是或否")


def _to_date(form_field: FormField, raw) -> date:
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise ValueError(f"{form_field.label}应为日期（YYYY-MM-DD）") from None


def _to_enum(form_field: FormField, raw) -> str:
    value = str(raw).strip()
    allowed = [option for option, _ in form_field.options]
    if value not in allowed:
        labels = "、".join(label for _, label in form_field.options)
        raise ValueError(f"{form_field.label}只能是：{labels}")
    return value


_CONVERTERS = {"string": _to_string, "long": _to_long, "decimal": _to_decimal, "boolean": _to_boolean,
               "date": _to_date, "enum": _to_enum}
