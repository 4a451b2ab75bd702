"""The REST API (JSON). Each route authenticates, calls one use case, and returns its view. Its blueprint is
api_base.py's, shared by the api_* modules of one concern each; app.py imports them all and registers it."""
from __future__ import annotations

from datetime import date, datetime

from flask import current_app, g, jsonify, request, session

from handlers import HANDLERS
from workflows.domain.calendar import parse_day
from workflows.domain.errors import InvalidInput
from workflows.domain.model import READY
from workflows.services import (accounts, calendar, cases, catalog, desk, process_messages, processes, signals, tasks,
                                time_limits, users)
from workflows.services.context import CHINA

from . import views
from .api_base import Unauthenticated, authenticated, blueprint, body, ctx, paging
from .openapi import openapi_document
from .security import SESSION_KEY


@blueprint.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@blueprint.post("/login")
def login():
    data = body()
    try:
        signed = accounts.sign_in(ctx(), str(data.get("username", "")), str(data.get("password", "")),
                                  request.remote_addr, kind="api")
    except accounts.BadCredentials as error:
        raise Unauthenticated(str(error)) from None
    return jsonify({"token": signed.token, "expires_in": signed.expires_in, "user": views.user_view(signed.user)})


@blueprint.post("/logout")
@authenticated
def logout():
    """The token (or the cookie's session) ends now; replayed afterwards it answers 401."""
    header = request.headers.get("Authorization", "")
    accounts.sign_out(ctx(), header[7:].strip() if header.startswith("Bearer ") else session.pop(SESSION_KEY, None))
    return "", 204


@blueprint.get("/me")
@authenticated
def me():
    return jsonify(views.user_view(g.user))


@blueprint.post("/me/password")
@authenticated
def change_password():
    """The user's own password change: every earlier session and token ends; the answer holds a new token."""
    data = body()
    signed = accounts.change_password(ctx(), g.user, str(data.get("current_password", "")),
                                      str(data.get("new_password", "")), request.remote_addr, kind="api")
    return jsonify({"token": signed.token, "expires_in": signed.expires_in, "user": views.user_view(signed.user)})


@blueprint.get("/lockouts")
@authenticated
def list_lockouts():
    """系统管理员: the accounts of the agency and the client addresses locked now (all: they are few), and a page of
    the account events (limit, offset)."""
    events = accounts.account_events(ctx(), g.user, *paging())
    return jsonify({"lockouts": [views.lockout_view(lock) for lock in accounts.lockouts(ctx(), g.user)],
                    "events": [views.account_event_view(event) for event in events]})


@blueprint.post("/lockouts/unlock")
@authenticated
def unlock():
    data = body()
    accounts.unlock(ctx(), g.user, str(data.get("kind", "")), str(data.get("subject", "")), request.remote_addr)
    return "", 204


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


def _accepted_moment() -> datetime:
    text = request.args.get("accepted", "")
    try:
        moment = datetime.strptime(text, "%Y-%m-%d %H:%M")
    except ValueError:
        raise InvalidInput("受理时间格式应为 YYYY-MM-DD HH:MM", {"accepted": "格式应为 YYYY-MM-DD HH:MM"}) from None
    return moment.replace(tzinfo=CHINA)


@blueprint.get("/agencies/<agency_code>/items/<item_code>/deadline")
def item_deadline(agency_code, item_code):
    limits = time_limits.compute_item_deadlines(ctx(), agency_code, item_code, _accepted_moment())
    return jsonify([views.planned_limit_view(limit) for limit in limits])


@blueprint.get("/calendar/<int:year>")
def calendar_year(year):
    return jsonify(views.calendar_view(calendar.calendar_year(ctx(), year)))


@blueprint.put("/calendar/<int:year>")
@authenticated
def publish_calendar_year(year):
    data = body()
    published = calendar.publish_year(ctx(), g.user, year, _dates(data, "days_off"), _dates(data, "workdays"),
                                      str(data.get("source", "")))
    return jsonify(views.calendar_view(published))


@blueprint.put("/calendar/days/<day>")
@authenticated
def correct_calendar_day(day):
    data = body()
    if not isinstance(data.get("working"), bool):
        raise InvalidInput("请说明该日上班还是休息", {"working": "应为 true（上班）或 false（休息）"})
    corrected = calendar.correct_day(ctx(), g.user, _date(day, "day"), data["working"],
                                     str(data.get("name", "")), str(data.get("source", "")))
    return jsonify(views.calendar_view(corrected))


@blueprint.get("/calendar/changes")
@authenticated
def calendar_changes():
    return jsonify([{**change, "at": views.moment(change["at"])}
                    for change in calendar.calendar_changes(ctx(), *paging())])


def _date(text, field: str) -> date:
    try:
        return parse_day(text)
    except ValueError:
        raise InvalidInput("日期格式应为 YYYY-MM-DD", {field: f"{text} 不是 YYYY-MM-DD 格式的日期"}) from None


