"""BPMN elements as the Camunda Modeler 5 writes them (tests/fixtures/conformance/): each accepted diagram deploys
through the API and a real case is driven through it to its expected end, with no answer an HTTP 500; each
refused one is refused at deploy (422) with the element's id and name and the reason."""
from __future__ import annotations

import pytest

from support.http import error_of, json_of
from support.paths import ROOT
from support.process_driver import PERSON_ID

from api.test_api import case_of, complete, deploy, inbox, versions_of

FIXTURES = ROOT / "tests" / "fixtures" / "conformance"
ITEM = "002036002002"
PROCESS = f"item_{ITEM}"
CLERK = "clerk_210400_01"  # every task role in hall 210400-01
APPLICANT = {"name": "张伟", "id_number": PERSON_ID, "phone": "13804130001"}

# scenario -> (diagram, form values by task name, the tasks open at each round, result, history line, case data)
ACCEPTED = {
    "plain task passes through": ("plain_task.bpmn", {}, [["受理"]], "办结", None, {}),
    "manual task passes, recorded": ("manual_task.bpmn", {}, [["受理"]], "办结",
                                     "线下办理“现场核查”（手工任务，系统记录后继续）", {}),
    "python script": ("script_python.bpmn", {}, [["受理"]], "办结", None, {"subsidy": 200}),
    "parallel gateway": ("parallel_gateway.bpmn", {}, [["受理", "审核"]], "办结", None, {}),
    "inclusive gateway, both ways": ("inclusive_gateway.bpmn", {"受理": {"amount": "2000"}}, [["受理"], ["审核"]],
                                     "办结", None, {"amount": 2000}),
    "inclusive gateway, one way": ("inclusive_gateway.bpmn", {"受理": {"amount": "500"}}, [["受理"]], "办结", None,
                                   {"amount": 500}),
    "embedded sub-process": ("embedded_subprocess.bpmn", {}, [["受理"], ["复核"]], "办结", None, {}),
    "none intermediate throw event": ("none_throw_event.bpmn", {}, [["受理"]], "办结", None, {}),
}

# diagram -> (the element refused, words of the reason)
REFUSED = {
    "refused_multi_instance_parallel.bpmn": ("Activity_middle", "“会签”", "多实例任务"),
    "refused_multi_instance_sequential.bpmn": ("Activity_middle", "“逐级审核”", "多实例任务"),
    "refused_script_javascript.bpmn": ("Activity_middle", "“计算补助”", "脚本格式“javascript”不受支持"),
    "refused_send_task.bpmn": ("Activity_middle", "“发函”", "发送任务（sendTask）"),
    "refused_receive_task.bpmn": ("Activity_middle", "“等待回函”", "接收任务（receiveTask）"),
    "refused_cycle_timer.bpmn": ("Activity_middle", "“每隔片刻”", "循环定时器（timeCycle）"),
    "refused_signal_event.bpmn": ("Activity_middle", "“等待信号”", "信号中间事件不受本引擎支持"),
    "refused_event_subprocess.bpmn": ("Activity_on_message", "“补充材料”", "事件子流程"),
    "refused_transaction.bpmn": ("Activity_middle", "“拨付事务”", "事务子流程（transaction）"),
    "refused_script_external_resource.bpmn": ("Activity_middle", "“计算补助”", "不支持 camunda:resource 外部脚本"),
    "refused_condition_javascript.bpmn": ("Flow_end", "“金额较大”", "表达式语言“javascript”不受支持"),
    "refused_message_boundary.bpmn": ("Event_withdrawn", "“申请人撤回”", "消息边界事件不受本引擎支持，此处可用：定时"),
}


def diagram(file_name: str) -> bytes:
    """The fixture as the process of the item the test opens a case for."""
    return (FIXTURES / file_name).read_bytes().replace(b'"Process_conformance"', f'"{PROCESS}"'.encode())


def test_every_fixture_is_either_accepted_or_refused_here():
    assert {path.name for path in FIXTURES.glob("*.bpmn")} == \
        {file for file, *_ in ACCEPTED.values()} | set(REFUSED)


@pytest.mark.parametrize("scenario", ACCEPTED)
def test_an_accepted_diagram_deploys_and_a_case_runs_to_its_expected_end(client, auth, scenario):
    file_name, values, rounds, result, history_line, data = ACCEPTED[scenario]
    clerk = auth(CLERK)
    assert json_of(deploy(client, auth("sheji"), diagram(file_name), file_name), 201)["version"] > 1

    opened = json_of(client.post("/api/cases", headers=clerk,
                                 json={"item_code": ITEM, "applicant": APPLICANT, "data": {}}), 201)
    number = opened["number"]
    for expected in rounds:
        tasks = [task for task in inbox(client, clerk) if task["case_number"] == number]
        assert sorted(task["name"] for task in tasks) == sorted(expected)
        for task in tasks:
            json_of(complete(client, clerk, task["id"], **values.get(task["name"], {})))

    case = case_of(client, clerk, number)
    assert (case["status"], case["result"]) == ("closed", result)
    assert [task for task in inbox(client, clerk) if task["case_number"] == number] == []
    assert data.items() <= case["data"].items()
    if history_line:
        assert history_line in [entry["message"] for entry in case["history"]]


@pytest.mark.parametrize("file_name", REFUSED)
def test_a_diagram_with_an_element_the_engine_cannot_run_is_refused_naming_it(client, auth, file_name):
    element_id, element_name, reason = REFUSED[file_name]
    designer = auth("sheji")

    error = error_of(deploy(client, designer, diagram(file_name), file_name), 422, "invalid_process")

    assert error["element_id"] == element_id
    assert element_name in error["message"] and reason in error["message"]
    assert versions_of(client, designer, PROCESS) == [1]
