"""Compensation (adapters/compensation.py) and a script's BPMN error (adapters/error_events.py) in the engine adapter,
across the serialization every command goes through: what tests/fixtures/conformance/ does not show by itself."""
from __future__ import annotations

import re

from workflows.adapters.engine import Engine

from support.paths import ROOT

from adapters.test_engine import bindings, calls  # noqa: F401 - fixtures

CONFORMANCE = ROOT / "tests" / "fixtures" / "conformance"


def _compensation_xml(edit=lambda xml: xml) -> str:
    return edit((CONFORMANCE / "compensation_events.bpmn").read_text(encoding="utf-8"))


def _resumed(engine, run, bindings):
    return engine.resume(run.definition, engine.dump(run), bindings)


def _complete(engine, run, bindings, name: str, values: dict | None = None):
    [task] = [task for task in run.ready_tasks() if task.name == name]
    run.complete(task.id, values or {})
    return _resumed(engine, run, bindings)


def _start(engine, xml, bindings, amount: int):
    run = engine.start(engine.definition(xml), {}, bindings)
    return _complete(engine, run, bindings, "受理", {"amount": amount})


def test_a_compensation_waits_for_its_user_task_across_commands_then_goes_on(bindings):
    engine = Engine()
    run = _complete(engine, _start(engine, _compensation_xml(), bindings, 2000), bindings, "拨付")

    assert [task.name for task in run.ready_tasks()] == ["追回拨付款"]
    run = _complete(engine, run, bindings, "追回拨付款", {"opinion_Task_refund": "已追回"})
    assert [task.name for task in run.ready_tasks()] == ["告知撤销"]
    assert run.data["reserved"] == 0 and run.data["opinion_Task_refund"] == "已追回"


def test_a_compensation_throw_with_an_activity_ref_compensates_only_that_activity(bindings):
    engine = Engine()
    xml = _compensation_xml(lambda xml: re.sub(r'id="CompensateEventDefinition_throw"\s*/>',
                                               'id="CompensateEventDefinition_throw" activityRef="Activity_reserve"/>', xml))
    run = _complete(engine, _start(engine, xml, bindings, 2000), bindings, "拨付")

    assert [task.name for task in run.ready_tasks()] == ["告知撤销"]  # 释放额度 ran; 拨付 is not compensated
    assert run.data["reserved"] == 0


def test_a_compensation_end_event_compensates_then_ends_the_case(bindings):
    engine = Engine()

    def to_end(xml: str) -> str:
        xml = re.sub(r'<bpmn:intermediateThrowEvent id="Event_undo".*?</bpmn:intermediateThrowEvent>', '''<bpmn:endEvent id="Event_undo" name="办结">
      <bpmn:incoming>Flow_undo</bpmn:incoming>
      <bpmn:compensateEventDefinition id="CompensateEventDefinition_throw" />
    </bpmn:endEvent>''', xml, flags=re.S)
        return re.sub(r'\s*<bpmn:userTask id="Task_notify".*?</bpmn:userTask>|\s*<bpmn:endEvent id="EndEvent_undone".*?'
                      r'</bpmn:endEvent>|\s*<bpmn:sequenceFlow id="Flow_(undone|notified)"[^>]*/>', "", xml, flags=re.S)

    run = _complete(engine, _start(engine, _compensation_xml(to_end), bindings, 2000), bindings, "拨付")
    run = _complete(engine, run, bindings, "追回拨付款")

    assert run.completed and run.result == "办结" and run.data["reserved"] == 0


def test_a_script_bpmn_error_no_boundary_event_catches_fails_the_step_naming_the_code(bindings):
    xml = (CONFORMANCE / "script_error_boundary.bpmn").read_text(encoding="utf-8").replace('errorCode="MINOR"',
                                                                                            'errorCode="OTHER"')
    engine = Engine()
    run = engine.start(engine.definition(xml), {}, bindings)
    [task] = run.ready_tasks()
    run.complete(task.id, {"age": 16})

    assert run.failure is not None and run.failure.task_name == "核对年龄"
    assert "MINOR" in run.failure.message and "错误边界事件" in run.failure.message
    assert "checked" not in run.data  # what the script set before its error is dropped
