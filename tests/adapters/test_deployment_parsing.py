"""Parsing a deployment of several files: what each process carries (the files it calls, its correlation
properties), and the refusals at deploy of what would fail later (a call into nothing, code in a message)."""
from __future__ import annotations

import pytest

from support.paths import ROOT
from workflows.adapters.bpmn_parsing import parse_deployment, parse_process
from workflows.adapters.engine import Engine
from workflows.domain.errors import InvalidProcess

FIXTURES = ROOT / "tests" / "fixtures" / "conformance"


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_each_process_carries_the_other_files_it_calls_and_the_library_checks_no_correlation():
    [definition] = parse_deployment({"main.bpmn": read("deployments/main_calls_recheck.bpmn"),
                                     "recheck.bpmn": read("deployments/recheck.bpmn")})
    assert definition.key == "Process_conformance" and list(definition.called_files) == ["recheck.bpmn"]
    assert set(definition.user_tasks) == {"Task_accept", "Task_recheck"}
    again = Engine().definition(read("deployments/main_calls_recheck.bpmn").decode(), "main.bpmn",
                                called_files=definition.called_files, process_key="Process_conformance")
    assert again.checksum == definition.checksum

    receipt = parse_process(read("deployments/correlated_receipt.bpmn"))
    assert receipt.correlations == {"银行回执": (("Property_order_no", "order_no"),)}
    assert Engine().correlation(receipt, "银行回执", {"order_no": "ZF1"}) == {"Property_order_no": "ZF1"}
    assert Engine().correlation(receipt, "银行回执", [1, 2]) == {"Property_order_no": None}


def test_a_collaboration_gives_one_process_per_executable_pool_but_parse_process_wants_one():
    collaboration = read("deployments/collaboration.bpmn")
    assert [d.key for d in parse_deployment({"c.bpmn": collaboration})] == ["Process_conformance", "Process_partner"]
    assert parse_process(collaboration, process_key="Process_partner").starts_only_by_message
    with pytest.raises(InvalidProcess, match="恰好包含一个可执行的主流程"):
        parse_process(collaboration)


@pytest.mark.parametrize("file_name, change, element, reason", [
    ("deployments/correlated_receipt.bpmn",
     ("<bpmn:formalExpression>order_no", "<bpmn:formalExpression>__import__('os')"), "Property_order_no", "不允许使用以下划线开头的名字"),
    ("send_task.bpmn", ("'count': 2", "'count': ().__class__"), "Activity_middle", "不允许访问以下划线开头的属性"),
    ("send_task.bpmn", (' messageRef="Message_letter"', ""), "Activity_middle", "发送任务须用 messageRef 指定要发出的消息"),
    ("receive_task.bpmn", ('messageRef="Message_reply"', 'messageRef="Message_none"'), "Activity_middle",
     "消息 Message_none 不存在或没有名称"),
])
def test_code_in_a_message_and_a_message_task_without_its_message_are_refused_at_deploy(file_name, change, element,
                                                                                       reason):
    with pytest.raises(InvalidProcess) as refused:
        parse_process(read(file_name).replace(change[0].encode(), change[1].encode()))
    assert refused.value.element_id == element and reason in refused.value.reason


def test_a_call_into_a_process_of_no_file_and_a_process_id_used_twice_are_refused():
    with pytest.raises(InvalidProcess) as refused:
        parse_deployment({"main.bpmn": read("deployments/main_calls_recheck.bpmn")})
    assert refused.value.element_id == "Call_recheck" and refused.value.file_name == "main.bpmn"
    with pytest.raises(InvalidProcess, match="重复"):
        parse_deployment({"a.bpmn": read("deployments/recheck.bpmn"), "b.bpmn": read("deployments/recheck.bpmn")})
