"""The OpenAPI 3 description of the REST API, served at /api/openapi.json."""
from __future__ import annotations

from functools import lru_cache

from workflows.domain.events import OUTBOX_KINDS
from workflows.domain.pages import MAX_PAGE


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "成功") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {400: "请求有误", 401: "未登录或令牌无效", 403: "无权办理（岗位或大厅不符）", 404: "不存在或不可见",
           409: "冲突：任务已被他人办理，或认领时已被他人认领，或案件被同时修改",
           413: "请求过大（超过 12 MB）", 422: "数据校验不通过（fields 给出每个字段的问题；任何参数含控制字符或过长时也是 422）",
           429: "登录或查询失败次数过多，账号或地址已锁定；Retry-After 给出还需等待的秒数",
           500: "系统出错（已记录日志，可凭响应头 X-Request-Id 查询）"}
# Any request can be refused before its operation runs (text, size), or fail: every operation declares these, and
# `default` says that whatever else comes back that is not a success is in the same error shape.
_ALWAYS = (413, 422, 500)


def _errors(*statuses: int) -> dict:
    responses = {str(status): _json(_ref("Error"), _ERRORS[status]) for status in sorted({*statuses, *_ALWAYS})}
    return {**responses, "default": _json(_ref("Error"), "其他错误（如 405 不支持的方法、429 请求过于频繁），同一错误格式")}


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
_VARIABLES = {"type": "object", "description": (
    "流程变量：变量名 -> 任意 JSON 值（数字、true/false、列表、对象、null、空文字，按原样存入案件数据）；本步骤表单的字段按表单校验；"
    "其他步骤的表单字段、平台数据（applicant、decision、opinion、核定金额等）和案件已有的变量不能传入，否则 422 并指明 variables.<名称>")}
_OPTIONAL = {"type": "string", "nullable": True}  # text a record may not have (yet): null, never ""
_MOMENT = {"type": "string", "format": "date-time", "nullable": True}
_PAGING = [_query("limit", f"每页条数（默认 50，最多 {MAX_PAGE}：更大的 422，不会悄悄截短）；返回的条数少于 limit 即已到最后一页",
                  {"type": "integer", "minimum": 0, "maximum": MAX_PAGE, "default": 50}),
           _query("offset", "跳过条数（下一页：offset + limit）", {"type": "integer", "minimum": 0, "default": 0})]

_OPTIONAL_LIMIT = {"allOf": [_ref("TimeLimit")], "nullable": True}
SCHEMAS = {
    "Error": _object({"error": _object({"code": _TEXT, "message": _TEXT, "fields": _ANY,
                                        "element_id": _OPTIONAL, "file": _OPTIONAL, "field": _OPTIONAL,
                                        "test": _ANY}, ("code", "message"))}, ("error",)),
    "User": _object({"username": _TEXT, "full_name": _TEXT, "agency_code": _TEXT, "hall_code": _TEXT,
                     "roles": {"type": "array", "items": _TEXT}, "role_names": {"type": "array", "items": _TEXT}}),
    "Lockout": _object({"kind": {"type": "string", "enum": ["account", "address"]}, "subject": _TEXT,
                        "failures": _INT, "locked_until": _MOMENT}),
    "AccountEvent": _object({"at": _MOMENT, "kind": _TEXT, "subject": _TEXT, "action": _TEXT, "actor": _TEXT,
                             "message": _TEXT}),
    "TimeLimit": _object({"value": _INT, "unit": {"type": "string", "enum": ["immediate", "working_days",
                                                                              "natural_days", "months"]},
                          "label": _TEXT}),
    "Agency": _object({"code": _TEXT, "name": _TEXT, "short_name": _TEXT, "region": _TEXT,
                       "consult_phone": _OPTIONAL, "complaint_phone": _OPTIONAL, "office_hours": {"type": "array"}, "item_count": _INT,
                       "halls": {"type": "array", "items": _object({"code": _TEXT, "name": _TEXT,
                                                                     "address": _OPTIONAL, "phone": _OPTIONAL})}}),
    "Item": _object({"code": _TEXT, "name": _TEXT, "national_name": _TEXT, "group": _ANY,
                     "stages": {"type": "array", "items": _TEXT}, "process_key": _TEXT,
                     "promised_limit": _OPTIONAL_LIMIT, "statutory_limit": _OPTIONAL_LIMIT,
                     "exceptional_limit": _OPTIONAL_LIMIT, "materials": {"type": "array", "items": _ANY},
                     "applicant_kinds": {"type": "array", "items": _TEXT}, "legal_basis": {"type": "array"},
                     "halls": {"type": "array", "items": _TEXT}, "prohibited": {"type": "array"}}),
    "ProcessVersion": _object({"process_key": _TEXT, "version": _INT, "name": _TEXT, "file_name": _TEXT,
                               "checksum": _TEXT, "deployed_by": _TEXT, "deployed_at": _MOMENT,
                               "agency_code": {"type": "string", "nullable": True,
                                               "description": "其案件运行该版本的经办机构；null：全国版本，"
                                                              "未自行部署的机构均使用"},
                               "change_note": {"type": "string", "nullable": True,
                                               "description": "发布时的变更说明；null：发布时未写"},
                               "deployment_id": {"type": "integer", "nullable": True,
                                                 "description": "所属部署（一同部署的文件）；null：部署之前的版本"},
                               "called_files": {"type": "array", "items": _TEXT,
                                                "description": "调用活动所调用的、同一部署中其他 BPMN 文件"}}),
    "Deployment": _object({"id": _INT, "files": {"type": "array", "items": _TEXT},
                           "processes": {"type": "array", "items": _ref("ProcessVersion"),
                                         "description": "部署中的每个可执行流程（协作图的每个可执行池）的新版本，"
                                                        "事项的流程在前"}}),
    "CaseMessage": _object({"at": _MOMENT, "direction": {"type": "string", "enum": ["sent", "received"]},
                            "name": _TEXT, "payload": {"description": "消息内容（任意 JSON）"}, "actor": _TEXT,
                            "message": _TEXT}),
    "Applicant": _object({"name": _TEXT, "id_number": {"type": "string", "description": (
                              "自然人：身份证号码（GB 11643 校验码、出生日期有效）；其他服务对象：统一社会信用代码"
                              "（GB 32100 校验码）。不符时 422，fields 为 applicant.id_number")},
                          "kind": {"type": "string", "description": "服务对象类别，默认 自然人"}, "phone": _TEXT,
                          "agent": {"allOf": [_ref("Agent")], "nullable": True}},
                         ("name", "id_number")),
    "Agent": {**_object({
        "name": _TEXT, "id_number": {"type": "string", "description": (
            "代理人身份证号码（GB 11643 校验码、出生日期有效），不符时 422：applicant.agent.id_number")}, "phone": _TEXT,
        "relation": {"type": "string", "description": "与申请人关系，如 配偶、子女、单位经办人"},
        "power_of_attorney": _object({
            "file": _object({"file_name": _TEXT, "media_type": _TEXT,
                             "content_base64": {"type": "string", "format": "byte",
                                                "description": "申请时上传：PDF 或 JPEG、PNG 图片，≤ 10 MB"}}),
            "original_checked": {"type": "boolean", "description": "或：窗口已核验授权委托书原件"},
            "checked_on": {"type": "string", "format": "date", "description": "核验原件的日期"},
            "attachment_id": {"type": "integer", "description": "上传的授权委托书存为案件附件后的编号（响应中）"},
            "file_name": {"type": "string", "description": "上传的授权委托书文件名（响应中）"}})},
        ("name", "id_number", "relation", "power_of_attorney")),
        "description": "委托办理：委托代理人及授权委托书（上传文件，或确认已核验原件及日期）"},
    "Case": _object({"number": _TEXT, "agency_code": _TEXT, "hall_code": _TEXT, "item_code": _TEXT,
                     "item_name": _TEXT, "stage": _TEXT, "status": {"type": "string",
                                                                    "enum": ["open", "closed", "failed"]},
                     "status_name": {"type": "string", "description":
                                     "状态的显示文字：办理中、暂停（补正）、故障待处理；已结束的为其结果，如 已办结、不予受理"},
                     "result": {"type": "string", "nullable": True, "description":
                                "结束时到达的结束事件名：办结、不予受理、禁止办理、审核不通过、验收不通过、补正超时、撤件、终止 …"},
                     "result_label": {"type": "string", "nullable": True,
                                      "description": "结果的显示文字：已办结、不予受理、已撤件、已终止 …；在办为 null"},
                     "pause": {**_object({"kind_name": _TEXT, "given_back_days": _INT, "label": _TEXT}),
                               "nullable": True,
                               "description": "计时暂停中：暂停种类（补正、容缺补正、中止 …）及已暂停、恢复后顺延的工作日数"},
                     "applicant": _ref("Applicant"), "opened_by": _TEXT, "opened_at": _MOMENT,
                     "closed_at": _MOMENT}),
    "Task": _object({"id": _TEXT, "case_number": _TEXT, "item_code": _TEXT, "item_name": _TEXT, "name": _TEXT,
                     "stage": _TEXT, "role": _TEXT, "role_name": _TEXT, "state": {"type": "string",
                                                                                 "enum": ["ready", "completed",
                                                                                          "cancelled"]},
                     "assignee": {"type": "string", "nullable": True}, "created_at": _MOMENT,
                     "completed_at": _MOMENT, "completed_by": {"type": "string", "nullable": True},
                     "decision": {"type": "string", "nullable": True}, "due_at": _MOMENT,
                     "completed_level": {"type": "string", "nullable": True,
                                         "enum": ["normal", "yellow", "red", "paused", None],
                                         "description": "办理完成时该件时限的状态（已办显示此值，而非今日的）"},
                     "priority": {"type": "integer", "description":
                                  "优先级（流程图 camunda:priority，默认 50）：待办按优先级从高到低，再按剩余时限排列"},
                     "candidate_users": {"type": "array", "items": _TEXT, "description":
                                         "候选人（camunda:candidateUsers）：非空时只有他们能看到并认领该任务"},
                     "due_date": {**_MOMENT, "description":
                                  "任务的到期时间（camunda:dueDate），与案件的法定、承诺时限（due_at）并存，不替代它"},
                     "follow_up_date": {**_MOMENT, "description": "任务的跟进时间（camunda:followUpDate）"}}),
    "FormField": _object({"id": _TEXT, "label": _TEXT, "type": {"type": "string", "enum": [
        "string", "long", "boolean", "date", "enum", "decimal"]}, "required": _BOOL,
        "options": {"type": "array", "items": _object({"value": _TEXT, "label": _TEXT})},
        "pattern": {"type": "string", "nullable": True, "description": "文本须整体符合的正则表达式，如 [0-9]{6}"},
        "minimum": {"type": "string", "nullable": True, "description": (
            "金额或整数字段的最小值（如 自费金额 0）；金额字段为 null 时须大于 0。金额一律为不带符号、最多两位小数的数字，"
            "不超过本系统的最大金额（WORKFLOWS_MAX_AMOUNT，默认 100000000.00）")},
        "maximum": {"type": "string", "nullable": True, "description": "金额或整数字段本身的最大值"},
        "min_length": {"type": "integer", "nullable": True, "description": "文本的最少字数（minlength）"},
        "max_length": {"type": "integer", "nullable": True, "description": "文本的最多字数（maxlength）"},
        "readonly": {"type": "boolean", "description": "只读：值取自案件数据，提交不同的值则 422"}}),
}
_AMOUNT = {"type": "string", "nullable": True, "description": "金额（元，两位小数）"}
SCHEMAS["Payment"] = {**_object({
    "claimed_amount": _AMOUNT, "proposed_amount": {"type": "string", "description": "按本机构待遇政策核算的金额"},
    "cap": _AMOUNT, "calculation": {"type": "string", "nullable": True,
                                    "description": "核算方法，如 (860.00 − 自费 0.00 − 起付线 0.00) × 50% = 430.00，封顶 3000.00"},
    "approved_amount": {**_AMOUNT, "description": "审核核定的金额（审核通过后）"},
    "approved_by": {"type": "string", "nullable": True}, "approved_by_name": {"type": "string", "nullable": True},
    "review_opinion": {"type": "string", "nullable": True}, "reduction_reason": {"type": "string", "nullable": True},
    "bank_name": {"type": "string", "nullable": True}, "bank_account": {"type": "string", "nullable": True},
    "paid_amount": {**_AMOUNT, "description": "已拨付的金额（拨付后）"}}),
    "nullable": True, "description": (
        "待遇金额：申报金额、核算金额及其方法、封顶线；审核通过后核定金额、审核人、审核意见、核减理由、收款账户。"
        "审核的核定金额（payable_amount）不得超过申报金额、封顶线或核算金额，低于核算金额须填写核减理由"
        "（reduction_reason），否则 422；不填为核算金额。不支付待遇的事项为 null")}
