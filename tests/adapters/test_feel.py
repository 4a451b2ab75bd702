"""FEEL cells, as dmn-js writes them, run as their FEEL meaning: a 禁办 rule written `"210400","231025"` applies to
both agencies instead of silently never matching; what is neither FEEL nor valid Python is refused at publish."""
from __future__ import annotations

import pytest

from workflows.adapters import feel
from workflows.adapters.dmn_parsing import read_decision
from workflows.domain.errors import InvalidProcess

from test_decision_tables import TABLE, accepted

EMERGENCY_RULE = "急诊发生的费用，不是抢救、危重症"


def in_feel(*replacements: tuple[str, str]) -> str:
    """The 门诊 禁办 table with cells rewritten as a designer would type them in dmn-js."""
    table = TABLE
    for old, new in replacements:
        assert old in table
        table = table.replace(old, new)
    return table


@pytest.mark.parametrize(("entry", "python"), [
    ('"210400"', '? == "210400"'),
    ('"210400","231025"', '(? == "210400") or (? == "231025")'),
    ('not("门诊")', 'not (? == "门诊")'),
    ("true", "? == True"),
    ("null", "? == None"),
    ("< 10", "? < 10"),
    (">= -2.5", "? >= -2.5"),
    ("[0..1000]", "0 <= ? <= 1000"),
    ("]0..1000[", "0 < ? < 1000"),
    ("(0..1000]", "0 < ? <= 1000"),
    ('"a,b", "c"', '(? == "a,b") or (? == "c")'),
    ("not(< 10, [20..30])", "not ((? < 10) or (20 <= ? <= 30))"),
    ('not("ordinary", "other")', 'not ((? == "ordinary") or (? == "other"))'),
])
def test_simple_unary_tests_translate_to_a_test_on_the_input(entry, python):
    assert feel.unary_tests(entry) == python


@pytest.mark.parametrize("entry", ["? < 10", "not ?", '? in ("a", "b")', "0 <= ? <= 1000", "True", "外地户口"])
def test_python_entries_are_not_taken_for_feel(entry):
    assert feel.unary_tests(entry) is None


def test_feel_expressions_get_python_literals_and_equality():
    assert feel.expression('kind = "急诊" and urgent = true') == 'kind == "急诊" and urgent == True'
    assert feel.expression('"a = true" ') == '"a = true" '  # inside a string nothing changes
    assert feel.expression("amount >= 10 and x != null") == "amount >= 10 and x != None"


def test_a_feel_list_of_agencies_matches_each_of_them():
    table = in_feel(('<text>"210400"</text>', '<text>"210400","231025"</text>'))
    for agency in ("210400", "231025"):
        run = accepted({"visit_kind": "emergency"}, agency=agency, table=table)
        assert run.completed and run.data["prohibited_rule"] == EMERGENCY_RULE, agency
    assert not accepted({"visit_kind": "emergency"}, agency="510000", table=table).completed


def test_a_feel_negation_and_boolean_literal_run_as_feel():
    table = in_feel(('<text>"emergency"</text>', '<text>not("ordinary")</text>'), ("<text>not ?</text>", "<text>false</text>"))
    assert accepted({"visit_kind": "emergency", "critical_care": False}, table=table).completed
    assert not accepted({"visit_kind": "emergency", "critical_care": True}, table=table).completed


def test_the_designers_file_is_kept_as_written_and_the_engine_runs_the_translation():
    table = in_feel(('<text>"210400"</text>', '<text>"210400","231025"</text>'))
    decision = read_decision(table, "prohibited.dmn")
    assert '"210400","231025"' in decision.xml
    assert '(? == "210400") or (? == "231025")' in decision.engine_xml


@pytest.mark.parametrize("entry", ["[0..", '"unclosed', "&lt;= ="])
def test_an_entry_neither_feel_nor_python_is_refused_with_its_cell(entry):
    with pytest.raises(InvalidProcess) as refused:
        read_decision(in_feel(('<text>"emergency"</text>', f"<text>{entry}</text>")), "prohibited.dmn")
    assert refused.value.element_id and refused.value.element_id.startswith("InputEntry_")
    written = entry.replace("&lt;", "<")
    assert f"语法错误：输入条目“{written}”既不是 FEEL 简单一元检验" in str(refused.value)
    assert "syntax error" not in str(refused.value)  # in Chinese only, and about the cell as written


@pytest.mark.parametrize("entry", ["-", ""])
def test_a_dash_or_an_empty_entry_lets_any_value_through(entry):
    table = in_feel(('<text>"emergency"</text>', f"<text>{entry}</text>"))
    run = accepted({"visit_kind": "ordinary"}, table=table)
    assert run.completed and run.data["prohibited_rule"] == EMERGENCY_RULE


@pytest.mark.parametrize("entry", ["emergency", "外地户口"])
def test_wording_typed_without_quotes_in_an_input_entry_is_refused_at_publish_naming_the_cell(entry):
    """Valid Python as a name, valid FEEL as a variable: it would only fail once a case hits the rule."""
    with pytest.raises(InvalidProcess) as refused:
        read_decision(in_feel(('<text>"emergency"</text>', f"<text>{entry}</text>")), "prohibited.dmn")
    assert refused.value.element_id == "InputEntry_2_visit_kind"
    assert f"{entry} 不是输入列读取的数据：文字请加英文引号" in str(refused.value)
