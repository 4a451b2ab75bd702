"""JUEL as Camunda users write it runs as its meaning in the sandbox; what the subset lacks is refused at deploy
naming the part that fails and its column (counted inside the braces, as the Modeler's field shows it)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from workflows.adapters.juel import JuelError, is_juel, python_or_juel, template_to_python, to_python
from workflows.adapters.scripting import RestrictedEnvironment

DATA = {"amount": Decimal("2000"), "applicant": {"name": "张伟", "kids": ["甲", "乙"]}, "note": "", "items": [],
        "decision": "approve", "level": 3, "missing": None, "born": date(1980, 1, 1)}


def run(expression: str, data: dict | None = None):
    return RestrictedEnvironment().evaluate(to_python(expression), dict(DATA if data is None else data))


@pytest.mark.parametrize(("expression", "value"), [
    ("${amount > 1000}", True),
    ("${amount gt 1000 and amount lt 5000}", True),
    ("#{amount le 1000 || level ge 3}", True),
    ("${decision == 'approve'}", True),
    ('${decision eq "approve" && !(level ne 3)}', True),
    ("${not (amount >= 1000)}", False),
    ("${empty note}", True),
    ("${empty items && empty missing}", True),
    ("${empty decision}", False),
    ("${not empty applicant.name}", True),
    ("${applicant.kids[1]}", "乙"),
    ("${applicant['name']}", "张伟"),
    ('${applicant["kids"][0] == "甲"}', True),
    ("${execution.getVariable('amount') * 2}", Decimal("4000")),
    ("${amount div 4 + 1}", Decimal("501")),
    ("${level mod 2}", 1),
    ("${level % 2 == 1 ? 'odd' : 'even'}", "odd"),
    ("${amount > 1000 ? (level > 5 ? 'A' : 'B') : 'C'}", "B"),
    ("${-level + 10 - 2 * 3}", 1),
    ("${missing == null}", True),
    ("${true && !false}", True),
    ("${1.5 < 2}", True),
    ("${'It\\'s'}", "It's"),
])
def test_juel_means_in_the_sandbox_what_it_means_in_camunda(expression, value):
    assert run(expression) == value


def test_a_decision_test_translates_to_the_python_the_task_outcomes_read():
    assert to_python('${decision == "refuse"}') == "decision == 'refuse'"


def test_python_stays_python_and_only_whole_braced_texts_are_juel():
    assert python_or_juel("amount > 1000") == "amount > 1000"
    assert is_juel("  ${amount > 1000}\n") and is_juel("#{x}")
    assert not is_juel("amount > 1000")


@pytest.mark.parametrize(("expression", "message"), [
    ("${foo.bar()}", "JUEL 表达式不受支持：方法调用 foo.bar() 第 1 列"),
    ("${amount > 1 && user.getName() == 'x'}", "方法调用 user.getName() 第 15 列"),
    ("${now()}", "函数调用 now() 第 1 列"),
    ("${fn:length(items)}", "第 3 列"),
    ("${execution.getVariable(name)}", "方法调用 execution.getVariable() 第 1 列"),
    ("${a instanceof b}", "运算符 instanceof 第 3 列"),
    ("${a = 1}", "赋值“=” 第 3 列"),
    ("${a; b}", "分号连接的多个表达式“;” 第 2 列"),
    ("${x -> x + 1}", "lambda 表达式“->” 第 3 列"),
    ("${{1, 2}}", "集合或映射构造“{” 第 1 列"),
    ("${(a > 1}", "缺少与第 1 列“(”配对的“)” 第 7 列"),
    ("${a ? b}", "缺少与第 3 列“?”配对的“:” 第 6 列"),
    ("${__class__}", "变量名“__class__”"),
    ("${import}", "变量名“import”"),
    ("${}", "空表达式"),
    ("${a @ b}", "无法识别的字符“@” 第 3 列"),
    ("${a >}", "表达式不完整"),
])
def test_what_the_subset_lacks_is_refused_naming_the_part_and_its_column(expression, message):
    with pytest.raises(JuelError) as refusal:
        to_python(expression)
    assert message in str(refusal.value)


def test_text_mixed_with_an_expression_is_refused():
    with pytest.raises(JuelError, match="文字与 \\$\\{…\\} 混写"):
        python_or_juel("amount ${amount}")


@pytest.mark.parametrize(("template", "text"), [
    ("Case ${level} of ${applicant.name}", "Case 3 of 张伟"),
    ("clerk_${applicant['kids'][1]}", "clerk_乙"),
    ("${missing}-${note}-#{amount > 1000 ? 'big' : 'small'}", "--big"),
    ("no expression at all", "no expression at all"),
])
def test_a_text_template_joins_its_texts_and_each_expressions_text(template, text):
    python = template_to_python(template)
    assert RestrictedEnvironment().evaluate(python, dict(DATA)) == text


@pytest.mark.parametrize(("template", "message"), [
    ("Case ${caseNo} of ${applicant.getName()}", "JUEL 表达式不受支持：方法调用 applicant.getName() 第 21 列"),
    ("clerk_${hall", "“${”缺少配对的“}” 第 7 列"),
    ("${a} and ${b ? c}", "缺少与第 14 列“?”配对的“:” 第 17 列"),
])
def test_a_template_part_outside_the_subset_is_refused_with_its_column_in_the_whole_text(template, message):
    with pytest.raises(JuelError) as refusal:
        template_to_python(template)
    assert message in str(refusal.value)


def test_a_property_walk_to_dunders_stays_refused_by_the_sandbox():
    with pytest.raises(Exception, match="下划线"):
        run("${applicant['__class__']}")


def test_a_condition_neither_python_nor_juel_says_that_both_are_taken():
    from workflows.adapters.bpmn_parsing import parse_process
    from workflows.domain.errors import InvalidProcess
    from support.paths import ROOT

    bpmn = (ROOT / "tests" / "fixtures" / "conformance" / "juel_conditions.bpmn").read_text(encoding="utf-8")
    with pytest.raises(InvalidProcess) as refused:
        parse_process(bpmn.replace("${amount gt 1000 &amp;&amp; not empty amount}", "$amount &gt; 1000").encode())
    assert refused.value.element_id == "Flow_big"
    assert refused.value.reason.endswith("（条件、定时器为 Python 表达式，或整体写成 JUEL：${…}）")