SCHEMAS["TaskDetails"] = {"allOf": [_ref("Task"), _object({
    "form": _object({"fields": {"type": "array", "items": _ref("FormField")},
                     "defaults": {"type": "object", "description": (
                         "各字段的默认值（defaultValue，JUEL 已按本案件数据求值）；完成任务时未提交的字段取此值")}}),
    "documentation": {"type": "string", "description": "任务说明（bpmn:documentation，JUEL 模板已按本案件数据填入）"},
    "decisions": {"type": "array", "items": _object({"value": _TEXT, "label": _TEXT})}, "case": _ref("Case"),
    "payment": _ref("Payment")})]}
SCHEMAS.update({
    "Deadline": _object({"kind": {"type": "string", "description": "promised | statutory | 环节时限名"}, "name": _TEXT,
                         "limit": _ref("TimeLimit"),
                         "from": {"type": "string", "description": "自哪个环节结束起算：受理，或环节时限的 from（如 验收）"},
                         "started": {"type": "boolean", "description": "false：起算环节尚未结束，未开始计时"},
                         "starts_at": _MOMENT, "due_at": _MOMENT, "warning_at": _MOMENT,
                         "label": {"type": "string", "description": "如 2026-12-21 17:00（暂估）、已暂停、验收结束后起算（5个工作日）"},
                         "level": {"type": "string", "enum": ["normal", "yellow", "red", "paused", "met",
                                                              "not_started"]},
                         "provisional": _BOOL, "paused": _BOOL, "extension_days": _INT, "paused_days": _INT,
                         "met_at": _MOMENT}),
    "ComputedDeadline": _object({"kind": _TEXT, "name": _TEXT, "limit": _ref("TimeLimit"),
                                 "from": {"type": "string", "description": "自哪个环节结束起算"},
                                 "starts_at": {**_MOMENT, "description": "起算时刻：受理时间，或起算环节时限的到期时刻；"
                                                                         "起算环节没有自己的时限时为 null"},
                                 "due_at": _MOMENT, "warning_at": _MOMENT, "label": _TEXT, "provisional": _BOOL}),
    "Escalation": _object({"id": _INT, "case_number": _TEXT, "item_name": _TEXT, "hall_code": _TEXT, "limit": _TEXT,
                           "limit_name": _TEXT, "level": {"type": "string", "enum": ["yellow", "red"]},
                           "level_name": _TEXT, "stage": _OPTIONAL, "raised_at": _MOMENT,
                           "status": {"type": "string", "enum": ["open", "handled", "replaced"],
                                      "description": "replaced：黄牌已由同一时限的红牌取代"}, "handled_by": _OPTIONAL,
                           "handled_at": _MOMENT, "action": _OPTIONAL, "note": _OPTIONAL}),
    "CalendarYear": _object({"year": _INT, "covered": _BOOL, "source": _OPTIONAL,
                             "holidays": {"type": "array", "items": {"type": "string", "format": "date"}},
                             "workdays": {"type": "array", "items": {"type": "string", "format": "date"}}}),
    "Notification": _object({"id": _INT, "username": _TEXT, "case_number": _OPTIONAL, "kind": _TEXT, "message": _TEXT,
                             "created_at": _MOMENT, "read_at": _MOMENT}),
})
SCHEMAS.update({
    "AgencyMessage": _object({
        "id": _TEXT, "name": _TEXT, "from_agency": _TEXT, "to_agency": _TEXT, "correlation": _TEXT,
        "payload": _ANY,
        "status": {"type": "string", "enum": ["pending", "delivered", "failed", "outbound", "sent"]},
        "status_name": _TEXT, "error": {"type": "string", "nullable": True},
        "source_case": {"type": "string", "nullable": True, "description": "发出消息的本系统办件"},
        "target_case": {"type": "string", "nullable": True, "description": "消息送达或启动的本系统办件"},
        "created_at": _MOMENT, "delivered_at": _MOMENT}),
    "FollowUp": _object({
        "id": _INT, "case_number": _TEXT, "item_name": _TEXT, "hall_code": _TEXT, "score": _INT, "rating": _TEXT,
        "comment": _OPTIONAL, "opened_at": _MOMENT, "due_at": _MOMENT, "warning_at": _MOMENT,
        "level": {"type": "string", "enum": ["normal", "yellow", "red", "met"]},
        "status": {"type": "string", "enum": ["open", "done"]}, "visit_note": _OPTIONAL, "remedy": _OPTIONAL,
        "recorded_by": _OPTIONAL, "recorded_at": _MOMENT}),
})
SCHEMAS.update({
    "TaskRequest": _object({
        "id": _INT, "task_id": _TEXT, "kind": {"type": "string", "enum": ["delegate", "before", "after", "parallel"]},
        "kind_name": _TEXT, "requested_by": _TEXT, "assignee": _TEXT, "reason": _TEXT,
        "substitute_note": {"type": "string", "nullable": True, "description": "如 张三休假，由李四代办"},
        "status": {"type": "string", "enum": ["pending", "done", "withdrawn"]},
        "decision": {"type": "string", "enum": ["agree", "disagree"], "nullable": True},
        "decision_name": {"type": "string", "nullable": True}, "opinion": {"type": "string", "nullable": True},
        "requested_at": _MOMENT, "done_at": _MOMENT, "withdrawn_by": {"type": "string", "nullable": True}}),
    "Supervision": _object({
        "id": _INT, "task_id": _TEXT, "case_number": _TEXT, "supervisor": _TEXT, "instruction": _TEXT,
        "created_at": _MOMENT, "reply": {"type": "string", "nullable": True},
        "replied_by": {"type": "string", "nullable": True}, "replied_at": _MOMENT}),
    "Substitution": _object({
        "id": _INT, "username": _TEXT, "substitute": _TEXT, "kind": {"type": "string", "enum": [
            "leave", "out", "trip", "sick"]}, "kind_name": _TEXT, "reason": _TEXT, "starts_at": _MOMENT,
        "ends_at": _MOMENT, "ended_at": _MOMENT, "created_at": _MOMENT}),
})
SCHEMAS["PersonalDataRead"] = _object({
    "case_number": _TEXT, "actor": _TEXT, "kinds": {"type": "array", "items": _TEXT, "description":
                                                   "id_number | bank_account"},
    "kind_names": {"type": "array", "items": _TEXT}, "purpose": {"type": "string", "description":
                                                                 "case | task | attachment：在哪里查看"},
    "at": {"type": "string", "format": "date-time"}})
