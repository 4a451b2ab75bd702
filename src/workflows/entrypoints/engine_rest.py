"""The part of Camunda 7's REST API that external-task workers use, under /engine-rest as Camunda serves it, so
that Camunda's worker clients (PyPI camunda-external-task-client-python3, npm camunda-external-task-client-js)
run against this server unchanged. Each route parses the request (domain/external_tasks.py), calls one use case
(services/external_tasks.py) and answers as Camunda does: 200 with the locked tasks, 204 for the others, errors
as {"type", "message"} (with our own "error" object beside them: the code and the field at fault).

Authentication: an API token (POST /api/login) as `Authorization: Bearer …`, or HTTP Basic with the user's name
and password (both clients offer it); the user needs the role 外部系统 (integrator) and sees its agency's tasks.

Beside them, the part of Camunda 7's REST API a tasklist or an integrating system uses for user tasks and process
instances (GET /task, POST /task/{id}/complete, GET /task/{id}/form-variables, POST
/process-definition/key/{key}/start, GET /process-definition/{id}, GET /process-instance/{id}/variables): typed
variables in and out, each route calling the platform's own use case (services/camunda_rest.py), so that the user's
roles, hall and every rule of our API hold (a clerk completes the tasks of the clerk's role, a 受理员 opens cases).
"""
from __future__ import annotations

import base64
import binascii
from datetime import datetime

from flask import Blueprint, current_app, g, jsonify, request

from workflows.domain import camunda_rest as camunda
from workflows.domain import external_tasks as rules
from workflows.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, WorkflowsError
from workflows.domain.throttling import TooManyAttempts
from workflows.services import accounts, camunda_rest, external_tasks
from workflows.services.context import CHINA, Context

blueprint = Blueprint("engine_rest", __name__, url_prefix="/engine-rest")
_TYPES = [(NotFound, 404, "InvalidRequestException", "not_found"),
          (Forbidden, 403, "AuthorizationException", "forbidden"),
          (Conflict, 409, "BadUserRequestException", "conflict"),
          (InvalidInput, 422, "InvalidRequestException", "invalid_input")]


class Unauthenticated(WorkflowsError):
    pass


def _error(error: Exception, status: int, kind: str, code: str, headers: dict | None = None):
    body = {"code": code, "message": str(error)}
    if isinstance(error, InvalidInput):
        body["fields"] = error.field_errors
    return jsonify({"type": kind, "message": str(error), "code": None, "error": body}), status, headers or {}


@blueprint.errorhandler(WorkflowsError)
def _refused(error: WorkflowsError):
    if isinstance(error, Unauthenticated):
        return _error(error, 401, "AuthenticationException", "unauthenticated",
                      {"WWW-Authenticate": 'Basic realm="engine-rest", charset="UTF-8"'})
    if isinstance(error, TooManyAttempts):
        return _error(error, 429, "AuthenticationException", "too_many_requests",
                      {"Retry-After": str(error.retry_after)})
    for error_class, status, kind, code in _TYPES:
        if isinstance(error, error_class):
            return _error(error, status, kind, code)
    return _error(error, 400, "RestException", "error")


def ctx() -> Context:
    return current_app.extensions["workflows"]


@blueprint.before_request
def _authenticate() -> None:
    """Bearer token or HTTP Basic, on every request (no cookie session here: nothing for CSRF to forge)."""
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        g.user = accounts.session_user(ctx(), credentials.strip())
        if g.user is None:
            raise Unauthenticated("令牌无效或已过期，请重新登录（POST /api/login）")
    elif scheme.lower() == "basic":
        username, password = _basic(credentials)
        try:
            g.user = accounts.basic_user(ctx(), username, password, request.remote_addr)
        except accounts.BadCredentials as error:
            raise Unauthenticated(str(error)) from None
    else:
        raise Unauthenticated("请用 Authorization: Bearer <令牌> 或 Basic 认证调用")


