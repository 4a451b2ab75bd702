"""Forms of BPMN user tasks and start events, and the validation of what a user submits."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .amounts import amount_of
from .text import TEXT_LENGTH, checked_text

from .identity import field_problem

FIELD_TYPES = ("string", "long", "boolean", "date", "enum", "decimal")
DEFAULT_MAX_AMOUNT = Decimal("100000000.00")  # an installation may set its own (services.context, max_amount)
# An amount that is part of another field's may not exceed it: 自费金额 is part of 医疗费用总额.
AMOUNT_PARTS = {"self_pay_total": "expense_total"}
_LONG_LIMIT = 2 ** 63


@dataclass(frozen=True)
class FormField:
    id: str
    label: str
    type: str
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()  # (value, label) pairs of an enum
    default: str | None = None
    pattern: str | None = None  # a text field's whole value must match this regular expression (e.g. \d{6})
    minimum: Decimal | None = None  # an amount's least value (Camunda constraint min); None: more than zero
    maximum: Decimal | None = None  # an amount's greatest value (constraint max), below the installation's
    min_length: int | None = None  # a text's fewest characters (Camunda constraint minlength)
    max_length: int | None = None  # a text's most characters (maxlength), within what the database stores
    readonly: bool = False  # shown, never taken from the client: its value is the case's (constraint readonly)
    # A defaultValue written in JUEL (`${applicant.name}`), as the sandbox's Python: evaluated over the case's data
    # when the form is shown and when the field is left out (adapters/case_expressions.py); None: `default` as is.
    default_expression: str | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "type": self.type, "required": self.required,
                "options": [{"value": value, "label": label} for value, label in self.options],
                "default": self.default, "pattern": self.pattern,
                "minimum": None if self.minimum is None else str(self.minimum),
                "maximum": None if self.maximum is None else str(self.maximum),
                "min_length": self.min_length, "max_length": self.max_length, "readonly": self.readonly}

    @property
    def hint(self) -> str:
        """The field's constraints in words, under it in the task form."""
        parts = []
        if self.min_length is not None or self.max_length is not None:
            parts.append(_range_words(self.min_length, self.max_length, "个字符"))
        if self.type == "long" and (self.minimum is not None or self.maximum is not None):
            parts.append(_range_words(self.minimum, self.maximum, ""))
        if self.readonly:
            parts.append("只读，取自案件数据")
        return "；".join(parts)


def _range_words(low, high, unit: str) -> str:
    if low is not None and high is not None:
        return f"{low}–{high}{unit}"
    return f"至少{low}{unit}" if low is not None else f"最多{high}{unit}"


@dataclass(frozen=True)
class Form:
    fields: tuple[FormField, ...] = field(default_factory=tuple)

    @property
    def decisions(self) -> tuple[tuple[str, str], ...]:
        """The decision buttons of a step: the options of its `decision` field."""
        return next((f.options for f in self.fields if f.id == "decision"), ())

    def to_dict(self) -> dict:
        return {"fields": [f.to_dict() for f in self.fields]}


def validate_form(form: Form, submitted: dict, max_amount: Decimal = DEFAULT_MAX_AMOUNT,
                  current: dict | None = None) -> tuple[dict, dict[str, str]]:
    """Return the cleaned values of the form's fields and the errors per field id.

    Values arrive as JSON or form text; each is converted to its field's type. Keys that are not fields of the
    form are left out here (variables are checked on their own: `undeclared_variable_errors`). Amounts lie within
    the installation's `max_amount` (and the field's own bounds), and a part of another amount does not exceed
    it. A readonly field keeps its value in `current` (the case data): sent unchanged it is accepted, and left out.
    """
    values: dict = {}
    errors: dict[str, str] = {}
    for form_field in form.fields:
        raw = submitted.get(form_field.id)
        if form_field.readonly:
            if problem := _readonly_problem(form_field, raw, (current or {}).get(form_field.id)):
                errors[form_field.id] = problem
            continue
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            if form_field.required:
                errors[form_field.id] = f"请填写{form_field.label or form_field.id}"
            continue
        try:
            values[form_field.id] = _convert(form_field, raw)
            if form_field.type == "decimal":
                _check_bounds(form_field, values[form_field.id], max_amount)
            elif form_field.type == "long":
                _check_range(form_field, values[form_field.id])
        except ValueError as error:
            values.pop(form_field.id, None)
            errors[form_field.id] = str(error)
    errors.update(_part_errors(form, values))
    return values, errors