SCHEMAS["Document"] = _object({
    "id": _INT, "case_number": _TEXT, "kind": {"type": "string", "enum": [
        "acceptance_notice", "missing_materials_notice", "waiver_notice", "refusal_decision", "rejection_decision", "termination_decision",
        "completion_notice", "correction_timeout_notice", "commitment", "result_document"]},
    "kind_name": {"type": "string", "description": "受理通知书、一次性告知书 …"}, "title": _TEXT,
    "number": {"type": "string", "description": "文书编号"},
    "fields": {"type": "object", "description": "模板的填写内容（占位符的值，material_rows 为材料表）"},
    "issued_by": {"type": "string", "description": "出具人；system 为办理流转时自动出具"}, "issued_at": _MOMENT,
    "pdf_url": _TEXT})
_MARKS = ["present", "missing", "waived", "committed"]
SCHEMAS["Material"] = _object({
    "index": _INT, "name": _TEXT, "required": _BOOL, "form": _TEXT, "waivable": _BOOL, "source": _OPTIONAL,
    "condition": _OPTIONAL, "status": {"type": "string", "nullable": True, "enum": _MARKS + [None],
                                   "description": "已提交 | 缺少 | 容缺 | 告知承诺；null：未核对"},
    "status_name": _TEXT, "marked_by": _OPTIONAL,
    "allowed": {"type": "array", "items": {"type": "string", "enum": _MARKS}, "description": "本材料可作的核对结果"}})
SCHEMAS["Progress"] = {"allOf": [_ref("Case"), _object({
    "open_tasks": {"type": "array", "items": _ref("Task")},
    "notices": {"type": "array", "items": _TEXT, "description": "须告知办理人的结果，如发现的禁办情形"}})]}
SCHEMAS["DecisionRevision"] = _object({
    "number": _INT, "published_at": _MOMENT, "published_by": _TEXT,
    "process_versions": {"type": "array", "items": _object({"process_key": _TEXT, "version": _INT})}})
SCHEMAS["Decision"] = _object({
    "id": {"type": "string", "description": "决策 id（业务规则任务的 camunda:decisionRef），如 prohibited_002036006001"},
    "name": _TEXT, "processes": {"type": "array", "items": _TEXT, "description": "最新版本使用该决策表的流程"},
    "version": {"type": "integer", "description": "现行决策表是该 id 下发布的第几版"}, "published_at": _MOMENT,
    "published_by": _TEXT, "revisions": {"type": "array", "items": _ref("DecisionRevision")}})
SCHEMAS["ReturnTarget"] = _object({
    "task_id": {"type": "string", "description": "该环节（最近一次办理）的任务 id，退回时作为 target_task_id"},
    "name": _TEXT, "stage": _TEXT, "completed_by": _OPTIONAL, "completed_by_name": _OPTIONAL, "completed_at": _MOMENT,
    "allowed": {"type": "boolean", "description": "false：其后已有对外生效的步骤（如已拨付、已登记），不能退回"},
    "refusal": {"type": "string", "nullable": True, "description": "不能退回的原因"}})
SCHEMAS["CaseDetails"] = {"allOf": [_ref("Case"), _object({
    "data": _ANY, "process": _object({"key": _TEXT, "version": _INT}),
    "tasks": {"type": "array", "items": _ref("Task")}, "accepted_at": _MOMENT,
    "deadlines": {"type": "array", "items": _ref("Deadline")}, "pauses": {"type": "array", "items": _ANY},
    "extensions": {"type": "array", "items": _ANY}, "escalations": {"type": "array", "items": _ref("Escalation")},
    "history": {"type": "array", "items": _object({"at": _MOMENT, "actor": _TEXT, "action": _TEXT,
                                                   "stage": _OPTIONAL, "task_name": _OPTIONAL, "message": _TEXT, "detail": _ANY})},
    "external_calls": {"type": "array", "items": _ANY},
    "external_tasks": {"type": "array", "items": _ref("WaitingExternalTask"),
                       "description": "案件正在等待的外部任务（由外部系统经 /engine-rest 获取并完成）"}})]}
SCHEMAS["WaitingExternalTask"] = _object({
    "id": _TEXT, "name": _TEXT, "topic": _TEXT, "activity_id": _TEXT, "worker_id": _OPTIONAL,
    "lock_expires_at": _MOMENT, "retries": {"type": "integer", "nullable": True}, "error_message": _OPTIONAL,
    "created_at": _MOMENT, "label": {"type": "string", "description": "如：等待外部任务“参保核验”（主题 insurance-check）：待外部系统获取"}})
SCHEMAS["TaskOperations"] = _object({
    "task": _ref("Task"), "requests": {"type": "array", "items": _ref("TaskRequest")},
    "supervisions": {"type": "array", "items": _ref("Supervision")},
    "submission": {"type": "object", "nullable": True, "description": "已提交、待后加签/并行加签人签署的办理意见",
                   "properties": {"submitted_by": _TEXT, "data": _ANY, "submitted_at": _MOMENT}}})
SCHEMAS["SignOutcome"] = {"allOf": [_ref("TaskRequest"), _object({"completed": {
    "allOf": [_ref("Progress")], "nullable": True, "description": "该环节因此流转后的办件，否则为 null"}})]}
SCHEMAS["SupervisionOutcome"] = {"allOf": [_ref("Supervision"), _object({"completed": {
    "allOf": [_ref("Progress")], "nullable": True, "description": "该环节因此流转后的办件，否则为 null"}})]}


def _array(name: str) -> dict:
    return {"type": "array", "items": _ref(name)}


