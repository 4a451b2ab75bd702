"""The first check of every request, before any view or use case: ids in range, JSON of bounded depth, and text
the database can store.

A use case applies its own limits (a name is 200 characters, an opinion 2000); this keeps what never reaches one
from turning into a database error: a NUL or a lone surrogate in any value, a 10 MB search, JSON nested 10,000
deep, an id of 2⁶³. One place for all routes, so a route added tomorrow is covered too.
"""
from __future__ import annotations

import re

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter, ValidationError

from workflows.domain.errors import InvalidInput, NotFound
from workflows.domain.text import REQUEST_TEXT_LENGTH, text_problem

MAX_JSON_DEPTH = 32
BINARY_KEYS = ("content_base64",)  # a file in a JSON request: long, and checked as Base64 by its use case
FILE_TEXT_KEYS = ("xml",)  # a BPMN or DMN file in a JSON deployment: as long as a diagram may be (processes.py)
FILE_TEXT_LENGTH = 2_000_000
_BRACKETS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)  # a string is skipped whole
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")  # the bodies Werkzeug parses as a form
BIGINT_LIMIT = 2 ** 63  # a BIGINT: larger ids and offsets are no number the database takes


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: a non-negative id a database can hold; anything else matches no route (404)."""

    def to_python(self, value: str) -> int:
        if len(value) > 19 or int(value) >= BIGINT_LIMIT:
            raise ValidationError()
        return int(value)


class BoundedJSONProvider(DefaultJSONProvider):
    """Request bodies: nesting is counted before the (recursive) parser runs; every string is checked after."""

    def loads(self, s, **kwargs):
        text = s.decode("utf-8", "surrogatepass") if isinstance(s, (bytes, bytearray)) else s
        _check_depth(text)
        data = super().loads(text, **kwargs)
        _check_strings(data)
        return data


def install(app: Flask) -> None:
    """Before any blueprint is registered: the converter applies to routes as they are added."""
    app.url_map.converters["int"] = IdConverter
    app.json = BoundedJSONProvider(app)
    app.before_request(check_request)


def check_request() -> None:
    """A path value no record can have is not found; a query or form value that cannot be stored is 422.

    The request is taken from its proxy once: each `request.…` looks the context up again, and the seven lookups
    were a quarter of this check's CPU on a request without query or form."""
    current = request._get_current_object()
    if any(isinstance(value, str) and text_problem(value, 200, multiline=False)
           for value in (current.view_args or {}).values()):
        raise NotFound("没有这个页面或对象")
    errors = {}
    # request.form is empty for any other body; asking for it anyway builds a form parser on every JSON request
    for source in (current.args, current.form) if current.mimetype in FORM_TYPES else (current.args,):
        for name, values in source.lists():
            name = name or ""  # a multipart part whose name does not parse has None for one
            problem = text_problem(name, 200) or next(
                filter(None, (text_problem(value, REQUEST_TEXT_LENGTH) for value in values)), None)
            if problem:
                errors[_printable(name)] = problem
    if errors:
        raise InvalidInput(_summary(errors), errors)
    if current.is_json and current.content_length != 0 and current.method in ("POST", "PUT", "PATCH"):
        current.get_json(silent=True)  # parsed once, and checked, here; views read the cached result


def _check_depth(text: str) -> None:
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return
    depth = 0
    for token in _BRACKETS.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise InvalidInput(f"请求的 JSON 嵌套过深（最多 {MAX_JSON_DEPTH} 层）", {"body": "嵌套过深"})
        elif bracket in "]}":
            depth -= 1


def _check_strings(data) -> None:
    """Every key and string value, walked without recursion; the field is named by its path (applicant.name)."""
    errors = {}
    pending = [("", data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                if text_problem(key, 200):
                    errors[_printable(child)] = "字段名" + text_problem(key, 200)
                else:
                    pending.append((child, item))
        elif isinstance(value, list):
            pending.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
        elif isinstance(value, str):
            key = path.rsplit(".", 1)[-1]
            limit = 10 ** 9 if key in BINARY_KEYS else FILE_TEXT_LENGTH if key in FILE_TEXT_KEYS else REQUEST_TEXT_LENGTH
            problem = text_problem(value, limit)
            if problem:
                errors[path or "body"] = problem
    if errors:
        raise InvalidInput(_summary(errors), errors)


def _summary(errors: dict[str, str]) -> str:
    return "；".join(f"{name}：{problem}" for name, problem in list(errors.items())[:5])


def _printable(name: str) -> str:
    """A field's name as it can be shown back (its bad characters replaced), at most 100 characters."""
    return re.sub("[\x00-\x1f\x7f-\x9f\ud800-\udfff]", "\ufffd", name)[:100]
