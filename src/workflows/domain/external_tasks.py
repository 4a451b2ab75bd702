"""External tasks: service tasks done by an agency's own systems (workers) through the Camunda 7 external-task API,
so that Camunda's worker clients (PyPI camunda-external-task-client-python3, npm camunda-external-task-client-js)
work here unchanged.

A worker fetches and locks tasks of its topics for a while (lockDuration), then completes them, reports a failure
(with the retries left: at 0 the case gets an incident, 故障待处理) or a BPMN error, extends or gives up its lock.
A lock that runs out frees the task for any worker. Variables travel in Camunda's typed form
({"amount": {"value": 12, "type": "Integer"}}). Pure: no database, no clock other than a `now` passed in.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from workflows.domain.errors import Conflict, InvalidInput
from workflows.domain.model import Record

MAX_TASKS = 100  # per fetch
MAX_LOCK = timedelta(days=30)
MAX_WAIT_MS = 1_800_000  # Camunda's own limit for asyncResponseTimeout
MAX_VARIABLES = 200
MAX_TEXT = 4000  # errorMessage; errorDetails may be longer (a stack trace)
MAX_DETAILS = 100_000
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")  # a variable the diagram's expressions can read
_WORKER = re.compile(r"[^\x00-\x1f]{1,200}")
INT_RANGE = (-(2 ** 31), 2 ** 31 - 1)
LONG_RANGE = (-(2 ** 63), 2 ** 63 - 1)


class ExternalTask(Record):
    """An external service task a case waits on, with its lock; the row exists while the workflow's task waits."""

    id: str  # the workflow's task id
    case_id: int
    case_number: str
    agency_code: str
    process_key: str
    process_version_id: int
    activity_id: str
    name: str  # the task's name in the diagram
    topic: str
    priority: int
    worker_id: str | None
    lock_expires_at: datetime | None
    retries: int | None  # None until a worker reports a failure, as in Camunda
    retry_at: datetime | None  # a failure's retryTimeout: not fetchable before
    error_message: str | None
    error_details: str | None
    created_at: datetime

    def is_locked(self, now: datetime) -> bool:
        return self.lock_expires_at is not None and self.lock_expires_at > now

    def is_fetchable(self, now: datetime) -> bool:
        return not self.is_locked(now) and (self.retry_at is None or self.retry_at <= now)

    def lock(self, worker_id: str, duration: timedelta, now: datetime) -> None:
        self.worker_id, self.lock_expires_at = worker_id, now + duration

    def unlock(self) -> None:
        self.worker_id, self.lock_expires_at = None, None

    def require_worker(self, worker_id: str, now: datetime, what: str) -> None:
        """Only the worker holding the task may act on it; once its lock ran out another worker may have it."""
        if self.worker_id is None:
            raise Conflict(f"外部任务“{self.name}”未被锁定，不能{what}：请先获取并锁定（fetchAndLock）")
        if self.worker_id != worker_id:
            raise Conflict(f"外部任务“{self.name}”已由工作者“{self.worker_id}”锁定，工作者“{worker_id}”不能{what}")
        if what == "延长锁定" and not self.is_locked(now):
            raise Conflict(f"外部任务“{self.name}”的锁定已过期，不能延长")


@dataclass(frozen=True)
class TopicRequest:
    name: str
    lock: timedelta
    variables: tuple[str, ...] | None  # None: all
    business_key: str | None = None
    process_keys: tuple[str, ...] | None = None
    process_variables: tuple[tuple[str, str | int | float | bool], ...] = ()  # only cases holding these values


@dataclass(frozen=True)
class FetchRequest:
    worker_id: str
    max_tasks: int
    use_priority: bool
    wait_ms: int
    topics: tuple[TopicRequest, ...]
    newest_first: bool = False


def worker_of(body: dict) -> str:
    worker = body.get("workerId")
    if not isinstance(worker, str) or not _WORKER.fullmatch(worker):
        raise InvalidInput("workerId 有误", {"workerId": "应为 1–200 个字符的工作者标识"})
    return worker


def _whole(body: dict, name: str, low: int, high: int, default: int | None = None) -> int:
    value = body.get(name, default)
    if value is None and default is None:
        raise InvalidInput(f"{name} 有误", {name: "必填"})
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{name} 有误", {name: f"应为 {low}–{high} 的整数"})
    return value


