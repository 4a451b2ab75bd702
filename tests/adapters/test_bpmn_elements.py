"""The refusals of bpmn_elements.py that the conformance diagrams do not show one by one: each names the element
and says why, and the elements the engine runs pass."""
from __future__ import annotations

import pytest

from workflows.adapters.bpmn_parsing import parse_process
from workflows.domain.errors import InvalidProcess

from support.paths import ROOT

CONFORMANCE = ROOT / "tests" / "fixtures" / "conformance"
LINEAR = (CONFORMANCE / "manual_task.bpmn").read_text(encoding="utf-8")  # 受理, then Activity_middle “现场核查”
MIDDLE = ('<bpmn:manualTask id="Activity_middle" name="现场核查">', "</bpmn:manualTask>")


def _middle(tag: str, attributes: str = "", body: str = "") -> bytes:
    """The linear diagram with its middle element replaced."""
    xml = LINEAR.replace(MIDDLE[0], f'<bpmn:{tag} id="Activity_middle" name="现场核查"{attributes}>')
    xml = xml.replace(MIDDLE[1], f"{body}</bpmn:{tag}>")
    return xml.encode("utf-8")


REFUSALS = {
    "loop task": (_middle("userTask", ' camunda:candidateGroups="reviewer"',
                          "<bpmn:standardLoopCharacteristics />"), "循环任务（standardLoopCharacteristics）"),
    "ad-hoc sub-process": (_middle("adHocSubProcess"), "自由子流程（adHocSubProcess）"),
    "complex gateway": (_middle("complexGateway"), "复杂网关（complexGateway）"),
    "escalation throw event": (_middle("intermediateThrowEvent", "", '<bpmn:escalationEventDefinition />'),
                            "升级中间事件不受本引擎支持，此处可用：空事件、补偿、消息、信号"),
    "two event definitions": (_middle("intermediateCatchEvent", "",
                                      '<bpmn:messageEventDefinition /><bpmn:timerEventDefinition />'),
                              "一个事件只能有一种事件定义"),
    "groovy script": (_middle("scriptTask", ' scriptFormat="groovy"', "<bpmn:script>x = 1</bpmn:script>"),
                      "脚本格式“groovy”不受支持"),
}


@pytest.mark.parametrize("what", REFUSALS)
def test_an_element_the_engine_cannot_run_is_refused_with_its_id_name_and_reason(what):
    bpmn, reason = REFUSALS[what]
    with pytest.raises(InvalidProcess) as refused:
        parse_process(bpmn, "conformance.bpmn")
    assert refused.value.element_id == "Activity_middle"
    assert refused.value.reason.startswith("“现场核查”（Activity_middle）：") and reason in refused.value.reason


def test_a_timer_start_event_and_an_error_end_event_are_refused():
    timer_start = LINEAR.replace('<bpmn:outgoing>Flow_start</bpmn:outgoing>\n    </bpmn:startEvent>',
                                 '<bpmn:outgoing>Flow_start</bpmn:outgoing>\n      <bpmn:timerEventDefinition>'
                                 '<bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>\n'
                                 '    </bpmn:startEvent>')
    error_end = LINEAR.replace('<bpmn:incoming>Flow_end</bpmn:incoming>\n    </bpmn:endEvent>',
                               '<bpmn:incoming>Flow_end</bpmn:incoming>\n      <bpmn:errorEventDefinition />\n'
                               '    </bpmn:endEvent>')
    for xml, element, reason in ((timer_start, "StartEvent_apply", "定时开始事件不受本引擎支持，此处可用：空事件、消息"),
                                 (error_end, "EndEvent_done", "错误结束事件不受本引擎支持，此处可用：空事件")):
        with pytest.raises(InvalidProcess) as refused:
            parse_process(xml.encode("utf-8"))
        assert refused.value.element_id == element and reason in refused.value.reason


def test_a_python_script_given_its_format_in_capitals_runs_and_a_plain_task_is_no_inbox_task():
    definition = parse_process(_middle("scriptTask", ' scriptFormat="Python"', "<bpmn:script>x = 1</bpmn:script>"))
    assert list(definition.user_tasks) == ["Task_accept"]
    plain = parse_process(_middle("task"))
    assert plain.spec.task_specs["Activity_middle"].manual is False


def test_a_pool_that_is_not_executable_is_not_checked_but_a_called_process_is():
    applicant_pool = ('<bpmn:process id="Process_applicant" isExecutable="false">'
                      '<bpmn:sendTask id="Task_apply" name="递交申请" /></bpmn:process>\n</bpmn:definitions>')
    drawn = LINEAR.replace("</bpmn:definitions>", applicant_pool)
    assert list(parse_process(drawn.encode("utf-8")).user_tasks) == ["Task_accept"]

    called = drawn.replace('<bpmn:manualTask id="Activity_middle" name="现场核查">',
                           '<bpmn:callActivity id="Activity_middle" name="现场核查" calledElement="Process_applicant">')
    called = called.replace("</bpmn:manualTask>", "</bpmn:callActivity>")
    with pytest.raises(InvalidProcess) as refused:
        parse_process(called.encode("utf-8"))
    assert refused.value.element_id == "Task_apply" and "发送任务须用 messageRef" in refused.value.reason
