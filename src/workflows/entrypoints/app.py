"""The Flask application: configuration, the service context, and the mapping of errors to HTTP."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import sessionmaker

from workflows.adapters.database import DEFAULT_URL, make_engine
from workflows.adapters.orm import start_mappers
from workflows.domain.catalog import CatalogError
from workflows.domain.errors import Conflict, Forbidden, InvalidInput, InvalidProcess, NotFound, WorkflowsError
from workflows.domain.throttling import TooManyAttempts
from workflows.services.context import Context

csrf = CSRFProtect()
ERROR_STATUS = [(NotFound, 404, "not_found"), (Forbidden, 403, "forbidden"), (Conflict, 409, "conflict"),
                (InvalidInput, 422, "invalid_input"), (InvalidProcess, 422, "invalid_process")]


def database_url() -> str:
    return os.environ.get("WORKFLOWS_DATABASE_URL", DEFAULT_URL)


def make_context(url: str | None = None) -> Context:
    start_mappers()
    return Context(sessionmaker(make_engine(url or database_url()), expire_on_commit=False))


def create_app(ctx: Context | None = None, secret_key: str | None = None) -> Flask:
    from . import api, security, web

    app = Flask(__name__)
    app.config["SECRET_KEY"] = secret_key or os.environ.get("WORKFLOWS_SECRET_KEY") or _stored_secret()
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False
    app.extensions["workflows"] = ctx or make_context()
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # a clerk's form may stay open all day; the token is per session
    # Attachments are at most 10 MB: a larger request is refused before it is read, not after.
    app.config["MAX_CONTENT_LENGTH"] = 12 * 1024 * 1024
    security.install(app)
    csrf.init_app(app)
    csrf.exempt(api.blueprint)  # API clients send Bearer tokens; cookie-session writes are checked in api.py
    app.register_blueprint(api.blueprint)
    app.register_blueprint(web.blueprint)
    _register_error_handlers(app)
    return app


def _stored_secret() -> str:
    """A key kept beside the database, so sessions survive restarts and every worker process signs alike."""
    path = Path(os.environ.get("WORKFLOWS_SECRET_FILE", "var/secret_key"))
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def error_body(error: Exception, code: str) -> dict:
    body = {"code": code, "message": str(error)}
    if isinstance(error, InvalidInput):
        body["fields"] = error.field_errors
    if isinstance(error, InvalidProcess):
        body["element_id"] = error.element_id
    if isinstance(error, CatalogError):
        body.update({"file": error.file, "field": error.field})
    return {"error": body}


def _json_for_api(error):
    """Unknown API paths and methods answer in the API's JSON shape; other paths keep Flask's pages."""
    if request.path.startswith("/api/"):
        return jsonify({"error": {"code": "not_found" if error.code == 404 else "method_not_allowed",
                                  "message": "没有这个接口" if error.code == 404 else "接口不支持该请求方法"}}), error.code
    return error


def _answer(error: Exception, status: int, code: str):
    """JSON for the API, a page for people."""
    if request.path.startswith("/api/"):
        return jsonify(error_body(error, code)), status
    return render_template("error.html", message=str(error), status=status), status


def _too_many(error: TooManyAttempts):
    """429, saying in Retry-After (seconds) when to try again."""
    response = current_app.make_response(_answer(error, 429, "too_many_requests"))
    response.headers["Retry-After"] = str(error.retry_after)
    return response


def _register_error_handlers(app: Flask) -> None:
    app.register_error_handler(404, _json_for_api)
    app.register_error_handler(405, _json_for_api)
    app.register_error_handler(413, lambda error: _answer(InvalidInput("上传的文件过大：附件不能超过 10 MB"), 413,
                                                          "too_large"))
    app.register_error_handler(TooManyAttempts, _too_many)
    for error_class, status, code in ERROR_STATUS:
        app.register_error_handler(error_class, lambda error, s=status, c=code: _answer(error, s, c))
    app.register_error_handler(CatalogError, lambda error: _answer(error, 422, "invalid_catalog"))
    app.register_error_handler(WorkflowsError, lambda error: _answer(error, 400, "error"))