def _paths() -> dict:
    agency, item = _path("agency_code", "经办机构代码，如 210400"), _path("item_code", "事项编码")
    task, number = _path("task_id", "任务 id"), _path("number", "办件编号")
    key = _path("process_key", "流程标识，如 item_00203601002")
    decision = _path("decision_id", "决策 id，如 prohibited_002036006001")
    message = _path("message_id", "机构间消息 id（UUID）")
    year = {**_path("year", "年份"), "schema": _INT}
    return {
        "/api/openapi.json": {"get": _operation("本 API 的 OpenAPI 3.1 描述", {"200": _json({"type": "object"})},
                                                secured=False)},
        "/api/login": {"post": _operation(
            "登录，取得令牌", {"200": _json(_object({"token": _TEXT, "expires_in": _INT, "user": _ref("User")}))},
            401, 422, 429, body=_object({"username": _TEXT, "password": _TEXT}, ("username", "password")),
            secured=False)},
        "/api/me": {"get": _operation("当前用户", {"200": _json(_ref("User"))}, 401)},
        "/api/logout": {"post": _operation("退出登录：本令牌（或本浏览器会话）立即失效", {"204": {"description": "已退出"}},
                                           401, 403)},
        "/api/me/password": {"post": _operation(
            "修改本人密码：此前的全部会话和令牌失效，返回新令牌",
            {"200": _json(_object({"token": _TEXT, "expires_in": _INT, "user": _ref("User")}))}, 401, 403, 422, 429,
            body=_object({"current_password": _TEXT, "new_password": _TEXT}, ("current_password", "new_password")))},
        "/api/lockouts": {"get": _operation(
            "系统管理员：当前锁定的本机构账号和地址（全部），及账号安全记录（最新的在前，limit、offset 分页）",
            {"200": _json(_object({"lockouts": {"type": "array", "items": _ref("Lockout")},
                                   "events": {"type": "array", "items": _ref("AccountEvent")}}))}, 401, 403,
            params=_PAGING)},
        "/api/lockouts/unlock": {"post": _operation(
            "系统管理员：提前解除账号或地址的锁定（记入账号安全记录）", {"204": {"description": "已解除"}},
            401, 403, 404, 422, body=_object({"kind": {"type": "string", "enum": ["account", "address"]},
                                              "subject": _TEXT}, ("kind", "subject")))},
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
        "/api/calendar/changes": {"get": _operation("日历变更记录，最新的在前", {"200": _json({"type": "array", "items": _ANY})},
                                                    401, params=_PAGING)},
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
        "/api/notifications": {"get": _operation("我的通知（预警、催办、改派），最新的在前",
                                                 {"200": _json(_array("Notification"))}, 401,
                                                 params=[_query("unread", "true：只看未读"), *_PAGING])},
        "/api/handlers": {"get": _operation(
            "已注册的服务任务处理程序（BPMN 服务任务的 camunda:topic），按名称排序",
            {"200": _json({"type": "array", "items": _object({"name": _TEXT, "title": _TEXT})})}, 401)},
        "/api/processes": {
            "get": _operation("本机构各流程的现行版本：本机构部署的最新版本，否则最新的全国版本",
                              {"200": _json(_array("ProcessVersion"))}, 401),
            "post": {**_operation("部署 BPMN 文件为本机构流程的新版本（运行中的案件不受影响）：流程须是本机构某事项的"
                                  "流程（否则 403）；national=true 部署全国版本（系统管理员）。流程代码受安装设定的"
                                  "限额约束，部署时即可看出的（常量炸弹、不合理的定时器、超过大小的文件）返回 422；"
                                  "引擎不能执行的元素（多实例、无消息的发送/接收任务、循环定时器、非 Python 脚本、事件子流程等）"
                                  "也以 422 拒绝并指明元素",
                                  {"201": _json(_ref("ProcessVersion"), "已部署")}, 401, 403, 409, 422,
                                  params=[_query("national", "true：全国版本（系统管理员）；也可作为 multipart 字段")]),
                     "requestBody": {"required": True, "content": {
                         "multipart/form-data": {"schema": _object({
                             "file": {"type": "string", "format": "binary"},
                             "national": {"type": "string", "enum": ["true", "false"]},
                             "note": {"type": "string", "maxLength": 2000,
                                      "description": "变更说明：改了什么、为什么（随版本保存，显示在版本记录中）"},
                             "decisions": {"type": "array", "items": {"type": "string", "format": "binary"},
                                           "description": "其业务规则任务引用的决策表（DMN 文件）；未提供的取现行决策表"}},
                             ("file",))},
                         "application/xml": {"schema": _TEXT}}}}},
        "/api/decisions": {"get": _operation(
            "决策表（DMN）：各决策的现行版本、使用它的流程和发布历史（流程设计员）", {"200": _json(_array("Decision"))},
            401, 403)},
        "/api/decisions/{decision_id}": {
            "get": _operation("现行决策表的 DMN XML（流程设计员）", {"200": {"description": "DMN 1.3 XML", "content": {
                "application/xml": {"schema": _TEXT}}}}, 401, 403, 404, params=[decision]),
            "put": {**_operation(
                "发布决策表：使用该决策的每个流程部署新版本，新案件按新表核查，运行中的案件不受影响（流程设计员）",
                {"200": _json(_object({"published": _array("ProcessVersion")}), "已发布；内容未变时 published 为空")},
                401, 403, 404, 422, params=[decision]),
                "requestBody": {"required": True, "content": {"application/xml": {"schema": _TEXT}}}}},
        "/api/process-tests/run": {"post": _operation(
            "流程测试：在内存中按测试用例运行草稿（不建案件、不调用外部系统），返回各用例结果、每步所处位置和连线覆盖"
            "（流程设计员）", {"200": _json(_object({
                "process_key": _TEXT, "passed": _BOOL, "tests": {"type": "array", "items": _ANY},
                "coverage": _object({"taken": {"type": "array", "items": _TEXT},
                                     "missed": {"type": "array", "items": _TEXT},
                                     "missed_branches": {"type": "array", "items": _TEXT}})}))},
            401, 403, 422, body=_object({"xml": _TEXT, "file_name": _TEXT, "tests": {"type": "array", "items": _ANY}},
                                        ("xml",)))},
        "/api/processes/{process_key}/tests": {
            "get": _operation("流程保存的测试用例（?format=yaml：测试文件）；发布时逐一运行，未通过则拒绝发布（流程设计员）",
                              {"200": {"description": "成功", "content": {
                                  "application/json": {"schema": _object({"tests": {"type": "array", "items": _ANY}})},
                                  "application/yaml": {"schema": _TEXT}}}}, 401, 403,
                              params=[key, {"name": "format", "in": "query", "required": False,
                                            "schema": {"type": "string", "enum": ["json", "yaml"]}}]),
            "put": {**_operation("保存流程的测试用例（替换原有的；JSON 或 application/yaml 测试文件）（流程设计员）",
                                 {"200": _json(_object({"tests": {"type": "array", "items": _ANY}}))},
                                 401, 403, 422, params=[key]),
                    "requestBody": {"required": True, "content": {
                        "application/json": {"schema": _object({"tests": {"type": "array", "items": _ANY}})},
                        "application/yaml": {"schema": _TEXT}}}}},
        "/api/processes/{process_key}/versions": {"get": _operation(
            "流程的版本列表", {"200": _json(_array("ProcessVersion"))}, 401, 404, params=[key])},
        "/api/processes/{process_key}/versions/{version}/bpmn": {"get": _operation(
            "某版本的 BPMN XML", {"200": {"description": "BPMN 2.0 XML", "content": {"application/xml": {
                "schema": _TEXT}}}}, 401, 404, params=[key, {**_path("version", "版本号"), "schema": _INT}])},
        "/api/cases": {
            "post": _operation("申请：为事项登记一件新办件（受理员，在本人大厅）", {"201": _json(_ref("Progress"), "已登记；open_tasks 为接下来的待办")},
                               401, 403, 404, 422, body=_object({
                                   "item_code": _TEXT, "applicant": _ref("Applicant"),
                                   "data": {"type": "object", "description": (
                                       "申请表字段，见流程开始事件的表单；bank_account 须为12至25位数字，credit_code "
                                       "须为有效的统一社会信用代码，否则 422 并指明字段；表单未声明的键 422（未声明的字段，"
                                       "流程变量请放在 variables 中）；未提交的字段取其默认值（defaultValue）")},
                                   "variables": _VARIABLES},
                                   ("item_code", "applicant"))),
            "get": _operation("本大厅的办件", {"200": _json(_array("Case"))}, 401, 422, params=[
                _query("status", "open | closed | failed"), _query("item_code", "事项编码"),
                _query("hall_code", "大厅（仅系统管理员）"), *_PAGING])},
        "/api/cases/{number}": {"get": _operation("办件详情：环节、数据、任务、办理历史", {"200": _json(
            _ref("CaseDetails"))}, 401, 404, params=[number])},
        "/api/cases/{number}/materials": {
            "get": _operation("申请材料核对：事项的材料及其核对结果", {"200": _json(_array("Material"))}, 401, 404,
                              params=[number]),
            "put": _operation(
                "核对材料（本大厅受理员、审核员）：按序号标记；全部成功或全部不变。最后一项容缺材料已提交时结束容缺补正",
                {"200": _json(_array("Material"))}, 401, 403, 404, 409, 422, params=[number], body=_object({
                    "marks": {"type": "object", "additionalProperties": {"type": "string", "enum": _MARKS},
                              "description": "材料序号 → 核对结果，如 {\"0\": \"present\", \"2\": \"waived\"}"}},
                    ("marks",)))},
        "/api/cases/{number}/documents": {"get": _operation(
            "办件的文书（受理通知书、一次性告知书、决定书、办结通知书、结果文书 …），按出具先后", {"200": _json(
                _array("Document"))}, 401, 404, params=[number])},
        "/api/documents/{document_id}/pdf": {"get": _operation(
            "文书的 PDF：默认 Content-Disposition: inline（在浏览器中打开，便于打印）；download=1 时作为附件下载",
            {"200": {"description": "PDF", "content": {"application/pdf": {"schema": {
                "type": "string", "format": "binary"}}}}}, 401, 404,
            params=[{**_path("document_id", "文书 id"), "schema": _INT},
                    _query("download", "1：作为附件下载（Content-Disposition: attachment）", {"enum": ["1"]})])},
        "/api/cases/{number}/missing-materials-notice": {"post": _operation(
            "出具一次性告知书（本大厅受理员、审核员）：列出标为“缺少”的全部材料；没有缺少的材料时 422",
            {"201": _json(_ref("Document"), "已出具")}, 401, 403, 404, 409, 422, params=[number])},
        "/api/cases/{number}/correction": {"post": _operation(
            "退回申请人补正（本大厅受理员、审核员，已受理的办件）：出具一次性告知书并暂停计时（补正）",
            {"201": _json(_ref("Document"), "已出具并暂停计时")}, 401, 403, 404, 409, 422, params=[number],
            body=_object({"reason": {"type": "string", "description": "退回补正的原因（≤ 500 字）"}}, ("reason",)))},
        "/api/cases/{number}/messages": {
            "post": _operation(
                "向等待消息的办件投递消息（如转移接续的信息表）；payload 为任意 JSON", {"200": _json(_ref("Progress"))},
                401, 403, 404, 409, 422, body=_object({"name": _TEXT, "payload": _ANY}, ("name",)), params=[number]),
            "get": _operation("办件发出（发送任务、消息抛出事件）和收到的消息，按先后", {"200": _json(
                _array("CaseMessage"))}, 401, 404, params=[number])},
        "/api/agencies/{agency_code}/messages": {"post": _operation(
            "按名称向经办机构发送消息（受理员、系统管理员）：送达等待该消息、关联属性（correlationProperty）相符的唯一"
            "办件（200）；无等待的办件时，由以该消息开始的事项流程立案（201，payload.applicant 为申请人，其余为申请表"
            "字段，缺少或有误时 422 指明字段）；都没有时 404，多件等待而无法区分时 409 并列出办件编号",
            {"200": _json(_ref("Progress"), "已送达等待的办件"), "201": _json(_ref("Progress"), "已立案")},
            401, 403, 404, 409, 422, body=_object({"name": _TEXT, "payload": _ANY}, ("name",)), params=[agency])},
        "/api/signals": {"post": _operation(
            "按名称发出信号（科室负责人、系统管理员）：本经办机构（系统管理员可指定 agency_code）所有等待该信号的办件"
            "（信号中间事件、边界事件、信号事件子流程）在应答后各自捕获；信号不携带数据；waiting 为此刻等待的办件数",
            {"202": _json(_object({"name": _TEXT, "agency_code": _TEXT, "waiting": {"type": "integer"}},
                                  ("name", "agency_code", "waiting")), "已发出")},
            401, 403, 404, 422, body=_object({"name": _TEXT, "agency_code": _TEXT}, ("name",)))},
        "/api/deployments": {"post": {**_operation(
            "一次部署多个 BPMN 文件（及 DMN 决策表）：调用活动可调用其他文件中的流程；每个未被调用的可执行流程（协作图的"
            "每个可执行池）成为其流程的新版本；运行中的案件仍按其部署运行（包括所调用的流程）",
            {"201": _json(_ref("Deployment"), "已部署")}, 401, 403, 409, 422,
            params=[_query("national", "true：全国版本（系统管理员）；也可作为 multipart 字段")]),
            "requestBody": {"required": True, "content": {
                "multipart/form-data": {"schema": _object({
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    "national": {"type": "string", "enum": ["true", "false"]},
                    "decisions": {"type": "array", "items": {"type": "string", "format": "binary"}}}, ("files",))},
                "application/json": {"schema": _object({
                    "files": {"type": "array", "items": _object({"name": _TEXT, "xml": _TEXT}, ("xml",))},
                    "decisions": {"type": "array", "items": _object({"name": _TEXT, "xml": _TEXT}, ("xml",))},
                    "national": {"type": "boolean"}}, ("files",))}}}}},
        "/api/agency-messages": {
            "get": _operation("机构间消息（系统管理员）：中继程序取 status=outbound 的消息转发到其他系统",
                              {"200": _json(_array("AgencyMessage"))}, 401, 403, 422, params=[
                                  _query("status", "pending | delivered | failed | outbound | sent"), *_PAGING]),
            "post": _operation(
                "接收其他系统发来的机构间消息（系统管理员令牌）：联系函在转出地立案，信息表投递给等待的转入地办件；"
                "按 id 幂等，重发不再立案；联系函 payload.applicant 的证件号码按窗口规则校验，不符时 422、不立案",
                {"201": _json(_ref("AgencyMessage"), "已送达"), "200": _json(_ref("AgencyMessage"), "此前已收到（重发）")},
                401, 403, 404, 409, 422, body=_object({
                    "id": {"type": "string", "format": "uuid", "description": "消息 id，重发时不变"},
                    "name": {"type": "string", "description": "联系函 | 信息表"},
                    "from_agency": {"type": "string", "description": "发出消息的经办机构代码"},
                    "to_agency": {"type": "string", "description": "接收消息的经办机构代码（须为本系统的机构）"},
                    "correlation": {"type": "string", "description": "关联办件编号（转入地的办件编号）"},
                    "payload": {"type": "object", "description": "消息内容；联系函可带 applicant（申请人）"}},
                    ("id", "name", "from_agency", "to_agency", "correlation")))},
        "/api/agency-messages/{message_id}/sent": {"post": _operation(
            "标记待转发的消息已转发到其他系统（系统管理员）", {"200": _json(_ref("AgencyMessage"))}, 401, 403, 404,
            409, params=[message])},
        "/api/agency-messages/{message_id}/retry": {"post": _operation(
            "重新送达送达失败的消息（系统管理员，或发出办件所在大厅的科室负责人）；仍失败时 409 并说明原因",
            {"200": _json(_ref("AgencyMessage"))}, 401, 403, 404, 409, params=[message])},
        "/api/personal-data-reads": {"get": _operation(
            "个人信息查阅记录（系统管理员）：谁在何时查看了哪个办件完整的证件号码或银行账号，最近的在前",
            {"200": _json(_array("PersonalDataRead"))}, 401, 403, 404, 422,
            params=[_query("case", "办件编号"), _query("actor", "查阅人用户名"), *_PAGING])},
        "/api/followups": {"get": _operation(
            "差评回访：本大厅的回访任务（科室负责人），到期早的在前", {"200": _json(_array("FollowUp"))}, 401, 403,
            422, params=[_query("status", "open（默认）| done | all"), *_PAGING])},
        "/api/followups/{followup_id}/result": {"post": _operation(
            "记录差评回访的回访情况和整改措施（本大厅科室负责人，只能记录一次）", {"200": _json(_ref("FollowUp"))},
            401, 403, 404, 409, 422, params=[{**_path("followup_id", "差评回访 id"), "schema": _INT}],
            body=_object({"visit_note": _TEXT, "remedy": _TEXT}, ("visit_note", "remedy")))},
        "/api/tasks/{task_id}/return-targets": {"get": _operation(
            "可退回的环节：本案在该任务之前已办理的环节（不含督办），最近的在前（仅任务的认领人或本岗位人员）",
            {"200": _json(_array("ReturnTarget"))}, 401, 403, 404, 409, params=[task])},
        "/api/tasks/{task_id}/return": {"post": _operation(
            "退回/驳回：将办件退回到已办理过的环节，该环节由最近办理人重新办理；其后已对外生效的步骤（拨付、登记、"
            "出具文书…）不能跨越（409）；案件中止时 409", {"200": _json(_ref("Progress"))}, 401, 403, 404, 409, 422,
            params=[task], body=_object({"target_task_id": {"type": "string", "description": "见 return-targets"},
                                         "reason": {"type": "string", "description": "退回原因（必填）"}},
                                        ("target_task_id", "reason")))},
        "/api/tasks/{task_id}/withdraw": {"post": _operation(
            "撤回本人已办理的任务（task_id 为已办任务）：下一环节尚未认领、未办理且其后没有对外生效的步骤时，"
            "流程回到该任务并由本人办理；否则 409；他人的任务 403", {"200": _json(_ref("Progress"))}, 401, 403, 404,
            409, 422, params=[task], body=_object({"reason": {"type": "string", "description": "撤回原因（必填，≤ 500 字）"}}, ("reason",)))},
        "/api/cases/{number}/withdrawal": {"post": _operation(
            "撤件（本大厅受理员登记申请人的撤回申请）：办件以“撤件”结束，待办取消、时限停止；已办结 409",
            {"200": _json(_ref("Progress"))}, 401, 403, 404, 409, 422, params=[number], body=_object({"reason": {"type": "string", "description": "撤件原因（必填，≤ 500 字）"}}, ("reason",)))},
        "/api/cases/{number}/termination": {"post": _operation(
            "终止办理（本大厅科室负责人）：办件以“终止”结束，待办取消、时限停止；已办结 409",
            {"200": _json(_ref("Progress"))}, 401, 403, 404, 409, 422, params=[number], body=_object({"reason": {"type": "string", "description": "终止原因（必填，≤ 500 字）"}}, ("reason",)))},
        "/api/cases/{number}/retry": {"post": _operation(
            "重试出错的自动步骤（科室负责人、系统管理员）：成功则继续办理，再次出错仍为 failed 并记录新的原因；"
            "未出错的办件 409", {"200": _json(_ref("Progress"))}, 401, 403, 404, 409, 422, params=[number],
            body=_object({"reason": {"type": "string", "description": "处理说明，如 银行接口已恢复（必填，≤ 500 字）"}}, ("reason",)))},
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
            409, 422, body=_object({"data": {"type": "object", "description": (
                "表单字段，decision 为决定；未提交的字段取其默认值（defaultValue，JUEL 按案件数据求值）；表单未声明的键"
                "（materials、opinion 以外）422 并指明该键（未声明的字段，流程变量请放在 variables 中）；不予受理、审核不通过、验收不通过、不予签订、认定不通过、退回等拒绝性决定"
                "须在 opinion 中写明理由（否则 422，fields.opinion），理由原文写入决定书；materials 为材料核对"
                "（材料序号 -> present/missing/waived/committed，与决定一并保存，也可先用 PUT /api/cases/{number}/materials）；"
                "受理时必要材料标为缺少则 422（fields.materials，可容缺的改用容缺受理，否则出具一次性告知书），"
                "未标注的材料视为受理人确认已提交；容缺受理（decision=waive）须有标为容缺的材料，并以 "
                "waiver_commitment=true 确认申请人已签署《容缺承诺书》")}, "variables": _VARIABLES},
                                   ("data",)), params=[task])},
        "/api/tasks/{task_id}/escalation": {"post": _operation(
            "上报（用户任务上的升级）：办件按任务上捕获该升级码（或任何升级）的升级边界事件继续——非中断的与任务并行"
            "（如科长阅知），中断的取代任务；流程图中没有对应的升级边界事件时 422（fields.code）",
            {"200": _json(_ref("Progress"))}, 401, 403, 404, 409, 422,
            body=_object({"code": {"type": "string", "description": "升级码（escalationCode）"},
                          "message": {"type": "string", "description": "说明（可选）"}}, ("code",)), params=[task])},
        "/api/tasks/{task_id}/bpmn-error": {"post": _operation(
            "报告业务错误（Camunda 用户任务的 bpmnError）：办件按任务上捕获该错误码（或任何错误）的错误边界事件继续，"
            "任务随之结束；流程图中没有对应的错误边界事件时 422（fields.code）", {"200": _json(_ref("Progress"))},
            401, 403, 404, 409, 422, body=_object({"code": {"type": "string", "description": "错误码（errorCode）"},
                                                   "message": {"type": "string", "description": "错误说明（可选）"}},
                                                  ("code",)), params=[task])},
        "/api/tasks/{task_id}/preview": {"post": _operation(
            "预览决定书：以同样的 data 办理将出具的决定书全文（不予受理、不予批准、终止等），不办理、不出具；"
            "校验与办理相同（含理由），无决定书时 document 为 null", {"200": _json(_object({"document": {
                "type": "object", "nullable": True, "description": "title、number、agency_name、paragraphs、signature"}}))},
            401, 403, 404, 409, 422, body=_object({"data": {"type": "object", "description": "与办理任务相同"},
                                                   "variables": _VARIABLES}, ("data",)), params=[task])},
        **_task_operation_paths(task),
    }