def fetch_request(body: dict) -> FetchRequest:
    """A fetchAndLock request as Camunda takes it; what we do not do (variable filters) is refused by name."""
    worker = worker_of(body)
    max_tasks = _whole(body, "maxTasks", 0, MAX_TASKS)
    wait = body.get("asyncResponseTimeout")
    wait = 0 if wait is None else _whole(body, "asyncResponseTimeout", 0, MAX_WAIT_MS)
    topics = body.get("topics")
    if not isinstance(topics, list) or not topics or len(topics) > 50:
        raise InvalidInput("topics 有误", {"topics": "应为 1–50 个主题的列表"})
    return FetchRequest(worker, max_tasks, body.get("usePriority") is True, wait,
                        tuple(_topic(topic, index) for index, topic in enumerate(topics)), _newest_first(body))


def _topic(topic, index: int) -> TopicRequest:
    where = f"topics[{index}]"
    if not isinstance(topic, dict):
        raise InvalidInput("topics 有误", {where: "应为对象：topicName、lockDuration …"})
    name = topic.get("topicName")
    if not isinstance(name, str) or not 0 < len(name) <= 100:
        raise InvalidInput("topicName 有误", {f"{where}.topicName": "必填，最长 100 个字符"})
    lock = topic.get("lockDuration")
    if isinstance(lock, bool) or not isinstance(lock, int) or not 0 < lock <= MAX_LOCK / timedelta(milliseconds=1):
        raise InvalidInput("lockDuration 有误", {f"{where}.lockDuration": "应为正整数（毫秒），最长 30 天"})
    variables = topic.get("variables")
    if variables is not None and (not isinstance(variables, list)
                                  or not all(isinstance(v, str) for v in variables)):
        raise InvalidInput("variables 有误", {f"{where}.variables": "应为变量名列表"})
    if topic.get("localVariables") is True:
        raise InvalidInput("不支持局部变量", {f"{where}.localVariables": "案件只有一层变量，请留空"})
    keys = topic.get("processDefinitionKeyIn") or ([topic["processDefinitionKey"]]
                                                   if topic.get("processDefinitionKey") else None)
    business_key = topic.get("businessKey")
    if business_key is not None and not isinstance(business_key, str):
        raise InvalidInput("businessKey 有误", {f"{where}.businessKey": "应为案件编号"})
    if keys is not None and not (isinstance(keys, list) and all(isinstance(key, str) for key in keys)):
        raise InvalidInput("processDefinitionKeyIn 有误", {f"{where}.processDefinitionKeyIn": "应为流程标识列表"})
    return TopicRequest(name, timedelta(milliseconds=lock), tuple(variables) if variables is not None else None,
                        business_key, tuple(keys) if keys is not None else None,
                        _process_variables(topic.get("processVariables"), f"{where}.processVariables"))


def _process_variables(given, where: str) -> tuple[tuple[str, str | int | float | bool], ...]:
    """Camunda's `processVariables: {"k": "v"}`: only tasks whose case holds each value. Values are compared as
    JSON scalars (a text, a number, true/false); a list, an object or null selects nothing Camunda would either."""
    if given is None:
        return ()
    if not isinstance(given, dict) or len(given) > MAX_VARIABLES:
        raise InvalidInput("processVariables 有误", {where: f"应为对象：变量名 -> 值，最多 {MAX_VARIABLES} 个"})
    for name, value in given.items():
        if not _NAME.fullmatch(name) or name.startswith("_"):
            raise InvalidInput("processVariables 有误", {f"{where}.{name}": "变量名只能由字母、数字和下划线组成，不以数字或下划线开头"})
        if value is None or isinstance(value, (dict, list)):
            raise InvalidInput("processVariables 有误", {f"{where}.{name}": "只能按文字、数字或 true/false 筛选"})
    return tuple(given.items())


def _newest_first(body: dict) -> bool:
    sorting = body.get("sorting") or []
    if not isinstance(sorting, list) or not all(
            isinstance(s, dict) and s.get("sortBy") == "createTime" and s.get("sortOrder") in ("asc", "desc")
            for s in sorting):
        raise InvalidInput("sorting 有误", {"sorting": "只支持 [{\"sortBy\": \"createTime\", \"sortOrder\": \"asc|desc\"}]"})
    return bool(sorting) and sorting[0]["sortOrder"] == "desc"