def _dates(data: dict, field: str) -> list[date]:
    values = data.get(field, [])
    if not isinstance(values, list):
        raise InvalidInput("日期应为列表", {field: "应为 YYYY-MM-DD 日期的列表"})
    return [_date(value, field) for value in values]


@blueprint.get("/handlers")
@authenticated
def list_handlers():
    """The registered service-task handlers, for the modeler's topic select."""
    return jsonify([{"name": name, "title": HANDLERS[name].title} for name in sorted(HANDLERS)])


@blueprint.get("/processes")
@authenticated
def list_processes():
    return jsonify([views.process_view(version) for version in processes.list_processes(ctx(), g.user.agency_code)])


@blueprint.post("/processes")
@authenticated
def deploy_process():
    upload = request.files.get("file")
    bpmn, file_name = (upload.read(), upload.filename) if upload else (request.get_data(), "upload.bpmn")
    if not bpmn:
        raise InvalidInput("请上传 BPMN 文件（multipart 字段 file，或以 application/xml 作为请求体）")
    version = processes.deploy_process(ctx(), g.user, bpmn, file_name or "upload.bpmn", _uploaded_tables(),
                                       _national(), request.values.get("note"))
    return jsonify(views.process_view(version)), 201


@blueprint.post("/deployments")
@authenticated
def deploy_files():
    """Several BPMN files (and DMN files) together: multipart fields `files` and `decisions`, or JSON
    {"files": [{"name", "xml"}], "decisions": [{"name", "xml"}], "national"}."""
    if request.is_json:
        data = body()
        files, tables = _named_files(data, "files", ".bpmn"), _named_files(data, "decisions", ".dmn")
        national, note = data.get("national") is True, data.get("note")
    else:
        files = {upload.filename or f"upload{index}.bpmn": upload.read()
                 for index, upload in enumerate(request.files.getlist("files"), 1)}
        tables, national, note = _uploaded_tables(), _national(), request.values.get("note")
    if not files:
        raise InvalidInput("请上传 BPMN 文件", {"files": "请给出至少一个 BPMN 文件（multipart 字段 files，或 JSON 列表）"})
    versions = processes.deploy_files(ctx(), g.user, files, tables, national, note)
    return jsonify(views.deployment_view(versions)), 201


def _uploaded_tables() -> dict[str, bytes]:
    """The DMN files of the decision tables (multipart field `decisions`)."""
    return {dmn.filename or f"decision{index}.dmn": dmn.read()
            for index, dmn in enumerate(request.files.getlist("decisions"), 1)}


def _national() -> bool:
    return request.values.get("national", "").lower() in ("1", "true", "yes")  # for every agency: admins


def _named_files(data: dict, field: str, suffix: str) -> dict[str, bytes]:
    """A JSON list of {"name", "xml"} as file name -> content; a malformed entry is refused naming it."""
    entries = data.get(field, [])
    if not isinstance(entries, list):
        raise InvalidInput("文件列表格式有误", {field: "应为 [{\"name\": …, \"xml\": …}] 列表"})
    files = {}
    for index, entry in enumerate(entries):
        if not (isinstance(entry, dict) and isinstance(entry.get("xml"), str) and entry["xml"].strip()):
            raise InvalidInput("文件列表格式有误", {f"{field}[{index}].xml": "请给出文件内容（XML 文本）"})
        name = entry.get("name") if isinstance(entry.get("name"), str) and entry["name"].strip() \
            else f"{field}{index + 1}{suffix}"
        if name in files:
            raise InvalidInput("文件名重复", {f"{field}[{index}].name": f"文件名 {name} 重复"})
        files[name] = entry["xml"].encode("utf-8")
    return files


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
                               data.get("data", {}), _variables())
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
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        raise InvalidInput("需要消息名称 name", {"name": "请填写消息名称"})
    progress = cases.deliver_message(ctx(), g.user, number, data["name"].strip(), data.get("payload"))
    return jsonify(views.progress_view(progress))


@blueprint.get("/cases/<number>/messages")
@authenticated
def case_messages(number):
    return jsonify([views.case_message_view(entry) for entry in process_messages.case_messages(ctx(), g.user, number)])


@blueprint.post("/agencies/<agency_code>/messages")
@authenticated
def post_agency_message(agency_code):
    """A message by name for the agency: delivered to the one case waiting for it (200), or starting a case (201)."""
    data = body()
    correlated = process_messages.post_message(ctx(), g.user, agency_code, data.get("name"), data.get("payload"))
    return jsonify(views.progress_view(correlated.progress)), 201 if correlated.started else 200