def _task_operation_paths(task: dict) -> dict:
    """转办, 委派, 加签/减签, 催办, 督办 and its reply, and one's own 外出/休假代理 periods."""
    request = {**_path("request_id", "委派或加签 id"), "schema": _INT}
    supervision = {**_path("supervision_id", "督办 id"), "schema": _INT}
    reason = {"type": "string", "description": "理由（可不填）"}
    return {
        "/api/tasks/{task_id}/operations": {"get": _operation(
            "任务的委派、加签、已提交待签署的办理意见和督办", {"200": _json(_ref("TaskOperations"))}, 401, 404,
            params=[task])},
        "/api/tasks/{task_id}/transfer": {"post": _operation(
            "转办：办理人将任务交给本大厅具备该岗位的人员办理（未认领的先由本人认领）", {"200": _json(_ref("Task"))},
            401, 403, 404, 409, 422, params=[task], body=_object({"assignee": _TEXT, "reason": _TEXT},
                                                                 ("assignee", "reason")))},
        "/api/tasks/{task_id}/delegations": {"post": _operation(
            "委派：办理人请本大厅人员提出办理意见，仍由办理人决定", {"201": _json(_ref("TaskRequest"), "已委派")},
            401, 403, 404, 409, 422, params=[task], body=_object({"delegate": _TEXT, "reason": _TEXT},
                                                                 ("delegate", "reason")))},
        "/api/tasks/{task_id}/signers": {"post": _operation(
            "加签：前加签（签署后办理人才能办理）、后加签（办理人提交后须其同意才流转）或并行加签",
            {"201": _json(_ref("TaskRequest"), "已加签")}, 401, 403, 404, 409, 422, params=[task], body=_object({
                "signer": _TEXT, "kind": {"type": "string", "enum": ["before", "after", "parallel"]},
                "reason": _TEXT}, ("signer", "kind", "reason")))},
        "/api/task-requests/{request_id}/resolve": {"post": _operation(
            "受委派人提交办理意见，任务回到办理人", {"200": _json(_ref("TaskRequest"))}, 401, 403, 404, 409, 422,
            params=[request], body=_object({"opinion": _TEXT}, ("opinion",)))},
        "/api/task-requests/{request_id}/recall": {"post": _operation(
            "办理人收回尚未办理的委派", {"200": _json(_ref("TaskRequest"))}, 401, 403, 404, 409, 422,
            params=[request], body=_object({"reason": reason}))},
        "/api/task-requests/{request_id}/sign": {"post": _operation(
            "加签人签署（同意/不同意及意见，只能签一次）；completed 为因此流转后的办件",
            {"200": _json(_ref("SignOutcome"))}, 401, 403, 404, 409, 422, params=[request], body=_object({
                "decision": {"type": "string", "enum": ["agree", "disagree"]}, "opinion": _TEXT},
                ("decision", "opinion")))},
        "/api/task-requests/{request_id}/remove": {"post": _operation(
            "减签：办理人或科室负责人移除尚未签署的加签人", {"200": _json(_ref("SignOutcome"))}, 401, 403, 404, 409,
            422, params=[request], body=_object({"reason": reason}))},
        "/api/tasks/{task_id}/urge": {"post": _operation(
            "催办（科室负责人，或答复申请人的受理员）：通知办理人，未认领时通知本大厅该岗位人员",
            {"200": _json(_object({"notified": {"type": "array", "items": _TEXT}}))}, 401, 403, 404, 409, 422,
            params=[task], body=_object({"message": {"type": "string", "description": "催办内容，默认 请尽快办理"}}))},
        "/api/tasks/{task_id}/supervisions": {"post": _operation(
            "督办（科室负责人）：书面督办意见，办理人回复前不能办理该任务", {"201": _json(_ref("Supervision"), "已督办")},
            401, 403, 404, 409, 422, params=[task], body=_object({"instruction": _TEXT}, ("instruction",)))},
        "/api/supervisions/{supervision_id}/reply": {"post": _operation(
            "办理人书面回复督办；completed 为因此流转后的办件", {"200": _json(_ref("SupervisionOutcome"))}, 401, 403,
            404, 409, 422, params=[supervision], body=_object({"reply": _TEXT}, ("reply",)))},
        "/api/supervisions": {"get": _operation(
            "本大厅的督办及回复（科室负责人），待回复的在前", {"200": _json({"type": "array", "items": {"allOf": [
                _ref("Supervision"), _object({"task": _ref("Task")})]}})}, 401, 403, params=_PAGING)},
        "/api/me/awaiting": {"get": _operation(
            "待我处理：委派给我的、待我签署的、我办理的任务上待回复的督办", {"200": _json(_object({
                "requests": {"type": "array", "items": {"allOf": [_ref("TaskRequest"), _object({"task": _ref("Task")})]}},
                "supervisions": {"type": "array", "items": {"allOf": [_ref("Supervision"),
                                                                      _object({"task": _ref("Task")})]}}}))}, 401)},
        "/api/me/substitutions": {
            "get": _operation("我的外出/休假代理设置、我为他人代办的期间、可选的代理人", {"200": _json(_object({
                "own": _array("Substitution"), "covering": _array("Substitution"), "candidates": _array("User")}))},
                401),
            "post": _operation(
                "设置外出/休假代理：期间内转办、委派、加签、改派、退回给我的任务交由代理人，通知同时发给代理人",
                {"201": _json(_ref("Substitution"), "已设置")}, 401, 422, body=_object({
                    "substitute": {"type": "string", "description": "本大厅与我有相同岗位的人员"},
                    "kind": {"type": "string", "enum": ["leave", "out", "trip", "sick"]},
                    "starts_at": {"type": "string", "description": "YYYY-MM-DD 或 YYYY-MM-DD HH:MM（北京时间）"},
                    "ends_at": {"type": "string", "description": "YYYY-MM-DD（含当日）或 YYYY-MM-DD HH:MM"},
                    "reason": _TEXT}, ("substitute", "kind", "starts_at", "ends_at")))},
        "/api/me/substitutions/{substitution_id}/end": {"post": _operation(
            "提前结束（或取消尚未开始的）代理", {"200": _json(_ref("Substitution"))}, 401, 404, 409,
            params=[{**_path("substitution_id", "代理设置 id"), "schema": _INT}])},
    }


