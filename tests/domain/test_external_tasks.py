"""Camunda's typed variables and the lock rules of external tasks (domain/external_tasks.py), without a server."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from workflows.domain.errors import Conflict, InvalidInput
from workflows.domain.external_tasks import ExternalTask, fetch_request, from_typed, to_typed

NOW = datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc)


def test_typed_variables_become_case_data_and_come_back_typed():
    data = from_typed({"name": {"value": "张伟", "type": "String"}, "count": {"value": 3, "type": "Integer"},
                       "big": {"value": 2 ** 40, "type": "Long"}, "rate": {"value": 0.5, "type": "Double"},
                       "ok": {"value": True}, "none": {"value": None, "type": "Null"},
                       "record": {"value": '{"a": [1, 2]}', "type": "Json"},
                       "when": {"value": "2026-12-01T09:30:00.000+0800", "type": "Date"}})

    assert data == {"name": "张伟", "count": 3, "big": 2 ** 40, "rate": 0.5, "ok": True, "none": None,
                    "record": {"a": [1, 2]}, "when": "2026-12-01T09:30:00.000+0800"}
    typed = to_typed(data, None)
    assert typed["count"] == {"type": "Integer", "value": 3, "valueInfo": {}}
    assert typed["big"]["type"] == "Long" and typed["ok"]["type"] == "Boolean" and typed["none"]["type"] == "Null"
    assert typed["record"] == {"type": "Json", "value": '{"a": [1, 2]}', "valueInfo": {}}
    assert list(to_typed(data, ("name", "absent"))) == ["name"]


@pytest.mark.parametrize("variables", [
    {"x": {"value": 2 ** 31, "type": "Integer"}}, {"x": {"value": True, "type": "Integer"}},
    {"x": {"value": float("nan"), "type": "Double"}}, {"x": {"value": None, "type": "String"}},
    {"x": {"value": "yesterday", "type": "Date"}}, {"x": {"value": "[1", "type": "Json"}},
    {"x": {"value": "rO0AB", "type": "Object"}}, {"_x": {"value": 1}}, {"x-y": {"value": 1}}, {"x": "1"},
])
def test_a_variable_that_is_not_what_it_says_is_refused_by_name(variables):
    with pytest.raises(InvalidInput) as refused:
        from_typed(variables)

    assert list(refused.value.field_errors) == [f"variables.{next(iter(variables))}"]


def test_a_lock_holds_until_it_runs_out_and_only_its_worker_acts():
    task = ExternalTask(id="t", name="参保核验", worker_id=None, lock_expires_at=None, retry_at=None)
    with pytest.raises(Conflict, match="未被锁定"):
        task.require_worker("w1", NOW, "完成")

    task.lock("w1", timedelta(minutes=1), NOW)

    assert task.is_locked(NOW) and not task.is_fetchable(NOW)
    task.require_worker("w1", NOW, "完成")
    with pytest.raises(Conflict, match="已由工作者“w1”锁定"):
        task.require_worker("w2", NOW, "完成")
    later = NOW + timedelta(minutes=1)
    assert task.is_fetchable(later)
    with pytest.raises(Conflict, match="锁定已过期"):
        task.require_worker("w1", later, "延长锁定")


def test_a_fetch_request_reads_as_camunda_writes_it():
    request = fetch_request({"workerId": "w1", "maxTasks": 2, "usePriority": True, "asyncResponseTimeout": 500,
                             "topics": [{"topicName": "a", "lockDuration": 1000, "variables": ["x"],
                                         "processDefinitionKeyIn": ["item_1"], "businessKey": "N-1"}],
                             "sorting": [{"sortBy": "createTime", "sortOrder": "desc"}]})

    assert (request.worker_id, request.max_tasks, request.use_priority, request.wait_ms) == ("w1", 2, True, 500)
    [topic] = request.topics
    assert (topic.lock, topic.variables, topic.process_keys, topic.business_key) == (
        timedelta(seconds=1), ("x",), ("item_1",), "N-1")
    assert request.newest_first
