"""The OpenAPI 3 description of the REST API, served at /api/openapi.json."""
from __future__ import annotations

from functools import lru_cache


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "成功") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    descriptions = {400: "请求有误", 401: "未登录或令牌无效", 403: "无权办理（岗位或大厅不符）", 404: "不存在或不可见",
                    409: "冲突：任务已被他人办理，或认领时已被他人认领，或案件被同时修改", 422: "数据校验不通过（fields 给出每个字段的问题）"}
    return {str(status): _json(_ref("Error"), descriptions[status]) for status in statuses}


def _operation(summary: str, ok: dict, *errors: int, body: dict | None = None, params: list | None = None,
               secured: bool = True) -> dict:
    operation = {"summary": summary, "responses": {**ok, **_errors(*errors)}}
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        operation["parameters"] = params
    if not secured:
        operation["security"] = []
    return operation


def _path(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


def _object(properties: dict, required: tuple = ()) -> dict:
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


_TEXT, _INT, _BOOL, _ANY = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "object"}
_MOMENT = {"type": "string", "format": "date-time", "nullable": True}
_PAGING = [_query("limit", "每页条数（最多 500）", _INT), _query("offset", "跳过条数", _INT)]

SCHEMAS = {
    "Error": _object({"error": _object({"code": _TEXT, "message": _TEXT, "fields": _ANY, "element_id": _TEXT,
                                        "file": _TEXT, "field": _TEXT}, ("code", "message"))}, ("error",)),
    "User": _object({"username": _TEXT, "full_name": _TEXT, "agency_code": _TEXT, "hall_code": _TEXT,
                     "roles": {"type": "array", "items": _TEXT}, "role_names": {"type": "array", "items": _TEXT}}),
    "TimeLimit": _object({"value": _INT, "unit": {"type": "string", "enum": ["immediate", "working_days",
                                                                              "natural_days", "months"]},
                          "label": _TEXT}),
    "Agency": _object({"code": _TEXT, "name": _TEXT, "short_name": _TEXT, "region": _TEXT, "consult_phone": _TEXT,
                       "complaint_phone": _TEXT, "office_hours": {"type": "array"}, "item_count": _INT,
                       "halls": {"type": "array", "items": _object({"code": _TEXT, "name": _TEXT,
                                                                     "address": _TEXT, "phone": _TEXT})}}),
    "Item": _object({"code": _TEXT, "name": _TEXT, "national_name": _TEXT, "group": _ANY,
                     "stages": {"type": "array", "items": _TEXT}, "process_key": _TEXT,
                     "promised_limit": _ref("TimeLimit"), "statutory_limit": _ref("TimeLimit"),
                     "exceptional_limit": _ref("TimeLimit"), "materials": {"type": "array", "items": _ANY},
                     "applicant_kinds": {"type": "array", "items": _TEXT}, "legal_basis": {"type": "array"},
                     "halls": {"type": "array", "items": _TEXT}, "prohibited": {"type": "array"}}),
    "ProcessVersion": _object({"process_key": _TEXT, "version": _INT, "name": _TEXT, "file_name": _TEXT,
                               "checksum": _TEXT, "deployed_by": _TEXT, "deployed_at": _MOMENT}),
    "Applicant": _object({"name": _TEXT, "id_number": {"type": "string", "description": "身份证号码或统一社会信用代码"},
                          "kind": {"type": "string", "description": "服务对象类别，默认 自然人"}, "phone": _TEXT},
                         ("name", "id_number")),
    "Case": _object({"number": _TEXT, "agency_code": _TEXT, "hall_code": _TEXT, "item_code": _TEXT,
                     "item_name": _TEXT, "stage": _TEXT, "status": {"type": "string",
                                                                    "enum": ["open", "closed", "failed"]},
                     "status_name": _TEXT, "result": {"type": "string", "nullable": True},
                     "applicant": _ref("Applicant"), "opened_by": _TEXT, "opened_at": _MOMENT,
                     "closed_at": _MOMENT}),
    "Task": _object({"id": _TEXT, "case_number": _TEXT, "item_code": _TEXT, "item_name": _TEXT, "name": _TEXT,
                     "stage": _TEXT, "role": _TEXT, "role_name": _TEXT, "state": {"type": "string",
                                                                                 "enum": ["ready", "completed",
                                                                                          "cancelled"]},
                     "assignee": {"type": "string", "nullable": True}, "created_at": _MOMENT,
                     "completed_at": _MOMENT, "completed_by": {"type": "string", "nullable": True},
                     "decision": {"type": "string", "nullable": True}, "due_at": _MOMENT}),
    "FormField": _object({"id": _TEXT, "label": _TEXT, "type": {"type": "string", "enum": [
        "string", "long", "boolean", "date", "enum", "decimal"]}, "required": _BOOL,
        "options": {"type": "array", "items": _object({"value": _TEXT, "label": _TEXT})}}),
}
SCHEMAS["TaskDetails"] = {"allOf": [_ref("Task"), _object({
    "form": _object({"fields": {"type": "array", "items": _ref("FormField")}}),
    "decisions": {"type": "array", "items": _object({"value": _TEXT, "label": _TEXT})}, "case": _ref("Case")})]}