_TYPED = {"type": "object", "description": "Camunda 的类型化变量：{\"名称\": {\"value\": 值, \"type\": \"String|Boolean|"
           "Integer|Short|Long|Double|Date|Json|Null\"}}；type 可省略（按 JSON 值推断）",
           "additionalProperties": _object({"value": {}, "type": _TEXT, "valueInfo": _ANY}, ("value",))}
_DEFINITION = {"type": "string", "description": "流程定义 id（Camunda 格式 流程标识:版本号:编号），"
                                              "GET /engine-rest/process-definition/{id} 可取"}
SCHEMAS["LockedExternalTask"] = _object({
    "id": _TEXT, "topicName": _TEXT, "workerId": _TEXT, "lockExpirationTime": _TEXT, "createTime": _TEXT,
    "activityId": _TEXT, "activityInstanceId": _TEXT, "executionId": _TEXT,
    "processInstanceId": {"type": "string", "description": "办件编号"}, "businessKey": {"type": "string", "description": "办件编号"},
    "processDefinitionId": _DEFINITION, "processDefinitionKey": _TEXT, "processDefinitionVersionTag": _OPTIONAL,
    "tenantId": _OPTIONAL, "retries": {"type": "integer", "nullable": True}, "errorMessage": _OPTIONAL,
    "errorDetails": _OPTIONAL, "priority": _INT, "suspended": _BOOL, "variables": _TYPED,
    "extensionProperties": {"type": "object", "description": "服务任务的 camunda:properties"}})
_WORKER = {"type": "string", "description": "工作者标识（workerId），1–200 个字符"}
_DONE = {"204": {"description": "已办理"}}


