"""The Flask application: configuration, the service context, and the mapping of errors to HTTP."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from workflows.adapters.database import DEFAULT_URL
from workflows.bootstrap import Kick, bootstrap
from workflows.domain.catalog import CatalogError
from workflows.domain.errors import Conflict, Forbidden, InvalidInput, InvalidProcess, NotFound, WorkflowsError
from workflows.domain.process_tests import SavedTestsFailed
from workflows.domain.throttling import TooManyAttempts
from workflows.services.context import Context

from . import inputs, logs

csrf = CSRFProtect()
ERROR_STATUS = [(NotFound, 404, "not_found"), (Forbidden, 403, "forbidden"), (Conflict, 409, "conflict"),
                (InvalidInput, 422, "invalid_input"), (InvalidProcess, 422, "invalid_process")]


def database_url() -> str:
    return os.environ.get("WORKFLOWS_DATABASE_URL", DEFAULT_URL)


def make_context(url: str | None = None, kick: Kick | None = None) -> Context:
    """The web app's context: a 文书's PDF is rendered on a thread right after its command (the CLI: inline);
    WORKFLOWS_OUTBOX_KICK=off leaves it to the scheduler process and to the first download."""
    kick = kick or os.environ.get("WORKFLOWS_OUTBOX_KICK", "thread")
    if kick not in ("thread", "inline", "off"):
        raise ValueError(f"WORKFLOWS_OUTBOX_KICK 应为 thread、inline 或 off，而不是 {kick!r}")
    return bootstrap(url or database_url(), kick=kick)


def create_app(ctx: Context | None = None, secret_key: str | None = None) -> Flask:
    from . import api_base, engine_rest, security, web
    # The API's routes, one module a concern, each putting its routes on api_base's blueprint
    from . import api, api_agency_messages, api_case_operations, api_decisions, api_documents  # noqa: F401
    from . import api_followups, api_incidents, api_materials, api_outbox, api_privacy, api_process_tests  # noqa: F401
    from . import api_migrations  # noqa: F401
    from . import api_task_operations  # noqa: F401

    app = Flask(__name__)
    logs.install(app)  # first: a request refused by the checks below is logged with its id too
    inputs.install(app)  # before the blueprints: their routes use its id converter, requests its JSON parser
    app.config["SECRET_KEY"] = secret_key or os.environ.get("WORKFLOWS_SECRET_KEY") or _stored_secret()
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False
    app.extensions["workflows"] = ctx or make_context()
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # a clerk's form may stay open all day; the token is per session
    # Attachments are at most 10 MB: a larger request is refused before it is read, not after.
    app.config["MAX_CONTENT_LENGTH"] = 12 * 1024 * 1024
    security.install(app)
    csrf.init_app(app)
    csrf.exempt(api_base.blueprint)  # API clients send Bearer tokens; cookie-session writes are checked there
    csrf.exempt(engine_rest.blueprint)  # Bearer or Basic only: no cookie session to forge requests with
    app.register_blueprint(api_base.blueprint)
    app.register_blueprint(engine_rest.blueprint)
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
    if isinstance(error, SavedTestsFailed):  # the saved test a publish broke, and its step (0: the application)
        body["test"] = {"name": error.outcome.name, "step": error.outcome.failed_step}
    if isinstance(error, CatalogError):
        body.update({"file": error.file, "field": error.field})
    return {"error": body}


# What each HTTP error says to a person, and its code in the API's error shape
HTTP_ERRORS = {400: ("bad_request", "请求有误，无法处理"), 401: ("unauthenticated", "请先登录"),
               403: ("forbidden", "无权访问该页面或办理该事项"), 404: ("not_found", "没有这个页面或对象，可能已被删除或地址有误"),
               405: ("method_not_allowed", "不支持该请求方法"), 409: ("conflict", "已被他人处理或同时修改，请刷新后重试"),
               413: ("too_large", "请求过大：附件不能超过 10 MB，其他内容请精简后重试"),
               415: ("unsupported_media_type", "不支持该内容类型"), 422: ("invalid_input", "填写的内容有误"),
               429: ("too_many_requests", "请求过于频繁，请稍后再试"), 500: ("internal_error", "系统出错，请稍后重试；如仍出错请联系系统管理员")}
_KEPT_HEADERS = ("Allow", "Retry-After")  # 405 says which methods work, 429 when to come back


def _answer(error: Exception, status: int, code: str, headers: dict | None = None):
    """JSON for the API, a page in the app's layout for people."""
    if request.path.startswith(("/api/", "/engine-rest/")):
        return jsonify(error_body(error, code)), status, headers or {}
    try:
        page = render_template("error.html", message=str(error), status=status)
    except Exception:  # the layout itself failed (e.g. the database is down): still a page in Chinese
        current_app.logger.exception("错误页无法显示")
        page = f"<!doctype html><meta charset=utf-8><h1>出错了</h1><p>{escape(str(error))}</p><a href=\"/\">返回首页</a>"
    return page, status, headers or {}


def _http_error(error: HTTPException):
    """Routing and protocol errors (unknown page, wrong method, too large …) in our words, never Flask's page."""
    status = error.code or 500
    code, message = HTTP_ERRORS.get(status, ("error", "请求有误"))
    if error.description != type(error).description:  # abort(403, "…") says why in our words
        message = error.description
    elif status in (404, 405) and request.path.startswith("/api/"):
        message = "没有这个接口" if status == 404 else "接口不支持该请求方法"
    headers = {name: value for name, value in error.get_headers() if name in _KEPT_HEADERS}
    return _answer(WorkflowsError(message), status, code, headers)


def _unexpected(error: Exception):
    """A bug or an outage: logged with its traceback (masked, parameters hidden), answered without one."""
    current_app.logger.exception("请求出错：%s %s", request.method, request.path)
    return _answer(WorkflowsError(HTTP_ERRORS[500][1]), 500, HTTP_ERRORS[500][0])


def _too_many(error: TooManyAttempts):
    """429, saying in Retry-After (seconds) when to try again."""
    return _answer(error, 429, "too_many_requests", {"Retry-After": str(error.retry_after)})


def _register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    app.register_error_handler(CSRFError, lambda error: _answer(
        WorkflowsError("页面已过期或请求来源不明（CSRF），请刷新页面后重试"), 400, "csrf"))
    app.register_error_handler(TooManyAttempts, _too_many)
    for error_class, status, code in ERROR_STATUS:
        app.register_error_handler(error_class, lambda error, s=status, c=code: _answer(error, s, c))
    app.register_error_handler(CatalogError, lambda error: _answer(error, 422, "invalid_catalog"))
    app.register_error_handler(WorkflowsError, lambda error: _answer(error, 400, "error"))