SCHEMAS.update({
    "Deadline": _object({"kind": {"type": "string", "description": "promised | statutory | 环节时限名"}, "name": _TEXT,
                         "limit": _ref("TimeLimit"), "starts_at": _MOMENT, "due_at": _MOMENT, "warning_at": _MOMENT,
                         "label": {"type": "string", "description": "如 2026-12-21 17:00（暂估）、已暂停"},
                         "level": {"type": "string", "enum": ["normal", "yellow", "red", "paused", "met"]},
                         "provisional": _BOOL, "paused": _BOOL, "extension_days": _INT, "paused_days": _INT,
                         "met_at": _MOMENT}),
    "ComputedDeadline": _object({"kind": _TEXT, "name": _TEXT, "limit": _ref("TimeLimit"), "due_at": _MOMENT,
                                 "warning_at": _MOMENT, "label": _TEXT, "provisional": _BOOL}),
    "Escalation": _object({"id": _INT, "case_number": _TEXT, "item_name": _TEXT, "hall_code": _TEXT, "limit": _TEXT,
                           "limit_name": _TEXT, "level": {"type": "string", "enum": ["yellow", "red"]},
                           "level_name": _TEXT, "stage": _TEXT, "raised_at": _MOMENT,
                           "status": {"type": "string", "enum": ["open", "handled"]}, "handled_by": _TEXT,
                           "handled_at": _MOMENT, "action": _TEXT, "note": _TEXT}),
    "CalendarYear": _object({"year": _INT, "covered": _BOOL, "source": _TEXT,
                             "holidays": {"type": "array", "items": {"type": "string", "format": "date"}},
                             "workdays": {"type": "array", "items": {"type": "string", "format": "date"}}}),
    "Notification": _object({"id": _INT, "username": _TEXT, "case_number": _TEXT, "kind": _TEXT, "message": _TEXT,
                             "created_at": _MOMENT, "read_at": _MOMENT}),
})
SCHEMAS["Progress"] = {"allOf": [_ref("Case"), _object({"open_tasks": {"type": "array", "items": _ref("Task")}})]}
SCHEMAS["CaseDetails"] = {"allOf": [_ref("Case"), _object({
    "data": _ANY, "process": _object({"key": _TEXT, "version": _INT}),
    "tasks": {"type": "array", "items": _ref("Task")}, "accepted_at": _MOMENT,
    "deadlines": {"type": "array", "items": _ref("Deadline")}, "pauses": {"type": "array", "items": _ANY},
    "extensions": {"type": "array", "items": _ANY}, "escalations": {"type": "array", "items": _ref("Escalation")},
    "history": {"type": "array", "items": _object({"at": _MOMENT, "actor": _TEXT, "action": _TEXT, "stage": _TEXT,
                                                   "task_name": _TEXT, "message": _TEXT, "detail": _ANY})},
    "external_calls": {"type": "array", "items": _ANY}})]}


def _array(name: str) -> dict:
    return {"type": "array", "items": _ref(name)}


