"""The restricted script engine: what a process designer (or an attacker publishing a diagram) would notice."""
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.util.task import TaskState

from workflows.adapters.scripting import (
    RestrictedEnvironment, RestrictedScriptEngine, ScriptError, check_expression, check_script)


def add_working_days(start, days):
    """Stand-in for the platform's calendar function (weekends only)."""
    current = start
    while days:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


@pytest.fixture
def env():
    return RestrictedEnvironment({"add_working_days": add_working_days})


# --- conditions and scripts ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("expression, expected", [
    ('decision == "refuse"', True),
    ('decision == "accept"', False),
    ("amount > 100", True),
    ("amount > 1000", False),
    ("any(item > limit for item in items)", True),       # data names inside a generator expression
    ('len(items) == 3 and name.startswith("张")', True),
    ('data["kind"] in ("门诊", "急诊")', True),
    ("items[0] + items[-1]", 4),
    ("\n        amount > 100\n    ", True),                # as written inside BPMN XML
])
def test_condition_over_task_data(env, expression, expected):
    data = {"decision": "refuse", "amount": 150, "items": [1, 2, 3], "limit": 2, "name": "张三",
            "data": {"kind": "门诊"}}
    assert env.evaluate(expression, data) == expected


def test_dates_and_decimals_in_expressions(env):
    data = {"applied_on": date(2026, 1, 5), "amount": Decimal("100.50"),
            "accepted_at": datetime(2026, 1, 9, 9, 0, tzinfo=timezone(timedelta(hours=8)))}
    assert env.evaluate('amount >= Decimal("100.5")', data) is True
    assert env.evaluate("amount * 2", data) == Decimal("201.00")
    assert env.evaluate("applied_on.year == 2026 and applied_on.weekday() == 0", data) is True
    assert env.evaluate("applied_on + timedelta(days=30) > date(2026, 2, 1)", data) is True
    assert env.evaluate("accepted_at.date() - applied_on", data) == timedelta(days=4)
    assert env.evaluate("accepted_at.isoformat()", data) == "2026-01-09T09:00:00+08:00"


def test_script_assigns_into_task_data_in_place(env):
    data = {"expense_total": 100, "items": [{"amount": 10}, {"amount": 25}], "remark": "x"}
    same = data
    env.execute(
        "total = expense_total * 0.8\n"
        "claimed = 0\n"
        "for item in items:\n"
        "    if item['amount'] > 20:\n"
        "        claimed += item['amount']\n"
        "summary = {'total': total, 'claimed': claimed}\n"
        "del remark\n"
        "f = len\n"
        "print(total)\n",
        data)
    assert data is same
    assert data["total"] == 80.0 and data["claimed"] == 25
    assert data["summary"] == {"total": 80.0, "claimed": 25}
    assert "remark" not in data
    # nothing of the machinery leaks into the task data
    assert "__builtins__" not in data and "add_working_days" not in data and "f" not in data
    assert not any(callable(v) or k.startswith("_") for k, v in data.items())


def test_failed_script_leaves_task_data_unchanged(env):
    data = {"a": 1}
    with pytest.raises(ZeroDivisionError):
        env.execute("b = 2\nc = a / 0", data)
    assert data == {"a": 1}


def test_exposed_function_is_callable(env):
    data = {"accepted_at": date(2026, 1, 9)}  # a Friday
    assert env.evaluate("add_working_days(accepted_at, 15)", data) == date(2026, 1, 30)
    env.execute("due = add_working_days(accepted_at, 1)", data)
    assert data["due"] == date(2026, 1, 12) and "add_working_days" not in data


def test_task_data_may_not_hide_or_overwrite_a_function(env):
    with pytest.raises(ScriptError, match="add_working_days"):
        env.evaluate("add_working_days(accepted_at, 1)", {"add_working_days": 3, "accepted_at": date(2026, 1, 9)})
    data = {"x": 1}
    with pytest.raises(ScriptError, match="add_working_days"):
        env.execute("add_working_days = 1", data)
    assert data == {"x": 1}


