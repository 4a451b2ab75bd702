"""Reads a DMN file (a decision table such as an item's 禁办情形) and refuses what the engine could not run safely.

SpiffWorkflow evaluates every cell of a decision table as Python, through the case's script engine (the sandbox of
scripting.py): an input column's expression; each rule's input entry, compared with the column's value
(`"nonlocal"`, `True`) or a test on `?`, the value (`? < 10`, `? in ("self_employed", "flexible")`, `not ?`); and
each output entry. Each cell is checked here the way the engine will run it, as deploying checks a diagram's
conditions, and the file against the DMN schema. Cells written in FEEL, as dmn-js writes them, are translated to
that Python first (feel.py): the designer's file is kept as written, the engine runs the translation.
"""
from __future__ import annotations

import ast
import copy
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS, BpmnDmnParser

from workflows.domain.errors import InvalidProcess

from . import feel
from .scripting import ScriptError, ScriptSyntaxError, check_expression
from .xml_reading import read_xml

DMN_13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"
# Hit policies whose meaning SpiffWorkflow keeps: it returns the first rule that matches (UNIQUE, ANY and FIRST
# agree on that when the table is right) or, for COLLECT without an aggregation, every match.
HIT_POLICIES = ("UNIQUE", "FIRST", "ANY", "COLLECT")
# SpiffWorkflow's DMN engine puts this name in place of `?` before it evaluates an entry
_QUESTION_MARK = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")


@dataclass(frozen=True)
class Decision:
    """One DMN file: its decision's id and name, the file itself, and the file as the engine runs it (FEEL cells
    in Python)."""

    id: str
    name: str
    file_name: str
    xml: str
    engine_xml: str


def read_decision(dmn: bytes | str, file_name: str) -> Decision:
    """Parse and check one DMN file; raise InvalidProcess naming the file and the element at fault."""
    data = dmn.encode("utf-8") if isinstance(dmn, str) else dmn
    try:
        text = data.decode("utf-8")
        root = read_xml(data)
    except UnicodeDecodeError as error:
        raise InvalidProcess(f"DMN 文件须为 UTF-8 编码（第 {error.start} 字节起不是 UTF-8）", None, file_name) from None
    except etree.XMLSyntaxError as error:
        raise InvalidProcess(f"不是合法的 XML：{error.msg}（第 {error.lineno} 行）", None, file_name) from None
    namespace = etree.QName(root).namespace
    if etree.QName(root).localname != "definitions" or namespace not in SCHEMAS:
        raise InvalidProcess("不是 DMN 文件：根元素应为 DMN 1.1–1.3 的 definitions（建议 DMN 1.3）", None, file_name)
    ns = {"dmn": namespace}
    decisions = root.findall("dmn:decision", ns)
    if len(decisions) != 1:
        raise InvalidProcess(f"DMN 文件须恰好包含一个决策（decision），现有 {len(decisions)} 个", None, file_name)
    [decision] = decisions
    if decision.find("dmn:decisionTable", ns) is None:
        raise InvalidProcess("决策须是一张决策表（decisionTable）", decision.get("id"), file_name)
    engine_root = copy.deepcopy(root)
    _check_table(engine_root.find("dmn:decision/dmn:decisionTable", ns), ns, file_name)
    _check_with_spiff(engine_root, decision.get("id"), file_name)
    return Decision(decision.get("id"), decision.get("name") or decision.get("id"), file_name, text,
                    etree.tostring(engine_root, encoding="unicode"))


def read_decisions(files: Mapping[str, bytes | str]) -> dict[str, Decision]:
    """Several DMN files (file name -> XML), by decision id; two files with one decision are refused."""
    decisions: dict[str, Decision] = {}
    for name, xml in files.items():
        decision = read_decision(xml, name)
        if decision.id in decisions:
            raise InvalidProcess(f"决策“{decision.id}”在 {decisions[decision.id].file_name} 和 {name} 中重复",
                                 decision.id, name)
        decisions[decision.id] = decision
    return decisions


def decision_files(folder: Path) -> dict[str, bytes]:
    """The DMN files of a folder (bpmn/decisions): file name -> content."""
    return {path.name: path.read_bytes() for path in sorted(Path(folder).glob("*.dmn"))}


def _check_table(table, ns: dict, file_name: str) -> None:
    """Check every cell, leaving each as the engine is to run it (FEEL translated)."""
    policy = " ".join(filter(None, ((table.get("hitPolicy") or "UNIQUE").upper(), table.get("aggregation"))))
    if policy not in HIT_POLICIES:  # an aggregation (COLLECT SUM …) is not one of them: SpiffWorkflow ignores it
        raise InvalidProcess(f"命中策略 {policy} 不受支持，可用：{'、'.join(HIT_POLICIES)}（COLLECT 不带汇总）",
                             table.get("id"), file_name)
    inputs = []
    for column in table.findall("dmn:input", ns):
        cell = column.find("dmn:inputExpression/dmn:text", ns)
        expression = _as_python(cell, feel.expression)
        if not expression:
            raise InvalidProcess(f"输入列“{column.get('label') or column.get('id')}”缺少表达式",
                                 column.get("id"), file_name)
        _check(lambda: check_expression(expression), column.get("id"), file_name)
        inputs.append(expression)
    for rule in table.findall("dmn:rule", ns):
        for expression, entry in zip(inputs, rule.findall("dmn:inputEntry", ns)):
            text = _as_python(entry.find("dmn:text", ns), lambda written: feel.unary_tests(written) or written)
            _check(lambda: _check_input_entry(expression, text, inputs), entry.get("id") or rule.get("id"), file_name)
        for entry in rule.findall("dmn:outputEntry", ns):
            text = _as_python(entry.find("dmn:text", ns), feel.expression)
            if text:
                _check(lambda: _check_output_entry(text, inputs), entry.get("id") or rule.get("id"), file_name)