def _paths() -> dict:
    agency, item = _path("agency_code", "经办机构代码，如 210400"), _path("item_code", "事项编码")
    task, number = _path("task_id", "任务 id"), _path("number", "办件编号")
    key = _path("process_key", "流程标识，如 item_00203601002")
    year = {**_path("year", "年份"), "schema": _INT}
    return {
        "/api/openapi.json": {"get": {"summary": "本 API 的 OpenAPI 3 描述", "security": [], "responses": {
            "200": _json({"type": "object"})}}},
        "/api/login": {"post": _operation(
            "登录，取得令牌", {"200": _json(_object({"token": _TEXT, "expires_in": _INT, "user": _ref("User")}))},
            401, 422, body=_object({"username": _TEXT, "password": _TEXT}, ("username", "password")),
            secured=False)},
        "/api/me": {"get": _operation("当前用户", {"200": _json(_ref("User"))}, 401)},
        "/api/agencies": {"get": _operation("经办机构列表", {"200": _json(_array("Agency"))}, secured=False)},
        "/api/agencies/{agency_code}": {"get": _operation("经办机构及其服务大厅", {"200": _json(_ref("Agency"))}, 404,
                                                          params=[agency], secured=False)},
        "/api/agencies/{agency_code}/items": {"get": _operation(
            "经办机构的事项清单", {"200": _json(_array("Item"))}, 404, params=[agency], secured=False)},
        "/api/agencies/{agency_code}/items/{item_code}": {"get": _operation(
            "事项详情：材料、时限、依据、大厅", {"200": _json(_ref("Item"))}, 404, params=[agency, item],
            secured=False)},
        "/api/agencies/{agency_code}/items/{item_code}/deadline": {"get": _operation(
            "按受理时间计算事项各时限的到期与预警时间（工作日历、办公时间）", {"200": _json(_array("ComputedDeadline"))},
            404, 422, params=[agency, item, {**_query("accepted", "受理时间 YYYY-MM-DD HH:MM（北京时间）"),
                                             "required": True}], secured=False)},
        "/api/calendar/{year}": {
            "get": _operation("某年的放假与调休安排；covered=false 表示未发布，该年时限为暂估",
                              {"200": _json(_ref("CalendarYear"))}, params=[year], secured=False),
            "put": _operation("发布（或替换）某年的安排（系统管理员）；在办案件时限随之重算",
                              {"200": _json(_ref("CalendarYear"))}, 401, 403, 422, params=[year], body=_object({
                                  "source": {"type": "string", "description": "通知文号"},
                                  "days_off": {"type": "array", "items": {"type": "string", "format": "date"}},
                                  "workdays": {"type": "array", "items": {"type": "string", "format": "date"}}},
                                  ("source",)))},
        "/api/calendar/days/{day}": {"put": _operation(
            "更正某日为工作日或休息日（系统管理员）", {"200": _json(_ref("CalendarYear"))}, 401, 403, 422,
            params=[_path("day", "YYYY-MM-DD")], body=_object({"working": _BOOL, "name": _TEXT, "source": _TEXT},
                                                              ("working", "source")))},
        "/api/calendar/changes": {"get": _operation("日历变更记录", {"200": _json({"type": "array", "items": _ANY})},
                                                    401)},
        "/api/cases/{number}/pause": {"post": _operation(
            "暂停计时（补正、容缺补正、专家评审、现场勘验、听证、鉴定、中止）", {"200": _json(_ref("Progress"))},
            401, 403, 404, 409, 422, params=[number], body=_object({
                "kind": {"type": "string", "enum": ["correction", "waiver", "expert_review", "site_survey", "hearing",
                                                    "appraisal", "suspension"]}, "reason": _TEXT}, ("kind", "reason")))},
        "/api/cases/{number}/resume": {"post": _operation("恢复计时", {"200": _json(_ref("Progress"))}, 401, 403,
                                                          404, 409, 422, params=[number])},
        "/api/cases/{number}/extensions": {"post": _operation(
            "申请延期（工作日）", {"201": _json(_ref("CaseDetails"))}, 401, 403, 404, 409, 422, params=[number],
            body=_object({"days": _INT, "reason": _TEXT}, ("days", "reason")))},
        "/api/cases/{number}/extensions/decision": {"post": _operation(
            "批准或不批准待审批的延期（科室负责人）", {"200": _json(_ref("Progress"))}, 401, 403, 404, 409, 422,
            params=[number], body=_object({"approve": _BOOL, "note": _TEXT}, ("approve",)))},
        "/api/escalations": {"get": _operation(
            "督办台：本大厅的黄牌、红牌（科室负责人），红牌在前", {"200": _json(_array("Escalation"))}, 401, 403, 422,
            params=[_query("status", "open（默认）| handled | all"), *_PAGING])},
        "/api/escalations/{escalation_id}/handle": {"post": _operation(
            "督办：催办、改派、延期或记录意见", {"200": _json(_ref("Escalation"))}, 401, 403, 404, 409, 422,
            params=[{**_path("escalation_id", "督办事项 id"), "schema": _INT}], body=_object({
                "action": {"type": "string", "enum": ["urge", "reassign", "extend", "note"]}, "note": _TEXT,
                "assignee": {"type": "string", "description": "改派给谁（reassign）"},
                "days": {"type": "integer", "description": "延期工作日数（extend）"}}, ("action", "note")))},
        "/api/notifications": {"get": _operation("我的通知（预警、催办、改派）", {"200": _json(_array("Notification"))},
                                                 401, params=[_query("unread", "true：只看未读")])},
        "/api/handlers": {"get": _operation(
            "已注册的服务任务处理程序（BPMN 服务任务的 camunda:topic），按名称排序",
            {"200": _json({"type": "array", "items": _object({"name": _TEXT, "title": _TEXT})})}, 401)},
        "/api/processes": {
            "get": _operation("各流程的最新版本", {"200": _json(_array("ProcessVersion"))}, 401),
            "post": {**_operation("部署 BPMN 文件为其流程的新版本（运行中的案件不受影响）",
                                  {"201": _json(_ref("ProcessVersion"), "已部署")}, 401, 403, 409, 422),
                     "requestBody": {"required": True, "content": {
                         "multipart/form-data": {"schema": _object({"file": {"type": "string", "format": "binary"}},
                                                                   ("file",))},
                         "application/xml": {"schema": _TEXT}}}}},
        "/api/processes/{process_key}/versions": {"get": _operation(
            "流程的版本列表", {"200": _json(_array("ProcessVersion"))}, 401, 404, params=[key])},
        "/api/processes/{process_key}/versions/{version}/bpmn": {"get": _operation(
            "某版本的 BPMN XML", {"200": {"description": "BPMN 2.0 XML", "content": {"application/xml": {
                "schema": _TEXT}}}}, 401, 404, params=[key, {**_path("version", "版本号"), "schema": _INT}])},
        "/api/cases": {
            "post": _operation("申请：为事项登记一件新办件（受理员，在本人大厅）", {"201": _json(_ref("Progress"), "已登记；open_tasks 为接下来的待办")},
                               401, 403, 404, 422, body=_object({
                                   "item_code": _TEXT, "applicant": _ref("Applicant"),
                                   "data": {"type": "object", "description": "申请表字段，见流程开始事件的表单"}},
                                   ("item_code", "applicant"))),
            "get": _operation("本大厅的办件", {"200": _json(_array("Case"))}, 401, 422, params=[
                _query("status", "open | closed | failed"), _query("item_code", "事项编码"),
                _query("hall_code", "大厅（仅系统管理员）"), *_PAGING])},
        "/api/cases/{number}": {"get": _operation("办件详情：环节、数据、任务、办理历史", {"200": _json(
            _ref("CaseDetails"))}, 401, 404, params=[number])},
        "/api/cases/{number}/messages": {"post": _operation(
            "向等待消息的办件投递消息（如转移接续的信息表）", {"200": _json(_ref("Progress"))}, 401, 403, 404, 409, 422,
            body=_object({"name": _TEXT, "payload": _ANY}, ("name",)), params=[number])},
        "/api/tasks": {"get": _operation("待办/已办：本大厅、本人岗位的任务，按剩余时间排序", {"200": _json(
            _array("Task"))}, 401, 403, 422, params=[
            _query("role", "岗位：acceptor | reviewer | finance | supervisor | hospital"),
            _query("mine", "true：只看本人认领的"), _query("state", "ready（默认）| completed"),
            _query("item_code", "事项编码"), *_PAGING])},
        "/api/tasks/{task_id}": {"get": _operation("任务详情及其表单", {"200": _json(_ref("TaskDetails"))}, 401, 404,
                                                   params=[task])},
        "/api/tasks/{task_id}/claim": {"post": _operation("认领任务", {"200": _json(_ref("Task"))}, 401, 403, 404,
                                                          409, params=[task])},
        "/api/tasks/{task_id}/release": {"post": _operation("退回认领", {"200": _json(_ref("Task"))}, 401, 403, 404,
                                                            409, params=[task])},
        "/api/tasks/{task_id}/complete": {"post": _operation(
            "办理任务：提交表单与决定（未认领的任务在办理时由本人认领）", {"200": _json(_ref("Progress"))}, 401, 403, 404,
            409, 422, body=_object({"data": {"type": "object", "description": "表单字段，decision 为决定"}},
                                   ("data",)), params=[task])},
    }


@lru_cache(maxsize=1)
def openapi_document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "医保经办业务流程平台 API", "version": "1.0",
                 "description": "事项目录、流程部署、办件与任务。除目录查询外，需先 POST /api/login 取得令牌，"
                                "以 Authorization: Bearer <token> 调用。"},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": SCHEMAS},
        "paths": _paths(),
    }
