"""Hostile diagrams, as a designer could deploy them: 参保人员参保信息查询 with, after 受理, a timer and then a script
task before its 查询参保信息 step; or with a condition of its own in place of the 不予受理 one."""
from __future__ import annotations

from xml.sax.saxutils import escape

from support.paths import BPMN_DIR

QUERY = "002036002002"  # 参保人员参保信息查询: in 抚顺 (210400), 林口 (231025) and others
DIAGRAM = BPMN_DIR / f"item_{QUERY}.bpmn"
REFUSE_CONDITION = 'decision == "refuse"'

_INSERTED = """
    <bpmn:intermediateCatchEvent id="Timer_wait" name="等待复核">
      <bpmn:incoming>Flow_4</bpmn:incoming>
      <bpmn:outgoing>Flow_wait</bpmn:outgoing>
      <bpmn:timerEventDefinition id="TimerEventDefinition_wait">
        <bpmn:{kind} xsi:type="bpmn:tFormalExpression">{timer}</bpmn:{kind}>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="Flow_wait" sourceRef="Timer_wait" targetRef="Task_compute"/>
    <bpmn:scriptTask id="Task_compute" name="计算" scriptFormat="python">
      <bpmn:incoming>Flow_wait</bpmn:incoming>
      <bpmn:outgoing>Flow_computed</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="Flow_computed" sourceRef="Task_compute" targetRef="Task_insurance_query"/>
"""


def hostile(script: str = "checked = True", timer: str = "PT1M", kind: str = "timeDuration",
            condition: str | None = None) -> str:
    """The query diagram with a timer (`kind`: timeDuration, timeDate or timeCycle) and a script after 受理."""
    xml = DIAGRAM.read_text()
    xml = xml.replace('targetRef="Task_insurance_query"/>', 'targetRef="Timer_wait"/>', 1)
    xml = xml.replace("<bpmn:incoming>Flow_4</bpmn:incoming>", "<bpmn:incoming>Flow_computed</bpmn:incoming>")
    xml = xml.replace("<bpmn:flowNodeRef>Task_insurance_query</bpmn:flowNodeRef>",
                      "<bpmn:flowNodeRef>Task_insurance_query</bpmn:flowNodeRef>"
                      "<bpmn:flowNodeRef>Timer_wait</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_compute</bpmn:flowNodeRef>")
    xml = xml.replace("  </bpmn:process>", _INSERTED.format(kind=kind, timer=escape(timer), script=escape(script))
                      + "  </bpmn:process>")
    if condition is not None:
        assert escape(REFUSE_CONDITION) in xml or REFUSE_CONDITION in xml
        xml = xml.replace(escape(REFUSE_CONDITION), escape(condition)).replace(REFUSE_CONDITION, escape(condition))
    return xml