def _as_python(cell, translate) -> str:
    """A cell's text as the engine is to run it; the cell is rewritten so. "-" and an empty cell stay as they are."""
    written = (cell.text or "").strip() if cell is not None else ""
    if written in ("", "-"):
        return written
    cell.text = translate(written)
    return cell.text


def _names(expression: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(expression, mode="eval")) if isinstance(node, ast.Name)}


def _check_output_entry(entry: str, inputs: list[str]) -> None:
    """An output is a value, or computed from what the input columns read."""
    check_expression(entry)
    _check_names("输出", entry, entry, inputs)


def _check_names(kind: str, written: str, python: str, inputs: list[str]) -> None:
    """A name in a cell other than what the input columns read (and the functions it calls) is most likely wording
    typed without quotes (以个体身份参保的…, `emergency`), which would only fail when a case hits the rule."""
    tree = ast.parse(python, mode="eval")
    called = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    unknown = _names(python) - called - {"dmninputexpr"} - set().union(*(_names(expression) for expression in inputs))
    if unknown:
        raise ScriptError(f"{kind}“{written}”中的 {'、'.join(sorted(unknown))} 不是输入列读取的数据：文字请加英文引号，"
                          f"如 \"{written}\"")


def _check_input_entry(expression: str, entry: str, inputs: list[str]) -> None:
    """The expression SpiffWorkflow will evaluate for this cell: a test on `?`; `input == (entry)` when the entry is
    a value; `input` followed by the entry when it starts with an operator (`>= 10`). "-" or empty: any value."""
    if entry in ("", "-"):
        return
    tested = _QUESTION_MARK.sub("dmninputexpr", entry)
    if "dmninputexpr" not in tested:
        try:
            check_expression(entry)
            tested = f"({expression}) == ({entry})"
        except ScriptSyntaxError:
            tested = f"{expression}{entry}"
    try:
        check_expression(tested)
    except ScriptSyntaxError:  # its line and column would point into the expression built above, not the cell
        raise ScriptError(f"语法错误：输入条目“{entry}”既不是 FEEL 简单一元检验（如 \"A\",\"B\"、[1..10]、>= 10、"
                          f"not(\"A\")、-），也不是 Python 表达式（如 ? in (\"A\", \"B\")、0 <= ? <= 1000）") from None
    _check_names("输入条目", entry, tested, inputs)


def _check(check, element_id: str | None, file_name: str) -> None:
    try:
        check()
    except ScriptError as error:
        raise InvalidProcess(str(error), element_id, file_name) from None


_SCHEMAS = threading.local()
# Every use of libxml2's schema code in this process, compiling and validating: libxml2 compiling two schemas at once
# in two threads (the scheduler's jobs) failed with "xmlSchemaPValAttrNodeValue, the given type is not a built-in
# type", its built-in types being set up lazily, unguarded. Validating is done once per process version a process
# parses (Engine.definition caches), so waiting here costs a command nothing.
_SCHEMA_WORK_ALONE = threading.Lock()


class _SerialValidator(BpmnValidator):
    def validate(self, bpmn, filename=None):
        with _SCHEMA_WORK_ALONE:
            super().validate(bpmn, filename)


def schema_validator() -> BpmnValidator:
    """The BPMN and DMN schema validator of this thread. Compiling the schema costs ~12 ms of CPU, which every parse
    spent again: so once per thread, used only by its thread (a schema holds the names dictionary of the thread that
    compiled it), and its work done one thread at a time."""
    validator = getattr(_SCHEMAS, "validator", None)
    if validator is None:
        with _SCHEMA_WORK_ALONE:
            validator = _SCHEMAS.validator = _SerialValidator()
    return validator


def _check_with_spiff(root, decision_id: str, file_name: str) -> None:
    """The DMN schema, and what SpiffWorkflow's own DMN parser refuses."""
    parser = BpmnDmnParser(validator=schema_validator())
    try:
        parser.add_dmn_xml(root, filename=file_name)
        parser.dmn_parsers[decision_id].parse()
    except ValidationException as error:  # the schema's words (libxml2's, in English) after ours
        raise InvalidProcess(f"DMN 文件不符合规范：{str(error).splitlines()[0]}", error.id or None, file_name) from None
    except (KeyError, IndexError) as error:  # a rule with more entries than the table has columns …
        raise InvalidProcess(f"决策表结构有误：{type(error).__name__} {error}", decision_id, file_name) from None