# --- timer literals --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("expression, expected", [
    ("P10D", "P10D"), ("PT2H", "PT2H"), ("P1DT12H", "P1DT12H"), ("P2W", "P2W"),
    ("  P10D\n", "P10D"),
    ("2026-01-05T09:00:00+08:00", "2026-01-05T09:00:00+08:00"),
    ('"P10D"', "P10D"),                                     # quoted: an ordinary string
    ("'2026-01-05T09:00:00+08:00'", "2026-01-05T09:00:00+08:00"),
])
def test_bare_iso_timer_literals_evaluate_to_their_text(env, expression, expected):
    check_expression(expression)
    assert env.evaluate(expression, {}) == expected


# --- escape attempts ------------------------------------------------------------------------------------------------

ESCAPES = [
    "import os",
    "from os import system",
    "__import__('os').system('id')",
    "().__class__.__bases__[0].__subclasses__()",
    "open('/etc/passwd').read()",
    '"{0.__class__}".format(1)',
    '"{x.__class__}".format_map({"x": 1})',
    "getattr(1, 'real')",
    "eval('1 + 1')",
    "exec('x = 1')",
    "compile('1', 'f', 'eval')",
    "globals()",
    "vars()",
    "type(1)",
    "(lambda: 1)()",
    "while True:\n    pass",
    "def f():\n    return 1",
    "class A:\n    pass",
    "try:\n    x = 1\nexcept Exception:\n    pass",
    "with items as f:\n    pass",
    "global items",
    "x = (yield 1)",
    "add_working_days.__globals__['os']",                  # dunder on an exposed function
    "items.x = 1",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_escape_attempts_are_refused_before_running(env, source):
    with pytest.raises(ScriptError):
        check_script(source)
    with pytest.raises(ScriptError):
        env.execute(source, {"items": [1]})


def test_refusal_says_what_is_forbidden():
    with pytest.raises(ScriptError, match=r"import.*import os"):
        check_script("import os")
    with pytest.raises(ScriptError, match="__import__"):
        check_expression("__import__('os')")
    with pytest.raises(ScriptError, match="while"):
        check_script("while True:\n    pass")


@pytest.mark.parametrize("expression", [
    "[x for x in range(10**9)]",                          # refused, not looped
    "10 ** 10 ** 10",
    '"x" * 10 ** 10',
    "1 << 10 ** 10",
    'name.format_map if False else name.strip.__self__',
    'functions["__builtins__"]',                         # a dunder via item access on a dict of functions
    "functions['len'].__self__",
    "applied_on.strftime('%Y')",                          # not on the attribute whitelist
    "functions.fromkeys([1])",
    "str.maketrans('a', 'b')",
    "amount.real",
])
def test_runtime_guards_refuse(env, expression):
    data = {"name": "x", "functions": {"len": len}, "applied_on": date(2026, 1, 5), "amount": 1}
    with pytest.raises(ScriptError):
        env.evaluate(expression, data)


def test_range_within_the_cap_works(env):
    assert env.evaluate("sum(range(10000))", {}) == 49995000


def test_check_expression_reports_syntax_error_position():
    with pytest.raises(ScriptError) as info:
        check_expression("amount > > 100")
    assert isinstance(info.value, SyntaxError)  # SpiffWorkflow's DMN engine relies on this
    assert (info.value.lineno, info.value.offset) == (1, 10)
    assert "line 1, col 10" in str(info.value)
    with pytest.raises(ScriptError, match="line 2"):
        check_script("x = 1\ny = (")


def test_check_accepts_ordinary_designer_code():
    check_expression('decision == "refuse"')
    check_expression("add_working_days(accepted_at, 15)")
    check_script("total = expense_total * 0.8\nif total > 100:\n    level = 'high'\nelse:\n    level = 'low'")


def test_call_service_is_not_the_script_engines_job():
    with pytest.raises(NotImplementedError, match="[Ss]ervice"):
        RestrictedEnvironment().call_service({}, operation="x")


# --- a real process through SpiffWorkflow 3.2.0 -----------------------------------------------------------------

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="item_test" name="测试" isExecutable="true">
    <bpmn:startEvent id="StartEvent_apply" name="申请">
      <bpmn:outgoing>Flow_1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_apply" targetRef="Gateway_amount" />
    <bpmn:exclusiveGateway id="Gateway_amount" name="金额判断" default="Flow_small">
      <bpmn:incoming>Flow_1</bpmn:incoming>
      <bpmn:outgoing>Flow_big</bpmn:outgoing>
      <bpmn:outgoing>Flow_small</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="Flow_big" sourceRef="Gateway_amount" targetRef="Task_compute">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_small" sourceRef="Gateway_amount" targetRef="EndEvent_small" />
    <bpmn:scriptTask id="Task_compute" name="计算报销额" scriptFormat="python">
      <bpmn:incoming>Flow_big</bpmn:incoming>
      <bpmn:outgoing>Flow_2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_compute" targetRef="EndEvent_big" />
    <bpmn:endEvent id="EndEvent_big" name="大额办结">
      <bpmn:incoming>Flow_2</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:endEvent id="EndEvent_small" name="小额办结">
      <bpmn:incoming>Flow_small</bpmn:incoming>
    </bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


SCRIPT = """reimbursed = amount * 0.8
if reimbursed &gt; 1000:
    level = "high"
else:
    level = "normal"
"""


def run_process(amount, condition="amount &gt; 100", script=SCRIPT):
    parser = CamundaParser()
    xml = BPMN.replace("{condition}", condition).replace("{script}", script)
    parser.add_bpmn_str(xml.encode(), filename="item_test.bpmn")
    workflow = BpmnWorkflow(parser.get_spec("item_test"), script_engine=RestrictedScriptEngine())
    workflow.task_tree.data = {"amount": amount}
    workflow.do_engine_steps()
    return workflow


def reached_end_events(workflow):
    return {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if t.task_spec.bpmn_id and t.task_spec.bpmn_id.startswith("EndEvent_")}


def test_process_takes_the_conditional_path_and_runs_the_script():
    workflow = run_process(1500)
    assert workflow.is_completed()
    assert reached_end_events(workflow) == {"EndEvent_big"}
    assert workflow.data["reimbursed"] == 1200.0 and workflow.data["level"] == "high"
    assert "__builtins__" not in workflow.data


def test_process_takes_the_default_path():
    workflow = run_process(50)
    assert workflow.is_completed()
    assert reached_end_events(workflow) == {"EndEvent_small"}
    assert "reimbursed" not in workflow.data


def test_malicious_condition_fails_the_gateway_instead_of_running(tmp_path):
    marker = tmp_path / "pwned"
    with pytest.raises(WorkflowTaskException) as info:
        run_process(1500, condition=f"__import__('os').system('touch {marker}') == 0")
    error = info.value
    assert error.task_spec.bpmn_id == "Gateway_amount"       # the failing element is named
    assert error.task_trace == ["金额判断 (item_test.bpmn)"]
    assert "__import__" in str(error) and "forbidden" in str(error)
    assert not marker.exists()


def test_malicious_script_fails_the_script_task():
    with pytest.raises(WorkflowTaskException) as info:
        run_process(1500, script="reimbursed = 1\nsecret = open('/etc/passwd').read()")
    assert info.value.task_spec.bpmn_id == "Task_compute"
    assert "open() is forbidden" in str(info.value)


def test_runtime_error_in_script_names_the_task_and_line():
    with pytest.raises(WorkflowTaskException) as info:
        run_process(1500, script="x = {}\ny = x[0]")           # KeyError(0): 3.2.0 itself crashes with TypeError
    assert info.value.task_spec.bpmn_id == "Task_compute"
    assert info.value.line_number == 2 and "KeyError" in str(info.value)


def test_call_service_failure_names_the_task():
    engine = RestrictedScriptEngine()
    workflow = run_process(50)
    task = workflow.get_tasks(state=TaskState.COMPLETED)[-1]
    with pytest.raises(WorkflowTaskException, match="NotImplementedError"):
        engine.call_service(task, operation="x")


def test_runtime_error_in_condition_names_the_gateway_and_the_reason():
    with pytest.raises(WorkflowTaskException) as info:
        run_process(1500, condition="amount / 0 &gt; 1")
    assert info.value.task_spec.bpmn_id == "Gateway_amount"
    assert "ZeroDivisionError" in str(info.value)


TIMER_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Definitions_2" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="item_timer" isExecutable="true">
    <bpmn:startEvent id="StartEvent_apply"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_apply" targetRef="Event_wait" />
    <bpmn:intermediateCatchEvent id="Event_wait">
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
      <bpmn:timerEventDefinition>
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">P10D</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Event_wait" targetRef="EndEvent_done" />
    <bpmn:endEvent id="EndEvent_done"><bpmn:incoming>Flow_2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def test_unquoted_timer_duration_from_the_camunda_modeler_runs():
    parser = CamundaParser()
    parser.add_bpmn_str(TIMER_BPMN.encode(), filename="item_timer.bpmn")
    workflow = BpmnWorkflow(parser.get_spec("item_timer"), script_engine=RestrictedScriptEngine())
    workflow.do_engine_steps()
    [event] = workflow.waiting_events()
    due = datetime.fromisoformat(event.value) - datetime.now(timezone.utc)
    assert timedelta(days=9, hours=23) < due <= timedelta(days=10)
    assert not workflow.is_completed()


# --- datetime, date and timedelta, on the case's clock ------------------------------------------------------------

EVENING_IN_UTC = datetime(2026, 3, 1, 20, 0, tzinfo=timezone.utc)  # already 2 March in Beijing


def clocked() -> RestrictedEnvironment:
    return RestrictedEnvironment(clock=lambda: EVENING_IN_UTC)


def test_now_and_today_answer_the_cases_clock_in_beijing_time():
    env = clocked()
    assert env.evaluate("datetime.now()", {}) == EVENING_IN_UTC
    assert env.evaluate("datetime.now().isoformat()", {}) == "2026-03-02T04:00:00+08:00"
    assert env.evaluate("date.today()", {}) == date(2026, 3, 2)
    assert env.evaluate("date.today() + timedelta(days=3) == date(2026, 3, 5)", {}) is True
    assert env.evaluate("datetime.now() - datetime.fromisoformat('2026-03-01T00:00:00+08:00')", {}) == \
        timedelta(days=1, hours=4)


def test_a_script_may_keep_the_day_it_ran_in_the_case_data():
    data = {}
    clocked().execute("checked_on = date.today().isoformat()\nlate = datetime.now().hour >= 17", data)
    assert data == {"checked_on": "2026-03-02", "late": False}


@pytest.mark.parametrize("source", [
    "datetime.now.__self__", "datetime._clock", "datetime.__class__", "date.today().__class__.__subclasses__()",
    "datetime.now().__reduce__()", "timedelta.__mro__",
])
def test_the_clock_types_give_no_way_out_through_dunders(source):
    with pytest.raises(ScriptError, match="下划线"):
        clocked().evaluate(source, {})


@pytest.mark.parametrize(("source", "refusal"), [
    ("datetime.combine", "不允许访问属性"), ("date.resolution", "不允许访问属性"),
    ("vars()", "vars()"), ("globals()", "globals()"), ("open('/etc/passwd')", "open()"),
    ("__import__('os')", "下划线"), ("import os", "import"), ("date.today().strftime('%Y')", "不允许访问属性"),
])
def test_the_sandbox_still_refuses_imports_files_and_namespaces(source, refusal):
    env = clocked()
    with pytest.raises(ScriptError, match=re.escape(refusal)):
        env.execute(source, {}) if source.startswith("import") else env.evaluate(source, {})