def _basic(credentials: str) -> tuple[str, str]:
    try:
        username, _, password = base64.b64decode(credentials.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthenticated("Basic 认证格式有误") from None
    return username, password


def _body(optional: bool = False) -> dict:
    data = request.get_json(silent=True)
    if data is None and optional:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput("请求体应为 JSON 对象")
    return data


def _moment(value: datetime | None) -> str | None:
    """Camunda's date format: 2026-12-02T09:30:00.000+0800."""
    if value is None:
        return None
    local = value.astimezone(CHINA)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + local.strftime("%z")


def _task_view(locked: external_tasks.LockedTask, definitions: dict[int, str]) -> dict:
    task = locked.task
    return {"id": task.id, "topicName": task.topic, "workerId": task.worker_id,
            "lockExpirationTime": _moment(task.lock_expires_at), "createTime": _moment(task.created_at),
            "activityId": task.activity_id, "activityInstanceId": f"{task.activity_id}:{task.id}",
            "executionId": task.id, "processInstanceId": task.case_number, "businessKey": task.case_number,
            "processDefinitionId": definitions[task.process_version_id],
            "processDefinitionKey": task.process_key, "processDefinitionVersionTag": None, "tenantId": None,
            "retries": task.retries, "errorMessage": task.error_message, "errorDetails": task.error_details,
            "priority": task.priority, "suspended": False, "variables": locked.variables,
            "extensionProperties": locked.properties}


@blueprint.post("/external-task/fetchAndLock")
def fetch_and_lock():
    request_ = rules.fetch_request(_body())
    locked = external_tasks.fetch_and_lock(ctx(), g.user, request_)
    definitions = camunda_rest.definitions(ctx(), [each.task.process_version_id for each in locked])
    return jsonify([_task_view(each, definitions) for each in locked])


@blueprint.post("/external-task/<task_id>/complete")
def complete(task_id: str):
    body = _body()
    external_tasks.complete(ctx(), g.user, task_id, rules.worker_of(body), _variables(body))
    return "", 204


def _variables(body: dict) -> dict:
    """`variables` and `localVariables` alike become case data: a case has one scope of variables."""
    return {**rules.from_typed(body.get("variables")), **rules.from_typed(body.get("localVariables"),
                                                                         "localVariables")}


@blueprint.post("/external-task/<task_id>/failure")
def failure(task_id: str):
    body = _body()
    retries = body.get("retries")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise InvalidInput("retries 有误", {"retries": "必填，非负整数：还可重试的次数，0 即转为故障待处理"})
    external_tasks.report_failure(
        ctx(), g.user, task_id, rules.worker_of(body),
        rules.text_of(body, "errorMessage", rules.MAX_TEXT) or "（未说明原因）",
        rules.text_of(body, "errorDetails", rules.MAX_DETAILS), retries,
        rules.duration_of(body, "retryTimeout", required=False))
    return "", 204


@blueprint.post("/external-task/<task_id>/bpmnError")
def bpmn_error(task_id: str):
    body = _body()
    external_tasks.report_bpmn_error(ctx(), g.user, task_id, rules.worker_of(body),
                                     rules.text_of(body, "errorCode", 200, required=True),
                                     rules.text_of(body, "errorMessage", rules.MAX_TEXT), _variables(body))
    return "", 204


@blueprint.post("/external-task/<task_id>/extendLock")
def extend_lock(task_id: str):
    body = _body()
    external_tasks.extend_lock(ctx(), g.user, task_id, rules.worker_of(body),
                               rules.duration_of(body, "newDuration"))
    return "", 204


@blueprint.post("/external-task/<task_id>/lock")
def lock(task_id: str):
    body = _body()
    external_tasks.lock(ctx(), g.user, task_id, rules.worker_of(body), rules.duration_of(body, "lockDuration"))
    return "", 204


@blueprint.post("/external-task/<task_id>/unlock")
def unlock(task_id: str):
    external_tasks.unlock(ctx(), g.user, task_id)
    return "", 204


# --- user tasks and process instances ------------------------------------------------------------------------------

def _user_task_view(task, definitions: dict[int, str]) -> dict:
    """A task as Camunda's GET /task answers it; the process instance is the case (its number)."""
    return {"id": task.id, "name": task.name, "assignee": task.assignee, "owner": None,
            "created": _moment(task.created_at), "due": _moment(task.due_date), "followUp": _moment(task.follow_up_date),
            "lastUpdated": None, "delegationState": None, "description": None, "executionId": task.id,
            "parentTaskId": None, "priority": task.priority, "processDefinitionId": definitions.get(task.case_id),
            "processInstanceId": task.case_number, "taskDefinitionKey": task.spec_id, "caseExecutionId": None,
            "caseInstanceId": None, "caseDefinitionId": None, "suspended": False, "formKey": None,
            "camundaFormRef": None, "tenantId": None}


def _names() -> tuple[str, ...] | None:
    """variableNames=a,b: only those variables."""
    given = request.args.get("variableNames")
    return None if given is None else tuple(name.strip() for name in given.split(",") if name.strip())


@blueprint.get("/task")
def user_tasks():
    offset, limit = camunda.paging(request.args.get("firstResult"), request.args.get("maxResults"))
    found = camunda_rest.find_tasks(ctx(), g.user, request.args.get("processInstanceId"),
                                    request.args.get("taskDefinitionKey"), request.args.get("assignee"),
                                    request.args.get("candidateGroup"), offset, limit)
    definitions = camunda_rest.definitions_of_cases(ctx(), [task.case_id for task in found])
    return jsonify([_user_task_view(task, definitions) for task in found])


@blueprint.post("/task/<task_id>/complete")
def complete_user_task(task_id: str):
    body = _body(optional=True)
    progress = camunda_rest.complete_task(ctx(), g.user, task_id, rules.from_typed(body.get("variables")))
    if body.get("withVariablesInReturn") is True:
        return jsonify(camunda_rest.case_variables(ctx(), g.user, progress.case.number, None))
    return "", 204


@blueprint.get("/task/<task_id>/form-variables")
def form_variables(task_id: str):
    return jsonify(camunda_rest.form_variables(ctx(), g.user, task_id, _names()))


@blueprint.post("/process-definition/key/<process_key>/start")
def start_process(process_key: str):
    body = _body(optional=True)
    progress = camunda_rest.start_case(ctx(), g.user, process_key, body.get("businessKey"),
                                       rules.from_typed(body.get("variables")))
    case = progress.case
    answer = {"links": [{"method": "GET", "href": f"{request.root_url}engine-rest/process-instance/{case.number}"
                                                  "/variables", "rel": "variables"}],
              "id": case.number, "definitionId": camunda_rest.definitions(ctx(), [case.process_version_id])[
                  case.process_version_id],
              "businessKey": body.get("businessKey"), "caseInstanceId": None, "ended": not case.is_open,
              "suspended": False, "tenantId": None}
    if body.get("withVariablesInReturn") is True:
        answer["variables"] = camunda_rest.case_variables(ctx(), g.user, case.number, None)
    return jsonify(answer)


@blueprint.get("/process-definition/<definition>")
def process_definition(definition: str):
    """A process definition as Camunda answers it, for a client that follows a task's processDefinitionId."""
    version = camunda_rest.process_definition(ctx(), g.user, definition)
    return jsonify({"id": camunda.definition_id(version), "key": version.process_key, "category": None,
                    "description": version.change_note, "name": version.name, "version": version.version,
                    "resource": version.file_name, "deploymentId": version.deployment_id and str(version.deployment_id),
                    "diagram": None, "suspended": False, "tenantId": version.agency_code, "versionTag": None,
                    "historyTimeToLive": None, "startableInTasklist": True})


@blueprint.get("/process-instance/<number>/variables")
def case_variables(number: str):
    return jsonify(camunda_rest.case_variables(ctx(), g.user, number, _names()))
