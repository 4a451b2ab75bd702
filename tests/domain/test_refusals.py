"""The refusal rule (domain/refusals.py) on its own, and where the parser says each decision of the shipped and the
Camunda Modeler diagrams leads."""
from __future__ import annotations

import pytest

from workflows.adapters.bpmn_parsing import parse_process
from workflows.domain.errors import InvalidInput
from workflows.domain.refusals import END, ONWARD, RETURN, DecisionOutcome, refusals, require_reason

from support.paths import BPMN_DIR

OUTCOMES = {"accept": DecisionOutcome(ONWARD), "refuse": DecisionOutcome(END, "不予受理"),
            "back": DecisionOutcome(RETURN, "受理"), "done": DecisionOutcome(END, "办结")}
LABELS = {"accept": "受理", "refuse": "不予受理", "back": "退回受理", "done": "办结"}


def test_an_end_other_than_completion_or_a_way_back_is_a_refusal():
    assert set(refusals(OUTCOMES)) == {"refuse", "back"}


@pytest.mark.parametrize("decision, field", [("refuse", "请填写不予受理的理由"), ("back", "请填写退回到“受理”的理由")])
def test_a_refusal_without_a_reason_is_refused_on_the_opinion_field(decision, field):
    for opinion in (None, "", "   ", 3):
        with pytest.raises(InvalidInput) as refused:
            require_reason(OUTCOMES, LABELS, {"decision": decision, "opinion": opinion})
        assert refused.value.field_errors == {"opinion": field}


def test_the_reason_is_kept_as_written_without_surrounding_blanks_and_no_longer_than_a_decision_allows():
    assert require_reason(OUTCOMES, LABELS, {"decision": "refuse", "opinion": "  非本市参保人员\n"}) == "非本市参保人员"
    with pytest.raises(InvalidInput) as refused:
        require_reason(OUTCOMES, LABELS, {"decision": "refuse", "opinion": "理" * 501})
    assert refused.value.field_errors == {"opinion": "不超过 500 字（现有 501 字）"}


def test_other_decisions_need_no_reason():
    for submitted in ({"decision": "accept"}, {"decision": "done"}, {}, {"decision": ["refuse"]}):
        assert require_reason(OUTCOMES, LABELS, submitted) == ""


def test_the_parser_reads_refusals_from_the_gateways_of_the_diagrams():
    definition = parse_process((BPMN_DIR / "item_002036009001.bpmn").read_bytes(), "item_002036009001.bpmn")
    by_name = {task.name: task.outcomes for task in definition.user_tasks.values()}
    assert by_name["受理"] == {"accept": DecisionOutcome(ONWARD), "refuse": DecisionOutcome(END, "不予受理")}
    assert by_name["现场验收"]["fail"] == DecisionOutcome(END, "验收不通过")
    assert by_name["签订协议"] == {"sign": DecisionOutcome(END, "办结"), "decline": DecisionOutcome(END, "协议未签订")}
    assert by_name["督办"] == {}


def test_a_decision_that_sends_the_case_back_to_an_earlier_task_is_a_return():
    xml = (BPMN_DIR / "item_00203601001.bpmn").read_text(encoding="utf-8")
    # 审核's refusal goes back to 受理 instead of ending the case
    xml = xml.replace('targetRef="EndEvent_review_reject"', 'targetRef="Task_accept"')
    definition = parse_process(xml.encode("utf-8"), "returns.bpmn")
    review = next(task for task in definition.user_tasks.values() if task.name == "审核")
    assert review.outcomes["reject"] == DecisionOutcome(RETURN, "受理")
    assert set(refusals(review.outcomes)) == {"reject"}