def _engine_rest_paths() -> dict:
    """Camunda 7's external-task API (entrypoints/engine_rest.py): Bearer or HTTP Basic, role 外部系统."""
    task = _path("task_id", "外部任务 id（fetchAndLock 返回的 id）")
    topic = _object({"topicName": _TEXT, "lockDuration": {"type": "integer", "description": "锁定时长（毫秒）"},
                     "variables": {"type": "array", "items": _TEXT, "nullable": True,
                                   "description": "要取的变量名；不填即全部案件数据（applicant：申请人信息，须点名）"},
                     "businessKey": _TEXT, "processDefinitionKey": _TEXT,
                     "processDefinitionKeyIn": {"type": "array", "items": _TEXT},
                     "processVariables": {"type": "object", "description": (
                         "只取案件持有这些变量值的任务：变量名 -> 文字、数字或 true/false")}},
                    ("topicName", "lockDuration"))
    fetch = _object({"workerId": _WORKER, "maxTasks": _INT, "usePriority": _BOOL,
                     "asyncResponseTimeout": {"type": "integer", "description": "长轮询：无任务时最多等待的毫秒数"},
                     "topics": {"type": "array", "items": topic}, "sorting": {"type": "array", "items": _ANY}},
                    ("workerId", "maxTasks", "topics"))
    with_variables = _object({"workerId": _WORKER, "variables": _TYPED, "localVariables": _TYPED}, ("workerId",))
    failure = _object({"workerId": _WORKER, "errorMessage": _TEXT, "errorDetails": _TEXT,
                       "retries": {"type": "integer", "description": "还可重试的次数；0 即案件转为故障待处理"},
                       "retryTimeout": {"type": "integer", "description": "多少毫秒后才可再次获取"}},
                      ("workerId", "retries"))
    bpmn_error = _object({"workerId": _WORKER, "errorCode": _TEXT, "errorMessage": _TEXT, "variables": _TYPED},
                         ("workerId", "errorCode"))
    base = "/engine-rest/external-task"
    paths = {
        f"{base}/fetchAndLock": {"post": _operation(
            "获取并锁定外部任务（Camunda 7 fetchAndLock，支持长轮询）", {"200": _json(_array("LockedExternalTask"))},
            401, 403, 429, body=fetch)},
        f"{base}/{{task_id}}/complete": {"post": _operation(
            "完成外部任务：变量并入案件数据，案件继续办理", _DONE, 401, 403, 404, 409, body=with_variables,
            params=[task])},
        f"{base}/{{task_id}}/failure": {"post": _operation(
            "报告外部任务失败：retries 为 0 时案件转为故障待处理", _DONE, 401, 403, 404, 409, body=failure,
            params=[task])},
        f"{base}/{{task_id}}/bpmnError": {"post": _operation(
            "报告 BPMN 错误：由任务上捕获该错误码的错误边界事件接续，没有则转为故障待处理", _DONE, 401, 403, 404, 409,
            body=bpmn_error, params=[task])},
        f"{base}/{{task_id}}/extendLock": {"post": _operation(
            "延长锁定：自现在起 newDuration 毫秒", _DONE, 401, 403, 404, 409,
            body=_object({"workerId": _WORKER, "newDuration": _INT}, ("workerId", "newDuration")), params=[task])},
        f"{base}/{{task_id}}/lock": {"post": _operation(
            "按 id 锁定外部任务", _DONE, 401, 403, 404, 409,
            body=_object({"workerId": _WORKER, "lockDuration": _INT}, ("workerId", "lockDuration")), params=[task])},
        f"{base}/{{task_id}}/unlock": {"post": _operation(
            "解除锁定：任何工作者可立即再获取", _DONE, 401, 403, 404, params=[task])},
    }
    paths.update(_engine_rest_user_task_paths())
    for path in paths.values():
        for operation in path.values():
            operation["security"] = [{"bearer": []}, {"basic": []}]
    return paths


SCHEMAS["CamundaTask"] = _object({
    "id": _TEXT, "name": _TEXT, "assignee": _OPTIONAL, "owner": _OPTIONAL, "created": _TEXT, "due": _OPTIONAL,
    "followUp": _OPTIONAL, "lastUpdated": _OPTIONAL, "delegationState": _OPTIONAL, "description": _OPTIONAL,
    "executionId": _TEXT, "parentTaskId": _OPTIONAL, "priority": _INT, "processDefinitionId": _DEFINITION,
    "processInstanceId": {"type": "string", "description": "办件编号"},
    "taskDefinitionKey": {"type": "string", "description": "用户任务的元素 id"}, "caseExecutionId": _OPTIONAL,
    "caseInstanceId": _OPTIONAL, "caseDefinitionId": _OPTIONAL, "suspended": _BOOL, "formKey": _OPTIONAL,
    "camundaFormRef": _OPTIONAL, "tenantId": _OPTIONAL})
SCHEMAS["CamundaProcessInstance"] = _object({
    "links": {"type": "array", "items": _object({"method": _TEXT, "href": _TEXT, "rel": _TEXT})},
    "id": {"type": "string", "description": "办件编号"}, "definitionId": _DEFINITION, "businessKey": _OPTIONAL,
    "caseInstanceId": _OPTIONAL, "ended": _BOOL, "suspended": _BOOL, "tenantId": _OPTIONAL,
    "variables": _TYPED})
SCHEMAS["CamundaProcessDefinition"] = _object({
    "id": _DEFINITION, "key": _TEXT, "category": _OPTIONAL, "description": _OPTIONAL, "name": _TEXT,
    "version": _INT, "resource": {"type": "string", "description": "BPMN 文件名"}, "deploymentId": _OPTIONAL,
    "diagram": _OPTIONAL, "suspended": _BOOL, "tenantId": {"type": "string", "nullable": True,
                                                            "description": "机构代码；全国通用版本为 null"},
    "versionTag": _OPTIONAL, "historyTimeToLive": {"type": "integer", "nullable": True},
    "startableInTasklist": _BOOL})


def _engine_rest_user_task_paths() -> dict:
    """Camunda 7's user-task and process-instance API: the same use cases, roles and rules as /api."""
    task = _path("task_id", "任务 id")
    names = _query("variableNames", "只取这些变量（逗号分隔）")
    query = [_query("processInstanceId", "办件编号"), _query("taskDefinitionKey", "用户任务的元素 id"),
             _query("assignee", "认领人"), _query("candidateGroup", "岗位代码（本人岗位之一）"),
             _query("firstResult", "跳过的条数", _INT), _query("maxResults", f"最多条数（1–{MAX_PAGE}）", _INT)]
    return {
        "/engine-rest/task": {"get": _operation(
            "本人待办（Camunda 7 GET /task）：本大厅、本人岗位的未办任务", {"200": _json(_array("CamundaTask"))},
            401, 403, 422, params=query)},
        "/engine-rest/task/{task_id}/complete": {"post": _operation(
            "办理用户任务（Camunda 7）：variables 中本步骤表单的字段按表单校验，materials、opinion 等与 /api 相同，"
            "其余为流程变量；规则与 POST /api/tasks/{task_id}/complete 相同",
            {**_DONE, "200": _json(_TYPED, "withVariablesInReturn 为 true 时：办理后的案件变量")},
            401, 403, 404, 409, 422, body=_object({"variables": _TYPED, "withVariablesInReturn": _BOOL}),
            params=[task])},
        "/engine-rest/task/{task_id}/form-variables": {"get": _operation(
            "任务表单变量：各字段在案件中的值，或其默认值（defaultValue 已求值）", {"200": _json(_TYPED)},
            401, 403, 404, params=[task, names])},
        "/engine-rest/process-definition/key/{process_key}/start": {"post": _operation(
            "立案（Camunda 7 start）：本机构由该流程办理的事项，申请人在变量 applicant（Json）中，申请表字段与流程"
            "变量同 POST /api/cases；businessKey 存为变量 businessKey", {"200": _json(_ref("CamundaProcessInstance"))},
            401, 403, 404, 422, body=_object({"businessKey": _TEXT, "variables": _TYPED,
                                              "withVariablesInReturn": _BOOL}),
            params=[_path("process_key", "流程标识，如 item_002036006001")])},
        "/engine-rest/process-definition/{definition}": {"get": _operation(
            "流程定义（Camunda 7）：任务和案件的 processDefinitionId 所指的版本（全国通用或本机构的）",
            {"200": _json(_ref("CamundaProcessDefinition"))}, 401, 404,
            params=[_path("definition", "流程定义 id：流程标识:版本号:编号")])},
        "/engine-rest/process-instance/{number}/variables": {"get": _operation(
            "案件变量（Camunda 7）：案件数据，类型化；个人信息按本人岗位遮蔽", {"200": _json(_TYPED)}, 401, 403, 404,
            params=[_path("number", "办件编号"), names])},
    }


