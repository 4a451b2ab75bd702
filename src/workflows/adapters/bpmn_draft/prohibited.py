"""禁办情形 as decision tables: the conditions an agency lists against an item become a DMN table
(decisions/prohibited_<code>.dmn) and a business-rule task with its gateway after 受理."""
from __future__ import annotations

import json
from dataclasses import dataclass, replace

from lxml import etree

from .spec import ACCEPT, REVIEW, Check, Step, service


# ----------------------------------------------------------------------------------------------------------
# 禁办情形 (docs/bpmn-conventions.md): an item some agency lists 违规禁办 conditions for (catalog `prohibited`) gets a
# decision table, decisions/prohibited_<code>.dmn, applied by a business-rule task 禁办情形核查 after 受理 (before the
# 容缺 question: a prohibited case waits for nothing) and again after 审核. The table has a column for the agency
# (a rule applies where that agency's catalog lists it), the columns its rules read and two outputs: the rule in the
# catalog's words (prohibited_rule; None when none matched) and the list it comes from (prohibited_basis). After the
# task, 是否禁办: a rule matched → end 禁止办理. Handlers whose answers a table reads run just before each check.

PROHIBITED = Check("是否禁办", "否", "是", "prohibited_rule is not None", "hit")
PROHIBITED_END = "禁止办理"
PROHIBITED_CHECK = "禁办情形核查"
PROHIBITED_OUTPUTS = (("prohibited_rule", "禁办情形"), ("prohibited_basis", "依据"))


@dataclass(frozen=True)
class RuleInput:
    """A column of a 禁办情形 table: what it reads of the case, and the handler that answers it (None: the
    application form)."""
    label: str
    expression: str
    type: str = "string"
    handler: str | None = None


AGENCY_INPUT = RuleInput("经办机构", "case_agency()")
RULE_INPUTS = {
    "insured_kind": RuleInput("参保身份", "insured_kind"),
    "household_kind": RuleInput("户籍类别", "household_kind"),
    "residence_permit": RuleInput("持有本地居住证", "has_residence_permit", "boolean"),
    "other_province": RuleInput("省外转入", "from_agency[:2] != case_agency()[:2]", "boolean"),
    "certificate": RuleInput("参保凭证编号", "certificate_no"),
    "from_suspension": RuleInput("转出地参保状态", "from_suspension"),
    "visit_kind": RuleInput("就医类型", "visit_kind"),
    "remote_care": RuleInput("异地就医", "remote_care", "boolean"),
    "remote_filed": RuleInput("已办理异地安置备案", "remote_filed", "boolean"),
    "critical_care": RuleInput("抢救或危重症", "critical_care", "boolean"),
    "insurance_status": RuleInput("参保状态", "insurance_status", handler="arrears_check"),
    "in_arrears": RuleInput("个人医保欠费", "in_arrears", "boolean", "arrears_check"),
    "employer_in_arrears": RuleInput("用人单位医保欠费", "employer_in_arrears", "boolean"),
    "waiting_period": RuleInput("处于待遇封锁期", "in_waiting_period", "boolean"),
    "contribution_months": RuleInput("连续缴费月数", "contribution_months", "number"),
}
NOT = "not ?"  # an unticked checkbox or an empty field counts as 否
INDIVIDUAL = '? in ("self_employed", "flexible")'  # 个体参保人员: who insures themselves, not through an employer
SUSPENDED = '"暂停参保"'  # the national platform's 参保状态 (arrears_check's insurance_status)
# Item code -> 禁办情形 in the catalog's words -> the rows that find it (any one matches): input -> entry. An entry
# is Python: a value the input must equal, or a test on its value `?`.
PROHIBITIONS: dict[str, dict[str, tuple[dict[str, str], ...]]] = {
    "00203601002": {"个体参保人员是外地户口，并且没有抚顺居住证": (
        {"insured_kind": INDIVIDUAL, "household_kind": '"nonlocal"', "residence_permit": NOT},)},
    "00203601003": {"个体参保人员是外地户口，并且没有抚顺居住证": (
        {"household_kind": '"nonlocal"', "residence_permit": NOT},)},
    "002036003001": {"医保欠费": ({"in_arrears": "True"},)},
    "002036003002": {"省外人员办理：无参保凭证": ({"other_province": "True", "certificate": NOT},),
                     "转出地医保未办理暂停": ({"from_suspension": '"active"'},)},
    "002036006001": {"普通门诊未办理异地安置": (
                         {"visit_kind": '"ordinary"', "remote_care": "True", "remote_filed": NOT},),
                     "急诊发生的费用，不是抢救、危重症": ({"visit_kind": '"emergency"', "critical_care": NOT},)},
    "002036006002": {"人员暂停参保": ({"insurance_status": SUSPENDED},),
                     "人员存在待遇封锁期": ({"waiting_period": "True"},)},
    "002036007004": {"医保连续缴费不满十个月": ({"contribution_months": "? is not None and ? < 10"},),
                     "个人或单位医保欠费": ({"in_arrears": "True"}, {"employer_in_arrears": "True"}),
                     "递交完材料后，人员暂停参保（离职）": ({"insurance_status": SUSPENDED},)},
}