@blueprint.post("/signals")
@authenticated
def send_signal():
    """A signal by name for the agency (the caller's, or `agency_code` for an administrator): every case of it
    waiting for the signal catches it, each in its own transaction after this answer's commit."""
    data = body()
    agency_code = data.get("agency_code", g.user.agency_code)
    if not isinstance(agency_code, str):
        raise InvalidInput("经办机构代码有误", {"agency_code": "应为经办机构代码"})
    waiting = signals.send_signal(ctx(), g.user, agency_code, data.get("name"))
    return jsonify({"name": data["name"].strip(), "agency_code": agency_code, "waiting": waiting}), 202


@blueprint.post("/cases/<number>/pause")
@authenticated
def pause_clock(number):
    data = body()
    progress = time_limits.pause_clock(ctx(), g.user, number, str(data.get("kind", "")), str(data.get("reason", "")))
    return jsonify(views.progress_view(progress))


@blueprint.post("/cases/<number>/resume")
@authenticated
def resume_clock(number):
    return jsonify(views.progress_view(time_limits.resume_clock(ctx(), g.user, number)))


@blueprint.post("/cases/<number>/extensions")
@authenticated
def request_extension(number):
    data = body()
    time_limits.request_extension(ctx(), g.user, number, data.get("days"), str(data.get("reason", "")))
    return jsonify(views.case_details_view(cases.case_details(ctx(), g.user, number))), 201


@blueprint.post("/cases/<number>/extensions/decision")
@authenticated
def decide_extension(number):
    data = body()
    if not isinstance(data.get("approve"), bool):
        raise InvalidInput("请决定是否批准", {"approve": "应为 true 或 false"})
    progress = time_limits.decide_extension(ctx(), g.user, number, data["approve"], str(data.get("note", "")))
    return jsonify(views.progress_view(progress))


@blueprint.get("/escalations")
@authenticated
def list_escalations():
    limit, offset = paging()
    status = request.args.get("status", "open")
    if status not in ("open", "handled", "all"):
        raise InvalidInput("status 只能是 open、handled 或 all", {"status": "open | handled | all"})
    found = desk.list_escalations(ctx(), g.user, None if status == "all" else status, limit, offset)
    return jsonify([views.escalation_view(escalation) for escalation in found])


@blueprint.post("/escalations/<int:escalation_id>/handle")
@authenticated
def handle_escalation(escalation_id):
    data = body()
    handled = desk.handle_escalation(ctx(), g.user, escalation_id, str(data.get("action", "")),
                                     str(data.get("note", "")), data.get("assignee"), data.get("days"))
    return jsonify(views.escalation_view(handled))


@blueprint.get("/notifications")
@authenticated
def notifications():
    found = users.notifications(ctx(), g.user, request.args.get("unread") == "true", *paging())
    return jsonify([{**n, "created_at": views.moment(n["created_at"]), "read_at": views.moment(n["read_at"])}
                    for n in found])


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
    return jsonify(views.progress_view(tasks.complete_task(ctx(), g.user, task_id, _form_data(), _variables())))


@blueprint.post("/tasks/<task_id>/bpmn-error")
@authenticated
def report_task_error(task_id):
    """Camunda's bpmnError on a user task: the case takes the task's error boundary event for `code`."""
    code, message = _code_and_message("错误码", "errorCode")
    return jsonify(views.progress_view(tasks.report_task_error(ctx(), g.user, task_id, code, message)))


@blueprint.post("/tasks/<task_id>/escalation")
@authenticated
def report_task_escalation(task_id):
    """An escalation on a user task (上报): the case takes the task's escalation boundary event for `code`."""
    code, message = _code_and_message("升级码", "escalationCode")
    return jsonify(views.progress_view(tasks.report_task_escalation(ctx(), g.user, task_id, code, message)))


def _code_and_message(word: str, attribute: str) -> tuple[str, str | None]:
    """The body's code and note as text; their bounds are the use case's (services/tasks.py), for every way in."""
    data = body()
    code, message = data.get("code"), data.get("message")
    if not isinstance(code, str):
        raise InvalidInput(f"请给出{word}", {"code": f"应为 1–100 个字符的{word}（{attribute}）"})
    if message is not None and not isinstance(message, str):
        raise InvalidInput("说明应为至多 500 个字符的文字", {"message": "应为至多 500 个字符的文字"})
    return code, message


@blueprint.post("/tasks/<task_id>/preview")
@authenticated
def preview_task(task_id):
    """The 决定书 that completing the task with `data` would issue, as it would be printed; nothing is done."""
    document = tasks.preview_completion(ctx(), g.user, task_id, _form_data(), _variables())
    return jsonify({"document": views.rendered_document_view(document) if document else None})


def _form_data() -> dict:
    values = body().get("data", {})
    if not isinstance(values, dict):
        raise InvalidInput("data 应为 JSON 对象")
    return values


def _variables() -> dict:
    """`variables`: process variables with their JSON values, beside the form's `data` (domain/variables.py)."""
    variables = body().get("variables", {})
    if not isinstance(variables, dict):
        raise InvalidInput("variables 应为 JSON 对象：变量名 -> 值", {"variables": "应为 JSON 对象：变量名 -> 值"})
    return variables

