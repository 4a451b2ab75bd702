"""Every API response a test receives, checked against the OpenAPI document the server publishes: its status is
declared for the operation, and its JSON body matches the declared schema (nullable where it may be null)."""
from __future__ import annotations

import json
import re

from flask.testing import FlaskClient
from openapi_schema_validator import OAS31Validator
from werkzeug.exceptions import HTTPException

from workflows.entrypoints.openapi import openapi_document

_PARAMETER = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


def _inlined(schema, schemas: dict):
    """The schema with every $ref replaced by what it names (the document has no cycles)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inlined(schemas[schema["$ref"].rsplit("/", 1)[-1]], schemas)
        return {key: _inlined(value, schemas) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_inlined(item, schemas) for item in schema]
    return schema


def violations(app, method: str, path: str, status: int, content_type: str, body: bytes) -> list[str]:
    """What is wrong with this answer according to the document; [] when it matches or is not an API call."""
    if not path.startswith(("/api/", "/engine-rest/")):
        return []
    try:
        rule, _ = app.url_map.bind("").match(path, method=method, return_rule=True)
    except HTTPException:
        return []  # an unknown path or method: no operation to hold it to
    document = openapi_document()
    operation = document["paths"].get(_PARAMETER.sub(r"{\1}", rule.rule), {}).get(method.lower())
    if operation is None:
        return [f"{method} {rule.rule} is not in the OpenAPI document"]
    responses = operation["responses"]
    declared = responses.get(str(status)) or responses.get("default")
    if declared is None:
        return [f"{method} {path} answered {status}, not declared (declared: {', '.join(responses)})"]
    media = declared.get("content", {})
    if not content_type.startswith("application/json"):
        return [] if any(content_type.startswith(kind.split(";")[0]) for kind in media) or not media else [
            f"{method} {path} {status}: {content_type} is not declared ({', '.join(media)})"]
    schema = media.get("application/json", {}).get("schema")
    if schema is None:
        return [f"{method} {path} {status}: JSON is not declared ({', '.join(media)})"]
    validator = OAS31Validator(_inlined(schema, document["components"]["schemas"]))
    return [f"{method} {path} {status}: {'/'.join(map(str, error.absolute_path))}: {error.message}"
            for error in validator.iter_errors(json.loads(body))][:5]


class DocumentedClient(FlaskClient):
    """The app's test client that fails a test whose API response the document does not describe."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        request = response.request
        if not kwargs.get("follow_redirects"):
            found = violations(self.application, request.method, request.path, response.status_code,
                               response.content_type or "", response.get_data())
            assert not found, "\n".join(found)
        return response