def decision_id(item: dict) -> str:
    return f"prohibited_{item['code']}"


def _rows(item: dict) -> list[tuple[str, str, str, dict[str, str]]]:
    """(agency code, basis, 禁办情形, entries) of each rule of the item's table, in the catalogs' order."""
    known = PROHIBITIONS.get(str(item["code"]), {})
    rows = []
    for agency, (basis, conditions) in sorted(item.get("prohibited", {}).items()):
        for condition in conditions:
            if condition not in known:
                raise KeyError(f"{item['code']} {item.get('name')}: no rule for the 禁办情形 “{condition}” of agency "
                               f"{agency}: add it to PROHIBITIONS")
            rows += [(agency, basis, condition, entries) for entries in known[condition]]
    return rows


def with_rule_checks(steps: tuple[Step, ...], item: dict) -> tuple[Step, ...]:
    """禁办情形核查 after 受理 and after 审核, each with the handlers its table reads run just before it (those handlers
    leave the main path elsewhere: each check asks them afresh)."""
    inputs = [RULE_INPUTS[name] for _, _, _, entries in _rows(item) for name in entries]
    topics = tuple(dict.fromkeys(column.handler for column in inputs if column.handler))
    checked = []
    for step in steps:
        if step.kind == "service" and step.topic in topics:
            continue
        checked.append(step)
        if step.id in (ACCEPT.id, REVIEW.id):
            key = step.id.removeprefix("Task_")
            checked += [replace(service(topic, step.stage), id=f"Task_{topic}_{key}") for topic in topics]
            checked.append(Step("rule", f"Task_prohibited_{key}", PROHIBITED_CHECK, step.stage,
                                fail_end=PROHIBITED_END, decision_ref=decision_id(item), check=PROHIBITED))
    return tuple(checked)


DECISIONS_DIR = "decisions"  # beside the diagrams: the DMN files of their decision tables
DMN_NSMAP = {None: "https://www.omg.org/spec/DMN/20191111/MODEL/",
             "dmndi": "https://www.omg.org/spec/DMN/20191111/DMNDI/", "dc": "http://www.omg.org/spec/DMN/20180521/DC/"}


def draft_decision(item: dict) -> bytes:
    """The DMN 1.3 decision table of an item's 禁办情形 (hit policy FIRST: the first rule that matches, in the
    catalog's order), with its decision drawn for the DRD view of dmn-js."""
    rows = _rows(item)
    used = list(dict.fromkeys(name for *_, entries in rows for name in entries))  # as the rules first read them
    model = DMN_NSMAP[None]

    def sub(parent, tag: str, attrs: dict | None = None, content: str | None = None):
        namespace = DMN_NSMAP[tag.split(":")[0]] if ":" in tag else model
        element = etree.SubElement(parent, f"{{{namespace}}}{tag.split(':')[-1]}", attrs or {})
        element.text = content
        return element

    ref = decision_id(item)
    root = etree.Element(f"{{{model}}}definitions", nsmap=DMN_NSMAP, attrib={
        "id": f"Definitions_{ref}", "name": f"{item['name']}禁办情形", "namespace": "http://camunda.org/schema/1.0/dmn",
        "exporter": "workflows bpmn_draft", "exporterVersion": "2"})
    decision = sub(root, "decision", {"id": ref, "name": f"{item['name']}{PROHIBITED_CHECK}"})
    table = sub(decision, "decisionTable", {"id": f"DecisionTable_{ref}", "hitPolicy": "FIRST"})
    for key, column in [("agency", AGENCY_INPUT)] + [(name, RULE_INPUTS[name]) for name in used]:
        element = sub(table, "input", {"id": f"Input_{key}", "label": column.label})
        expression = sub(element, "inputExpression", {"id": f"InputExpression_{key}", "typeRef": column.type})
        sub(expression, "text", content=column.expression)
    for name, label in PROHIBITED_OUTPUTS:
        sub(table, "output", {"id": f"Output_{name}", "label": label, "name": name, "typeRef": "string"})
    for number, (agency, basis, condition, entries) in enumerate(rows, 1):
        rule = sub(table, "rule", {"id": f"Rule_{number}"})
        for key, entry in [("agency", json.dumps(agency))] + [(name, entries.get(name, "-")) for name in used]:
            sub(sub(rule, "inputEntry", {"id": f"InputEntry_{number}_{key}"}), "text", content=entry)
        for (name, _), value in zip(PROHIBITED_OUTPUTS, (condition, basis)):
            sub(sub(rule, "outputEntry", {"id": f"OutputEntry_{number}_{name}"}), "text",
                content=json.dumps(value, ensure_ascii=False))
    diagram = sub(sub(root, "dmndi:DMNDI"), "dmndi:DMNDiagram", {"id": f"DMNDiagram_{ref}"})
    shape = sub(diagram, "dmndi:DMNShape", {"id": f"DMNShape_{ref}", "dmnElementRef": ref})
    sub(shape, "dc:Bounds", {"height": "80", "width": "180", "x": "160", "y": "100"})
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