def _as_openapi_31(node):
    """The tables above say `nullable: true` (short to write); OpenAPI 3.1 says null is one more JSON type, and a
    nullable reference is one of the referenced schema or null."""
    if isinstance(node, list):
        return [_as_openapi_31(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _as_openapi_31(value) for key, value in node.items()}
    if node.get("nullable") is True:
        del node["nullable"]
        if "type" not in node:
            return {"anyOf": [node, {"type": "null"}]}
        node["type"] = [node["type"], "null"]
        if "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
    return node


SCHEMAS.update({
    "OutboxEntry": _object({
        "id": _INT, "kind": {"type": "string", "enum": list(OUTBOX_KINDS)},
        "kind_name": _TEXT, "case_number": {"type": "string", "nullable": True, "description": "所涉办件"},
        "attempts": _INT, "last_error": _OPTIONAL, "created_at": _MOMENT,
        "next_attempt_at": {**_MOMENT, "description": "下次自动重试的时间；null 且未完成表示已停止自动重试，待人工重试"},
        "done_at": _MOMENT}),
    "Incident": _object({
        "ref": {"type": "string", "description": "故障编号：case:<办件编号>、message:<消息id>、outbox:<后台任务id>"},
        "kind": {"type": "string", "enum": ["case", "message", "outbox"]}, "kind_name": _TEXT,
        "case_number": {"type": "string", "nullable": True}, "item_code": {"type": "string", "nullable": True},
        "item_name": {"type": "string", "nullable": True}, "hall_code": {"type": "string", "nullable": True},
        "handler": {"type": "string", "nullable": True, "description": "出错的处理程序或外部任务主题、消息名、后台任务种类"},
        "task_name": {"type": "string", "nullable": True}, "since": _MOMENT, "error": _OPTIONAL,
        "detail": {"type": "object", "nullable": True}}),
    "RetryOutcome": _object({"ref": _TEXT, "retried": {"type": "boolean"}, "error": _OPTIONAL}),
})


def _incident_paths() -> dict:
    filters = [_query("item_code", "事项编码"), _query("hall_code", "大厅"), _query("handler", "处理程序或主题"),
               _query("since", "自此时刻（ISO 8601）或日期起出现的")]
    return {
        "/api/incidents": {"get": _operation(
            "故障：办件步骤出错（服务任务、重试用尽的外部任务）、消息送达失败、后台任务失败；最早的在前。"
            "系统管理员看本机构，科室负责人看本大厅", {"200": _json(_array("Incident"))}, 401, 403, params=filters)},
        "/api/incidents/{ref}": {"get": _operation(
            "一个未处理故障的详情", {"200": _json(_ref("Incident"))}, 401, 403, 404,
            params=[_path("ref", "故障编号")])},
        "/api/incidents/retry": {"post": _operation(
            "重试一个或所选故障，每个一次、各自一个事务；返回每个的结果（仍失败的带新的错误）",
            {"200": _json({"type": "array", "items": _ref("RetryOutcome")})}, 401, 403,
            body=_object({"refs": {"type": "array", "items": {"type": "string"}}, "reason": _TEXT},
                         ("refs", "reason")))},
    }


SCHEMAS.update({
    "MigrationPlan": _object({
        "id": _INT, "process_key": _TEXT, "source_version_id": _INT, "target_version_id": _INT,
        "mapping": {"type": "object", "additionalProperties": _TEXT, "description": "源版本元素id -> 目标版本元素id"},
        "reason": _TEXT, "requested_by": _TEXT, "requested_at": _MOMENT, "approved_by": _OPTIONAL,
        "approved_at": _MOMENT, "approved_hall": {**_OPTIONAL, "description": "批准人所在大厅：计划只迁移该大厅的案件；"
                                                                             "空：系统管理员的计划，各大厅"},
        "status": {"type": "string", "enum": ["pending", "approved"]}, "status_name": _TEXT}),
    "MigrationPlanDetails": {"allOf": [_ref("MigrationPlan"), _object({
        "source_version": _INT, "target_version": _INT,
        "cases": {"type": "array", "items": _object({
            "number": _TEXT, "stage": _TEXT, "at": {"type": "array", "items": _TEXT}, "movable": _BOOL,
            "refusal": {**_OPTIONAL, "description": "不能迁移的原因"}})},
        "run": {"allOf": [_ref("MigrationRun")], "nullable": True, "description": "最近一次执行全部（无则为空）"}})]},
    "MigrationOutcome": _object({"number": _TEXT, "migrated": _BOOL, "error": _OPTIONAL}),
    "MigrationRun": _object({
        "id": _INT, "plan_id": _INT, "started_by": _TEXT, "started_at": _MOMENT,
        "finished_at": {**_MOMENT, "description": "执行结束的时刻；空：仍在后台执行"}, "running": _BOOL,
        "total": {"type": "integer", "description": "开始时计划覆盖的在办案件数"},
        "migrated": {"type": "integer", "description": "已迁移的"}, "failed": {"type": "integer", "description": "未迁移的"},
        "left": {"type": "integer", "description": "尚未处理的（结束后：期间已办结或被另行迁移的）"},
        "failures": {"type": "array", "items": _ref("MigrationOutcome"),
                     "description": "未迁移的办件及原因，按处理顺序（limit、offset 分页）"}}),
    "TokenMoveSource": _object({"element_id": _TEXT, "name": _TEXT, "targets": {"type": "array", "items": _object({
        "element_id": _TEXT, "name": _TEXT, "stage": _OPTIONAL,
        "effects": {"type": "array", "items": _TEXT, "description": "跳转会越过（或重做）的对外办理步骤：须填补偿说明"}})}}),
})


def _migration_paths() -> dict:
    plan = {**_path("plan_id", "迁移计划 id"), "schema": _INT}
    number = _path("number", "办件编号")
    return {
        "/api/migration-plans": {
            "get": _operation("本机构的迁移计划，最新的在前（流程设计员、科室负责人、系统管理员）",
                              {"200": _json(_array("MigrationPlan"))}, 401, 403, params=_PAGING),
            "post": _operation(
                "提出迁移计划：把某流程源版本上的在办案件迁到目标版本（流程设计员，须科室负责人批准；系统管理员"
                "提出即批准）", {"201": _json(_ref("MigrationPlan"))}, 401, 403, 422, body=_object({
                    "process_key": _TEXT, "source_version": _INT, "target_version": _INT,
                    "mapping": {"type": "object", "additionalProperties": _TEXT,
                                "description": "目标版本没有的元素的映射：源版本元素id -> 目标版本元素id"},
                    "reason": {"type": "string", "description": "迁移原因（必填，≤ 500 字）"}},
                    ("process_key", "source_version", "target_version", "reason")))},
        "/api/migration-plans/{plan_id}": {"get": _operation(
            "迁移计划及源版本上的在办案件（最早的在前，limit、offset 分页）：能否迁移、不能的原因",
            {"200": _json(_ref("MigrationPlanDetails"))}, 401, 403, 404, params=[plan, *_PAGING])},
        "/api/migration-plans/{plan_id}/approve": {"post": _operation(
            "批准迁移计划（科室负责人，不能批准本人提出的）", {"200": _json(_ref("MigrationPlan"))}, 401, 403, 404, 409,
            params=[plan])},
        "/api/migration-plans/{plan_id}/run": {"post": _operation(
            "执行已批准的迁移计划：所列办件（最多 1000 件）各自一个事务迁移，返回每件的结果，不能迁移或失败的带原因、"
            "未作改动；不填 cases 即全部：记下一次执行，由调度进程在后台分批迁移，立即返回 202 及其地址（Location），"
            "同一计划同时只能有一次执行（否则 409）", {
                "200": _json({"type": "array", "items": _ref("MigrationOutcome")}),
                "202": {**_json(_ref("MigrationRun")), "headers": {"Location": {
                    "schema": _TEXT, "description": "执行进度：/api/migration-plans/{plan_id}/runs/{run_id}"}}}},
            401, 403, 404, 409, 422, params=[plan], body=_object({"cases": {"type": "array", "items": _TEXT}}))},
        "/api/migration-plans/{plan_id}/runs/{run_id}": {"get": _operation(
            "执行全部的进度：已迁移、未迁移（及原因，limit、offset 分页）、共计", {"200": _json(_ref("MigrationRun"))},
            401, 403, 404, params=[plan, {**_path("run_id", "执行 id"), "schema": _INT}, *_PAGING])},
        "/api/cases/{number}/token-moves": {
            "get": _operation("跳转：案件当前所在的环节及可跳转到的环节（科室负责人、系统管理员）",
                              {"200": _json(_array("TokenMoveSource"))}, 401, 403, 404, params=[number]),
            "post": _operation(
                "跳转：取消当前环节、启动同一版本的另一用户任务或环节起点；时限随之重算；越过对外办理的步骤须填"
                "compensation_note（否则 422）", {"200": _json(_ref("Progress"))}, 401, 403, 404, 409, 422,
                params=[number], body=_object({
                    "from": {"type": "string", "description": "当前所在的元素id"},
                    "to": {"type": "string", "description": "目标元素id"},
                    "reason": {"type": "string", "description": "跳转原因（必填，≤ 500 字）"},
                    "compensation_note": {"type": "string", "description": "补偿说明（越过对外办理步骤时必填）"}},
                    ("from", "to", "reason")))},
    }


def _outbox_paths() -> dict:
    entry = {**_path("entry_id", "后台任务 id"), "schema": _INT}
    return {
        "/api/outbox/failures": {"get": _operation(
            "后台任务（文书PDF生成、日历调整后重算时限）中最近一次执行失败的，最新的在前：系统管理员看全部，"
            "科室负责人看本大厅办件的", {"200": _json(_array("OutboxEntry"))}, 401, 403, params=_PAGING)},
        "/api/outbox/{entry_id}/retry": {"post": _operation(
            "立即重试一个未完成的后台任务；返回重试后的状态（仍失败时带 last_error）",
            {"200": _json(_ref("OutboxEntry"))}, 401, 403, 404, 409, params=[entry])},
    }


@lru_cache(maxsize=1)
def openapi_document() -> dict:
    return _as_openapi_31({
        "openapi": "3.1.0",
        "info": {"title": "医保经办业务流程平台 API", "version": "1.0",
                 "description": "事项目录、流程部署、办件与任务。除目录查询外，需先 POST /api/login 取得令牌，"
                                "以 Authorization: Bearer <token> 调用。错误均为 Error 格式；每个响应带 X-Request-Id"
                                "（请求可自带），日志按此编号查询。文本参数不得含控制字符，路径中的数字 id 超出范围即 404。"},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                           "basic": {"type": "http", "scheme": "basic"}}, "schemas": SCHEMAS},
        "paths": {**_paths(), **_engine_rest_paths(), **_outbox_paths(), **_incident_paths(),
                  **_migration_paths()},
    })