def _convert(form_field: FormField, raw):
    converter = _CONVERTERS.get(form_field.type, _to_string)
    return converter(form_field, raw)


def _check_bounds(form_field: FormField, amount: Decimal, max_amount: Decimal) -> None:
    label = form_field.label
    if form_field.minimum is None and amount <= 0:
        raise ValueError(f"{label}应大于0")
    if form_field.minimum is not None and amount < form_field.minimum:
        raise ValueError(f"{label}不得小于{form_field.minimum}")
    ceiling = min(max_amount, form_field.maximum) if form_field.maximum is not None else max_amount
    if amount > ceiling:
        raise ValueError(f"{label}不得超过{ceiling}")


def _check_range(form_field: FormField, number: int) -> None:
    if form_field.minimum is not None and number < form_field.minimum:
        raise ValueError(f"{form_field.label}不得小于{form_field.minimum}")
    if form_field.maximum is not None and number > form_field.maximum:
        raise ValueError(f"{form_field.label}不得大于{form_field.maximum}")


def _readonly_problem(form_field: FormField, raw, current) -> str | None:
    """A readonly field sent with another value than the case holds: the client may not change it."""
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    try:
        unchanged = current is not None and _convert(form_field, raw) == _convert(form_field, current)
    except ValueError:
        unchanged = False
    return None if unchanged else f"{form_field.label}为只读，取自案件数据，不能修改"


def _part_errors(form: Form, values: dict) -> dict[str, str]:
    labels = {f.id: f.label for f in form.fields}
    return {part: f"{labels[part]}不得超过{labels[whole]}"
            for part, whole in AMOUNT_PARTS.items()
            if part in values and whole in values and values[part] > values[whole]}


def _to_string(form_field: FormField, raw) -> str:
    if isinstance(raw, (dict, list)):
        raise ValueError(f"{form_field.label}应为文本")
    text = checked_text(str(raw).strip(), form_field.label or form_field.id, TEXT_LENGTH)
    if form_field.min_length is not None and len(text) < form_field.min_length:
        raise ValueError(f"{form_field.label}至少{form_field.min_length}个字符")
    if form_field.max_length is not None and len(text) > form_field.max_length:
        raise ValueError(f"{form_field.label}最多{form_field.max_length}个字符")
    if form_field.pattern and not re.fullmatch(form_field.pattern, text):
        raise ValueError(f"{form_field.label}格式不正确")
    if problem := field_problem(form_field.id, text):  # a bank account, a credit code: whichever form has them
        raise ValueError(problem)
    return text


def _to_long(form_field: FormField, raw) -> int:
    if isinstance(raw, bool):
        raise ValueError(f"{form_field.label}应为整数")
    try:
        number = int(str(raw).strip())
    except ValueError:
        raise ValueError(f"{form_field.label}应为整数") from None
    if abs(number) >= _LONG_LIMIT:  # what a BPMN long holds, and what the database can index
        raise ValueError(f"{form_field.label}超出整数范围")
    return number


def _to_decimal(form_field: FormField, raw) -> Decimal:
    text = str(raw).strip()
    amount = None if isinstance(raw, (bool, dict, list)) else amount_of(text)
    if amount is None and text.startswith("-") and amount_of(text[1:]) is not None:
        raise ValueError(f"{form_field.label}不能为负数")
    if amount is None:
        raise ValueError(f"{form_field.label}应为金额，最多两位小数")
    return amount


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
