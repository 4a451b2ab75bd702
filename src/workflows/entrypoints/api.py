"""The REST API (JSON). Each route authenticates, calls one use case, and returns its view."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request, session
from itsdangerous import BadSignature, URLSafeTimedSerializer

from workflows.domain.errors import InvalidInput, WorkflowsError
from workflows.domain.model import READY
from workflows.services import cases, catalog, processes, tasks, users
from workflows.services.context import Context

from . import views
from .openapi import openapi_document

blueprint = Blueprint("api", __name__, url_prefix="/api")
TOKEN_MAX_AGE = 12 * 3600  # one working day and then some


class Unauthenticated(WorkflowsError):
    pass


@blueprint.errorhandler(Unauthenticated)
def unauthenticated(error):
    return jsonify({"error": {"code": "unauthenticated", "message": str(error)}}), 401


def ctx() -> Context:
    return current_app.extensions["workflows"]


def _tokens() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="api-token")


def authenticated(view):
    """Bearer token (API clients) or the signed session cookie (the web app); loads the user into g.user."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        username = session.get("username")
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            try:
                username = _tokens().loads(header[7:], max_age=TOKEN_MAX_AGE)
            except BadSignature:
                raise Unauthenticated("令牌无效或已过期，请重新登录") from None
        if not username:
            raise Unauthenticated("请先登录")
        try:
            g.user = users.get_user(ctx(), username)
        except WorkflowsError:
            raise Unauthenticated("用户不存在") from None
        return view(*args, **kwargs)

    return wrapper


def body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput("请求体应为 JSON 对象")
    return data


def paging() -> tuple[int, int]:
    try:
        limit, offset = int(request.args.get("limit", 50)), int(request.args.get("offset", 0))
    except ValueError:
        limit = offset = -1
    if limit < 0 or offset < 0:
        raise InvalidInput("limit 和 offset 应为非负整数", {"limit": "应为非负整数", "offset": "应为非负整数"})
    return limit, offset


@blueprint.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@blueprint.post("/login")
def login():
    data = body()
    user = users.authenticate(ctx(), str(data.get("username", "")), str(data.get("password", "")))
    if user is None:
        raise Unauthenticated("用户名或密码错误")
    return jsonify({"token": _tokens().dumps(user.username), "expires_in": TOKEN_MAX_AGE,
                    "user": views.user_view(user)})


@blueprint.get("/me")
@authenticated
def me():
    return jsonify(views.user_view(g.user))


@blueprint.get("/agencies")
def list_agencies():
    return jsonify([views.agency_view(agency, with_halls=False) for agency in catalog.list_agencies(ctx())])


@blueprint.get("/agencies/<agency_code>")
def get_agency(agency_code):
    return jsonify(views.agency_view(catalog.get_agency(ctx(), agency_code)))


@blueprint.get("/agencies/<agency_code>/items")
def list_items(agency_code):
    agency = catalog.get_agency(ctx(), agency_code)
    return jsonify([views.agency_item_view(item) for item in agency.items.values()])


@blueprint.get("/agencies/<agency_code>/items/<item_code>")
def get_item(agency_code, item_code):
    return jsonify(views.agency_item_view(catalog.get_agency_item(ctx(), agency_code, item_code), full=True))


@blueprint.get("/processes")
@authenticated
def list_processes():
    return jsonify([views.process_view(version) for version in processes.list_processes(ctx())])


@blueprint.post("/processes")
@authenticated
def deploy_process():
    upload = request.files.get("file")
    bpmn, file_name = (upload.read(), upload.filename) if upload else (request.get_data(), "upload.bpmn")
    if not bpmn:
        raise InvalidInput("请上传 BPMN 文件（multipart 字段 file，或以 application/xml 作为请求体）")
    version = processes.deploy_process(ctx(), g.user, bpmn, file_name or "upload.bpmn")
    return jsonify(views.process_view(version)), 201


@blueprint.get("/processes/<process_key>/versions")
@authenticated
def list_versions(process_key):
    return jsonify([views.process_view(v) for v in processes.process_versions(ctx(), process_key)])


@blueprint.get("/processes/<process_key>/versions/<int:version>/bpmn")
@authenticated
def get_bpmn(process_key, version):
    found = processes.process_version(ctx(), process_key, version)
    return current_app.response_class(found.bpmn_xml, mimetype="application/xml")


@blueprint.post("/cases")
@authenticated
def open_case():
    data = body()
    if not isinstance(data.get("applicant", {}), dict) or not isinstance(data.get("data", {}), dict):
        raise InvalidInput("applicant 和 data 应为 JSON 对象")
    if not str(data.get("item_code") or "").strip():
        raise InvalidInput("请指定申请的事项", {"item_code": "请填写事项编码"})
    progress = cases.open_case(ctx(), g.user, str(data.get("item_code", "")), data.get("applicant", {}),
                               data.get("data", {}))
    return jsonify(views.progress_view(progress)), 201


@blueprint.get("/cases")
@authenticated
def search_cases():
    limit, offset = paging()
    found = cases.search_cases(ctx(), g.user, request.args.get("status"), request.args.get("item_code"),
                               request.args.get("hall_code"), limit, offset)
    return jsonify([views.case_view(case) for case in found])


@blueprint.get("/cases/<number>")
@authenticated
def get_case(number):
    return jsonify(views.case_details_view(cases.case_details(ctx(), g.user, number)))


@blueprint.post("/cases/<number>/messages")
@authenticated
def deliver_message(number):
    data = body()
    payload = data.get("payload", {})
    if not data.get("name") or not isinstance(payload, dict):
        raise InvalidInput("需要消息名称 name 和 JSON 对象 payload")
    progress = cases.deliver_message(ctx(), g.user, number, str(data["name"]), payload)
    return jsonify(views.progress_view(progress))


@blueprint.get("/tasks")
@authenticated
def list_tasks():
    limit, offset = paging()
    state = request.args.get("state", READY)
    if state not in ("ready", "completed"):
        raise InvalidInput("state 只能是 ready 或 completed")
    found = tasks.list_tasks(ctx(), g.user, request.args.get("role"), request.args.get("mine") == "true", state,
                             request.args.get("item_code"), limit, offset)
    return jsonify([views.task_view(task) for task in found])


@blueprint.get("/tasks/<task_id>")
@authenticated
def get_task(task_id):
    return jsonify(views.task_details_view(tasks.task_details(ctx(), g.user, task_id)))


@blueprint.post("/tasks/<task_id>/claim")
@authenticated
def claim_task(task_id):
    return jsonify(views.task_view(tasks.claim_task(ctx(), g.user, task_id)))


@blueprint.post("/tasks/<task_id>/release")
@authenticated
def release_task(task_id):
    return jsonify(views.task_view(tasks.release_task(ctx(), g.user, task_id)))


@blueprint.post("/tasks/<task_id>/complete")
@authenticated
def complete_task(task_id):
    data = body()
    values = data.get("data", {})
    if not isinstance(values, dict):
        raise InvalidInput("data 应为 JSON 对象")
    return jsonify(views.progress_view(tasks.complete_task(ctx(), g.user, task_id, values)))