def duration_of(body: dict, name: str, required: bool = True) -> timedelta:
    """A duration in milliseconds (newDuration, retryTimeout)."""
    value = body.get(name)
    if value is None and not required:
        return timedelta(0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_LOCK / timedelta(milliseconds=1):
        raise InvalidInput(f"{name} 有误", {name: "应为非负整数（毫秒），最长 30 天"})
    return timedelta(milliseconds=value)


def text_of(body: dict, name: str, limit: int, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidInput(f"{name} 有误", {name: f"应为 1–{limit} 个字符的文字"})
    return value


# --- variables in Camunda's typed form --------------------------------------------------------------------------

def from_typed(variables, field: str = "variables") -> dict:
    """{"x": {"value": 1, "type": "Integer"}} -> {"x": 1}; the type may be left out (the clients' default), then
    the JSON value is taken as it is. Names must be usable in the diagram's expressions."""
    if variables is None:
        return {}
    if not isinstance(variables, dict) or len(variables) > MAX_VARIABLES:
        raise InvalidInput("变量有误", {field: f"应为对象，最多 {MAX_VARIABLES} 个变量"})
    values = {}
    for name, typed in variables.items():
        where = f"{field}.{name}"
        if not _NAME.fullmatch(name) or name.startswith("_"):
            raise InvalidInput("变量名有误", {where: "变量名只能由字母、数字和下划线组成，不以数字或下划线开头，最长 64 个字符"})
        if not isinstance(typed, dict) or "value" not in typed:
            raise InvalidInput("变量有误", {where: "应为 {\"value\": …, \"type\": …}"})
        values[name] = _value_of(typed.get("type"), typed["value"], where)
    return values


def _value_of(kind, value, where: str):
    kind = (kind or _kind_of(value) or "").lower()
    checks = {"string": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool),
              "integer": lambda v: _is_int(v, INT_RANGE), "short": lambda v: _is_int(v, (-32768, 32767)),
              "long": lambda v: _is_int(v, LONG_RANGE),
              "double": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v == v
              and abs(v) != float("inf"), "null": lambda v: v is None}
    if kind == "json":
        return _json_value(value, where)
    if kind == "date":
        return _date_value(value, where)
    if kind not in checks:
        raise InvalidInput("变量类型不受支持", {where: f"类型“{kind}”不受支持，可用：String、Boolean、Integer、Short、"
                                                     "Long、Double、Date、Json、Null"})
    if value is not None and not checks[kind](value) or value is None and kind != "null":
        raise InvalidInput("变量值与类型不符", {where: f"值与类型 {kind} 不符"})
    return value


def _is_int(value, bounds) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]


def _kind_of(value) -> str | None:
    """The type of an untyped value, as Camunda infers it from JSON."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer" if _is_int(value, INT_RANGE) else "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    return "json"  # an object or a list sent as it is


def _json_value(value, where: str):
    if isinstance(value, (dict, list)):
        return value
    try:
        parsed = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if not isinstance(parsed, (dict, list)):
        raise InvalidInput("变量值与类型不符", {where: "Json 变量的值应为 JSON 对象或数组（文字形式）"})
    return parsed


def _date_value(value, where: str) -> str:
    """Kept as the ISO text the worker sent (case data is JSON)."""
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value else date.fromisoformat(value)
    except (AttributeError, ValueError):
        raise InvalidInput("变量值与类型不符", {where: "Date 变量的值应为 ISO 8601 时间，如 2026-12-01T09:30:00.000+0800"}) \
            from None
    return value


def to_typed(data: dict, names: tuple[str, ...] | None) -> dict:
    """The case data in Camunda's typed form: every variable, or those named (an unknown name is left out)."""
    chosen = data if names is None else {name: data[name] for name in names if name in data}
    return {name: _typed(value) for name, value in chosen.items() if not name.startswith("_")}


def _typed(value) -> dict:
    kind = _kind_of(value)
    if kind == "json":
        return {"type": "Json", "value": json.dumps(value, ensure_ascii=False), "valueInfo": {}}
    return {"type": kind.capitalize(), "value": value, "valueInfo": {}}
